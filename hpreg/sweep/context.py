"""Where a sweep-file node sits (file, key path, ``with`` prefix) and how its errors
read: ``sweep.yaml: product[1].union[0].d_model: <problem>; <fix>``."""

from typing import Any, Callable, Optional, Union

from hpreg.errors import ExpressionError, SweepError, SweepFileError, text_fields


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
        except SweepError as exc:  # its place (``product()``) becomes the file's
            fields = text_fields(exc)
            raise self.error(fields["problem"], fields["fix"], **_facts(exc)) from None

    def error(self, problem: str, fix: str = "", **facts) -> SweepFileError:
        return SweepFileError(
            where=self.where,
            problem=problem,
            fix=fix,
            path=self.source,
            key=self.key,
            **facts,
        )


def _facts(exc: Exception) -> dict:
    """The facts of ``exc`` other than its text and place."""
    reserved = ("where", "problem", "fix", "_text", "path", "key")
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
