"""The node classes of a sweep tree: leaves (axes, tables...) and combinators.

Each node checks its own shape when built and implements the internal protocol of
``Sweep`` (``_iter``, ``_get``). ``hpreg.sweep`` builds them from friendlier arguments.
"""

import itertools
import keyword
import random
import sys
from bisect import bisect_right
from types import MappingProxyType
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from ._sweep_base import (
    Point,
    Sweep,
    callable_repr,
    freeze_point,
    shorten,
    value_repr,
)
from .errors import SweepError

# itertools.product copies each axis into a tuple first: fine for ordinary axes,
# not for range(10**9); past this many values in all, axes are indexed lazily.
_EAGER_VALUES = 1_000_000


def _describe(node: Sweep) -> str:
    return shorten(repr(node), 60)


def _check_lets(where: str, names, lets) -> None:
    both = sorted(set(names) & set(lets), key=str)
    if both:
        raise SweepError(
            "{}: let variable {!r} is also a hyperparameter name in this sweep; "
            "rename the variable".format(where, both[0]),
            name=both[0],
        )


def _keyword_safe(name: Any) -> bool:
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def _leaf_value_repr(node: Sweep) -> str:
    if isinstance(node, Axis):
        values = node.values
        return value_repr(values if isinstance(values, range) else list(values))
    if isinstance(node.value, (list, tuple, range)):
        return "value({})".format(value_repr(node.value))
    return value_repr(node.value)


def _leaves_repr(leaves: Sequence[Sweep], as_keywords: bool) -> str:
    """``a=[1, 2], b=3`` when possible, else ``{'model.a': [1, 2], 'b': 3}``."""
    if as_keywords and all(_keyword_safe(leaf.name) for leaf in leaves):
        return ", ".join(
            "{}={}".format(leaf.name, _leaf_value_repr(leaf)) for leaf in leaves
        )
    return "{{{}}}".format(
        ", ".join(
            "{!r}: {}".format(leaf.name, _leaf_value_repr(leaf)) for leaf in leaves
        )
    )


def _call_repr(func: str, factors: Sequence[Sweep]) -> str:
    """``func(...)`` with runs of axes and fixed values written as keywords or dicts."""
    parts, run = [], []
    for factor in factors:
        if isinstance(factor, (Axis, Fixed)):
            run.append(factor)
            continue
        if run:
            parts.append(_leaves_repr(run, as_keywords=False))
            run = []
        parts.append(repr(factor))
    if run:
        parts.append(_leaves_repr(run, as_keywords=True))
    return "{}({})".format(func, ", ".join(parts))


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


# -- leaves -------------------------------------------------------------------------
class Axis(Sweep):
    """One name taking each of ``values`` (a tuple or a range) in turn."""

    def __init__(self, name: Any, values: Sequence):
        self.name = name
        self.values = values if isinstance(values, range) else tuple(values)
        self._init([name], (), [name], len(self.values))

    def _iter(self, ctx: Point) -> Iterator[Point]:
        name = self.name
        if not ctx:
            return ({name: v} for v in self.values)
        return ({**ctx, name: v} for v in self.values)

    def _get(self, index: int, ctx: Point) -> Point:
        return {**ctx, self.name: self.values[index]}

    def _repr(self) -> str:
        return _call_repr("product", [self])


class Fixed(Sweep):
    """One name set to one ``value`` (one point)."""

    def __init__(self, name: Any, value: Any):
        self.name = name
        self.value = value
        self._init([name], (), [name], 1)

    def _iter(self, ctx: Point) -> Iterator[Point]:
        return iter(({**ctx, self.name: self.value},))

    def _get(self, index: int, ctx: Point) -> Point:
        return {**ctx, self.name: self.value}

    def _repr(self) -> str:
        return _call_repr("product", [self])


class Table(Sweep):
    """One point per row: ``columns`` (names) paired with each row's values."""

    def __init__(self, columns: Sequence[Any], rows: Sequence[Sequence[Any]]):
        if isinstance(columns, (str, bytes)) or not isinstance(columns, (list, tuple)):
            raise SweepError(
                "table(): columns must be a list of names, got {}; e.g. "
                "table(('d_model', 'd_ff'), [(512, 2048)])".format(value_repr(columns))
            )
        self.columns = tuple(columns)
        seen = set()
        for column in self.columns:
            if column in seen:
                raise SweepError(
                    "table(): column {!r} appears twice; give each column once".format(
                        column
                    ),
                    name=column,
                )
            seen.add(column)
        checked = []
        for i, row in enumerate(rows):
            if not isinstance(row, (list, tuple)):
                raise SweepError(
                    "table(): row {} is not a list or tuple of values: {}; write "
                    "each row as [v1, v2, ...]".format(i, value_repr(row)),
                    row=i,
                )
            if len(row) != len(self.columns):
                raise SweepError(
                    "table(): row {} has {} values for {} columns ({}); give every "
                    "row one value per column".format(
                        i, len(row), len(self.columns), ", ".join(map(str, columns))
                    ),
                    row=i,
                    values=len(row),
                    columns=len(self.columns),
                )
            checked.append(tuple(row))
        self.rows = tuple(checked)
        self._init(self.columns, (), self.columns, len(self.rows))

    def _iter(self, ctx: Point) -> Iterator[Point]:
        columns = self.columns
        if not ctx:
            return map(dict, map(zip, itertools.repeat(columns), self.rows))
        return self._with_ctx(ctx)

    def _with_ctx(self, ctx: Point) -> Iterator[Point]:
        for row in self.rows:
            point = ctx.copy()
            point.update(zip(self.columns, row))
            yield point

    def _get(self, index: int, ctx: Point) -> Point:
        point = ctx.copy()
        point.update(zip(self.columns, self.rows[index]))
        return point

    def _repr(self) -> str:
        return "table({}, {})".format(
            value_repr(self.columns), value_repr(list(self.rows))
        )


