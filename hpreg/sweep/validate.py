"""Where a sweep meets the registry: names, types and hints, checked up front.

Values known when the sweep is built (axes, fixed values, tables, zips, include
values) are checked at once without enumerating points; derived names and
function sweeps are checked point by point as points are drawn. The walk is in
``hpreg.sweep.check``; ``ValidatedSweep`` is with the other per-point operations
in ``hpreg.sweep.base``.
"""

from typing import Any, Dict, Optional

from hpreg.sweep.base import Sweep, ValidatedSweep
from hpreg.sweep.check import Checker, check_up_front


def validate(sweep: Sweep, manager, source: Optional[str] = None) -> ValidatedSweep:
    """``sweep`` checked against ``manager``'s scanned hyperparameters.

    Raises ``UnknownHyperparameterError`` (with did-you-mean), ``ValueTypeError`` or
    ``HintViolationError`` naming the hyperparameter and, when known, the sweep file
    and key. Returns a sweep that checks dynamic values as they are drawn.
    """
    checker, dynamic = check_up_front(sweep, manager, source)
    return ValidatedSweep(sweep, checker, dynamic)


def check_point(point: Dict[str, Any], manager, source: Optional[str] = None):
    """One point checked against the registry (names, types, hints)."""
    checker = Checker(manager, source)
    return {
        name: checker.check_value(name, value, checker.where(None, name))
        for name, value in point.items()
    }


__all__ = ["validate", "check_point", "ValidatedSweep"]
