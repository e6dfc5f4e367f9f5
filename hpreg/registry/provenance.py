"""Where a hyperparameter's current value came from."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs import time in every training job
if TYPE_CHECKING:
    from typing import Optional

from hpreg.io import source as _source

SOURCES = ("default", "call", "set", "file", "env", "cli", "sweep")


class Provenance:
    """The origin of a value: ``source`` is one of ``SOURCES``.

    ``filename``/``lineno`` say where, when that applies (the declaring line for a
    default or call, the values file for ``file`` and ``env``).
    """

    __slots__ = ("source", "filename", "lineno")

    def __init__(
        self, source: str, filename: Optional[str] = None, lineno: Optional[int] = None
    ):
        if source not in SOURCES:
            raise ValueError(
                "unknown provenance {!r}; use one of {}".format(source, SOURCES)
            )
        self.source = source
        self.filename = filename
        self.lineno = lineno

    def _where(self) -> str:
        path = _source.display_path(self.filename)
        return path if self.lineno is None else "{}:{}".format(path, self.lineno)

    def __str__(self) -> str:
        if self.source in ("default", "call"):
            label = "default" if self.source == "default" else "call default"
            return "{} at {}".format(label, self._where()) if self.filename else label
        if self.source == "file":
            return "loaded from {}".format(self._where())
        if self.source == "env":
            return "loaded from {} ($HPREG_CONFIG)".format(self._where())
        if self.source == "cli":
            return "set on the command line"
        if self.source == "sweep":
            return "set by a sweep"
        return "set at runtime"

    def __repr__(self) -> str:
        return "Provenance({!r}, {!r}, {!r})".format(
            self.source, self.filename, self.lineno
        )

    def __eq__(self, other) -> bool:
        return isinstance(other, Provenance) and (
            (self.source, self.filename, self.lineno)
            == (other.source, other.filename, other.lineno)
        )

    def __hash__(self) -> int:
        return hash((self.source, self.filename, self.lineno))
