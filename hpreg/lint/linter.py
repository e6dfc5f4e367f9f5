"""``hpreg lint``: every problem in hyperparameter declarations, compiler style.

Reports second defaults, names used without any default, non-literal names and
hints, hints that contradict the default, near-duplicate names, shadowed manager
names and files that do not parse. ``# hpreg: ignore`` on a line silences it.
"""

import ast
import difflib
import os
import re
from typing import Dict, Iterable, List, Optional

from hpreg.io import source as _source
from hpreg.io.paths import PathArg, as_path_list
from hpreg.registry.checks import check_hints
from hpreg.errors import DoubleAssignmentException, HintViolationError, ImpossibleTree
from hpreg.registry.manager import HyperParameterManager

IGNORE_MARK = re.compile(r"#\s*hpreg:\s*ignore\b")
_WORD_SPLIT = re.compile(r"[._]")


class LintProblem:
    """One finding: where it is, what kind, and the message."""

    __slots__ = ("filename", "lineno", "col", "kind", "message")

    def __init__(self, filename, lineno, col, kind, message):
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.kind = kind
        self.message = message

    @property
    def location(self) -> str:
        return _source.position(self.filename, self.lineno, self.col)

    def __str__(self) -> str:
        return "{}: {}".format(self.location, self.message)

    def __repr__(self) -> str:
        return "LintProblem({!r})".format(str(self))


def lint_paths(
    paths: PathArg,
    exclude: Iterable[str] = (),
    cache: bool = True,
    project: Optional[PathArg] = None,
) -> List[LintProblem]:
    """Every problem found in the scanned files, sorted by place.

    With ``project``, the whole project is scanned (so a default declared in an
    unchanged file counts) and only problems in ``paths`` are reported: what a
    pre-commit hook, which passes the changed files, needs.
    """
    from hpreg.scan.scanner import iter_python_files, scan_paths

    scanned = as_path_list(paths)
    if project is not None:
        chosen = {os.path.realpath(f) for f in iter_python_files(scanned, exclude)}
        scanned = as_path_list(project) + scanned
    scans = scan_paths(scanned, managers=None, exclude=exclude, cache=cache)
    problems: List[LintProblem] = []
    registries: Dict[str, HyperParameterManager] = {}
    for scan in scans:
        for problem in scan.problems:
            problems.append(_from_scan_problem(scan.filename, problem))
        for name in sorted({call.manager for call in scan.calls}):
            manager = registries.setdefault(name, HyperParameterManager(name))
            for error in manager.ingest(scan, collect=True):
                problems.append(_from_error(error))
    problems.extend(_unparsed_files(scans))
    for manager in registries.values():
        problems.extend(_missing_defaults(manager))
        problems.extend(_contradicting_hints(manager))
        problems.extend(_near_duplicates(manager))
    spans: Dict[str, Dict] = {}
    problems = [p for p in problems if not _ignored(p, spans)]
    if project is not None:
        problems = [
            p for p in problems if p.filename and os.path.realpath(p.filename) in chosen
        ]
    return sorted(
        _dedupe(problems),
        key=lambda p: (p.filename or "", p.lineno or 0, p.col or 0, p.message),
    )


def _unparsed_files(scans) -> List[LintProblem]:
    """Syntax errors in files the scan's quick text check never parsed (lint is strict)."""
    from hpreg.scan.scanner import unparsed_syntax_problems

    return [
        _from_scan_problem(filename, problem)
        for filename, problem in unparsed_syntax_problems(scans)
    ]


def _from_scan_problem(filename, problem) -> LintProblem:
    kind = problem.kind
    message = problem.message
    if kind == "syntax":
        message = "file does not parse: {}; fix it so the scan can read it".format(
            message
        )
    elif kind == "unreadable":  # a file or folder the scan could not read
        message = "skipped, {}".format(message)
    return LintProblem(filename, problem.lineno, problem.col, kind, message)


def _from_error(error) -> LintProblem:
    if isinstance(error, (DoubleAssignmentException, ImpossibleTree)):
        second = getattr(error, "second", None)
        kind = (
            "second_default"
            if isinstance(error, DoubleAssignmentException)
            else "impossible_tree"
        )
        if second is not None:
            return LintProblem(
                second.filename, second.lineno, second.col, kind, str(error)
            )
    text = str(error)
    filename = getattr(error, "filename", None)
    lineno = getattr(error, "lineno", None)
    prefix = re.match(r"^[^:]+:\d+(:\d+)?: ", text)
    if prefix:
        text = text[prefix.end() :]
    return LintProblem(filename, lineno, None, type(error).__name__, text)


