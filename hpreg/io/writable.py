"""Values that a values file can hold and give back: checked before writing.

Text that is not UTF-8 (undecodable command-line bytes, kept by Python as surrogate
escapes) and integers too long for Python to read back from text
(``sys.get_int_max_str_digits``) are refused with an error naming the
hyperparameter, instead of a traceback half way through writing.
"""

import sys
from typing import Any, Dict, Optional

from hpreg.errors import ValuesFileError

__all__ = ["unwritable", "check_point", "check_tree"]


def _int_digits_limit() -> int:
    get = getattr(sys, "get_int_max_str_digits", None)
    return get() if get else 0


def unwritable(value: Any, escapes: bool = False) -> Optional[str]:
    """Why ``value`` (walked into lists and dicts) cannot be written to a values
    file and read back, or None when it can. ``escapes``: the format writes
    surrogates as escapes (YAML), so only long integers are a problem."""
    limit = _int_digits_limit()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not escapes and _has_surrogate(item):
                return (
                    "text with bytes that are not UTF-8 ({}: undecodable "
                    "command-line bytes), which a UTF-8 file cannot hold; pass it "
                    "as UTF-8 text".format(ascii(_shorter(item)))
                )
        elif isinstance(item, bool) or not isinstance(item, int):
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, (list, tuple, set, frozenset)):
                stack.extend(item)
        elif limit and item.bit_length() > limit * 3:  # 3 bits < 1 digit
            try:
                str(item)
            except ValueError:
                return (
                    "an integer of about {} digits, more than the {} Python reads "
                    "back from text (sys.set_int_max_str_digits); derive a smaller "
                    "value, e.g. its number of digits".format(
                        int(item.bit_length() * 0.30103) + 1, limit
                    )
                )
    return None


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _shorter(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def check_point(point: Dict[str, Any], where: str) -> None:
    """Refuse a point whose names or values cannot be written (see ``unwritable``)."""
    for name, value in point.items():
        problem = unwritable(name)
        if problem is not None:
            raise ValuesFileError(
                "{}: a name is {}".format(where, problem), key=name, path=None
            )
        problem = unwritable(value)
        if problem is not None:
            raise ValuesFileError(
                "{}: '{}' is {}".format(where, _printable(name), problem),
                key=name,
                path=None,
            )


def _printable(name: Any) -> str:
    text = str(name)
    return text if not _has_surrogate(text) else ascii(text)[1:-1]


def check_tree(
    tree: Dict[str, Any], path: str, separator: str = ".", escapes: bool = False
) -> None:
    """Refuse a nested values ``tree`` for ``path`` that cannot be written
    (``escapes``: see ``unwritable``)."""

    def walk(node, prefix):
        for key, value in node.items():
            name = "{}{}{}".format(prefix, separator, key) if prefix else str(key)
            problem = unwritable(key, escapes)
            if problem is not None:
                raise ValuesFileError(
                    "{}: cannot save: a name is {}".format(path, problem),
                    path=str(path),
                    key=name,
                )
            if isinstance(value, dict) and value:
                walk(value, name)
                continue
            problem = unwritable(value, escapes)
            if problem is not None:
                raise ValuesFileError(
                    "{}: cannot save '{}': it is {}".format(
                        path, _printable(name), problem
                    ),
                    path=str(path),
                    key=name,
                )

    walk(tree, "")
