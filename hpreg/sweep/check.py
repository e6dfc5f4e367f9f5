"""What validation checks up front: a sweep's names and the values it knows.

A visitor (``hpreg.sweep.visit``) over the tree, so it needs no node class and
``Sweep.checked_against`` can use it without an import cycle. Values known when the
sweep is built (axes, fixed values, tables, zips, include values) are checked at
once without enumerating points; derived names and function sweeps are noted as
*dynamic*, to be checked point by point as points are drawn.
"""

from typing import Any, Dict, Optional, Set, Tuple

from hpreg._text import did_you_mean, join_fix, suggestion
from hpreg.errors import HintViolationError, UnknownHyperparameterError
from hpreg.registry.checks import check_hints, coerce_to_default
from hpreg.sweep.sizes import seq_len
from hpreg.sweep.visit import SweepVisitor

# An axis longer than this is checked by its bounds alone when it is a range.
_RANGE_SCAN_LIMIT = 10_000


class Checker:
    """Checks names and values against a registry, naming where they were written."""

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
        origin = None if node is None else node.origin
        if isinstance(origin, dict):  # a derive: one key path per derived name
            origin = origin.get(name)
        label = origin or name
        source = (None if node is None else node.origin_source) or self.source
        if source:
            return "{}: {}".format(source, label)
        return "sweep: {}".format(label)

    def check_name(self, name: Any, where: str) -> None:
        if name in self.known or name in self.variables:
            return
        suggestions = did_you_mean(str(name), self.known)
        raise UnknownHyperparameterError(
            where=where,
            problem="unknown hyperparameter '{}'".format(name),
            fix=join_fix(suggestion(suggestions), "('hpreg list' shows all names)"),
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
                    where=where,
                    problem="'{}' has {} choices but the axis has {} values".format(
                        name, len(choices), seq_len(values)
                    ),
                    fix="sweep over its choices instead",
                    name=name,
                    hint="choices",
                )
            return
        for value in values:
            self.check_value(name, value, where)


class _UpFront(SweepVisitor):
    """Checks what each node knows up front; notes dynamic names (name -> where)."""

    def __init__(self, checker: Checker):
        self.checker = checker
        self.dynamic: Dict[str, str] = {}

    def visit_let(self, node: Any) -> None:
        return  # sweep variables are not hyperparameters

    def visit_override(self, node: Any) -> None:
        checker = self.checker
        checker.variables |= set(node.clash) & set(node.base._lets)
        self.visit(node.top)
        pinned = (set(node.clash) & set(node.top._always)) - checker.pinned
        checker.pinned |= pinned
        try:
            self.visit(node.base)
        finally:
            checker.pinned -= pinned

    def visit_axis(self, node: Any) -> None:
        where = self.checker.where(node, node.name)
        self.checker.check_values(node.name, node.values, where)

    def visit_fixed(self, node: Any) -> None:
        self.checker.check_value(
            node.name, node.value, self.checker.where(node, node.name)
        )

    def visit_table(self, node: Any) -> None:
        for column_index, column in enumerate(node.columns):
            where = self.checker.where(node, column)
            self.checker.check_name(column, where)
            for row in node.rows:
                self.checker.check_value(column, row[column_index], where)

    def visit_defaults(self, node: Any) -> None:
        for name, value in node.values.items():
            self.checker.check_value(name, value, self.checker.where(node, name))
        self.generic_visit(node)

    def visit_derive(self, node: Any) -> None:
        for name in node.fns:
            if name in self.checker.pinned:
                continue  # the override drops this derive for the top's value
            self._dynamic(node, name)
        self.generic_visit(node)

    def visit_from_function(self, node: Any) -> None:
        for name in node.names:
            self._dynamic(node, name)

    def _dynamic(self, node: Any, name: str) -> None:
        self.dynamic[name] = self.checker.where(node, name)
        self.checker.check_name(name, self.dynamic[name])


def check_up_front(
    sweep: Any, manager, source: Optional[str] = None
) -> Tuple[Checker, Dict[str, str]]:
    """Check what ``sweep`` knows up front against ``manager``'s hyperparameters.

    Raises ``UnknownHyperparameterError`` (with did-you-mean), ``ValueTypeError`` or
    ``HintViolationError`` naming the hyperparameter and, when known, the sweep file
    and key. Returns the checker and the dynamic names (name -> where), for
    ``ValidatedSweep`` to check as points are drawn.
    """
    checker = Checker(manager, source)
    walk = _UpFront(checker)
    walk.visit(sweep)
    return checker, walk.dynamic


__all__ = ["Checker", "check_up_front"]
