"""Sizes and identities of sweep values past what ``len()`` and ``==`` tell.

``len()`` fails above ``sys.maxsize`` (``range(10**30)``); :func:`seq_len` returns
the exact Python int. :func:`freeze_typed` is a hashable stand-in for a value that
tells ``1``, ``True`` and ``1.0`` apart, also inside lists and dicts.
"""

from typing import Any, Sequence

__all__ = ["seq_len", "how_many", "freeze_typed"]


def seq_len(values: Sequence) -> int:
    """``len(values)``, also for a range or sequence longer than ``sys.maxsize``."""
    if isinstance(values, range):
        start, stop, step = values.start, values.stop, values.step
        if step > 0:
            return max(0, (stop - start + step - 1) // step)
        return max(0, (start - stop - step - 1) // -step)
    size = getattr(values, "_len", None)  # FloatRange keeps its exact size
    if isinstance(size, int):
        return size
    return len(values)


def how_many(n: int) -> str:
    """``n`` as a short text: ``1234`` stays, ``10**36`` is ``1e+36``."""
    if n < 10**15:
        return str(n)
    if n.bit_length() > 60000:
        return "more than 1e18000"
    from decimal import Decimal  # only for counts past 10**15

    mantissa, exponent = "{:.3e}".format(Decimal(n)).split("e")
    return "{}e{}".format(mantissa.rstrip("0").rstrip("."), int(exponent))


class _Tag:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return "<{}>".format(self.name)


_LIST, _TUPLE, _DICT, _SET = (_Tag(n) for n in ("list", "tuple", "dict", "set"))


def freeze_typed(value: Any) -> Any:
    """A hashable stand-in for ``value`` that is equal for equal values of the same
    types only: ``1``, ``True`` and ``1.0`` freeze apart, also nested."""
    if isinstance(value, dict):
        return _DICT, frozenset(
            (freeze_typed(k), freeze_typed(v)) for k, v in value.items()
        )
    if isinstance(value, list):
        return _LIST, tuple(map(freeze_typed, value))
    if isinstance(value, tuple):
        return _TUPLE, tuple(map(freeze_typed, value))
    if isinstance(value, (set, frozenset)):
        return _SET, frozenset(map(freeze_typed, value))
    try:
        hash(value)
    except TypeError:
        return type(value), repr(value)
    return type(value), value


def freeze_point_typed(point: dict) -> frozenset:
    """A hashable stand-in for a point, values compared with their types."""
    return frozenset((k, freeze_typed(v)) for k, v in point.items())
