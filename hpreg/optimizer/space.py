"""Search spaces: named dimensions (a float or int range, or choices) read from a
mapping (``{low, high, log, step}`` / ``{choices}``), from the registry's hints
(``_("lr", 1e-3, low=1e-5, high=1e-1, log=True)``) or from a sweep tree (an axis is
a set of choices, a fixed value stays fixed), and checked against the registry
before any trial starts. Optuna is imported only to build distributions.
"""

import math
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

from hpreg._text import did_you_mean, join_fix, suggestion
from hpreg.errors import HpregError, SearchSpaceError
from hpreg.sweep.check import Checker
from hpreg.sweep.visit import SweepVisitor

SPEC_KEYS = ("low", "high", "log", "step", "choices", "type")
TYPES = ("float", "int", "categorical")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Dimension:
    """One hyperparameter of a search space: ``kind`` is ``float``, ``int`` or
    ``categorical``; ``where`` names it in errors (``optimize.yaml: optimize.space.lr``).
    """

    __slots__ = ("name", "kind", "low", "high", "log", "step", "choices", "where")

    def __init__(
        self,
        name: str,
        kind: str,
        low: Any = None,
        high: Any = None,
        log: bool = False,
        step: Any = None,
        choices: Optional[List[Any]] = None,
        where: str = "",
    ):
        self.name = name
        self.kind = kind
        self.low = low
        self.high = high
        self.log = bool(log)
        self.step = step
        self.choices = choices
        self.where = where or name

    def __repr__(self) -> str:
        if self.kind == "categorical":
            return "Dimension({!r}, choices={!r})".format(self.name, self.choices)
        return "Dimension({!r}, {}, low={!r}, high={!r}, log={}, step={!r})".format(
            self.name, self.kind, self.low, self.high, self.log, self.step
        )

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Dimension) and all(
            getattr(self, s) == getattr(other, s)
            for s in self.__slots__
            if s != "where"
        )

    def contains(self, value: Any) -> bool:
        if self.kind == "categorical":
            return value in self.choices
        return _is_number(value) and self.low <= value <= self.high

    def distribution(self):
        """The Optuna distribution that samples this dimension."""
        from optuna import distributions

        if self.kind == "categorical":
            return distributions.CategoricalDistribution(list(self.choices))
        if self.kind == "int":
            return distributions.IntDistribution(
                int(self.low), int(self.high), log=self.log, step=int(self.step or 1)
            )
        return distributions.FloatDistribution(
            float(self.low), float(self.high), log=self.log, step=self.step
        )

    def grid(self) -> List[Any]:
        """Every value, for the grid sampler: choices, or a range with a step."""
        if self.kind == "categorical":
            return list(self.choices)
        step = (
            self.step if self.step is not None else (1 if self.kind == "int" else None)
        )
        if step is None:
            raise SearchSpaceError(
                where=self.where,
                problem="the grid sampler needs a finite set of values for '{}'".format(
                    self.name
                ),
                fix="give it a step (step: 0.1) or choices",
                name=self.name,
            )
        count = int(math.floor((self.high - self.low) / step + 1e-9)) + 1
        values = [self.low + i * step for i in range(count)]
        if self.kind == "float":
            values = [round(v, 12) for v in values]
        return values


def _error(where: str, problem: str, fix: str = "", **facts: Any) -> SearchSpaceError:
    return SearchSpaceError(where=where, problem=problem, fix=fix, **facts)


