"""Command-line sweeps in Hydra's grammar: ``lr=0.1,0.01 n=range(10,151,10) +x=3``.

Turns override items into a :class:`~hpreg.sweep.Sweep` (a product, the first item
slowest); values are YAML 1.2 scalars read by :func:`hpreg._files.parse_scalar`.
"""

import re
from typing import Any, Iterable, List, Tuple

from hpreg.sweep import algebra
from hpreg.io.files import parse_scalar
from hpreg.sweep.ranges import MAX_FLOAT_AXIS, FloatRange, make_range
from hpreg.errors import UsageError

__all__ = ["parse_overrides", "parse_override", "split_top_level"]

_FUNCTION = re.compile(r"^([A-Za-z_]\w*)\((.*)\)$", re.DOTALL)
_NAME = re.compile(r"^[^\s=,()\[\]{}'\"]+$")
# Hydra sweep functions hpreg does not take from a command line.
_UNSUPPORTED = ("interval", "glob", "sort", "shuffle", "tag", "range_float")
_EXAMPLE = "write name=value, name=v1,v2, name=range(a,b[,step]) or name=choice(a,b)"


class _Axis(list):
    """Internal marker: the values of a swept name (as opposed to a list value)."""


def split_top_level(text: str, item: str = "") -> List[str]:
    """Split ``text`` on commas outside brackets and quotes: ``"[1,2],'a,b'"`` gives
    ``["[1,2]", "'a,b'"]``. Unbalanced brackets or quotes are a UsageError."""
    parts, quote, start, token = [], None, 0, 0
    closing = {"[": "]", "{": "}", "(": ")"}
    stack = []
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            # a quote opens a quoted value only where a value starts (so don't stays)
            if not text[token:i].strip():
                quote = char
        elif char in closing:
            stack.append(closing[char])
            token = i + 1
        elif char in ")]}":
            if not stack or stack.pop() != char:
                raise _usage(item or text, "unbalanced {!r}".format(char))
        elif char in ",:":
            token = i + 1
            if char == "," and not stack:
                parts.append(text[start:i])
                start = i + 1
    if quote:
        raise _usage(item or text, "unclosed quote {}".format(quote))
    if stack:
        raise _usage(item or text, "unclosed {!r}".format(stack[-1]))
    parts.append(text[start:])
    return parts


def _usage(item: str, problem: str, fix: str = _EXAMPLE) -> UsageError:
    return UsageError(where=item, problem=problem, fix=fix, item=item)


def _element(text: str, item: str) -> Any:
    if not text.strip():
        raise _usage(item, "empty value in a list of values", "remove the extra comma")
    return parse_scalar(text.strip(), where=item)


def _range(arguments: str, item: str):
    fix = "write range(stop), range(start, stop) or range(start, stop, step)"
    if not arguments.strip():
        raise _usage(item, "range takes 1 to 3 numbers, got 0", fix)
    args = [_element(part, item) for part in split_top_level(arguments, item)]
    if not 1 <= len(args) <= 3:
        raise _usage(item, "range takes 1 to 3 numbers, got {}".format(len(args)), fix)
    for arg in args:
        if isinstance(arg, bool) or not isinstance(arg, (int, float)):
            raise _usage(item, "range needs numbers, not {!r}".format(arg), fix)
    try:
        values = make_range(*args)
    except (TypeError, ValueError) as exc:
        raise _usage(item, str(exc), fix) from None
    if not values:
        raise _usage(
            item,
            "the range is empty (the end is excluded)",
            "check the bounds and the step's sign",
        )
    if isinstance(values, FloatRange) and len(values) > MAX_FLOAT_AXIS:
        raise _usage(
            item,
            "a float range of {} values (at most {})".format(
                len(values), MAX_FLOAT_AXIS
            ),
            "use a larger step, or ints",
        )
    return values


def _parse_value(text: str, item: str):
    """The axis (an _Axis, range or FloatRange) or the fixed value of an override."""
    stripped = text.strip()
    match = _FUNCTION.match(stripped)
    if match:
        function, arguments = match.group(1), match.group(2)
        if function == "range":
            return _range(arguments, item)
        if function == "choice":
            if not arguments.strip():
                raise _usage(item, "choice() needs at least one value")
            parts = split_top_level(arguments, item)
            return _Axis(_element(part, item) for part in parts)
        if function in _UNSUPPORTED:
            raise _usage(
                item,
                "{}() is not supported in hpreg sweeps".format(function),
                "use range(...), choice(...) or a list of values",
            )
    parts = split_top_level(text, item)
    if len(parts) == 1:
        return parse_scalar(stripped, where=item)
    return _Axis(_element(part, item) for part in parts)


def parse_override(item: str) -> Tuple[str, Any, bool]:
    """``"lr=0.1,0.01"`` gives ``("lr", [0.1, 0.01], True)``: the name, the values and
    whether they are swept (an axis) or one fixed value (``"x=[1,2]"`` is fixed)."""
    if not isinstance(item, str):
        raise _usage(repr(item), "an override must be a string")
    if "=" not in item:
        raise _usage(item, "not an override (no '=')")
    name, _, text = item.partition("=")
    name = name.strip()
    bare = name.lstrip("+")
    if len(name) - len(bare) > 2:
        raise _usage(item, "too many '+' before the name")
    if name.startswith("~"):
        raise _usage(
            item, "deleting a value with '~' is not supported", "leave the name out"
        )
    if not bare:
        raise _usage(item, "empty name before '='")
    if not _NAME.match(bare):
        raise _usage(item, "invalid name {!r}".format(bare))
    values = _parse_value(text, item)
    if isinstance(values, _Axis):
        return bare, list(values), True
    if isinstance(values, (range, FloatRange)):
        return bare, values, True
    return bare, values, False


def parse_overrides(items: Iterable[str]):
    """Read command-line overrides as a sweep: ``name=1,2,3`` sweeps, ``name=v`` is
    fixed, ``name=[1,2]`` is a list value, a leading ``+`` is ignored; several
    overrides form a product, the first slowest."""
    factors, seen = [], {}
    for item in items:
        name, values, swept = parse_override(item)
        if name in seen:
            raise _usage(
                item,
                "{!r} is already set by {!r}".format(name, seen[name]),
                "give each name once (write several values as {}=v1,v2)".format(name),
            )
        seen[name] = item
        if not swept and isinstance(values, (list, tuple, dict)):
            values = algebra.value(values)
        if isinstance(values, FloatRange):
            values = list(values)
        factors.append({name: values})
    return algebra.product(*factors)
