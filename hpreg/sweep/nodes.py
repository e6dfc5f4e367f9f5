"""Products, unions and defaults of sweeps: the combinators that make the grid.

A product of plain axes enumerates with ``itertools.product`` (no per-point recursion)
and indexes by mixed-radix arithmetic.
"""

import itertools
from bisect import bisect_right
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from hpreg.errors import SweepError
from hpreg.sweep.base import Sweep
from hpreg.sweep.common import Point, check_lets, describe, value_repr
from hpreg.sweep.leaves import Axis, Fixed, Let, _call_repr
from hpreg.sweep.sizes import seq_len

# itertools.product copies each axis into a tuple first: fine for ordinary axes,
# not for range(10**9); past this many values in all, axes are indexed lazily.
_EAGER_VALUES = 1_000_000


def _flattened(nodes: Sequence[Sweep], kind: type) -> Tuple[Sweep, ...]:
    """``nodes`` with nested nodes of the same ``kind`` spliced in (associativity)."""
    flat: List[Sweep] = []
    for node in nodes:
        if type(node) is kind:
            flat.extend(node.children)
        else:
            flat.append(node)
    return tuple(flat)


def _leaf_columns(node: Sweep) -> Optional[List[Tuple[Any, Sequence]]]:
    """``[(name, values), ...]`` when ``node`` is a plain product of axes, else None."""
    if isinstance(node, Axis):
        return [(node.name, node.values)]
    if isinstance(node, Fixed):
        return [(node.name, (node.value,))]
    if isinstance(node, Let):
        return _leaf_columns(node.child)
    if isinstance(node, Product):
        return None if node._leaves is None else list(node._leaves)
    return None


class Product(Sweep):
    """Every combination of ``factors``' points, the last factor varying fastest.

    Values of earlier factors are visible to later factors' ``derive`` and ``where``.
    """

    kind = "product"

    def __init__(self, factors: Sequence[Sweep]):
        self.factors = _flattened(factors, Product)
        self.children = self.factors
        owner: Dict[Any, int] = {}
        for i, factor in enumerate(self.factors):
            for name in sorted(factor._keys, key=str):
                if name in owner:
                    j = owner[name]
                    raise SweepError(
                        where="product()",
                        problem="{!r} is set by two factors ({} and {})".format(
                            name, describe(self.factors[j]), describe(factor)
                        ),
                        fix="give each name to one factor, or use union() for "
                        "alternatives and override() to replace values",
                        name=name,
                    )
                owner[name] = i
        names = frozenset().union(*(f._names for f in self.factors))
        lets = frozenset().union(*(f._lets for f in self.factors))
        check_lets("product()", names, lets)
        size, nolen = 1, None
        for factor in self.factors:
            if factor._size is None:
                size, nolen = None, factor._nolen
                break
            size *= factor._size
        always = frozenset().union(*(f._always for f in self.factors))
        self._init(names, lets, always, size, nolen)
        self._leaves: Optional[Tuple[Tuple[Any, Sequence], ...]] = None
        columns: List[Tuple[Any, Sequence]] = []
        for factor in self.factors:
            leaf = _leaf_columns(factor)
            if leaf is None:
                break
            columns.extend(leaf)
        else:
            self._leaves = tuple(columns)
            self._leaf_names = tuple(name for name, _ in columns)
            self._leaf_values = tuple(values for _, values in columns)
            self._eager = sum(map(seq_len, self._leaf_values)) <= _EAGER_VALUES
            return
        # Runs of plain axes between other factors enumerate as one fast block.
        blocks: List[Sweep] = []
        run: List[Sweep] = []
        for factor in self.factors + (None,):
            if factor is not None and _leaf_columns(factor) is not None:
                run.append(factor)
                continue
            if len(run) > 1:
                blocks.append(Product(run))
            else:
                blocks.extend(run)
            run = []
            if factor is not None:
                blocks.append(factor)
        self._blocks = tuple(blocks)
        # let variables written after other factors are still visible to them
        # (issue 4: siblings read them): such lets are drawn first, by index.
        first_other = next(
            (k for k, b in enumerate(blocks) if _leaf_columns(b) is None), None
        )
        self._hoisted = tuple(
            j
            for j, block in enumerate(blocks)
            if first_other is not None
            and j > first_other
            and block._lets
            and not block._names
            and _leaf_columns(block) is not None
        )
        if self._size is None:
            self._hoisted = ()  # a filtered factor cannot be indexed

    def _iter(self, ctx: Point) -> Iterator[Point]:
        if self._leaves is None:
            if self._hoisted:
                return (self._get(i, ctx) for i in range(self._size))
            return self._nested(0, ctx)
        if self._eager:
            combos = itertools.product(*self._leaf_values)
        else:
            combos = _odometer(self._leaf_values)
        if not ctx:
            return map(dict, map(zip, itertools.repeat(self._leaf_names), combos))
        return _with_ctx(ctx, self._leaf_names, combos)

    def _nested(self, j: int, ctx: Point) -> Iterator[Point]:
        factor = self._blocks[j]
        if j == len(self._blocks) - 1:
            yield from factor._iter(ctx)
        else:
            for point in factor._iter(ctx):
                yield from self._nested(j + 1, point)

    def _get(self, index: int, ctx: Point) -> Point:
        if self._leaves is not None:
            picked = []
            for values in reversed(self._leaf_values):
                index, i = divmod(index, seq_len(values))
                picked.append(values[i])
            picked.reverse()
            point = ctx.copy()
            point.update(zip(self._leaf_names, picked))
            return point
        positions = []
        for factor in reversed(self._blocks):
            index, i = divmod(index, factor._size)
            positions.append(i)
        positions.reverse()
        point = ctx
        for j in self._hoisted:
            point = self._blocks[j]._get(positions[j], point)
        for j, (factor, i) in enumerate(zip(self._blocks, positions)):
            if j not in self._hoisted:
                point = factor._get(i, point)
        return point

    def _rebuild(self, children: Tuple[Sweep, ...]) -> Sweep:
        return Product(children)

    def _repr(self) -> str:
        return _call_repr("product", self.factors)


