"""Sparse parse: the ``ast`` of only the top-level statements a scan walks.

The walks (``scopes._Walker``) only descend into statements holding a marked line
(one that mentions a watched word); the rest of a file is parsed for nothing. A
``SparseTree`` cuts the text into chunks at the lines that start a top-level
statement, parses with ``ast`` only the chunks holding marks (at their own line
numbers), and checks the rest with the same C parser without building its tree
(``symtable``, several times faster than ``ast.parse``).

Why the result is the full parse's: a cut is a line at column 0 (not blank, not a
comment, not a closing bracket, not ``else``/``elif``/``except``/``finally``, not
after a decorator line). From a position where the tokenizer starts afresh (the
text's start), a piece that parses on its own ends where the tokenizer starts
afresh too: were the next cut inside a string, inside brackets or after a
backslash, the piece alone would end in an unterminated string, an unclosed
bracket or an unexpected end of file; were it in the middle of a statement (after a
decorator, before an ``else``), the piece or the next would not parse. So when every
piece parses (``verify``), every cut is a statement boundary, the whole text parses,
and each parsed piece's statements are the full parse's. ``symtable`` accepting a
text implies ``ast.parse`` accepting it (same parser; it only adds checks). Anything
else (a piece that fails, a lone CR line ending) raises ``Unparsed``: the caller then
parses the whole text, with today's errors and messages.
"""

import ast
import bisect
import re
import symtable
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

# a line at column 0 that may start a top-level statement: not indented, blank, a
# comment or a closing bracket, nor a clause continuing the statement before it
_CUT = re.compile(r"\n(?=[^\s#)\]}])(?!(?:else|elif|except|finally)\b)")


class Unparsed(Exception):
    """The sparse parse cannot stand for the full one: parse the whole text."""


class SparseTree:
    """The statements of ``text`` that hold given lines, parsed on demand."""

    def __init__(self, text: str, filename: str = "<unknown>"):
        self.text = text
        self.filename = filename
        self._offsets: List[int] = []  # where each chunk starts in the text
        self._lines: List[int] = []  # the line it starts on
        self._parsed: Dict[int, Tuple[int, list]] = {}  # first chunk -> (end, body)
        self._covered: Optional[bytearray] = None
        self._module: Optional[ast.Module] = None

    def _cut(self) -> None:
        text = self.text
        offsets, lines = [0], [1]
        lineno, last, decorator = 1, 0, text.startswith("@")
        strings = _strings(text)
        for match in _CUT.finditer(text):
            start = match.end()
            if strings and _inside(strings, start):
                continue
            lineno += text.count("\n", last, start)
            last = start
            after_decorator, decorator = decorator, text.startswith("@", start)
            if not after_decorator:
                offsets.append(start)
                lines.append(lineno)
        self._offsets, self._lines = offsets, lines
        self._covered = bytearray(len(offsets))

    def tree(self, marks: Optional[Sequence[int]]) -> ast.Module:
        """A module of the chunks holding the ``marks`` lines (and of those asked
        for before), in text order."""
        if marks is None:  # the lines are not known (lone CR line endings)
            raise Unparsed()
        if self._covered is None:
            self._cut()
        covered, lines = self._covered, self._lines
        wanted = sorted({bisect.bisect_right(lines, m) - 1 for m in marks})
        wanted = [index for index in wanted if not covered[index]]
        if wanted or self._module is None:
            run_start = None
            for position, index in enumerate(wanted):
                if run_start is None:
                    run_start = index
                if position + 1 == len(wanted) or wanted[position + 1] != index + 1:
                    self._parse(run_start, index + 1)
                    run_start = None
            body = []
            for start in sorted(self._parsed):
                body.extend(self._parsed[start][1])
            self._module = ast.Module(body=body, type_ignores=[])
        return self._module

    def _span(self, start: int, end: int) -> Tuple[int, int]:
        offsets = self._offsets
        return offsets[start], offsets[end] if end < len(offsets) else len(self.text)

    def _parse(self, start: int, end: int) -> None:
        begin, stop = self._span(start, end)
        source = "\n" * (self._lines[start] - 1) + self.text[begin:stop]
        try:
            with warnings.catch_warnings():  # the scanned file's warnings are not ours
                warnings.simplefilter("ignore")
                tree = ast.parse(source, self.filename)
        except Exception as error:  # any doubt: the full parse decides
            raise Unparsed() from error
        self._parsed[start] = (end, tree.body)
        for index in range(start, end):
            self._covered[index] = 1  # type: ignore[index]

    def verify(self) -> None:
        """Check that the chunks not parsed parse (see the module's docstring)."""
        covered = self._covered
        if covered is None:
            return
        gaps = []
        index, count = 0, len(covered)
        while index < count:
            if covered[index]:
                index = self._parsed[index][0]
                continue
            end = covered.find(1, index)
            end = count if end < 0 else end
            gaps.append(self._span(index, end))
            index = end
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for begin, stop in gaps:
                    symtable.symtable(self.text[begin:stop], self.filename, "exec")
        except Exception as error:  # any doubt: the full parse decides
            raise Unparsed() from error


def _strings(text: str) -> List[int]:
    """Where triple-quoted strings start and end: ``[start, end, start, end...]``.

    Cheap (a ``find`` per quote), not exact: quotes in a comment or in another
    string may pair wrongly; a cut then lands in the wrong place, a piece does not
    parse, and the whole text is parsed instead (never a wrong tree).
    """
    spans: List[int] = []
    position = 0
    double = text.find('"""')
    single = text.find("'''")
    while double >= 0 or single >= 0:
        if single < 0 or 0 <= double < single:
            start, quote = double, '"""'
        else:
            start, quote = single, "'''"
        end = text.find(quote, start + 3)
        while end > 0 and text[end - 1] == "\\":  # an escaped quote, maybe
            slashes = end - len(text[:end].rstrip("\\"))
            if slashes % 2 == 0:
                break
            end = text.find(quote, end + 1)
        if end < 0:
            spans += [start, len(text)]
            break
        position = end + 3
        spans += [start, position]
        if 0 <= double < position:
            double = text.find('"""', position)
        if 0 <= single < position:
            single = text.find("'''", position)
    return spans


def _inside(spans: List[int], offset: int) -> bool:
    # an odd count of boundaries before the offset: inside a string
    return bisect.bisect_right(spans, offset) % 2 == 1
