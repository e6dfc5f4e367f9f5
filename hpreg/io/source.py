"""Source lines read lazily for listings and error excerpts; display paths."""

from __future__ import annotations

import os
from collections import OrderedDict

TYPE_CHECKING = False  # typing costs import time in every training job
if TYPE_CHECKING:
    from typing import Dict, List, Optional

# Sources given as strings (parse_source) keep one copy per filename; files on disk
# are read on demand and only a few are kept, so a scan holds no file text.
_STRING_SOURCES: Dict[str, str] = {}
_FILE_LINES: "OrderedDict[str, List[str]]" = OrderedDict()
_FILE_CACHE_SIZE = 32


def register_source(filename: str, text: str) -> None:
    """Remember the text of a source that does not live on disk."""
    _STRING_SOURCES[filename] = text


def forget_file(filename: str) -> None:
    """Drop cached lines of a file (it was re-scanned and may have changed)."""
    _FILE_LINES.pop(filename, None)


def source_lines(filename: Optional[str]) -> List[str]:
    """The lines of a source (without line ends); empty when unavailable."""
    if filename is None:
        return []
    text = _STRING_SOURCES.get(filename)
    if text is not None:
        return text.split("\n")
    lines = _FILE_LINES.get(filename)
    if lines is not None:
        _FILE_LINES.move_to_end(filename)
        return lines
    try:
        import tokenize  # only listings and errors read source

        with tokenize.open(filename) as f:
            lines = f.read().split("\n")
    except (OSError, SyntaxError, UnicodeDecodeError):
        return []
    _FILE_LINES[filename] = lines
    if len(_FILE_LINES) > _FILE_CACHE_SIZE:
        _FILE_LINES.popitem(last=False)
    return lines


def source_text(filename: Optional[str]) -> str:
    """The whole text of a source, or an empty string."""
    return "\n".join(source_lines(filename))


def format_lines(
    lines: List[str], lineno: int, before: int = 5, after: int = 5, indent: int = 0
) -> str:
    """Lines around ``lineno`` (1-based) with a ``==>`` marker on it."""
    if not lines or lineno is None or not 1 <= lineno <= len(lines):
        return ""
    first = max(1, lineno - before)
    last = min(len(lines), lineno + after)
    width = len(str(last))
    rows = []
    for number in range(first, last + 1):
        marker = "==> " if number == lineno else "    "
        rows.append(
            " " * indent
            + "{}{:>{}}: {}".format(marker, number, width, lines[number - 1])
        )
    return "\n".join(rows)


def excerpt(filename: Optional[str], lineno: int, before: int = 5, after: int = 5):
    """``format_lines`` of a source by name."""
    return format_lines(source_lines(filename), lineno, before, after)


def display_path(path: Optional[str]) -> str:
    """``path`` relative to the working directory when it lies under it."""
    if not path:
        return "<unknown>"
    if path.startswith("<"):
        return path
    try:
        absolute = os.path.abspath(path)
        cwd = os.getcwd()
    except OSError:
        return path
    if absolute == cwd or absolute.startswith(cwd + os.sep):
        return os.path.relpath(absolute, cwd)
    return path


def position(path: Optional[str], lineno: Optional[int], col: Optional[int] = None):
    """``path:line:col`` for messages, with whatever parts are known."""
    parts = [display_path(path)]
    if lineno is not None:
        parts.append(str(lineno))
        if col is not None:
            parts.append(str(col))
    return ":".join(parts)
