"""Nested mappings and flat dotted names, and values as YAML/JSON can hold them.

One flattener, one nester and one plain-value conversion for every values file,
``$HPREG_CONFIG``, sweep ``include``, listings and sweep output.
"""

from typing import Any, Callable, Dict, Optional

from hpreg._text import with_article
from hpreg.errors import ImpossibleTree, UsageError
from hpreg.io.limits import MAX_DEPTH

KeepWhole = Callable[[str, dict], bool]


def flatten_nested(
    values: dict,
    separator: str = ".",
    prefix: str = "",
    keep_whole: Optional[KeepWhole] = None,
    strict_keys: bool = False,
) -> Dict[str, Any]:
    """``{"model": {"width": 64}}`` gives ``{"model.width": 64}``.

    An empty mapping stays a value, and so does a mapping for which
    ``keep_whole(name, mapping)`` is true (a hyperparameter whose value is a dict).
    A key that is not a string is spelled with ``str()``, or with ``strict_keys``
    raises ``ImpossibleTree``.
    """
    flat: Dict[str, Any] = {}
    # depth-first, in the mapping's order, without recursion
    stack = [(prefix, values)]
    while stack:
        name, node = stack.pop()
        if (
            not isinstance(node, dict)
            or not node
            or (name and keep_whole is not None and keep_whole(name, node))
        ):
            flat[name] = node
            continue
        children = []
        for key, child in node.items():
            if not isinstance(key, str):
                if strict_keys:
                    raise ImpossibleTree(
                        "tree keys must be strings, but {!r} under '{}' is {}".format(
                            key, name, with_article(type(key).__name__)
                        )
                    )
                key = str(key)
            children.append((name + separator + key if name else key, child))
        stack.extend(reversed(children))
    return flat


def nest_flat(values: Dict[str, Any], separator: str = ".") -> Dict[str, Any]:
    """``{"model.width": 64}`` gives ``{"model": {"width": 64}}`` (the inverse)."""
    tree: Dict[str, Any] = {}
    for name, value in values.items():
        parts = str(name).split(separator)
        level = tree
        for part in parts[:-1]:
            child = level.get(part)
            if not isinstance(child, dict):
                child = level[part] = {}
            level = child
        level[parts[-1]] = value
    return tree


def plain_value(
    value: Any, other: Optional[Callable[[Any], Any]] = None, _depth: int = 0
) -> Any:
    """``value`` as YAML and JSON hold it: tuples as lists, sets as sorted lists.

    ``other(value)`` converts what neither can hold (bytes, code, objects); by
    default such a value is kept as it is. A value nested deeper than
    ``MAX_DEPTH`` levels is a ``UsageError``.
    """
    if isinstance(value, (type(None), bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        _depth += 1
        if _depth > MAX_DEPTH:
            raise UsageError(
                "cannot show a value nested deeper than {} levels".format(MAX_DEPTH)
            )
    if isinstance(value, (list, tuple)):
        return [plain_value(v, other, _depth) for v in value]
    if isinstance(value, dict):
        return {k: plain_value(v, other, _depth) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((plain_value(v, other, _depth) for v in value), key=repr)
    return other(value) if other is not None else value
