"""Per-point operations on a sweep: derive, where, unique, shard, sample, defaults."""

import itertools
import random
import sys
from types import MappingProxyType
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from hpreg.sweep.sizes import freeze_point_typed

from hpreg.sweep.base import Point, Sweep, callable_repr, value_repr
from hpreg.sweep.leaves import _check_lets, _keyword_safe
from hpreg.errors import SweepError


def _missing_name(error: KeyError, point, where: str) -> Optional[SweepError]:
    """A SweepError when ``error`` is the point lacking a name, else None."""
    missing = error.args[0] if len(error.args) == 1 else None
    if not isinstance(missing, str) or missing in point:
        return None
    known = ", ".join(sorted(k for k in point if isinstance(k, str))) or "none"
    return SweepError(
        "{}: reads {!r}, which the point does not have (names so far: {}); set it "
        "in this sweep, an earlier factor of an enclosing product or a let()".format(
            where, missing, known
        ),
        missing=missing,
    )


def _visible(point: Point) -> Point:
    return {k: v for k, v in point.items() if type(k) is str}


class Derive(Sweep):
    """``child`` plus names computed from each point: ``fns[name](point) -> value``.

    The functions run in order; each sees the point so far (read-only), including
    the names derived before it.
    """

    # Set on copies made inside an override, whose points carry hidden keys.
    _hide = False

    def __init__(self, child: Sweep, fns: Dict[str, Callable]):
        self.child = child
        self.children = (child,)
        self.fns = dict(fns)
        for name, fn in self.fns.items():
            if not isinstance(name, str) or not name:
                raise SweepError(
                    "derive(): the name {!r} is not a non-empty string".format(name)
                )
            if not callable(fn):
                raise SweepError(
                    "derive(): the value for {!r} is {}, not a function of the "
                    "point; use product({}=...) for a fixed value".format(
                        name, value_repr(fn), name
                    ),
                    name=name,
                )
            if name in child._keys:
                raise SweepError(
                    "derive(): {!r} is already set by the sweep it derives from; "
                    "derive a new name, or drop {!r} from that sweep".format(
                        name, name
                    ),
                    name=name,
                )
        names = child._names | frozenset(self.fns)
        _check_lets("derive()", names, child._lets)
        self._init(
            names,
            child._lets,
            child._always | frozenset(self.fns),
            child._size,
            child._nolen,
        )

    def _apply(self, point: Point) -> Point:
        view = _visible(point) if self._hide else point
        proxy = MappingProxyType(view)
        for name, fn in self.fns.items():
            try:
                value = fn(proxy)
            except KeyError as error:
                mistake = _missing_name(error, view, "derive {!r}".format(name))
                if mistake is None:
                    raise
                raise mistake from None
            point[name] = value
            view[name] = value
        return point

    def _iter(self, ctx: Point) -> Iterator[Point]:
        return map(self._apply, self.child._iter(ctx))

    def _get(self, index: int, ctx: Point) -> Point:
        return self._apply(self.child._get(index, ctx))

    def _repr(self) -> str:
        return "{!r}.derive({})".format(
            self.child,
            _leaves_repr_fns(self.fns),
        )


def _leaves_repr_fns(fns: Dict[str, Callable]) -> str:
    if all(_keyword_safe(name) for name in fns):
        return ", ".join("{}={}".format(n, callable_repr(f)) for n, f in fns.items())
    return "{{{}}}".format(
        ", ".join("{!r}: {}".format(n, callable_repr(f)) for n, f in fns.items())
    )


class Where(Sweep):
    """The points of ``child`` for which ``pred(point)`` is true (no cheap length)."""

    _hide = False

    def __init__(self, child: Sweep, pred: Callable[[Point], Any]):
        if not callable(pred):
            raise SweepError(
                "where(): {} is not a function of the point; pass e.g. "
                "lambda p: p['d_model'] <= p['d_ff']".format(value_repr(pred))
            )
        self.child = child
        self.children = (child,)
        self.pred = pred
        self._init(child._names, child._lets, child._always, None, "filters points")

    def _keep(self, point: Point) -> bool:
        view = _visible(point) if self._hide else point
        try:
            return bool(self.pred(MappingProxyType(view)))
        except KeyError as error:
            where = "where({})".format(callable_repr(self.pred))
            mistake = _missing_name(error, view, where)
            if mistake is None:
                raise
            raise mistake from None

    def _iter(self, ctx: Point) -> Iterator[Point]:
        return filter(self._keep, self.child._iter(ctx))

    def _repr(self) -> str:
        return "{!r}.where({})".format(self.child, callable_repr(self.pred))


class Unique(Sweep):
    """The points of ``child`` without repeats, first occurrences kept, in order.

    Let variables do not count: points differing only in them are repeats.
    """

    def __init__(self, child: Sweep):
        self.child = child
        self.children = (child,)
        self._init(
            child._names,
            child._lets,
            child._always,
            None,
            "drops repeated points",
        )

    def _iter(self, ctx: Point) -> Iterator[Point]:
        seen, lets = set(), self._lets
        for point in self.child._iter(ctx):
            # 1, True and 1.0 are different values (issue 8)
            if lets:
                key = freeze_point_typed(
                    {k: v for k, v in point.items() if k not in lets}
                )
            else:
                key = freeze_point_typed(point)
            if key not in seen:
                seen.add(key)
                yield point

    def _repr(self) -> str:
        return "{!r}.unique()".format(self.child)


