"""``override(base, top)``: a command line (``top``) meeting a file sweep (``base``).

The names both can set are *pinned* to ``top``'s values inside ``base``: base's axes,
fixed values, columns and derives of those names give way, and its derives and filters
see ``top``'s values. The repeats that creates are dropped; ``base``'s own stay.
"""

from typing import Any, Dict, FrozenSet, Iterator, Optional, Tuple

from hpreg.sweep.base import Point, Sweep, freeze, freeze_point
from hpreg.sweep.leaves import Axis, Fixed, FromFunction, Let, Table, Zip
from hpreg.sweep.nodes import Product, Union
from hpreg.sweep.ops import Defaults, Derive, Sample, Shard, Unique, Where
from hpreg.errors import SweepError


class _Hidden:
    """A dict key holding the value ``base`` would have set for a pinned ``name``."""

    __slots__ = ("name",)

    def __init__(self, name: Any):
        self.name = name

    def __eq__(self, other: Any) -> bool:
        return type(other) is _Hidden and other.name == self.name

    def __hash__(self) -> int:
        return hash((_Hidden, self.name))

    def __repr__(self) -> str:
        return "<hidden {!r}>".format(self.name)


class _NotStructural(Exception):
    """``base`` sets a pinned name where the dropped repeats cannot be found locally."""


def _first_producers(rows, pinned_positions, kept_positions):
    """The rows to keep: each (projection, pinned part) the first of its projection."""
    first: Dict[Any, Any] = {}
    for row in rows:
        key = freeze(tuple(row[j] for j in kept_positions))
        hidden = freeze(tuple(row[j] for j in pinned_positions))
        if first.setdefault(key, hidden) == hidden:
            yield tuple(row[j] for j in kept_positions)


def _collapse(node: Sweep, pins: FrozenSet) -> Sweep:
    """``node`` without the pinned names, dropping the repeats pinning them creates.

    Exact for trees where the repeats can be found within one node (products of
    axes, tables, function sweeps...); raises _NotStructural otherwise (a union
    whose parts set a pinned name, a shard...).
    """
    if not (node._keys & pins):
        return node
    if isinstance(node, Axis):
        values = node.values
        if isinstance(values, range):
            count = 1 if values else 0
        else:
            first = freeze(values[0]) if values else None
            count = sum(1 for v in values if freeze(v) == first)
        return Product([]) if count == 1 else Table((), [()] * count)
    if isinstance(node, Fixed):
        return Product([])
    if isinstance(node, (Table, Zip)):
        if isinstance(node, Zip):
            columns = tuple(axis.name for axis in node.axes)
            rows = list(zip(*(axis.values for axis in node.axes))) if columns else [()]
        else:
            columns, rows = node.columns, node.rows
        kept = [j for j, c in enumerate(columns) if c not in pins]
        pinned = [j for j, c in enumerate(columns) if c in pins]
        return Table(
            tuple(columns[j] for j in kept), list(_first_producers(rows, pinned, kept))
        )
    if isinstance(node, FromFunction):
        first: Dict[Any, Any] = {}
        points = []
        for point in node.points:
            own = {k: v for k, v in point.items() if k not in pins}
            hidden = freeze_point({k: v for k, v in point.items() if k in pins})
            if first.setdefault(freeze_point(own), hidden) == hidden:
                points.append(own)
        return FromFunction(node.function, points)
    if isinstance(node, Let):
        return Let(_collapse(node.child, pins))
    if isinstance(node, Product):
        return Product([_collapse(f, pins) for f in node.factors])
    if isinstance(node, Derive):
        return _derive(_collapse(node.child, pins), node, pins, node._hide)
    if isinstance(node, Where):
        return _where(_collapse(node.child, pins), node, node._hide)
    if isinstance(node, Unique):
        return Unique(_collapse(node.child, pins))
    if isinstance(node, Defaults):
        values = {k: v for k, v in node.values.items() if k not in pins}
        return Defaults(values, _collapse(node.child, pins))
    raise _NotStructural()


def _derive(child: Sweep, node: Derive, pins: FrozenSet, hide: bool = False) -> Sweep:
    fns = {k: f for k, f in node.fns.items() if k not in pins}
    if not fns:
        return child
    derived = Derive(child, fns)
    derived._hide = hide
    return derived


def _where(child: Sweep, node: Where, hide: bool) -> Sweep:
    where = Where(child, node.pred)
    where._hide = hide
    return where


