"""The leaves of a sweep tree: axes, fixed values, tables, zips, lets, function sweeps.

Each node checks its own shape when built and implements the internal protocol of
``Sweep`` (``_iter``, ``_get``); ``hpreg.sweep`` builds them from friendlier arguments.
"""

import itertools
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

from hpreg.errors import SweepError
from hpreg.sweep.base import Sweep
from hpreg.sweep.common import Point, callable_repr, keyword_safe, value_repr
from hpreg.sweep.sizes import seq_len


def _leaf_value_repr(node: Sweep) -> str:
    if isinstance(node, Axis):
        values = node.values
        return value_repr(values if isinstance(values, range) else list(values))
    if isinstance(node.value, (list, tuple, range)):
        return "value({})".format(value_repr(node.value))
    return value_repr(node.value)


def _leaves_repr(leaves: Sequence[Sweep], as_keywords: bool) -> str:
    """``a=[1, 2], b=3`` when possible, else ``{'model.a': [1, 2], 'b': 3}``."""
    if as_keywords and all(keyword_safe(leaf.name) for leaf in leaves):
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


class Axis(Sweep):
    """One name taking each of ``values`` (a tuple or a range) in turn."""

    kind = "axis"

    def __init__(self, name: Any, values: Sequence):
        self.name = name
        self.values = values if isinstance(values, range) else tuple(values)
        self._init([name], (), [name], seq_len(self.values))

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

    kind = "fixed"

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

    kind = "table"

    def __init__(self, columns: Sequence[Any], rows: Sequence[Sequence[Any]]):
        if isinstance(columns, (str, bytes)) or not isinstance(columns, (list, tuple)):
            raise SweepError(
                where="table()",
                problem="columns must be a list of names, got {}".format(
                    value_repr(columns)
                ),
                fix="e.g. table(('d_model', 'd_ff'), [(512, 2048)])",
            )
        self.columns = tuple(columns)
        seen = set()
        for column in self.columns:
            if column in seen:
                raise SweepError(
                    where="table()",
                    problem="column {!r} appears twice".format(column),
                    fix="give each column once",
                    name=column,
                )
            seen.add(column)
        checked = []
        for i, row in enumerate(rows):
            if not isinstance(row, (list, tuple)):
                raise SweepError(
                    where="table()",
                    problem="row {} is not a list or tuple of values: {}".format(
                        i, value_repr(row)
                    ),
                    fix="write each row as [v1, v2, ...]",
                    row=i,
                )
            if len(row) != len(self.columns):
                raise SweepError(
                    where="table()",
                    problem="row {} has {} values for {} columns ({})".format(
                        i, len(row), len(self.columns), ", ".join(map(str, columns))
                    ),
                    fix="give every row one value per column",
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

    kind = "zip"

    def __init__(self, axes: Sequence[Axis]):
        self.axes = tuple(axes)
        self.children = self.axes
        lengths = [seq_len(axis.values) for axis in self.axes]
        if len(set(lengths)) > 1:
            raise SweepError(
                where="zip()",
                problem="axes have different lengths ({})".format(
                    ", ".join(
                        "{}: {}".format(a.name, n) for a, n in zip(self.axes, lengths)
                    )
                ),
                fix="give every axis the same number of values",
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

    def _rebuild(self, children: Tuple[Sweep, ...]) -> Sweep:
        return Zip(children)

    def _repr(self) -> str:
        return "zip({})".format(_leaves_repr(self.axes, as_keywords=True))


class Let(Sweep):
    """Sweep variables: ``child``'s names vary like axes, feed ``derive`` and ``where``,
    and are removed from the final points. ``child`` is a product of axes."""

    kind = "let"

    def __init__(self, child: Sweep):
        self.child = child
        self.children = (child,)
        self.variables = tuple(sorted(child._keys, key=str))
        self._init((), child._keys, child._always, child._size, child._nolen)

    def _iter(self, ctx: Point) -> Iterator[Point]:
        return self.child._iter(ctx)

    def _get(self, index: int, ctx: Point) -> Point:
        return self.child._get(index, ctx)

    def _rebuild(self, children: Tuple[Sweep, ...]) -> Sweep:
        return Let(children[0])

    def _repr(self) -> str:
        return "let" + repr(self.child)[len("product") :]


# the most points a sweep function may return: hpreg run's own limit (it holds
# them in memory), so an endless generator is refused before memory runs out
MAX_FUNCTION_POINTS = 1_000_000


class FromFunction(Sweep):
    """The finite list of points ``function()`` returned (called once, when built).

    Each returned point is a dict or an iterable of ``(name, value)`` pairs.
    """

    kind = "from_function"

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
                where=where,
                problem="not callable",
                fix="pass a function returning points",
            )
        result = function()
        if isinstance(result, dict) or not hasattr(result, "__iter__"):
            raise SweepError(
                where=where,
                problem="returned {}".format(value_repr(result)),
                fix="return a list of points (dicts, or (name, value) pairs)",
            )
        points = []
        for i, item in enumerate(result):
            if i >= MAX_FUNCTION_POINTS:  # an endless generator stops here
                raise SweepError(
                    where=where,
                    problem="returned more than {:,} points".format(
                        MAX_FUNCTION_POINTS
                    ),
                    fix="return fewer points (draw a sample of them)",
                )
            try:
                point = dict(item)
            except (TypeError, ValueError):
                raise SweepError(
                    where=where,
                    problem="point {} is {}, neither a dict nor (name, value) "
                    "pairs".format(i, value_repr(item)),
                    fix="return dicts or dict.items()",
                    index=i,
                ) from None
            for name in point:
                if not isinstance(name, str) or not name:
                    raise SweepError(
                        where=where,
                        problem="point {} has the name {!r}".format(i, name),
                        fix="names are non-empty strings",
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
