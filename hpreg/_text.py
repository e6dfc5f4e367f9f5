"""Small text helpers for messages: did-you-mean, articles, shortening.

The lowest layer: imports nothing from hpreg, and nothing heavy at module level
(it is on the path of ``from hpreg.m import _``).
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


def suggestion(suggestions: Sequence[str]) -> str:
    """``"did you mean 'x'?"`` (or ``'x' or 'y'``), empty when there is none."""
    if not suggestions:
        return ""
    return "did you mean {}?".format(" or ".join(repr(s) for s in suggestions))


def suggestion_text(suggestions: Sequence[str]) -> str:
    """``"; did you mean 'x'?"`` (or ``'x' or 'y'``), empty when there is none."""
    text = suggestion(suggestions)
    return "; " + text if text else ""


def article(word: str) -> str:
    """``a`` or ``an``, as fits ``word``."""
    return "an" if word[:1] in "aeiou" else "a"


def with_article(word: str) -> str:
    """``a float``, ``an int``."""
    return "{} {}".format(article(word), word)


def shorten(text: str, width: int = 100) -> str:
    """``text`` cut to ``width`` characters, ending in ``...`` when cut."""
    return text if len(text) <= width else text[: width - 3] + "..."


def join_fix(*pieces: str) -> str:
    """Pieces of a message joined by ``; ``, leaving out the empty ones; a piece in
    parentheses is a note on the one before it, joined by a space."""
    text = ""
    for piece in pieces:
        if not piece:
            continue
        if text:
            text += " " if piece.startswith("(") else "; "
        text += piece
    return text


# what ``str.splitlines`` breaks at: a message quoting one would span several lines
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_ESCAPED_BREAKS = {ord(c): repr(c)[1:-1] for c in _LINE_BREAKS}


def one_line(text: str) -> str:
    """``text`` with its line breaks escaped (``a\\nb``): a message that quotes a
    user's path or value stays one line."""
    return text.translate(_ESCAPED_BREAKS)


def key_text(name: str) -> str:
    """A key as a message's place shows it: quoted unless it reads as a name (a
    key of spaces or punctuation would read as a missing part of the message)."""
    if name and all(c.isalnum() or c in "._-" for c in name):
        return name
    return repr(name)
