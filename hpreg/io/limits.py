"""Bounds on what one input may expand to: nesting depth, YAML alias expansion, the
sizes an expression may build, and the JSON conventions for duplicate keys and
non-finite floats.

Every bound is checked *before* the work it bounds, so that no input can hang hpreg or
exhaust its memory; a refusal is a clean error naming the input.
"""

import json
import math
from typing import Any

import yaml

from hpreg._text import shorten

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_ALIAS_NODES",
    "MAX_SIZE",
    "BoundedYamlLoading",
    "nesting_problem",
    "load_json_text",
    "DuplicateJsonKey",
    "json_safe",
]

MAX_DEPTH = 100  # levels of nested lists and mappings in one value or file
MAX_NODES = 1_000_000  # nodes a YAML document may expand to, aliases included
# nodes aliases may add to a document: a few hundred bytes of aliases must not cost
# seconds of sweep parsing and writing downstream
MAX_ALIAS_NODES = 100_000
MAX_SIZE = 1_000_000  # characters or elements a value built by an expression may hold


# -- YAML -------------------------------------------------------------------------------
class YamlLimitError(yaml.composer.ComposerError):
    """A document too deep or too large once its aliases are expanded; ``fix`` says
    what to do (the file's syntax is fine)."""

    fix = "simplify the file"


class YamlValueError(yaml.constructor.ConstructorError):
    """A tagged scalar that its tag cannot read (``!!float x``)."""

    fix = "fix the value or drop its tag"


class BoundedYamlLoading:
    """A mixin for a PyYAML loader: refuses documents nested deeper than ``MAX_DEPTH``
    or expanding (aliases included) to more than ``MAX_NODES`` nodes, and recursive
    aliases, while composing; turns a constructor's own exceptions on a bad tagged
    value (``!!float x``, ``!!bool maybe``, a 5,000-digit int) into a
    ``ConstructorError`` located at the value."""

    def compose_document(self):
        self._hpreg_sizes = {}  # id(node) -> (nodes expanded, depth), once composed
        self._hpreg_depth = 0
        self._hpreg_aliased = 0  # nodes the aliases added so far
        try:
            return super().compose_document()
        finally:
            self._hpreg_sizes = {}

    def compose_node(self, parent, index):
        sizes = self.__dict__.setdefault("_hpreg_sizes", {})
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None and id(node) not in sizes:
                raise YamlLimitError(
                    None,
                    None,
                    "found the alias {!r} inside its own anchor; a value cannot "
                    "contain itself".format(event.anchor),
                    event.start_mark,
                )
            if node is not None:
                aliased = self.__dict__.get("_hpreg_aliased", 0) + sizes[id(node)][0]
                if aliased > MAX_ALIAS_NODES:
                    raise YamlLimitError(
                        None,
                        None,
                        "the document expands to more than {} values through its "
                        "aliases (each alias repeats what it names); write the "
                        "values out or use fewer aliases".format(MAX_ALIAS_NODES),
                        event.start_mark,
                    )
                self._hpreg_aliased = aliased
            return super().compose_node(parent, index)
        depth = self.__dict__.get("_hpreg_depth", 0) + 1
        if depth > MAX_DEPTH:
            raise YamlLimitError(
                None,
                None,
                "nested deeper than {} levels".format(MAX_DEPTH),
                self.peek_event().start_mark,
            )
        self._hpreg_depth = depth
        try:
            node = super().compose_node(parent, index)
        finally:
            self._hpreg_depth = depth - 1
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = (1, 1)
            return node
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = node.value
        count, deepest = 1, 0
        for child in children:
            child_count, child_depth = sizes[id(child)]
            count += child_count
            deepest = max(deepest, child_depth)
        if count > MAX_NODES:
            raise YamlLimitError(
                None,
                None,
                "the document expands to more than {} values (aliases repeat what "
                "they name); write the values out or use fewer aliases".format(
                    MAX_NODES
                ),
                node.start_mark,
            )
        if deepest + 1 > MAX_DEPTH:
            raise YamlLimitError(
                None,
                None,
                "nested deeper than {} levels (aliases included)".format(MAX_DEPTH),
                node.start_mark,
            )
        sizes[id(node)] = (count, deepest + 1)
        return node

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError) as exc:
            raise YamlValueError(
                None,
                None,
                "cannot read {!r} as {}{}".format(
                    _short(getattr(node, "value", "")),
                    _tag_name(node.tag),
                    _reason(exc),
                ),
                node.start_mark,
            ) from None


