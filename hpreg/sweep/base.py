"""The ``Sweep`` base class and the per-point operations its methods return.

Nodes implement a small internal protocol (``_iter``, ``_get``, ``_size``...); this
module turns it into ``len``, indexing, iteration, ``count`` and the chained methods
(``derive``, ``where``, ``unique``, ``shard``, ``sample``, ``checked_against``),
whose nodes live here too so that nothing in ``hpreg.sweep`` imports in a circle.
Walking a tree of nodes goes through ``hpreg.sweep.visit``.
"""

import itertools
import operator
import sys
from types import MappingProxyType
from typing import Any, Callable, Dict, FrozenSet, Iterator, Optional, Sequence, Tuple

from hpreg._text import shorten
from hpreg.errors import SweepError
from hpreg.sweep.check import check_up_front
from hpreg.sweep.common import (
    Point,
    callable_repr,
    check_count,
    check_lets,
    check_sample_size,
    keyword_safe,
    missing_name,
    sample_indices,
    value_repr,
    visible,
)
from hpreg.sweep.sizes import freeze_point_typed


class _NodeType(type):
    """Freezes each node once its constructor has returned."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        node = super().__call__(*args, **kwargs)
        node.__dict__["_frozen"] = True
        return node


class Sweep(metaclass=_NodeType):
    """A lazy, immutable sequence of points: plain ``dict`` s of hyperparameter values.

    ``len(s)`` and ``s[i]`` (negative too) cost time in proportion to the size of
    the expression, not the number of points; sweeps that filter (``where``,
    ``unique``) have no cheap length and raise ``TypeError`` from ``len`` and ``s[i]``
    (``count()`` and ``list(s)`` still work). Iteration streams in constant memory
    (``unique`` keeps the points it has seen). Each point is a new dict; its values
    are shared, not copied. A sweep is a tree of nodes; ``children`` lists a node's
    sub-sweeps, ``kind`` names its class for visitors (see ``hpreg.sweep.visit``).

    A node's attributes are set by its constructor and cannot be assigned after;
    ``located`` returns a copy that says where the node was written.
    """

    kind = "sweep"
    children: Tuple["Sweep", ...] = ()
    # Where the node was written, for validation errors: a key path
    # (``product[1].lr``, or ``lr=0.1,0.01`` as typed), or for a derive and
    # defaults a dict name -> key path; and the file or "command line" (None: the
    # file validation is told about). Set by ``located`` only.
    origin: Any = None
    origin_source: Optional[str] = None
    # Filled by each node's constructor: hyperparameter names it can set, let
    # variables it can set, the keys every point sets, the cheap size (None: none)
    # and why there is none.
    _names: FrozenSet = frozenset()
    _lets: FrozenSet = frozenset()
    _always: FrozenSet = frozenset()
    _size: Optional[int] = None
    _nolen: Optional[str] = None

    def __setattr__(self, name: str, value: Any) -> None:
        if "_frozen" in self.__dict__:
            raise AttributeError(
                "{} nodes are immutable: cannot set {!r}; use .located(origin, "
                "source) for a copy that says where it was written".format(
                    type(self).__name__, name
                )
            )
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(
            "{} nodes are immutable: cannot delete {!r}".format(
                type(self).__name__, name
            )
        )

    # -- metadata and traversal -----------------------------------------------------
    def located(self, origin: Any, source: Optional[str] = None) -> "Sweep":
        """A copy of this node written at ``origin`` in ``source`` (see ``origin``)."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.__dict__.update(origin=origin, origin_source=source)
        return copy

    def accept(self, visitor: Any, *args: Any) -> Any:
        """``visitor.visit_<kind>(self, *args)`` (see ``hpreg.sweep.visit``)."""
        method = getattr(visitor, "visit_" + self.kind, visitor.generic_visit)
        return method(self, *args)

    def with_children(self, children: Sequence["Sweep"]) -> "Sweep":
        """This node over ``children`` instead of its own, its parameters and origin
        kept; the node itself when they are the same nodes."""
        children = tuple(children)
        if len(children) == len(self.children) and all(
            map(operator.is_, children, self.children)
        ):
            return self
        node = self._rebuild(children)
        if self.origin is None and self.origin_source is None:
            return node
        return node.located(self.origin, self.origin_source)

    def _rebuild(self, children: Tuple["Sweep", ...]) -> "Sweep":
        raise TypeError(
            "a {} node cannot be rebuilt over other children".format(self.kind)
        )

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
        checker, dynamic = check_up_front(self, registry)
        return ValidatedSweep(self, checker, dynamic)

    def derive(self, *mappings: Dict[str, Callable], **fns: Callable) -> "Sweep":
        """Add names computed from each point: ``fn(point_so_far) -> value``.

        ``point_so_far`` is a read-only view holding this sweep's values, those of
        earlier factors of enclosing products and let variables.
        """
        items: Dict[str, Callable] = {}
        for mapping in mappings:
            if not isinstance(mapping, dict):
                raise SweepError(
                    where="derive()",
                    problem="positional arguments must be dicts of name -> "
                    "function, got {}".format(value_repr(mapping)),
                )
            items.update(mapping)
        items.update(fns)
        return Derive(self, items)

    def where(self, pred: Callable[[Point], Any]) -> "Sweep":
        """Keep the points for which ``pred(point_so_far)`` is true."""
        return Where(self, pred)

    def unique(self) -> "Sweep":
        """Drop repeated points, keeping the first of each (lists and dicts compare by value)."""
        return Unique(self)

    def shard(self, k: int, n: int) -> "Sweep":
        """Every ``n``-th point starting from point ``k`` (``0 <= k < n``).

        The ``n`` shards partition the sweep.
        """
        return Shard(self, k, n)

    def sample(self, n: int, seed: Any = None) -> "Sweep":
        """``n`` distinct points drawn uniformly, in draw order, without enumerating.

        The indices are ``random.Random(seed).sample(range(len(s)), n)``. A sweep
        that filters (``where``, ``unique``) is enumerated once, when first drawn
        from, and the indices index ``list(s)``.
        """
        return Sample(self, n, seed)


