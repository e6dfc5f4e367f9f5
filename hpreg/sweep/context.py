"""Where a sweep-file node sits (file, key path, ``with`` prefix) and how its errors
read: ``sweep.yaml: product[1].union[0].d_model: <problem>; <fix>``."""

import re
from typing import Any, Callable, Optional, Union

from hpreg.errors import ExpressionError, SweepError, SweepFileError


class _Context:
    """Where a node sits: the file, its key path and its name prefix (``with``)."""

    def __init__(self, source: str, key: str = "", prefix: str = ""):
        self.source = source
        self.key = key
        self.prefix = prefix

    def child(self, segment: Union[str, int], prefix: Optional[str] = None):
        if isinstance(segment, int):
            key = "{}[{}]".format(self.key, segment)
        else:
            key = "{}.{}".format(self.key, segment) if self.key else segment
        return _Context(self.source, key, self.prefix if prefix is None else prefix)

    def name(self, name: str) -> str:
        return self.prefix + "." + name if self.prefix else name

    @property
    def where(self) -> str:
        return "{}: {}".format(self.source, self.key) if self.key else self.source

    def build(self, function: Callable, *args, **kwargs):
        """Call the algebra; its errors (clashing names...) get this file and key."""
        try:
            return function(*args, **kwargs)
        except (SweepFileError, ExpressionError):
            raise
        except SweepError as exc:
            problem = re.sub(r"^\w+\(\): ", "", str(exc))
            raise self.error(problem, **_facts(exc)) from None

    def error(self, problem: str, fix: str = "", **facts) -> SweepFileError:
        message = "{}: {}".format(self.where, problem)
        if fix:
            message += "; " + fix
        return SweepFileError(
            message, path=self.source, key=self.key, problem=problem, **facts
        )


def _facts(exc: Exception) -> dict:
    reserved = ("message", "path", "key", "problem")
    return {k: v for k, v in vars(exc).items() if k not in reserved}


def _reraise(exc: Exception):
    raise exc


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return "{} {!r}".format(type(value).__name__, value)
