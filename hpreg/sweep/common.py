"""Helpers every node module shares, below the node classes (they import none).

Freezing values to hashable stand-ins, short reprs, and the argument checks that
several nodes make.
"""

import keyword
import random
import reprlib
import sys
from typing import Any, Callable, Dict, FrozenSet, List, Optional

from hpreg._text import shorten
from hpreg.errors import SweepError

Point = Dict[str, Any]

_LIST, _TUPLE, _DICT, _SET, _OBJ = (object() for _ in range(5))


def freeze(value: Any) -> Any:
    """A hashable stand-in for ``value``: equal values (by ``==``) freeze equal."""
    if isinstance(value, dict):
        return _DICT, frozenset((k, freeze(v)) for k, v in value.items())
    if isinstance(value, list):
        return _LIST, tuple(map(freeze, value))
    if isinstance(value, tuple):
        return _TUPLE, tuple(map(freeze, value))
    if isinstance(value, (set, frozenset)):
        return _SET, frozenset(map(freeze, value))
    try:
        hash(value)
    except TypeError:
        return _OBJ, type(value).__qualname__, repr(value)
    return value


def freeze_point(point: Point) -> FrozenSet:
    """A hashable stand-in for a point; key order does not matter, as for ``==``."""
    return frozenset((k, freeze(v)) for k, v in point.items())


_REPR = reprlib.Repr()
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = 8
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlevel = 3


def value_repr(value: Any) -> str:
    """A short repr: long lists are cut with ``...``; ranges read as written."""
    if isinstance(value, range):
        return repr(value)
    return _REPR.repr(value)


def callable_repr(fn: Callable) -> str:
    """``<lambda>``, ``module.func`` or the object's repr, for sweep reprs."""
    name = getattr(fn, "__name__", None)
    return name if name else value_repr(fn)


def describe(node: Any) -> str:
    """A node's repr, cut short for an error message."""
    return shorten(repr(node), 60)


def check_lets(where: str, names, lets) -> None:
    """Refuse a let variable that is also a hyperparameter name of the sweep."""
    both = sorted(set(names) & set(lets), key=str)
    if both:
        raise SweepError(
            where=where,
            problem="let variable {!r} is also a hyperparameter name in this "
            "sweep".format(both[0]),
            fix="rename the variable",
            name=both[0],
        )


def keyword_safe(name: Any) -> bool:
    """Whether ``name`` can be written as a keyword argument in a repr."""
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def missing_name(error: KeyError, point, where: str) -> Optional[SweepError]:
    """A SweepError when ``error`` is the point lacking a name, else None."""
    missing = error.args[0] if len(error.args) == 1 else None
    if not isinstance(missing, str) or missing in point:
        return None
    known = ", ".join(sorted(k for k in point if isinstance(k, str))) or "none"
    return SweepError(
        where=where,
        problem="reads {!r}, which the point does not have (names so far: "
        "{})".format(missing, known),
        fix="set it in this sweep, an earlier factor of an enclosing product or a "
        "let()",
        missing=missing,
    )


def visible(point: Point) -> Point:
    """The point without the hidden keys an enclosing override adds."""
    return {k: v for k, v in point.items() if type(k) is str}


def check_count(where: str, what: str, n: Any, low: int) -> int:
    """``n`` when it is an integer >= ``low``, else a SweepError."""
    if isinstance(n, bool) or not isinstance(n, int) or n < low:
        raise SweepError(
            where=where,
            problem="{} must be an integer >= {}, got {}".format(
                what, low, value_repr(n)
            ),
        )
    return n


def sample_indices(size: int, n: int, seed: Any) -> List[int]:
    """``random.Random(seed).sample(range(size), n)``, also past ``sys.maxsize``."""
    rng = random.Random(seed)
    if size <= sys.maxsize:
        return rng.sample(range(size), n)
    chosen: Dict[int, None] = {}
    while len(chosen) < n:
        chosen[rng.randrange(size)] = None
    return list(chosen)


def check_sample_size(where: str, n: int, size: int) -> None:
    """Refuse drawing ``n`` distinct points of ``size``."""
    if n > size:
        raise SweepError(
            "{}: the sweep has only {} points, so {} distinct ones cannot be "
            "drawn; ask for at most {}".format(where, size, n, size),
            n=n,
            size=size,
        )
