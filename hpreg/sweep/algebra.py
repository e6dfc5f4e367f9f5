"""The sweep algebra: product, union, table, zip, let, derive, where... (no I/O).

A sweep is an immutable tree of nodes, each a ``Sweep``; ``node.children`` lists its
sub-sweeps and ``node.kind`` names its class, so a visitor (``hpreg.sweep.visit``)
walks it without enumerating points:

- ``Axis(name, values)``: values known up front (a tuple or a range).
- ``Fixed(name, value)``: one value known up front.
- ``Table(columns, rows)``, ``Zip(axes)`` (``axes``: ``Axis`` nodes): known up front.
- ``FromFunction(function, points)``: the function's finite list of points.
- ``Let(child)``: sweep variables (``variables``), not hyperparameters; skip it.
- ``Defaults(values, child)``: ``values`` (a dict) are part of every point.
- ``Derive(child, fns)``: ``fns`` (name -> function) are derived names, dynamic:
  check their values point by point.
- ``Product(factors)``, ``Union(parts)``, ``Where(child, pred)``, ``Unique(child)``,
  ``Shard(child, k, n)``, ``Sample(child, n, seed, indices)``,
  ``Override(base, top)``: no values of their own.

``s.names`` is the set of hyperparameter names a sweep can set (derived ones
included, let variables not). In an ``Override``, the names ``top`` and ``base``
share are pinned to ``top``'s values inside ``base``.
"""

from collections.abc import Iterator, Mapping
from typing import Any, Callable, Dict, Iterable, List, Sequence

from hpreg.errors import SweepError
from hpreg.sweep.base import Derive, Sample, Shard, Sweep, Unique, Where
from hpreg.sweep.common import value_repr
from hpreg.sweep.leaves import Axis, Fixed, FromFunction, Let, Table, Zip
from hpreg.sweep.nodes import Defaults, Product, Union
from hpreg.sweep.override import Override

__all__ = [
    "Sweep",
    "Value",
    "product",
    "union",
    "table",
    "zip",
    "value",
    "let",
    "from_function",
    "override",
    "defaults",
    "Axis",
    "Fixed",
    "Table",
    "Zip",
    "Let",
    "FromFunction",
    "Product",
    "Union",
    "Derive",
    "Where",
    "Unique",
    "Shard",
    "Sample",
    "Defaults",
    "Override",
]


class Value:
    """A value to keep fixed even if it is a list, tuple or range (see ``value``)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __repr__(self) -> str:
        return "value({})".format(value_repr(self.value))


def value(v: Any) -> Value:
    """Fix a hyperparameter to ``v`` where a list would be an axis: ``value([1, 2])``."""
    return Value(v)


def _check_name(where: str, name: Any) -> None:
    if not isinstance(name, str) or not name:
        raise SweepError(
            where=where,
            problem="the name {!r} is not a non-empty string".format(name),
            fix="names are strings like 'model.d_model'",
            name=name,
        )


def _leaf(where: str, name: str, v: Any) -> Sweep:
    """An ``Axis`` for a list, tuple or range, a ``Fixed`` for anything else."""
    _check_name(where, name)
    if isinstance(v, Value):
        return Fixed(name, v.value)
    if isinstance(v, (list, tuple, range)):
        return Axis(name, v)
    if isinstance(v, Sweep):
        raise SweepError(
            where=where,
            problem="{!r} is given a sweep".format(name),
            fix="pass sweeps as positional factors",
            name=name,
        )
    if isinstance(v, (set, frozenset)):
        raise SweepError(
            where=where,
            problem="{!r} is given a set, which has no order".format(name),
            fix="pass a list",
            name=name,
        )
    if isinstance(v, Iterator):
        raise SweepError(
            where=where,
            problem="{!r} is given an iterator, which can be read only once".format(
                name
            ),
            fix="pass a list or a range",
            name=name,
        )
    return Fixed(name, v)


def _leaves(where: str, axes: Mapping) -> List[Sweep]:
    return [_leaf(where, name, v) for name, v in axes.items()]


def _factors(where: str, factors: Sequence[Any], axes: Dict[str, Any]) -> List[Sweep]:
    nodes: List[Sweep] = []
    for i, factor in enumerate(factors):
        if isinstance(factor, Sweep):
            nodes.append(factor)
        elif isinstance(factor, Mapping):
            nodes.extend(_leaves(where, factor))
        else:
            raise SweepError(
                where=where,
                problem="positional argument {} is {}".format(i, value_repr(factor)),
                fix="pass a sweep, or a dict of axes such as "
                "{'model.d_model': [512, 1024]}",
                index=i,
            )
    nodes.extend(_leaves(where, axes))
    return nodes


def product(*factors: Any, **axes: Any) -> Sweep:
    """Every combination of the factors' points, the last factor varying fastest.

    Factors are sweeps or dicts of axes; keyword axes come after them, in order.
    A list, tuple or range is an axis, anything else a fixed value (``value()``
    fixes a list). ``product()`` is one empty point.
    """
    return Product(_factors("product()", factors, axes))


def union(*parts: Any) -> Sweep:
    """The points of each part in turn, repeats kept (a dict part is a product)."""
    nodes = []
    for i, part in enumerate(parts):
        if isinstance(part, Sweep):
            nodes.append(part)
        elif isinstance(part, Mapping):
            nodes.append(Product(_leaves("union()", part)))
        else:
            raise SweepError(
                where="union()",
                problem="part {} is {}".format(i, value_repr(part)),
                fix="pass sweeps such as product(...) or table(...)",
                index=i,
            )
    return Union(nodes)


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Sweep:
    """One point per row, pairing ``columns`` with the row's values."""
    node = Table(columns, list(rows))
    for column in node.columns:
        _check_name("table()", column)
    return node