def _check_count(where: str, what: str, n: Any, low: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < low:
        raise SweepError(
            "{}: {} must be an integer >= {}, got {}".format(
                where, what, low, value_repr(n)
            )
        )
    return n


# From this step on, a shard of an indexable sweep picks its points by index
# (``_get`` costs two or three times a streamed point) instead of streaming past the
# points of the other shards.
_INDEXED_STEP = 8


class Shard(Sweep):
    """Every ``n``-th point of ``child`` starting from point ``k`` (0-based)."""

    def __init__(self, child: Sweep, k: int, n: int):
        where = "shard({}, {})".format(value_repr(k), value_repr(n))
        _check_count(where, "n", n, 1)
        _check_count(where, "k", k, 0)
        if k >= n:
            raise SweepError(
                "{}: k must be in 0..{} (shard k of n, counted from 0)".format(
                    where, n - 1
                ),
                k=k,
                n=n,
            )
        self.child, self.k, self.n = child, k, n
        self.children = (child,)
        size = None
        if child._size is not None:
            size = max(0, (child._size - k + n - 1) // n)
        self._init(child._names, child._lets, child._always, size, child._nolen)

    def _iter(self, ctx: Point) -> Iterator[Point]:
        size = self.child._count_cheaply()
        if size is not None and self.n >= _INDEXED_STEP:
            # picking points by index skips the ones other shards take
            child = self.child
            return (child._get(i, ctx) for i in range(self.k, size, self.n))
        return itertools.islice(self.child._iter(ctx), self.k, None, self.n)

    def _get(self, index: int, ctx: Point) -> Point:
        return self.child._get(self.k + index * self.n, ctx)

    def _repr(self) -> str:
        return "{!r}.shard({}, {})".format(self.child, self.k, self.n)


def sample_indices(size: int, n: int, seed: Any) -> List[int]:
    """``random.Random(seed).sample(range(size), n)``, also past ``sys.maxsize``."""
    rng = random.Random(seed)
    if size <= sys.maxsize:
        return rng.sample(range(size), n)
    chosen: Dict[int, None] = {}
    while len(chosen) < n:
        chosen[rng.randrange(size)] = None
    return list(chosen)


class Sample(Sweep):
    """``n`` distinct points of ``child`` drawn uniformly with ``seed``, in draw order.

    A child without a cheap length (``where``, ``unique``) is listed when drawn from,
    and the indices are drawn from that list: the same points for the same seed as
    sampling ``list(child)``. Such a sample has no ``indices`` until drawn.
    """

    _drawn: Optional[tuple] = None  # (ctx, points, indices) of a listed child

    def __init__(
        self,
        child: Sweep,
        n: int,
        seed: Any = None,
        indices: Optional[Sequence[int]] = None,
    ):
        where = "sample({})".format(value_repr(n))
        _check_count(where, "n", n, 0)
        size = child._count_cheaply()
        self.child, self.n, self.seed = child, n, seed
        self.children = (child,)
        if size is None:
            self.indices = None if indices is None else tuple(indices)
            self._init(child._names, child._lets, child._always, n)
            return
        _check_sample_size(where, n, size)
        if indices is None:
            indices = sample_indices(size, n, seed)
        self.indices = tuple(indices)
        self._init(child._names, child._lets, child._always, n)

    def _draw(self, ctx: Point):
        """The listed child's points and the drawn indices, for a filtered child."""
        drawn = self._drawn
        if drawn is not None and drawn[0] == ctx:
            return drawn[1], drawn[2]
        points = list(self.child._iter(ctx))
        _check_sample_size("sample({})".format(self.n), self.n, len(points))
        indices = self.indices
        if indices is None or ctx:
            indices = tuple(sample_indices(len(points), self.n, self.seed))
        if not ctx:
            self.indices = indices
        self._drawn = (dict(ctx), points, indices)
        return points, indices

    def _iter(self, ctx: Point) -> Iterator[Point]:
        child = self.child
        if child._count_cheaply() is None:
            points, indices = self._draw(ctx)
            return (dict(points[i]) for i in indices)
        return (child._get(i, ctx) for i in self.indices)

    def _get(self, index: int, ctx: Point) -> Point:
        if self.child._count_cheaply() is None:
            points, indices = self._draw(ctx)
            return dict(points[indices[index]])
        return self.child._get(self.indices[index], ctx)

    def _repr(self) -> str:
        return "{!r}.sample({}, seed={!r})".format(self.child, self.n, self.seed)


def _check_sample_size(where: str, n: int, size: int) -> None:
    if n > size:
        raise SweepError(
            "{}: the sweep has only {} points, so {} distinct ones cannot be "
            "drawn; ask for at most {}".format(where, size, n, size),
            n=n,
            size=size,
        )


class Defaults(Sweep):
    """``child`` with ``values`` in every point, visible to its ``derive`` and ``where``;
    the child's own values win over them."""

    def __init__(self, values: Dict[str, Any], child: Sweep):
        self.values = dict(values)
        self.child = child
        self.children = (child,)
        names = child._names | frozenset(self.values)
        _check_lets("defaults()", names, child._lets)
        self._init(
            names,
            child._lets,
            child._always | frozenset(self.values),
            child._size,
            child._nolen,
        )

    def _iter(self, ctx: Point) -> Iterator[Point]:
        return self.child._iter({**ctx, **self.values})

    def _get(self, index: int, ctx: Point) -> Point:
        return self.child._get(index, {**ctx, **self.values})

    def _repr(self) -> str:
        return "defaults({}, {!r})".format(value_repr(self.values), self.child)
