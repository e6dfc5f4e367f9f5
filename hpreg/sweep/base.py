"""The ``Sweep`` base class: the public sequence protocol every sweep node shares.

Nodes implement a small internal protocol (``_iter``, ``_get``, ``_size``...); this
module turns it into ``len``, indexing, iteration, ``count`` and the chained methods.
"""

import operator
import reprlib
import sys
from typing import Any, Callable, Dict, FrozenSet, Iterator, Optional, Tuple

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


def shorten(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


class Sweep:
    """A lazy, immutable sequence of points: plain ``dict`` s of hyperparameter values.

    ``len(s)`` and ``s[i]`` (negative too) cost time in proportion to the size of
    the expression, not the number of points; sweeps that filter (``where``,
    ``unique``) have no cheap length and raise ``TypeError`` from ``len`` and ``s[i]``
    (``count()`` and ``list(s)`` still work). Iteration streams in constant memory
    (``unique`` keeps the points it has seen). Each point is a new dict; its values
    are shared, not copied. A sweep is a tree of nodes; ``children`` lists a node's
    sub-sweeps (see ``hpreg.sweep`` for the node classes).
    """

    children: Tuple["Sweep", ...] = ()
    # Filled by each node's constructor: hyperparameter names it can set, let
    # variables it can set, the keys every point sets, the cheap size (None: none)
    # and why there is none.
    _names: FrozenSet = frozenset()
    _lets: FrozenSet = frozenset()
    _always: FrozenSet = frozenset()
    _size: Optional[int] = None
    _nolen: Optional[str] = None

    def _init(self, names, lets, always, size, nolen=None) -> None:
        self._names = frozenset(names)
        self._lets = frozenset(lets)
        self._always = frozenset(always)
        self._size = size
        self._nolen = nolen if size is None else None

    # -- internal protocol, implemented by every node -------------------------------
    def _iter(self, ctx: Point) -> Iterator[Point]:
        """New dicts holding ``ctx`` (the point so far) plus this node's values."""
        raise NotImplementedError

    def _get(self, index: int, ctx: Point) -> Point:
        """The ``index``-th point (``0 <= index < _size``) as ``_iter`` would give it."""
        raise NotImplementedError

    def _repr(self) -> str:
        raise NotImplementedError

    @property
    def _keys(self) -> FrozenSet:
        return self._names | self._lets

    # -- public sequence protocol ---------------------------------------------------
    @property
    def names(self) -> Optional[FrozenSet[str]]:
        """The hyperparameter names points can set (derived ones too, let variables not).

        ``None`` would mean unknowable; every node hpreg builds knows its names.
        """
        return self._names

    def _no_length(self, what: str = "") -> TypeError:
        return TypeError(
            "{} has no cheap length because it {}; use .count() or list(s){}".format(
                shorten(repr(self), 80), self._nolen, what
            )
        )

    def __len__(self) -> int:
        if self._size is None:
            raise self._no_length()
        if self._size > sys.maxsize:
            raise OverflowError(
                "the sweep has {} points, more than len() can return; use "
                ".count()".format(self._size)
            )
        return self._size

    def _count_cheaply(self) -> Optional[int]:
        """The number of points when known without enumerating, else None; ``_get``
        works whenever this is known, even where ``len`` refuses (an override)."""
        return self._size

    def count(self) -> int:
        """The exact number of points: ``len`` when cheap, else by enumerating."""
        size = self._count_cheaply()
        if size is not None:
            return size
        return sum(1 for _ in self._iter({}))

    def __bool__(self) -> bool:
        if self._size is not None:
            return self._size > 0
        return next(iter(self._iter({})), None) is not None

    def __iter__(self) -> Iterator[Point]:
        points = self._iter({})
        if self._lets:
            return self._strip_all(points)
        return iter(points)

    def _strip_all(self, points: Iterator[Point]) -> Iterator[Point]:
        lets = tuple(self._lets)
        for point in points:
            for name in lets:
                point.pop(name, None)
            yield point

    def _strip(self, point: Point) -> Point:
        for name in self._lets:
            point.pop(name, None)
        return point

    def __getitem__(self, index):
        if isinstance(index, slice):
            if self._size is None:
                return list(self)[index]
            return [self[i] for i in range(*index.indices(self._size))]
        position = operator.index(index)
        size = self._size
        if size is None:
            raise self._no_length("[i]")
        if position < 0:
            position += size
        if not 0 <= position < size:
            raise IndexError(
                "sweep index {} out of range for a sweep of {} points".format(
                    index, size
                )
            )
        return self._strip(self._get(position, {}))

    def __repr__(self) -> str:
        return self._repr()

    # -- chained constructors ------------------------------------------------------
    def checked_against(self, registry) -> "Sweep":
        """This sweep checked against ``registry`` (see ``hpreg.validate``)."""
        from hpreg.sweep.validate import validate

        return validate(self, registry)

    def derive(self, *mappings: Dict[str, Callable], **fns: Callable) -> "Sweep":
        """Add names computed from each point: ``fn(point_so_far) -> value``.

        ``point_so_far`` is a read-only view holding this sweep's values, those of
        earlier factors of enclosing products and let variables.
        """
        from hpreg.sweep.ops import Derive

        items: Dict[str, Callable] = {}
        for mapping in mappings:
            if not isinstance(mapping, dict):
                raise SweepError(
                    "derive(): positional arguments must be dicts of name -> "
                    "function, got {}".format(value_repr(mapping))
                )
            items.update(mapping)
        items.update(fns)
        return Derive(self, items)

    def where(self, pred: Callable[[Point], Any]) -> "Sweep":
        """Keep the points for which ``pred(point_so_far)`` is true."""
        from hpreg.sweep.ops import Where

        return Where(self, pred)

    def unique(self) -> "Sweep":
        """Drop repeated points, keeping the first of each (lists and dicts compare by value)."""
        from hpreg.sweep.ops import Unique

        return Unique(self)

    def shard(self, k: int, n: int) -> "Sweep":
        """Every ``n``-th point starting from point ``k`` (``0 <= k < n``).

        The ``n`` shards partition the sweep.
        """
        from hpreg.sweep.ops import Shard

        return Shard(self, k, n)

    def sample(self, n: int, seed: Any = None) -> "Sweep":
        """``n`` distinct points drawn uniformly, in draw order, without enumerating.

        The indices are ``random.Random(seed).sample(range(len(s)), n)``. A sweep
        that filters (``where``, ``unique``) is enumerated once, when first drawn
        from, and the indices index ``list(s)``.
        """
        from hpreg.sweep.ops import Sample

        return Sample(self, n, seed)