# -- the per-point operations the chained methods return -----------------------------
class Derive(Sweep):
    """``child`` plus names computed from each point: ``fns[name](point) -> value``.

    The functions run in order; each sees the point so far (read-only), including
    the names derived before it.
    """

    kind = "derive"
    # True inside an override, whose points carry hidden keys the functions must
    # not see (set by the constructor only).
    hide = False

    def __init__(self, child: Sweep, fns: Dict[str, Callable], hide: bool = False):
        self.child = child
        self.children = (child,)
        self.fns = dict(fns)
        self.hide = hide
        for name, fn in self.fns.items():
            if not isinstance(name, str) or not name:
                raise SweepError(
                    where="derive()",
                    problem="the name {!r} is not a non-empty string".format(name),
                )
            if not callable(fn):
                raise SweepError(
                    where="derive()",
                    problem="the value for {!r} is {}, not a function of the "
                    "point".format(name, value_repr(fn)),
                    fix="use product({}=...) for a fixed value".format(name),
                    name=name,
                )
            if name in child._keys:
                raise SweepError(
                    where="derive()",
                    problem="{!r} is already set by the sweep it derives from".format(
                        name
                    ),
                    fix="derive a new name, or drop {!r} from that sweep".format(name),
                    name=name,
                )
        names = child._names | frozenset(self.fns)
        check_lets("derive()", names, child._lets)
        self._init(
            names,
            child._lets,
            child._always | frozenset(self.fns),
            child._size,
            child._nolen,
        )

    def _apply(self, point: Point) -> Point:
        view = visible(point) if self.hide else point
        proxy = MappingProxyType(view)
        for name, fn in self.fns.items():
            try:
                value = fn(proxy)
            except KeyError as error:
                mistake = missing_name(error, view, "derive {!r}".format(name))
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

    def _rebuild(self, children: Tuple[Sweep, ...]) -> Sweep:
        return Derive(children[0], self.fns, hide=self.hide)

    def _repr(self) -> str:
        return "{!r}.derive({})".format(
            self.child,
            _leaves_repr_fns(self.fns),
        )


def _leaves_repr_fns(fns: Dict[str, Callable]) -> str:
    if all(keyword_safe(name) for name in fns):
        return ", ".join("{}={}".format(n, callable_repr(f)) for n, f in fns.items())
    return "{{{}}}".format(
        ", ".join("{!r}: {}".format(n, callable_repr(f)) for n, f in fns.items())
    )


class Where(Sweep):
    """The points of ``child`` for which ``pred(point)`` is true (no cheap length)."""

    kind = "where"
    hide = False  # as for Derive

    def __init__(self, child: Sweep, pred: Callable[[Point], Any], hide: bool = False):
        if not callable(pred):
            raise SweepError(
                where="where()",
                problem="{} is not a function of the point".format(value_repr(pred)),
                fix="pass e.g. lambda p: p['d_model'] <= p['d_ff']",
            )
        self.child = child
        self.children = (child,)
        self.pred = pred
        self.hide = hide
        self._init(child._names, child._lets, child._always, None, "filters points")

    def _keep(self, point: Point) -> bool:
        view = visible(point) if self.hide else point
        try:
            return bool(self.pred(MappingProxyType(view)))
        except KeyError as error:
            where = "where({})".format(callable_repr(self.pred))
            mistake = missing_name(error, view, where)
            if mistake is None:
                raise
            raise mistake from None

    def _iter(self, ctx: Point) -> Iterator[Point]:
        return filter(self._keep, self.child._iter(ctx))

    def _rebuild(self, children: Tuple[Sweep, ...]) -> Sweep:
        return Where(children[0], self.pred, hide=self.hide)

    def _repr(self) -> str:
        return "{!r}.where({})".format(self.child, callable_repr(self.pred))