def dimension(
    name: str,
    spec: Any,
    where: str = "",
    default: Any = None,
    has_default: bool = False,
) -> Dimension:
    """A dimension from ``{low, high, log, step}`` or ``{choices}`` (``type: int`` or
    ``float`` forces the kind; otherwise a range is int when the registry's default
    is an int, or, without a default, when its bounds and step are ints)."""
    where = where or name
    if isinstance(spec, (list, tuple)):
        spec = {"choices": list(spec)}
    if not isinstance(spec, dict):
        raise _error(
            where,
            "expected {{low, high}} or {{choices}} for '{}', got {!r}".format(
                name, spec
            ),
            "write e.g. {low: 1.0e-5, high: 0.1, log: true} or {choices: [a, b]}",
            name=name,
        )
    for key in spec:
        if key not in SPEC_KEYS:
            raise _error(
                "{}.{}".format(where, key),
                "unknown key {!r} in the space of '{}'".format(key, name),
                join_fix(
                    suggestion(did_you_mean(str(key), SPEC_KEYS)),
                    "(keys: {})".format(", ".join(SPEC_KEYS)),
                ),
                name=name,
            )
    kind = spec.get("type")
    if kind is not None and kind not in TYPES:
        raise _error(
            "{}.type".format(where),
            "unknown type {!r}".format(kind),
            "write one of {}".format(", ".join(TYPES)),
            name=name,
        )
    if "choices" in spec:
        choices = spec["choices"]
        extra = [k for k in ("low", "high", "log", "step") if k in spec]
        if extra:
            raise _error(
                where,
                "'{}' has both choices and {}".format(name, ", ".join(extra)),
                "give either choices or a range",
                name=name,
            )
        if not isinstance(choices, (list, tuple)):
            raise _error(
                "{}.choices".format(where),
                "choices must be a list, not {!r}".format(choices),
                "write choices: [a, b]",
                name=name,
            )
        if not choices:
            raise _error(
                "{}.choices".format(where),
                "empty choices for '{}'".format(name),
                "give at least one value",
                name=name,
            )
        return Dimension(name, "categorical", choices=list(choices), where=where)
    missing = [k for k in ("low", "high") if spec.get(k) is None]
    if missing:
        raise _error(
            where,
            "'{}' has no {}".format(name, " and no ".join(missing)),
            "give low and high (a range) or choices",
            name=name,
        )
    low, high, step, log = spec["low"], spec["high"], spec.get("step"), spec.get("log")
    for key, value in (("low", low), ("high", high), ("step", step)):
        if value is not None and not _is_number(value):
            raise _error(
                "{}.{}".format(where, key),
                "{} of '{}' is not a number: {!r}".format(key, name, value),
                name=name,
            )
    if log not in (None, True, False):
        raise _error(
            "{}.log".format(where),
            "log is true or false, not {!r}".format(log),
            name=name,
        )
    if low > high:
        raise _error(
            where,
            "low {!r} is above high {!r} for '{}'".format(low, high, name),
            "swap them",
            name=name,
        )
    if log and low <= 0:
        raise _error(
            "{}.low".format(where),
            "a log space needs low > 0, got low {!r} for '{}'".format(low, name),
            "give a positive low (e.g. 1.0e-5), or drop log",
            name=name,
        )
    if step is not None and step <= 0:
        raise _error(
            "{}.step".format(where),
            "step must be positive, got {!r}".format(step),
            name=name,
        )
    if step is not None and log:
        raise _error(
            where,
            "'{}' has both log and step".format(name),
            "Optuna samples a log space without a step: drop one",
            name=name,
        )
    if kind is None:
        if has_default and _is_number(default):
            kind = "int" if _is_int(default) else "float"
        else:
            ints = _is_int(low) and _is_int(high) and (step is None or _is_int(step))
            kind = "int" if ints else "float"
    if kind == "int":
        for key, value in (("low", low), ("high", high), ("step", step)):
            if value is not None and value != int(value):
                raise _error(
                    "{}.{}".format(where, key),
                    "'{}' is an int but its {} is {!r}".format(name, key, value),
                    "give whole numbers, or type: float",
                    name=name,
                )
        low, high = int(low), int(high)
        step = int(step) if step is not None else None
    else:
        low, high = float(low), float(high)
    return Dimension(name, kind, low, high, bool(log), step, where=where)


def parse_space(
    space: Any, where: str = "space", registry=None, located: bool = True
) -> Dict[str, Dimension]:
    """``{name: spec}`` as dimensions (a ``Dimension`` is kept as it is); with a
    registry, ranges of int defaults are int."""
    if not isinstance(space, dict):
        raise _error(
            where,
            "a search space maps names to {{low, high}} or {{choices}}, not "
            "{!r}".format(space),
            "write e.g. {lr: {low: 1.0e-5, high: 0.1, log: true}}",
        )
    dims = {}
    for name, spec in space.items():
        if isinstance(spec, Dimension):
            dims[spec.name] = spec
            continue
        if not isinstance(name, str) or not name.strip():
            raise _error(where, "{!r} is not a hyperparameter name".format(name))
        default, has = _default(registry, name)
        key = "{}.{}".format(where, name) if located else name
        dims[name] = dimension(name, spec, key, default, has)
    return dims


def _default(registry, name: str) -> Tuple[Any, bool]:
    if registry is None or name not in registry.known_names():
        return None, False
    try:
        return registry.get_default(name), True
    except Exception:
        return None, False


HINT_KEYS = ("low", "high", "log", "step", "choices")


