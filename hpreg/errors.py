"""Every exception and warning hpreg raises.

Each error keeps its facts as attributes (``name``, ``location``, ``suggestions``...)
so tools read fields instead of parsing messages, and its text as three fields,
``where``, ``problem`` and ``fix``, formatted in one place as
``<where>: <problem>; <fix>``. hpman's exception names are kept.
"""

from __future__ import annotations

from hpreg._text import join_fix
from hpreg._text import did_you_mean, suggestion_text  # noqa: F401 (their old home)

TYPE_CHECKING = False  # typing costs import time in every training job
if TYPE_CHECKING:
    from typing import Any, Optional, Type, TypeVar

    E = TypeVar("E", bound="HpregError")

_TEXT_FIELDS = ("where", "problem", "fix")
# a SyntaxError keeps these in C slots, not in __dict__
_SYNTAX_SLOTS = (
    "msg",
    "filename",
    "lineno",
    "offset",
    "text",
    "end_lineno",
    "end_offset",
    "print_file_and_line",
)


def format_message(where: str, problem: str, fix: str) -> str:
    """``<where>: <problem>; <fix>``, leaving out the empty parts (a fix in
    parentheses is a note: ``<problem> (<note>)``)."""
    text = join_fix(problem, fix)
    return "{}: {}".format(where, text) if where else text


def text_fields(error: BaseException) -> dict:
    """``where``, ``problem`` and ``fix`` of ``error``, to raise the same text as
    another error (any exception: its whole text is the problem)."""
    if isinstance(error, HpregError) and error._text is None:
        return {"where": error.where, "problem": error.problem, "fix": error.fix}
    return {"where": "", "problem": str(error), "fix": ""}


class HpregError(Exception):
    """Base class of every error hpreg raises on purpose.

    Its text is three fields: ``where`` (``path:line:col``, a sweep-file key path
    such as ``sweep.yaml: product[1].lr``, or an option), ``problem`` and ``fix``;
    ``str(error)`` is ``<where>: <problem>; <fix>``. Code that wants another place
    or other advice replaces a field (``with_where``, ``with_fix``, ``replace``)
    rather than editing the text. ``HpregError("whole message")`` is an error whose
    problem is the whole message. Other keywords are kept as attributes (facts).

    ``exit_code`` is what the ``hpreg`` command exits with: 2 for usage errors,
    1 for the rest.
    """

    exit_code = 1
    where = ""
    problem = ""
    fix = ""
    _text: Optional[str] = None

    def __init__(
        self,
        message: str = "",
        *,
        where: str = "",
        problem: Optional[str] = None,
        fix: str = "",
        **facts: Any,
    ):
        for key, value in facts.items():
            setattr(self, key, value)
        if problem is None:
            problem, message = message, ""
        self.where = where
        self.problem = problem
        self.fix = fix
        if message:  # an old-style call: the whole text, and its problem as a fact
            self._text = message
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The whole text: ``<where>: <problem>; <fix>``."""
        if self._text is not None:
            return self._text
        return format_message(self.where, self.problem, self.fix)

    def __str__(self) -> str:
        return self.message

    def replace(self: E, **fields: Any) -> E:
        """A copy of this error with some fields (``where``, ``fix``, facts) replaced;
        its text is formatted again from the fields."""
        new = self.as_class(type(self))
        for key, value in fields.items():
            setattr(new, key, value)
        if any(key in _TEXT_FIELDS for key in fields):
            new._text = None
        if isinstance(new, SyntaxError):  # args are (msg, (filename, lineno, ...))
            new.msg = new.message
            new.args = (new.message,) + tuple(new.args[1:])
        else:
            new.args = (new.message,)
        return new

    def with_where(self: E, where: str) -> E:
        """A copy of this error located at ``where``."""
        return self.replace(where=where)

    def with_fix(self: E, fix: str) -> E:
        """A copy of this error with ``fix`` as its advice."""
        return self.replace(fix=fix)

    def as_class(self, cls: Type[E]) -> E:
        """This error as an instance of ``cls`` (its own class or a subclass of it),
        with the same fields, facts and cause."""
        if not issubclass(cls, type(self)):
            raise TypeError("{} is not a {}".format(cls.__name__, type(self).__name__))
        new = cls.__new__(cls)
        new.__dict__.update(self.__dict__)
        new.args = self.args
        if isinstance(self, SyntaxError):
            for slot in _SYNTAX_SLOTS:
                if hasattr(self, slot):
                    setattr(new, slot, getattr(self, slot))
        new.__cause__ = self.__cause__
        new.__suppress_context__ = self.__suppress_context__
        return new


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
        return HpregError.__str__(self)


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
    """A source file that does not parse, raised with ``strict=True``.

    A ``SyntaxError`` built from ``(filename, lineno, offset, text)``, so Python's
    traceback draws the caret.
    """

    def __init__(
        self,
        message="",
        filename=None,
        lineno=None,
        offset=None,
        text=None,
        **fields,
    ):
        HpregError.__init__(self, message, **fields)
        SyntaxError.__init__(self, self.message, (filename, lineno, offset, text))


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


class RunStoreError(HpregError, RuntimeError):
    """A run store (``hpreg.db``) that hpreg cannot use: corrupted, or another
    program's database; ``path`` names it. The file is left as it was."""


class SearchSpaceError(HpregError, ValueError):
    """A search space or ``optimize:`` section hpreg cannot optimize over (an unknown
    name, ``log`` with ``low <= 0``, empty ``choices``...); ``path`` and ``key``
    locate it, ``name`` is the hyperparameter when there is one."""


class OptionalDependencyError(HpregError, ImportError):
    """A feature needs a package that is not installed (``optuna``); the fix names
    the extra that installs it, e.g. ``pip install hpreg[optuna]``."""


class Pruned(SystemExit):
    """Raised by ``hpreg.report`` when the optimizer's pruner stops the trial.

    In a job run as a command it ends the process quietly with exit status 0 (it is
    a ``SystemExit``, which ``except Exception`` does not catch); in an objective
    called in-process by ``hpreg.optimize`` it is caught and the trial is recorded
    as pruned.
    """

    def __init__(self, step=None):
        super().__init__(0)
        self.step = step


class ScanWarning(UserWarning):
    """A file skipped by a scan (it does not parse), naming path and line."""


class MissingExtraError(HpregError, ImportError):
    """An optional feature whose package is not installed; ``extra`` names the
    ``hpreg[...]`` extra that installs it, ``package`` the missing package."""


class ExecutorError(HpregError, RuntimeError):
    """An executor that cannot submit or watch jobs (``sbatch`` failed, the dask
    scheduler is unreachable); ``executor`` names it."""