def _with_ctx(ctx: Point, names: Sequence[Any], combos) -> Iterator[Point]:
    for combo in combos:
        point = ctx.copy()
        point.update(zip(names, combo))
        yield point


def _odometer(seqs: Sequence[Sequence]) -> Iterator[tuple]:
    """``itertools.product(*seqs)`` without copying the sequences."""
    lengths = [seq_len(seq) for seq in seqs]
    if 0 in lengths:
        return
    indices = [0] * len(seqs)
    while True:
        yield tuple(seq[i] for seq, i in zip(seqs, indices))
        j = len(seqs) - 1
        while j >= 0:
            indices[j] += 1
            if indices[j] < lengths[j]:
                break
            indices[j] = 0
            j -= 1
        if j < 0:
            return


class Union(Sweep):
    """The points of each of ``parts`` in turn (repeats are kept)."""

    kind = "union"

    def __init__(self, parts: Sequence[Sweep]):
        self.parts = _flattened(parts, Union)
        self.children = self.parts
        names = frozenset().union(*(p._names for p in self.parts))
        lets = frozenset().union(*(p._lets for p in self.parts))
        check_lets("union()", names, lets)
        always = (
            frozenset.intersection(*(p._always for p in self.parts))
            if self.parts
            else frozenset()
        )
        size, nolen, self._ends = 0, None, []
        for part in self.parts:
            if part._size is None:
                size, nolen = None, part._nolen
                break
            size += part._size
            self._ends.append(size)
        self._init(names, lets, always, size, nolen)

    def _iter(self, ctx: Point) -> Iterator[Point]:
        return itertools.chain.from_iterable(part._iter(ctx) for part in self.parts)

    def _get(self, index: int, ctx: Point) -> Point:
        j = bisect_right(self._ends, index)
        start = self._ends[j - 1] if j else 0
        return self.parts[j]._get(index - start, ctx)

    def _rebuild(self, children: Tuple[Sweep, ...]) -> Sweep:
        return Union(children)

    def _repr(self) -> str:
        return "union({})".format(", ".join(map(repr, self.parts)))


class Defaults(Sweep):
    """``child`` with ``values`` in every point, visible to its ``derive`` and ``where``;
    the child's own values win over them."""

    kind = "defaults"

    def __init__(self, values: Dict[str, Any], child: Sweep):
        self.values = dict(values)
        self.child = child
        self.children = (child,)
        names = child._names | frozenset(self.values)
        check_lets("defaults()", names, child._lets)
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

    def _rebuild(self, children: Tuple[Sweep, ...]) -> Sweep:
        return Defaults(self.values, children[0])

    def _repr(self) -> str:
        return "defaults({}, {!r})".format(value_repr(self.values), self.child)
