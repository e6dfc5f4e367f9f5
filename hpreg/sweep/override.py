"""``override(base, top)``: a command line (``top``) meeting a file sweep (``base``).

The names both can set are *pinned* to ``top``'s values inside ``base``: base's axes,
fixed values, columns and derives of those names give way, and its derives and filters
see ``top``'s values. The repeats that creates are dropped; ``base``'s own stay.
"""

from typing import Any, Dict, FrozenSet, Iterator, Optional, Tuple

from hpreg.errors import SweepError
from hpreg.sweep.base import Derive, Sweep, Where
from hpreg.sweep.common import Point, freeze, freeze_point
from hpreg.sweep.leaves import Axis, Fixed, FromFunction, Table, Zip
from hpreg.sweep.nodes import Defaults, Product
from hpreg.sweep.visit import SweepTransformer


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


class _Collapse(SweepTransformer):
    """``node`` without the pinned names, dropping the repeats pinning them creates.

    Exact for trees where the repeats can be found within one node (products of
    axes, tables, function sweeps...); raises _NotStructural otherwise (a union
    whose parts set a pinned name, a shard...).
    """

    def visit(self, node: Sweep, pins: FrozenSet) -> Sweep:
        if not (node._keys & pins):
            return node
        return node.accept(self, pins)

    def generic_visit(self, node: Sweep, pins: FrozenSet) -> Sweep:
        raise _NotStructural()

    def _descend(self, node: Sweep, pins: FrozenSet) -> Sweep:
        return super().generic_visit(node, pins)

    visit_let = visit_product = visit_unique = _descend

    def visit_axis(self, node: Axis, pins: FrozenSet) -> Sweep:
        values = node.values
        if isinstance(values, range):
            count = 1 if values else 0
        else:
            first = freeze(values[0]) if values else None
            count = sum(1 for v in values if freeze(v) == first)
        return Product([]) if count == 1 else Table((), [()] * count)

    def visit_fixed(self, node: Fixed, pins: FrozenSet) -> Sweep:
        return Product([])

    def visit_zip(self, node: Zip, pins: FrozenSet) -> Sweep:
        columns = tuple(axis.name for axis in node.axes)
        rows = list(zip(*(axis.values for axis in node.axes))) if columns else [()]
        return self._columns(columns, rows, pins)

    def visit_table(self, node: Table, pins: FrozenSet) -> Sweep:
        return self._columns(node.columns, node.rows, pins)

    @staticmethod
    def _columns(columns, rows, pins: FrozenSet) -> Sweep:
        kept = [j for j, c in enumerate(columns) if c not in pins]
        pinned = [j for j, c in enumerate(columns) if c in pins]
        return Table(
            tuple(columns[j] for j in kept), list(_first_producers(rows, pinned, kept))
        )

    def visit_from_function(self, node: FromFunction, pins: FrozenSet) -> Sweep:
        first: Dict[Any, Any] = {}
        points = []
        for point in node.points:
            own = {k: v for k, v in point.items() if k not in pins}
            hidden = freeze_point({k: v for k, v in point.items() if k in pins})
            if first.setdefault(freeze_point(own), hidden) == hidden:
                points.append(own)
        return FromFunction(node.function, points)

    def visit_derive(self, node: Derive, pins: FrozenSet) -> Sweep:
        return _derive(self.visit(node.child, pins), node, pins, node.hide)

    def visit_where(self, node: Where, pins: FrozenSet) -> Sweep:
        return Where(self.visit(node.child, pins), node.pred, hide=node.hide)

    def visit_defaults(self, node: Defaults, pins: FrozenSet) -> Sweep:
        values = {k: v for k, v in node.values.items() if k not in pins}
        return Defaults(values, self.visit(node.child, pins))


def _collapse(node: Sweep, pins: FrozenSet) -> Sweep:
    return _Collapse().visit(node, pins)


def _derive(child: Sweep, node: Derive, pins: FrozenSet, hide: bool) -> Sweep:
    fns = {k: f for k, f in node.fns.items() if k not in pins}
    if not fns:
        return child
    return Derive(child, fns, hide=hide)


class _Hide(SweepTransformer):
    """``node`` writing the pinned names under ``_Hidden`` keys, which let an override
    tell ``base``'s own repeats from those pinning creates. Its derives and filters
    are told to look past the hidden keys."""

    @staticmethod
    def key(name: Any, pins: FrozenSet) -> Any:
        return _Hidden(name) if name in pins else name

    def visit_axis(self, node: Axis, pins: FrozenSet) -> Sweep:
        return Axis(self.key(node.name, pins), node.values)

    def visit_fixed(self, node: Fixed, pins: FrozenSet) -> Sweep:
        return Fixed(self.key(node.name, pins), node.value)

    def visit_table(self, node: Table, pins: FrozenSet) -> Sweep:
        return Table(tuple(self.key(c, pins) for c in node.columns), node.rows)

    def visit_from_function(self, node: FromFunction, pins: FrozenSet) -> Sweep:
        points = [{self.key(k, pins): v for k, v in p.items()} for p in node.points]
        return FromFunction(node.function, points)

    def visit_derive(self, node: Derive, pins: FrozenSet) -> Sweep:
        return _derive(self.visit(node.child, pins), node, pins, hide=True)

    def visit_where(self, node: Where, pins: FrozenSet) -> Sweep:
        return Where(self.visit(node.child, pins), node.pred, hide=True)

    def visit_defaults(self, node: Defaults, pins: FrozenSet) -> Sweep:
        values = {k: v for k, v in node.values.items() if k not in pins}
        return Defaults(values, self.visit(node.child, pins))

    def visit_validated(self, node: Sweep, pins: FrozenSet) -> Sweep:
        if not (node._keys & pins):
            return node  # a node of another layer (a validated sweep) left alone
        raise TypeError(
            "override(): cannot give the top's values to {} inside the base; "
            "override before wrapping the sweep".format(type(node).__name__)
        )


def _hide(node: Sweep, pins: FrozenSet) -> Sweep:
    return _Hide().visit(node, pins)


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

    kind = "override"

    def __init__(self, base: Sweep, top: Sweep):
        self.base, self.top = base, top
        self.children = (base, top)
        bad = sorted(top._lets & base._keys, key=str)
        if bad:
            raise SweepError(
                where="override()",
                problem="let variable {!r} of the top sweep is also set by the "
                "base".format(bad[0]),
                fix="rename the variable",
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

    def _rebuild(self, children: Tuple[Sweep, ...]) -> Sweep:
        return Override(*children)

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