def _missing_defaults(manager: HyperParameterManager) -> List[LintProblem]:
    out = []
    for name in manager.names():
        if manager.scanned_default(name) is not None:
            continue
        first = manager.get_occurrences(name)[0]
        out.append(
            LintProblem(
                first.filename,
                first.lineno,
                first.col,
                "no_default",
                "'{}' is used without a default anywhere; give one occurrence a "
                'default: {}("{}", <default>)'.format(name, manager.placeholder, name),
            )
        )
    return out


def _contradicting_hints(manager: HyperParameterManager) -> List[LintProblem]:
    out = []
    for name in manager.names():
        default_row = manager.scanned_default(name)
        if default_row is None or not default_row.is_literal:
            continue
        for occurrence in manager.get_occurrences(name):
            try:
                check_hints(name, default_row.value, occurrence.hints)
            except HintViolationError as error:
                out.append(
                    LintProblem(
                        occurrence.filename,
                        occurrence.lineno,
                        occurrence.col,
                        "hint",
                        "the default contradicts its hints: {}".format(error),
                    )
                )
    return out


def _near_duplicates(manager: HyperParameterManager) -> List[LintProblem]:
    names = manager.names()
    out = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            if not looks_like_typo(first, second):
                continue
            where_first = manager.get_occurrences(first)[0]
            where_second = manager.get_occurrences(second)[0]
            out.append(
                LintProblem(
                    where_second.filename,
                    where_second.lineno,
                    where_second.col,
                    "near_duplicate",
                    "'{}' looks like a typo of '{}' ({}); use one name, or add "
                    "'# hpreg: ignore' if both are meant".format(
                        second, first, where_first.short_location
                    ),
                )
            )
    return out


def looks_like_typo(first: str, second: str) -> bool:
    """Whether two names differ like a typo, not by a whole word (``lr_min``/``lr_max``)."""
    if first == second:
        return False
    if first.lower() == second.lower():
        return True
    if difflib.SequenceMatcher(None, first, second).ratio() < 0.8:
        return False
    if re.sub(r"[._]?\d+", "", first) == re.sub(r"[._]?\d+", "", second):
        return False  # layer1 / layer2, lr / lr2: numbered, not misspelt
    words_a, words_b = _WORD_SPLIT.split(first), _WORD_SPLIT.split(second)
    if len(words_a) == len(words_b):
        differing = [(a, b) for a, b in zip(words_a, words_b) if a != b]
        if len(differing) == 1:
            a, b = differing[0]
            if difflib.SequenceMatcher(None, a, b).ratio() < 0.75:
                return False  # a whole word differs: min / max, train / test
            if _edit_distance(a, b) > (1 if min(len(a), len(b)) < 10 else 2):
                return False  # similar whole words: encoder / decoder
    return True


def _edit_distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) turning ``a`` into ``b``."""
    previous2: List[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _ignored(problem: LintProblem, spans: Dict[str, Dict]) -> bool:
    """Whether a ``# hpreg: ignore`` is on the problem's line or, for a call written
    over several lines, on any of them (black puts the comment after the last one)."""
    if problem.lineno is None:
        return False
    lines = _source.source_lines(problem.filename)
    if not 1 <= problem.lineno <= len(lines):
        return False
    end = problem.lineno
    if problem.col is not None:
        if problem.filename not in spans:
            spans[problem.filename] = _call_ends("\n".join(lines))
        end = spans[problem.filename].get((problem.lineno, problem.col), end)
    return any(IGNORE_MARK.search(line) for line in lines[problem.lineno - 1 : end])


def _call_ends(text: str) -> Dict:
    """(line, 1-based col) of each call -> the line its closing parenthesis is on."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    return {
        (node.lineno, node.col_offset + 1): node.end_lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }


def _dedupe(problems: List[LintProblem]) -> List[LintProblem]:
    seen = set()
    out = []
    for problem in problems:
        key = (problem.filename, problem.lineno, problem.message)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out