class Zip(Sweep):
    """Axes of equal length taken in step: point i holds the i-th value of each."""

    def __init__(self, axes: Sequence[Axis]):
        self.axes = tuple(axes)
        self.children = self.axes
        lengths = [len(axis.values) for axis in self.axes]
        if len(set(lengths)) > 1:
            raise SweepError(
                "zip(): axes have different lengths ({}); give every axis the same "
                "number of values".format(
                    ", ".join(
                        "{}: {}".format(a.name, n) for a, n in zip(self.axes, lengths)
                    )
                ),
                lengths={a.name: n for a, n in zip(self.axes, lengths)},
            )
        names = [axis.name for axis in self.axes]
        self._init(names, (), names, lengths[0] if lengths else 1)

    def _iter(self, ctx: Point) -> Iterator[Point]:
        names = [axis.name for axis in self.axes]
        if not self.axes:
            return iter((dict(ctx),))
        rows = zip(*(axis.values for axis in self.axes))
        if not ctx:
            return map(dict, map(zip, itertools.repeat(names), rows))
        return ({**ctx, **dict(zip(names, row))} for row in rows)

    def _get(self, index: int, ctx: Point) -> Point:
        point = ctx.copy()
        for axis in self.axes:
            point[axis.name] = axis.values[index]
        return point

    def _repr(self) -> str:
        return "zip({})".format(_leaves_repr(self.axes, as_keywords=True))


class Let(Sweep):
    """Sweep variables: ``child``'s names vary like axes, feed ``derive`` and ``where``,
    and are removed from the final points. ``child`` is a product of axes."""

    def __init__(self, child: Sweep):
        self.child = child
        self.children = (child,)
        self.variables = tuple(sorted(child._keys, key=str))
        self._init((), child._keys, child._always, child._size, child._nolen)

    def _iter(self, ctx: Point) -> Iterator[Point]:
        return self.child._iter(ctx)

    def _get(self, index: int, ctx: Point) -> Point:
        return self.child._get(index, ctx)

    def _repr(self) -> str:
        return "let" + repr(self.child)[len("product") :]


class FromFunction(Sweep):
    """The finite list of points ``function()`` returned (called once, when built).

    Each returned point is a dict or an iterable of ``(name, value)`` pairs.
    """

    def __init__(self, function: Callable, points: Optional[Sequence[Point]] = None):
        self.function = function
        if points is None:
            points = self._call(function)
        self.points = tuple(points)
        names, always = set(), None
        for point in self.points:
            names.update(point)
            always = set(point) if always is None else always & set(point)
        self._init(names, (), always or (), len(self.points))

    @staticmethod
    def _call(function: Callable) -> List[Point]:
        where = "from_function({})".format(callable_repr(function))
        if not callable(function):
            raise SweepError(
                "{}: not callable; pass a function returning points".format(where)
            )
        result = function()
        if isinstance(result, dict) or not hasattr(result, "__iter__"):
            raise SweepError(
                "{}: returned {}; return a list of points (dicts, or (name, value) "
                "pairs)".format(where, value_repr(result))
            )
        points = []
        for i, item in enumerate(result):
            try:
                point = dict(item)
            except (TypeError, ValueError):
                raise SweepError(
                    "{}: point {} is {}, neither a dict nor (name, value) pairs; "
                    "return dicts or dict.items()".format(where, i, value_repr(item)),
                    index=i,
                ) from None
            for name in point:
                if not isinstance(name, str) or not name:
                    raise SweepError(
                        "{}: point {} has the name {!r}; names are non-empty "
                        "strings".format(where, i, name),
                        index=i,
                    )
            points.append(point)
        return points

    def _iter(self, ctx: Point) -> Iterator[Point]:
        return ({**ctx, **point} for point in self.points)

    def _get(self, index: int, ctx: Point) -> Point:
        return {**ctx, **self.points[index]}

    def _repr(self) -> str:
        return "from_function({})".format(callable_repr(self.function))


