"""Every exception and warning hpreg raises, and the did-you-mean helper.

Each error keeps its facts as attributes (``name``, ``location``, ``suggestions``...)
so tools read fields instead of parsing messages. hpman's exception names are kept.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs import time in every training job
if TYPE_CHECKING:
    from typing import Iterable, List, Sequence


def did_you_mean(name: str, candidates: Iterable[str], n: int = 3) -> List[str]:
    """Return up to ``n`` candidates close to ``name``, best first."""
    pool = [c for c in candidates if isinstance(c, str) and c != name]
    import difflib  # only an error needs it

    return difflib.get_close_matches(name, pool, n=n, cutoff=0.6)


def suggestion_text(suggestions: Sequence[str]) -> str:
    """``"; did you mean 'x'?"`` (or ``'x' or 'y'``), empty when there is none."""
    if not suggestions:
        return ""
    quoted = " or ".join(repr(s) for s in suggestions)
    return "; did you mean {}?".format(quoted)


class HpregError(Exception):
    """Base class of every error hpreg raises on purpose.

    ``exit_code`` is what the ``hpreg`` command exits with: 2 for usage errors,
    1 for the rest.
    """

    exit_code = 1

    def __init__(self, message: str = "", **facts):
        super().__init__(message)
        self.message = message
        for key, value in facts.items():
            setattr(self, key, value)

    def __str__(self) -> str:
        return self.message


class UsageError(HpregError, ValueError):
    """A command line that cannot be understood (the command exits 2)."""

    exit_code = 2


# -- hpman's names ---------------------------------------------------------------
class DoubleAssignmentException(HpregError, ValueError):
    """A hyperparameter has a default in two places; ``first``/``second`` locate them."""


class NotLiteralNameException(HpregError, ValueError):
    """A hyperparameter's name is not a literal string."""


class NotLiteralEvaluable(HpregError, ValueError):
    """A hint is not a literal. Instances also mark non-literal defaults (as in hpman)."""


class ImpossibleTree(HpregError, ValueError):
    """A dotted name is used both as a leaf and as a prefix of other names."""


# -- hpreg's own -------------------------------------------------------------------
class BadCallError(HpregError, ValueError):
    """A manager call with the wrong number of arguments."""


class BadNameError(BadCallError, TypeError):
    """A manager call whose name is not a non-empty string (``_(None)``)."""


class MissingValueError(HpregError, KeyError):
    """A hyperparameter was read but has no default and no value set."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.message


class UnknownHyperparameterError(HpregError, LookupError):
    """A name that no scan found, with ``suggestions``."""


class ValueTypeError(HpregError, TypeError):
    """A value whose type does not match the default's."""


class HintViolationError(HpregError, ValueError):
    """A value outside its ``choices`` / ``low`` / ``high`` hints."""


class BadHintError(HintViolationError):
    """A hint that is not what it must be (``choices=5``, ``choices="abc"``)."""


class ValuesFileError(HpregError, ValueError):
    """A values file (YAML/JSON) that cannot be read or does not fit the registry."""


class ValuesFileTypeError(ValuesFileError, ValueTypeError):
    """A value read from a values file does not have its default's type (both a
    ``ValuesFileError`` and a ``ValueTypeError``, so either ``except`` catches it)."""


class ScanError(HpregError, SyntaxError):
    """A source file that does not parse, raised with ``strict=True``."""

    def __init__(self, message, filename=None, lineno=None, offset=None, text=None):
        HpregError.__init__(self, message)
        SyntaxError.__init__(self, message, (filename, lineno, offset, text))
        self.message = message

    def __str__(self) -> str:
        return self.message


class AmbiguousNameError(HpregError, LookupError):
    """A name declared by two managers where one was expected."""


class OptionClashError(HpregError, ValueError):
    """A hyperparameter's option clashes with one the parser already has."""


class SweepError(HpregError, ValueError):
    """A sweep that is not well formed (clashing names, ragged tables...)."""


class SweepFileError(SweepError):
    """An error in a sweep file; ``path`` and ``key`` (e.g. ``product[1].lr``) locate it."""


class ExpressionError(SweepError):
    """A sweep expression that is malformed or uses something unsupported."""


class ScanWarning(UserWarning):
    """A file skipped by a scan (it does not parse), naming path and line."""