def space_from_hints(registry, names: Optional[List[str]] = None) -> Dict[str, Any]:
    """The space the registry's hints describe: every hyperparameter with
    ``low``/``high`` or ``choices`` (or the ``names`` picked, each of which must
    have them) as ``{name: spec}``."""
    known = sorted(registry.known_names())
    picked = names if names is not None else known
    space: Dict[str, Any] = {}
    for name in picked:
        if name not in registry.known_names():
            raise unknown_name(name, known, "--space {}".format(name))
        hints = registry.get_hints(name) or {}
        spec = {k: hints[k] for k in HINT_KEYS if hints.get(k) is not None}
        usable = "choices" in spec or ("low" in spec and "high" in spec)
        if not usable:
            if names is not None:
                raise _error(
                    "--space {}".format(name),
                    "'{}' has no bounds or choices in its hints".format(name),
                    "declare them (_('{}', default, low=..., high=...) or "
                    "choices=[...]), or give its space in the file's "
                    "optimize.space".format(name),
                    name=name,
                )
            continue
        if "log" in spec and not isinstance(spec["log"], bool):
            spec["log"] = bool(spec["log"])
        space[name] = spec
    return space


def unknown_name(name: str, known, where: str) -> HpregError:
    from hpreg.errors import UnknownHyperparameterError

    suggestions = did_you_mean(str(name), known)
    return UnknownHyperparameterError(
        where=where,
        problem="unknown hyperparameter '{}'".format(name),
        fix=join_fix(suggestion(suggestions), "('hpreg list' shows all names)"),
        name=name,
        suggestions=suggestions,
    )


def check_space(
    dims: Dict[str, Dimension],
    fixed: Dict[str, Any],
    registry,
    fixed_where: Callable[[str], str] = lambda name: name,
) -> List[str]:
    """Check the space and the fixed values against the registry before any trial:
    unknown names (with did-you-mean), choices and bounds of the wrong type or
    outside the hints. Returns warnings (bounds that exclude the default)."""
    checker = Checker(registry, None)
    known = registry.known_names()
    notes = []
    for name, dim in dims.items():
        if name not in known:
            raise unknown_name(name, known, dim.where)
        if dim.kind == "categorical":
            for choice in dim.choices:
                checker.check_value(name, choice, dim.where)
        else:
            checker.check_value(name, dim.low, dim.where)
            checker.check_value(name, dim.high, dim.where)
        default, has = _default(registry, name)
        if has and default is not None and not dim.contains(default):
            notes.append(
                "{}: the space of '{}' excludes its default {!r}".format(
                    dim.where, name, default
                )
            )
    for name, value in fixed.items():
        checker.check_value(name, value, fixed_where(name))
    return notes


def warn_all(notes: List[str]) -> None:
    for note in notes:
        warnings.warn(note, stacklevel=3)


# -- a sweep tree as a space -----------------------------------------------------------
class _SpaceOfSweep(SweepVisitor):
    """An axis becomes choices (a range axis an int range), a fixed value stays
    fixed; products combine them. Anything else (unions, tables, derived values...)
    has no search-space meaning."""

    def __init__(self, source: str):
        self.source = source
        self.space: Dict[str, Any] = {}
        self.fixed: Dict[str, Any] = {}

    def _where(self, node: Any) -> str:
        label = node.origin if isinstance(node.origin, str) else node.name
        return "{}: {}".format(node.origin_source or self.source, label)

    def visit_axis(self, node: Any) -> None:
        values = node.values
        where = self._where(node)
        if isinstance(values, range) and values.step > 0 and len(values) > 1:
            self.space[node.name] = Dimension(
                node.name,
                "int",
                values.start,
                values[-1],
                step=values.step if values.step != 1 else None,
                where=where,
            )
        else:
            self.space[node.name] = dimension(node.name, list(values), where)

    def visit_fixed(self, node: Any) -> None:
        self.fixed[node.name] = node.value

    def visit_product(self, node: Any) -> None:
        self.generic_visit(node)

    def generic_visit(self, node: Any) -> None:
        if node.kind != "product":
            raise _error(
                "{}: {}".format(node.origin_source or self.source, node.kind),
                "a '{}' has no meaning in a search space".format(node.kind),
                "optimize over names with values or ranges (product of axes), and "
                "put the space in the optimize: section",
            )
        super().generic_visit(node)


def space_of_sweep(sweep: Any, source: str) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The ``(space, fixed)`` a sweep tree describes (see ``_SpaceOfSweep``)."""
    visitor = _SpaceOfSweep(source)
    visitor.visit(sweep)
    return visitor.space, visitor.fixed