def zip(*axes_dicts: Mapping, **axes: Any) -> Sweep:  # noqa: A001 (the contract)
    """Axes of equal length taken in step: point i holds each axis's i-th value."""
    nodes = _factors("zip()", axes_dicts, axes)
    for node in nodes:
        if not isinstance(node, Axis):
            raise SweepError(
                where="zip()",
                problem="{!r} is not an axis (a list, tuple or range)".format(
                    node.name
                ),
                fix="put fixed values in a product around the zip",
                name=node.name,
            )
    return Zip(nodes)


def let(*axes_dicts: Mapping, **axes: Any) -> Sweep:
    """Sweep variables: they vary like axes, feed ``derive`` and ``where``, and are
    removed from the final points."""
    for i, axes_dict in enumerate(axes_dicts):
        if not isinstance(axes_dict, Mapping):
            raise SweepError(
                where="let()",
                problem="positional argument {} is {}".format(i, value_repr(axes_dict)),
                fix="pass dicts of variables such as {'maxfun': range(10, 151, 10)}",
                index=i,
            )
    nodes = _factors("let()", axes_dicts, axes)
    return Let(Product(nodes))


def from_function(f: Callable[[], Iterable[Any]]) -> Sweep:
    """The points ``f()`` returns (called once, now): dicts or (name, value) pairs."""
    return FromFunction(f)


def _as_sweep(where: str, what: str, sweep: Any) -> Sweep:
    if isinstance(sweep, Sweep):
        return sweep
    if isinstance(sweep, Mapping):
        return Product(_leaves(where, sweep))
    raise SweepError(
        where=where,
        problem="{} is {}".format(what, value_repr(sweep)),
        fix="pass a sweep",
    )


def override(base: Any, top: Any) -> Sweep:
    """``top``'s points as the outer loop, ``base``'s as the inner; ``top`` wins.

    The names both set take ``top``'s values inside ``base`` (its derives and
    filters see them) and the repeats that creates are dropped; ``base``'s own
    repeats stay. ``len`` is cheap unless the clash needs enumerating to find them.
    """
    return Override(
        _as_sweep("override()", "base", base), _as_sweep("override()", "top", top)
    )


def defaults(values: Mapping[str, Any], sweep: Any) -> Sweep:
    """``sweep`` with ``values`` part of every point (visible to its ``derive`` and
    ``where``); the sweep's own values win. Lists in ``values`` are values."""
    if not isinstance(values, Mapping):
        raise SweepError(
            where="defaults()",
            problem="values must be a dict of name -> value, got {}".format(
                value_repr(values)
            ),
        )
    for name in values:
        _check_name("defaults()", name)
    return Defaults(dict(values), _as_sweep("defaults()", "the sweep", sweep))