class Unique(Sweep):
    """The points of ``child`` without repeats, first occurrences kept, in order.

    Let variables do not count: points differing only in them are repeats.
    """

    kind = "unique"

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

    def _rebuild(self, children: Tuple[Sweep, ...]) -> Sweep:
        return Unique(children[0])

    def _repr(self) -> str:
        return "{!r}.unique()".format(self.child)


# From this step on, a shard of an indexable sweep picks its points by index
# (``_get`` costs two or three times a streamed point) instead of streaming past the
# points of the other shards.
_INDEXED_STEP = 8


class Shard(Sweep):
    """Every ``n``-th point of ``child`` starting from point ``k`` (0-based)."""

    kind = "shard"

    def __init__(self, child: Sweep, k: int, n: int):
        where = "shard({}, {})".format(value_repr(k), value_repr(n))
        check_count(where, "n", n, 1)
        check_count(where, "k", k, 0)
        if k >= n:
            raise SweepError(
                where=where,
                problem="k must be in 0..{} (shard k of n, counted from 0)".format(
                    n - 1
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

    def _rebuild(self, children: Tuple[Sweep, ...]) -> Sweep:
        return Shard(children[0], self.k, self.n)

    def _repr(self) -> str:
        return "{!r}.shard({}, {})".format(self.child, self.k, self.n)


class Sample(Sweep):
    """``n`` distinct points of ``child`` drawn uniformly with ``seed``, in draw order.

    A child without a cheap length (``where``, ``unique``) is listed when drawn from,
    and the indices are drawn from that list: the same points for the same seed as
    sampling ``list(child)``. Such a sample has no ``indices`` until drawn.
    """

    kind = "sample"

    def __init__(
        self,
        child: Sweep,
        n: int,
        seed: Any = None,
        indices: Optional[Sequence[int]] = None,
    ):
        where = "sample({})".format(value_repr(n))
        check_count(where, "n", n, 0)
        size = child._count_cheaply()
        self.child, self.n, self.seed = child, n, seed
        self.children = (child,)
        # what drawing from a listed child found: "indices" and "drawn" (ctx,
        # points, indices); a cache, the one thing that changes after construction
        self._memo: Dict[str, Any] = {}
        if size is None:
            self._indices = None if indices is None else tuple(indices)
            self._init(child._names, child._lets, child._always, n)
            return
        check_sample_size(where, n, size)
        if indices is None:
            indices = sample_indices(size, n, seed)
        self._indices = tuple(indices)
        self._init(child._names, child._lets, child._always, n)

    @property
    def indices(self) -> Optional[Tuple[int, ...]]:
        """The drawn indices into the child (None until a listed child is drawn)."""
        return self._memo.get("indices", self._indices)

    def _draw(self, ctx: Point):
        """The listed child's points and the drawn indices, for a filtered child."""
        drawn = self._memo.get("drawn")
        if drawn is not None and drawn[0] == ctx:
            return drawn[1], drawn[2]
        points = list(self.child._iter(ctx))
        check_sample_size("sample({})".format(self.n), self.n, len(points))
        indices = self.indices
        if indices is None or ctx:
            indices = tuple(sample_indices(len(points), self.n, self.seed))
        if not ctx:
            self._memo["indices"] = indices
        self._memo["drawn"] = (dict(ctx), points, indices)
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

    def _rebuild(self, children: Tuple[Sweep, ...]) -> Sweep:
        return Sample(children[0], self.n, self.seed, self.indices)

    def _repr(self) -> str:
        return "{!r}.sample({}, seed={!r})".format(self.child, self.n, self.seed)


class ValidatedSweep(Sweep):
    """A checked sweep: the same points, dynamic values checked as they are drawn.

    ``dynamic`` maps each name whose values are known only per point (derived
    names, function sweeps) to where it was written.
    """

    kind = "validated"

    def __init__(self, child: Sweep, checker: Any, dynamic: Dict[str, str]):
        self.child = child
        self.children = (child,)
        self.checker = checker
        self.dynamic = dict(dynamic)
        self._init(child._names, child._lets, child._always, child._size, child._nolen)

    def _check(self, point: Point) -> Point:
        for name, where in self.dynamic.items():
            if name in point:
                point[name] = self.checker.check_value(name, point[name], where)
        return point

    def _iter(self, ctx: Point) -> Iterator[Point]:
        if not self.dynamic:
            return self.child._iter(ctx)
        return map(self._check, self.child._iter(ctx))

    def _get(self, index: int, ctx: Point) -> Point:
        return self._check(self.child._get(index, ctx))

    def _count_cheaply(self) -> Optional[int]:
        return self.child._count_cheaply()

    def _rebuild(self, children: Tuple[Sweep, ...]) -> Sweep:
        return ValidatedSweep(children[0], self.checker, self.dynamic)

    def _repr(self) -> str:
        return repr(self.child)
