"""Value checks shared by loading, binding and sweep validation: types and hints."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs import time in every training job
if TYPE_CHECKING:
    from typing import Any, Optional

from hpreg._text import with_article
from hpreg.errors import (
    BadHintError,
    HintViolationError,
    NotLiteralEvaluable,
    ValueTypeError,
)
from hpreg.registry.occurrences import EmptyValue


def type_name(value: Any) -> str:
    """A short type name for listings and messages."""
    if isinstance(value, EmptyValue):
        return "-"
    if isinstance(value, NotLiteralEvaluable):
        return "code"
    return type(value).__name__


def coerce_to_default(name: str, value: Any, default: Any, where: str = "") -> Any:
    """``value`` checked against the type of ``default``, converted where lossless.

    An int may stand for a float (it becomes a float), a list for a tuple or a set;
    anything fits a ``None`` default or a non-literal one; a bool is never an int.
    """
    if default is None or isinstance(default, (EmptyValue, NotLiteralEvaluable)):
        return value
    expected = type(default)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok:
            try:
                value = float(value)
            except OverflowError:  # an int of 309 digits or more
                raise ValueTypeError(
                    where=where,
                    problem="an int of {} digits for '{}' is too large for a float "
                    "(its default {!r} is a float)".format(
                        len(str(abs(value))) if value.bit_length() < 14000 else "many",
                        name,
                        default,
                    ),
                    fix="give a float value, at most about 1.8e308",
                    name=name,
                    value=value,
                    expected=expected,
                ) from None
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, (list, tuple)):
        ok = isinstance(value, (list, tuple))
        if ok:
            value = _like(default, value)
    elif isinstance(default, (set, frozenset)):
        # YAML and JSON have no set: a saved set comes back as a list
        ok = isinstance(value, (list, tuple, set, frozenset)) and _hashable(value)
        if ok:
            value = type(default)(value)
    elif isinstance(default, dict):
        ok = isinstance(value, dict)
        if ok:
            value = _like(default, value)
    else:
        ok = isinstance(value, expected)
    if not ok:
        raise ValueTypeError(
            where=where,
            problem="{!r} for '{}' is {}, but its default {!r} is {}".format(
                value,
                name,
                with_article(type_name(value)),
                default,
                with_article(expected.__name__),
            ),
            fix="give {} value".format(with_article(expected.__name__)),
            name=name,
            value=value,
            expected=expected,
        )
    return value


def _hashable(items) -> bool:
    try:
        frozenset(items)
    except TypeError:
        return False
    return True


def _like(default: Any, value: Any) -> Any:
    """``value`` with tuples where ``default`` has them (YAML and JSON have no tuple)."""
    if isinstance(default, (list, tuple)) and isinstance(value, (list, tuple)):
        if default:
            items = [
                _like(default[min(i, len(default) - 1)], v) for i, v in enumerate(value)
            ]
        else:
            items = list(value)
        return tuple(items) if isinstance(default, tuple) else items
    if isinstance(default, dict) and isinstance(value, dict):
        return {
            k: _like(default[k], v) if k in default else v for k, v in value.items()
        }
    return value


CHOICES_TYPES = (list, tuple, set, frozenset)


def bad_hint(hints: Optional[dict]) -> str:
    """What is wrong with the hints themselves (``choices=5``), empty when nothing."""
    if not hints:
        return ""
    choices = hints.get("choices")
    if choices is not None and not isinstance(choices, CHOICES_TYPES):
        what = (
            "a string" if isinstance(choices, str) else with_article(type_name(choices))
        )
        return (
            "choices must be a list, tuple or set of values, not {} ({!r}); "
            "write choices=[...]".format(what, choices)
        )
    return ""


def check_hints(name: str, value: Any, hints: Optional[dict], where: str = "") -> None:
    """Raise ``HintViolationError`` when ``value`` breaks ``choices``/``low``/``high``,
    and ``BadHintError`` when the hints themselves are wrong (``choices=5``)."""
    if not hints:
        return
    problem = bad_hint(hints)
    if problem:
        problem, _, fix = problem.partition("; ")
        raise BadHintError(
            where=where,
            problem="bad hint for '{}': {}".format(name, problem),
            fix=fix,
            name=name,
            value=value,
            hint="choices",
        )
    choices = hints.get("choices")
    if choices is not None:
        try:
            allowed = value in choices
        except TypeError:
            allowed = False
        if not allowed:
            raise HintViolationError(
                where=where,
                problem="{!r} is not a choice of '{}'".format(value, name),
                fix="choose one of {}".format(", ".join(repr(c) for c in choices)),
                name=name,
                value=value,
                hint="choices",
            )
    bounded = hints.get("low") is not None or hints.get("high") is not None
    if bounded and isinstance(value, float) and value != value:  # NaN: no order
        raise HintViolationError(
            where=where,
            problem="nan for '{}' is not a number, so not in its bounds".format(name),
            fix="give a value in [{}, {}]".format(
                hints.get("low", "-inf"), hints.get("high", "inf")
            ),
            name=name,
            value=value,
            hint="low" if hints.get("low") is not None else "high",
        )
    for hint, breaks, word in (
        ("low", lambda v, bound: v < bound, "below"),
        ("high", lambda v, bound: v > bound, "above"),
    ):
        bound = hints.get(hint)
        if bound is None or isinstance(value, bool):
            continue
        try:
            broken = breaks(value, bound)
        except TypeError:
            continue
        if broken:
            raise HintViolationError(
                where=where,
                problem="{!r} for '{}' is {} its {} bound {!r}".format(
                    value, name, word, hint, bound
                ),
                fix="give a value in [{}, {}]".format(
                    hints.get("low", "-inf"), hints.get("high", "inf")
                ),
                name=name,
                value=value,
                hint=hint,
            )