def _hide(node: Sweep, pins: FrozenSet) -> Sweep:
    """``node`` writing the pinned names under ``_Hidden`` keys, which let an override
    tell ``base``'s own repeats from those pinning creates."""

    def key(name: Any) -> Any:
        return _Hidden(name) if name in pins else name

    if isinstance(node, Axis):
        return Axis(key(node.name), node.values)
    if isinstance(node, Fixed):
        return Fixed(key(node.name), node.value)
    if isinstance(node, Table):
        return Table(tuple(map(key, node.columns)), node.rows)
    if isinstance(node, Zip):
        return Zip([Axis(key(a.name), a.values) for a in node.axes])
    if isinstance(node, FromFunction):
        points = [{key(k): v for k, v in p.items()} for p in node.points]
        return FromFunction(node.function, points)
    if isinstance(node, Let):
        return Let(_hide(node.child, pins))
    if isinstance(node, Product):
        return Product([_hide(f, pins) for f in node.factors])
    if isinstance(node, Union):
        return Union([_hide(p, pins) for p in node.parts])
    if isinstance(node, Derive):
        return _derive(_hide(node.child, pins), node, pins, hide=True)
    if isinstance(node, Where):
        return _where(_hide(node.child, pins), node, True)
    if isinstance(node, Unique):
        return Unique(_hide(node.child, pins))
    if isinstance(node, Defaults):
        values = {k: v for k, v in node.values.items() if k not in pins}
        return Defaults(values, _hide(node.child, pins))
    if isinstance(node, Shard):
        return Shard(_hide(node.child, pins), node.k, node.n)
    if isinstance(node, Sample):
        return Sample(_hide(node.child, pins), node.n, node.seed, node.indices)
    if isinstance(node, Override):
        return Override(_hide(node.base, pins), _hide(node.top, pins))
    if not (node._keys & pins):
        return node  # a node of another module (a validated sweep...) left alone
    raise TypeError(
        "override(): cannot give the top's values to {} inside the base; override "
        "before wrapping the sweep".format(type(node).__name__)
    )


class Override(Sweep):
    """``top``'s points as the outer loop, ``base``'s as the inner one; ``top`` wins.

    Names both set are pinned to ``top``'s values inside ``base`` (its derives and
    filters see them) and the repeats that creates are dropped, ``base``'s own
    repeats kept. A name of ``top`` that is a let variable of ``base`` sets that
    variable. Without a clash this is ``product(top, base)``. With one, ``len`` and
    ``s[i]`` raise ``TypeError`` (the issue's contract, as for ``where``); ``count()``
    and ``sample()`` stay cheap when every top point sets the clashing names and
    ``base`` is built of products, axes, tables, zips, derives, lets and function
    sweeps around them.
    """

    def __init__(self, base: Sweep, top: Sweep):
        self.base, self.top = base, top
        self.children = (base, top)
        bad = sorted(top._lets & base._keys, key=str)
        if bad:
            raise SweepError(
                "override(): let variable {!r} of the top sweep is also set by the "
                "base; rename the variable".format(bad[0]),
                name=bad[0],
            )
        self.clash = top._names & base._keys
        self._impl = None
        self._pinned: Dict[FrozenSet, Sweep] = {}
        if not self.clash:
            self._impl = Product([top, base])
        elif self.clash <= top._always:
            try:
                self._impl = Product([top, _collapse(base, self.clash)])
            except _NotStructural:
                pass
        names = (top._names | base._names) - base._lets
        lets = top._lets | base._lets
        always = top._always | base._always
        if not self.clash:
            size, nolen = self._impl._size, self._impl._nolen
        else:
            size = None
            nolen = "overrides names its base sets ({}) and drops the repeats that "
            nolen = (nolen + "creates").format(", ".join(sorted(map(str, self.clash))))
        self._init(names, lets, always, size, nolen)

    def _count_cheaply(self) -> Optional[int]:
        return None if self._impl is None else self._impl._count_cheaply()

    def _iter(self, ctx: Point) -> Iterator[Point]:
        if self._impl is not None:
            return self._impl._iter(ctx)
        return self._iter_pinned(ctx)

    def _iter_pinned(self, ctx: Point) -> Iterator[Point]:
        for top_point in self.top._iter(ctx):
            pins = frozenset(self.clash.intersection(top_point))
            base = self._pinned.get(pins)
            if base is None:
                base = self._pinned[pins] = _hide(self.base, pins)
            first: Dict[Any, Any] = {}
            for point in base._iter(top_point):
                own, hidden = _split(point, pins)
                if first.setdefault(freeze_point(own), hidden) == hidden:
                    yield own

    def _get(self, index: int, ctx: Point) -> Point:
        return self._impl._get(index, ctx)

    def _repr(self) -> str:
        return "override({!r}, {!r})".format(self.base, self.top)


def _split(point: Point, pins: FrozenSet) -> Tuple[Point, Any]:
    """(the point, what ``base`` set for ``pins``); hidden keys of an enclosing
    override (a nested one, pinned twice) stay in the point for it to split."""
    own, hidden = {}, []
    for k, v in point.items():
        if type(k) is _Hidden and k.name in pins:
            hidden.append((k, freeze(v)))
        else:
            own[k] = v
    return own, frozenset(hidden)
