"""Where a sweep meets the registry: names, types and hints, checked up front.

Values known when the sweep is built (axes, fixed values, tables, zips, include
values) are checked at once without enumerating points; derived names and
function sweeps are checked point by point as points are drawn.
"""

from typing import Any, Dict, Iterator, Optional, Set

from hpreg.sweep.sizes import seq_len

from hpreg.registry.checks import check_hints, coerce_to_default
from hpreg.sweep.base import Point, Sweep
from hpreg.errors import (
    HintViolationError,
    UnknownHyperparameterError,
    did_you_mean,
    suggestion_text,
)
from hpreg.sweep.algebra import (
    Axis,
    Defaults,
    Derive,
    Fixed,
    FromFunction,
    Let,
    Override,
    Table,
    Zip,
)

# An axis longer than this is checked by its bounds alone when it is a range.
_RANGE_SCAN_LIMIT = 10_000


def validate(sweep: Sweep, manager, source: Optional[str] = None) -> "ValidatedSweep":
    """``sweep`` checked against ``manager``'s scanned hyperparameters.

    Raises ``UnknownHyperparameterError`` (with did-you-mean), ``ValueTypeError`` or
    ``HintViolationError`` naming the hyperparameter and, when known, the sweep file
    and key. Returns a sweep that checks dynamic values as they are drawn.
    """
    checker = _Checker(manager, source)
    dynamic: Dict[str, str] = {}
    checker.walk(sweep, dynamic)
    return ValidatedSweep(sweep, checker, dynamic)


class _Checker:
    def __init__(self, manager, source: Optional[str]):
        self.manager = manager
        self.source = source
        self.known = manager.known_names()
        # let variables of an override's base that the top sets: not hyperparameters
        self.variables: Set[Any] = set()
        # names every top point of an enclosing override sets: the base's values for
        # them never reach a point, so they are not checked
        self.pinned: Set[Any] = set()

    def where(self, node: Any, name: str) -> str:
        origin = getattr(node, "origin", None)
        if isinstance(origin, dict):  # a derive: one key path per derived name
            origin = origin.get(name)
        label = origin or name
        source = getattr(node, "origin_source", None) or self.source
        if source:
            return "{}: {}".format(source, label)
        return "sweep: {}".format(label)

    def check_name(self, name: Any, where: str) -> None:
        if name in self.known or name in self.variables:
            return
        suggestions = did_you_mean(str(name), self.known)
        raise UnknownHyperparameterError(
            "{}: unknown hyperparameter '{}'{} ('hpreg list' shows all names)".format(
                where, name, suggestion_text(suggestions)
            ),
            name=name,
            suggestions=suggestions,
            path=self.source,
        )

    def check_value(self, name: Any, value: Any, where: str) -> Any:
        self.check_name(name, where)
        if name in self.variables or name in self.pinned:
            return value
        default = self.manager.get_default(name)
        value = coerce_to_default(name, value, default, where)
        check_hints(name, value, self.manager.get_hints(name), where)
        return value

    def check_values(self, name: Any, values, where: str) -> None:
        self.check_name(name, where)
        if name in self.variables or name in self.pinned:
            return
        if isinstance(values, range) and seq_len(values) > _RANGE_SCAN_LIMIT:
            # A long range: its type is int and its extremes bound every value.
            self.check_value(name, values[0], where)
            self.check_value(name, values[-1], where)
            choices = self.manager.get_hints(name).get("choices")
            if choices is not None:
                raise HintViolationError(
                    "{}: '{}' has {} choices but the axis has {} values; sweep over "
                    "its choices instead".format(
                        where, name, len(choices), seq_len(values)
                    ),
                    name=name,
                    hint="choices",
                )
            return
        for value in values:
            self.check_value(name, value, where)

    def walk(self, node: Sweep, dynamic: Dict[str, str]) -> None:
        """Check what ``node`` knows up front; note dynamic names (name -> where)."""
        if isinstance(node, Let):
            return  # sweep variables are not hyperparameters
        if isinstance(node, Override):
            self.variables |= set(node.clash) & set(node.base._lets)
            self.walk(node.top, dynamic)
            pinned = (set(node.clash) & set(node.top._always)) - self.pinned
            self.pinned |= pinned
            try:
                self.walk(node.base, dynamic)
            finally:
                self.pinned -= pinned
            return
        if isinstance(node, Axis):
            self.check_values(node.name, node.values, self.where(node, node.name))
        elif isinstance(node, Fixed):
            self.check_value(node.name, node.value, self.where(node, node.name))
        elif isinstance(node, Table):
            for column_index, column in enumerate(node.columns):
                where = self.where(node, column)
                self.check_name(column, where)
                for row in node.rows:
                    self.check_value(column, row[column_index], where)
        elif isinstance(node, Zip):
            for axis in node.axes:
                self.check_values(axis.name, axis.values, self.where(axis, axis.name))
            return
        elif isinstance(node, Defaults):
            for name, value in node.values.items():
                self.check_value(name, value, self.where(node, name))
        elif isinstance(node, Derive):
            for name in node.fns:
                if name in self.pinned:
                    continue  # the override drops this derive for the top's value
                dynamic[name] = self.where(node, name)
                self.check_name(name, dynamic[name])
        elif isinstance(node, FromFunction):
            for name in node._names:
                dynamic[name] = self.where(node, name)
                self.check_name(name, dynamic[name])
        for child in node.children:
            self.walk(child, dynamic)


class ValidatedSweep(Sweep):
    """A checked sweep: the same points, dynamic values checked as they are drawn."""

    def __init__(self, child: Sweep, checker: _Checker, dynamic: Dict[str, str]):
        self.child = child
        self.children = (child,)
        self._checker = checker
        self._dynamic = dynamic
        self._init(child._names, child._lets, child._always, child._size, child._nolen)

    def _check(self, point: Point) -> Point:
        for name, where in self._dynamic.items():
            if name in point:
                point[name] = self._checker.check_value(name, point[name], where)
        return point

    def _iter(self, ctx: Point) -> Iterator[Point]:
        if not self._dynamic:
            return self.child._iter(ctx)
        return map(self._check, self.child._iter(ctx))

    def _get(self, index: int, ctx: Point) -> Point:
        return self._check(self.child._get(index, ctx))

    def _count_cheaply(self) -> Optional[int]:
        return self.child._count_cheaply()

    def _repr(self) -> str:
        return repr(self.child)


def check_point(point: Dict[str, Any], manager, source: Optional[str] = None):
    """One point checked against the registry (names, types, hints)."""
    checker = _Checker(manager, source)
    return {
        name: checker.check_value(name, value, checker.where(None, name))
        for name, value in point.items()
    }


__all__ = ["validate", "check_point", "ValidatedSweep"]