def _short(value, limit=60):
    if not isinstance(value, str):
        return "(a collection)"
    return shorten(value, limit)


def _tag_name(tag: str) -> str:
    prefix = "tag:yaml.org,2002:"
    if tag.startswith(prefix):
        return "!!" + tag[len(prefix) :]
    return tag


def _reason(exc) -> str:
    text = str(exc)
    if isinstance(exc, ValueError) and "integer string conversion" in text:
        return " (over {} digits)".format(_int_digits_limit())
    if isinstance(exc, (KeyError, AttributeError)) or not text:
        return ""
    return " ({})".format(text)


def _int_digits_limit():
    import sys

    get = getattr(sys, "get_int_max_str_digits", None)
    return get() if get is not None else 4300


# -- nesting of plain data ----------------------------------------------------------------
def nesting_problem(data: Any, limit: int = MAX_DEPTH):
    """A message when ``data`` (lists, tuples, dicts) nests deeper than ``limit``
    levels or contains itself, else None; iterative, so any depth is safe to check."""
    stack = [(data, 1)]
    count = 0
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, (list, tuple)):
            children = value
        else:
            continue
        if depth > limit:
            return "nested deeper than {} levels".format(limit)
        count += len(children)
        if count > MAX_NODES:
            return "more than {} values".format(MAX_NODES)
        stack.extend((child, depth + 1) for child in children)
    return None


# -- JSON ---------------------------------------------------------------------------------
class DuplicateJsonKey(ValueError):
    """A JSON object names a key twice."""

    def __init__(self, key):
        super().__init__("duplicate key {!r}".format(key))
        self.key = key


def _unique_pairs(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateJsonKey(key)
        out[key] = value
    return out


def load_json_text(text: str) -> Any:
    """``json.loads`` that refuses duplicate keys (``DuplicateJsonKey``) and nesting
    deeper than ``MAX_DEPTH`` (``RecursionError`` is never left to escape: a
    ``ValueError`` says it)."""
    try:
        data = json.loads(text, object_pairs_hook=_unique_pairs)
    except RecursionError:
        raise ValueError("nested deeper than {} levels".format(MAX_DEPTH)) from None
    problem = nesting_problem(data)
    if problem is not None:
        raise ValueError(problem)
    return data


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float as a string, ``"nan"``, ``"inf"`` or
    ``"-inf"``: strict JSON has no NaN or Infinity (this is hpreg's documented
    convention for ``--list`` and ``--hp-list json``)."""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


# -- sizes of values ----------------------------------------------------------------------
def text_size(value: Any, limit: int = MAX_SIZE) -> int:
    """An upper bound of the characters ``repr(value)`` writes (so of the elements and
    characters ``value`` holds once written out), counting shared items once per
    use; the walk stops as soon as the count passes ``limit``, so it costs at most
    about ``limit`` steps whatever ``value`` is."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += int_digits(item) + 1
        elif isinstance(item, float):
            total += 24
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(item)
            if total <= limit:
                stack.extend(item)
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            if total <= limit:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, range):
            total += 20 + sum(int_digits(n) for n in (item.start, item.stop, item.step))
        else:
            total += 100  # FloatRange and the like: a short repr
        if total > limit:
            return total
    return total


def int_digits(number: int) -> int:
    """An upper bound of the decimal digits of ``number`` (sign included), from its
    bit length: nothing is converted."""
    return int(abs(number).bit_length() * 0.30103) + 2


def exception_reason(exc: BaseException) -> str:
    """What went wrong, never blank: ``str(exc)``, or a name for the exceptions that
    carry no message (``MemoryError``, ``RecursionError``...)."""
    text = str(exc).strip()
    if text:
        return text
    if isinstance(exc, MemoryError):
        return "out of memory"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return type(exc).__name__
