"""Ranges as sweep axes: ``range`` for ints, :class:`FloatRange` for floats (exact
decimal steps), both lazy."""

import sys
from collections.abc import Sequence

__all__ = ["FloatRange", "make_range", "MAX_FLOAT_AXIS"]

# A float range axis is stored as a list (int ranges stay lazy): cap its length.
MAX_FLOAT_AXIS = 1_000_000


class FloatRange(Sequence):
    """``range`` for floats: ``start + i * step`` for every ``i`` with a value before
    ``stop``, computed in decimal from the numbers as written, so that
    ``FloatRange(0.1, 0.5, 0.1)`` is exactly ``0.1, 0.2, 0.3, 0.4`` (no accumulated
    error, and the end excluded as in Python)."""

    def __init__(self, start, stop, step=1):
        if step == 0:
            raise ValueError("range() step must not be zero")
        self.start, self.stop, self.step = start, stop, step
        self._start, self._step = _decimal(start), _decimal(step)
        span = (_decimal(stop) - self._start) / self._step
        self._len = max(0, int(span.to_integral_value(rounding="ROUND_CEILING")))

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("FloatRange index out of range")
        return float(self._start + index * self._step)

    def __iter__(self):
        for i in range(self._len):
            yield float(self._start + i * self._step)

    def __eq__(self, other):
        if isinstance(other, FloatRange):
            if self._len != other._len:
                return False
            return self._len == 0 or (
                (self._start, self._step) == (other._start, other._step)
                if self._len > 1
                else self[0] == other[0]
            )
        return NotImplemented

    def __hash__(self):
        return hash((self._len, self._start if self._len else None))

    def __repr__(self) -> str:
        return "FloatRange({!r}, {!r}, {!r})".format(self.start, self.stop, self.step)


def _decimal(number):
    # imported here: most sweeps have no float range, and decimal costs a start-up
    from decimal import Decimal, InvalidOperation

    # repr gives the shortest text that reads back as the float: the number as written.
    try:
        value = Decimal(repr(number))
    except InvalidOperation:
        value = Decimal("nan")
    if not value.is_finite():
        raise ValueError("range() needs finite numbers, not {!r}".format(number))
    return value


def make_range(*args):
    """``range(stop)``, ``range(start, stop[, step])``: a ``range`` for ints, a
    :class:`FloatRange` when any bound is a float. Bools are refused."""
    if not 1 <= len(args) <= 3:
        raise TypeError("range expected 1 to 3 arguments, got {}".format(len(args)))
    for arg in args:
        if isinstance(arg, bool) or not isinstance(arg, (int, float)):
            raise TypeError("range() arguments must be numbers, not {!r}".format(arg))
    if len(args) == 1:
        args = (0,) + args
    if all(isinstance(arg, int) for arg in args):
        return range(*args)
    values = FloatRange(*args)
    if values._len > sys.maxsize:  # lazy, but past what len() and indexing take
        from hpreg.sweep.sizes import how_many

        raise ValueError(
            "a float range of {} values is too long (a sweep axis takes at most {} "
            "floats); use a larger step, or ints".format(
                how_many(values._len), MAX_FLOAT_AXIS
            )
        )
    return values