# -- combinators --------------------------------------------------------------------
class Product(Sweep):
    """Every combination of ``factors``' points, the last factor varying fastest.

    Values of earlier factors are visible to later factors' ``derive`` and ``where``.
    """

    def __init__(self, factors: Sequence[Sweep]):
        flat: List[Sweep] = []
        for factor in factors:
            if type(factor) is Product:
                flat.extend(factor.factors)
            else:
                flat.append(factor)
        self.factors = tuple(flat)
        self.children = self.factors
        owner: Dict[Any, int] = {}
        for i, factor in enumerate(self.factors):
            for name in sorted(factor._keys, key=str):
                if name in owner:
                    j = owner[name]
                    raise SweepError(
                        "product(): {!r} is set by two factors ({} and {}); give "
                        "each name to one factor, or use union() for alternatives "
                        "and override() to replace values".format(
                            name,
                            _describe(self.factors[j]),
                            _describe(factor),
                        ),
                        name=name,
                    )
                owner[name] = i
        names = frozenset().union(*(f._names for f in self.factors))
        lets = frozenset().union(*(f._lets for f in self.factors))
        _check_lets("product()", names, lets)
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
            self._eager = sum(map(len, self._leaf_values)) <= _EAGER_VALUES

    def _iter(self, ctx: Point) -> Iterator[Point]:
        if self._leaves is None:
            if not self.factors:
                return iter((dict(ctx),))
            return self._nested(0, ctx)
        if self._eager:
            combos = itertools.product(*self._leaf_values)
        else:
            combos = _odometer(self._leaf_values)
        if not ctx:
            return map(dict, map(zip, itertools.repeat(self._leaf_names), combos))
        return _with_ctx(ctx, self._leaf_names, combos)

    def _nested(self, j: int, ctx: Point) -> Iterator[Point]:
        factor = self.factors[j]
        if j == len(self.factors) - 1:
            yield from factor._iter(ctx)
        else:
            for point in factor._iter(ctx):
                yield from self._nested(j + 1, point)

    def _get(self, index: int, ctx: Point) -> Point:
        if self._leaves is not None:
            picked = []
            for values in reversed(self._leaf_values):
                index, i = divmod(index, len(values))
                picked.append(values[i])
            picked.reverse()
            point = ctx.copy()
            point.update(zip(self._leaf_names, picked))
            return point
        positions = []
        for factor in reversed(self.factors):
            index, i = divmod(index, factor._size)
            positions.append(i)
        positions.reverse()
        point = ctx
        for factor, i in zip(self.factors, positions):
            point = factor._get(i, point)
        return point if self.factors else dict(ctx)

    def _repr(self) -> str:
        return _call_repr("product", self.factors)


def _with_ctx(ctx: Point, names: Sequence[Any], combos) -> Iterator[Point]:
    for combo in combos:
        point = ctx.copy()
        point.update(zip(names, combo))
        yield point


def _odometer(seqs: Sequence[Sequence]) -> Iterator[tuple]:
    """``itertools.product(*seqs)`` without copying the sequences."""
    lengths = [len(seq) for seq in seqs]
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

    def __init__(self, parts: Sequence[Sweep]):
        flat: List[Sweep] = []
        for part in parts:
            if type(part) is Union:
                flat.extend(part.parts)
            else:
                flat.append(part)
        self.parts = tuple(flat)
        self.children = self.parts
        names = frozenset().union(*(p._names for p in self.parts))
        lets = frozenset().union(*(p._lets for p in self.parts))
        _check_lets("union()", names, lets)
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

    def _repr(self) -> str:
        return "union({})".format(", ".join(map(repr, self.parts)))


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
    """The points of ``child`` without repeats, first occurrences kept, in order."""

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
        seen = set()
        for point in self.child._iter(ctx):
            key = freeze_point(point)
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
    """``n`` distinct points of ``child`` drawn uniformly with ``seed``, in draw order."""

    def __init__(
        self,
        child: Sweep,
        n: int,
        seed: Any = None,
        indices: Optional[Sequence[int]] = None,
    ):
        where = "sample({})".format(value_repr(n))
        _check_count(where, "n", n, 0)
        if child._size is None:
            raise SweepError(
                "{}: {} has no cheap length because it {}; sample before filtering, "
                "or draw from list(s) with random.sample".format(
                    where, _describe(child), child._nolen
                ),
                n=n,
            )
        if n > child._size:
            raise SweepError(
                "{}: the sweep has only {} points, so {} distinct ones cannot be "
                "drawn; ask for at most {}".format(where, child._size, n, child._size),
                n=n,
                size=child._size,
            )
        self.child, self.n, self.seed = child, n, seed
        self.children = (child,)
        if indices is None:
            indices = sample_indices(child._size, n, seed)
        self.indices = tuple(indices)
        self._init(child._names, child._lets, child._always, n)

    def _iter(self, ctx: Point) -> Iterator[Point]:
        child = self.child
        return (child._get(i, ctx) for i in self.indices)

    def _get(self, index: int, ctx: Point) -> Point:
        return self.child._get(self.indices[index], ctx)

    def _repr(self) -> str:
        return "{!r}.sample({}, seed={!r})".format(self.child, self.n, self.seed)


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
