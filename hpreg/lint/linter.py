"""``hpreg lint``: every problem in hyperparameter declarations, compiler style.

Reports second defaults, names used without any default, non-literal names and
hints, hints that contradict the default, near-duplicate names, shadowed manager
names and files that do not parse. ``# hpreg: ignore`` on a line silences it; a
problem about several places (conflicting defaults, a near-duplicate pair) is
silenced by the mark on any of them.
"""

import ast
import difflib
import os
import re
from typing import Dict, Iterable, List, Optional

from hpreg.io import source as _source
from hpreg.io.paths import PathArg, as_path_list
from hpreg.registry.checks import bad_hint, check_hints
from hpreg.errors import DoubleAssignmentException, HintViolationError, ImpossibleTree
from hpreg.registry.manager import HyperParameterManager

from hpreg.lint.near_duplicates import LONG_WORD, near_duplicate_pairs

IGNORE_MARK = re.compile(r"#\s*hpreg:\s*ignore\b")
_WORD_SPLIT = re.compile(r"[._]")
_WORD_SEPARATED = re.compile(r"([._])")  # words, with their separators between


class LintProblem:
    """One finding: where it is, what kind, and the message.

    ``places`` are the other places the problem involves, each as ``(filename,
    lineno, col, message)``: the message to give when it is reported there (a
    pre-commit hook reports a problem at a changed file's place).
    """

    __slots__ = ("filename", "lineno", "col", "kind", "message", "places")

    def __init__(self, filename, lineno, col, kind, message, places=()):
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.kind = kind
        self.message = message
        self.places = tuple(places)

    def moved_to(self, place) -> "LintProblem":
        """The same problem, reported at ``place`` (one of its ``places``)."""
        filename, lineno, col, message = place
        here = (self.filename, self.lineno, self.col, self.message)
        rest = [p for p in self.places if p != place]
        return LintProblem(filename, lineno, col, self.kind, message, [here] + rest)

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
    unchanged file counts) and only problems that involve a file in ``paths`` are
    reported, at that file's place: what a pre-commit hook, which passes the
    changed files, needs.
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
    problems.extend(_bad_hints(registries.values()))
    spans: Dict[str, Optional[Dict]] = {}
    problems = [p for p in problems if not _ignored(p, spans)]
    if project is not None:
        problems = _in_files(problems, chosen)
    return sorted(
        _dedupe(problems),
        key=lambda p: (p.filename or "", p.lineno or 0, p.col or 0, p.message),
    )


def _in_files(problems: List[LintProblem], chosen) -> List[LintProblem]:
    """The problems that involve a file in ``chosen``, each reported at its first
    place in one of them."""

    def is_chosen(filename) -> bool:
        return bool(filename) and os.path.realpath(filename) in chosen

    out = []
    for problem in problems:
        if is_chosen(problem.filename):
            out.append(problem)
            continue
        place = next((p for p in problem.places if is_chosen(p[0])), None)
        if place is not None:
            out.append(problem.moved_to(place))
    return out


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
            first = getattr(error, "first", None)
            places = []
            if first is not None:
                places.append((first.filename, first.lineno, first.col, str(error)))
            return LintProblem(
                second.filename, second.lineno, second.col, kind, str(error), places
            )
    # lint prints its own location (path:line:col) before the rest of the message
    return LintProblem(
        getattr(error, "filename", None),
        getattr(error, "lineno", None),
        getattr(error, "col", None),
        type(error).__name__,
        str(error.with_where("")),
    )


def _missing_defaults(manager: HyperParameterManager) -> List[LintProblem]:
    out = []
    for name in manager.names():
        if manager.scanned_default(name) is not None:
            continue
        first, *others = manager.get_occurrences(name)
        message = (
            "'{}' is used without a default anywhere; give one occurrence a "
            'default: {}("{}", <default>)'.format(name, manager.placeholder, name)
        )
        out.append(
            LintProblem(
                first.filename,
                first.lineno,
                first.col,
                "no_default",
                message,
                [(o.filename, o.lineno, o.col, message) for o in others],
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
            if bad_hint(occurrence.hints):
                continue  # _bad_hints reports it
            try:
                check_hints(name, default_row.value, occurrence.hints)
            except HintViolationError as error:
                places = []
                if default_row is not occurrence:
                    places.append(
                        (
                            default_row.filename,
                            default_row.lineno,
                            default_row.col,
                            "the default contradicts the hints at {}: {}".format(
                                occurrence.short_location, error
                            ),
                        )
                    )
                out.append(
                    LintProblem(
                        occurrence.filename,
                        occurrence.lineno,
                        occurrence.col,
                        "hint",
                        "the default contradicts its hints: {}".format(error),
                        places,
                    )
                )
    return out


def _bad_hints(managers: Iterable[HyperParameterManager]) -> List[LintProblem]:
    """Hints that are not what they must be (``choices=5``, ``choices="abc"``)."""
    out = []
    for manager in managers:
        for name in manager.names():
            for occurrence in manager.get_occurrences(name):
                problem = bad_hint(occurrence.hints)
                if problem:
                    out.append(
                        LintProblem(
                            occurrence.filename,
                            occurrence.lineno,
                            occurrence.col,
                            "hint",
                            "bad hint for '{}': {}".format(name, problem),
                        )
                    )
    return out


def _near_duplicates(manager: HyperParameterManager) -> List[LintProblem]:

    names = manager.names()
    out = []
    # candidates come from an index, not from every pair: near-linear in the names
    for i, j in near_duplicate_pairs(names, looks_like_typo):
        out.append(_near_duplicate_problem(manager, names[i], names[j]))
    return out


def _near_duplicate_problem(
    manager: HyperParameterManager, first: str, second: str
) -> LintProblem:
    """The problem for two names that look like typos of each other: the rarer name
    (fewer occurrences; on a tie, ``second``) is blamed, at its first occurrence.
    Every occurrence of both names is one of the problem's places."""
    typo, meant = second, first
    if len(manager.get_occurrences(first)) < len(manager.get_occurrences(second)):
        typo, meant = first, second
    typo_rows, meant_rows = manager.get_occurrences(typo), manager.get_occurrences(
        meant
    )
    fix = "use one name, or add '# hpreg: ignore' if both are meant"
    message = "'{}' looks like a typo of '{}' ({}); {}".format(
        typo, meant, meant_rows[0].short_location, fix
    )
    seen_from_meant = (
        "'{}' has a near-duplicate '{}' ({}) that looks like a typo of it; {}".format(
            meant, typo, typo_rows[0].short_location, fix
        )
    )
    places = [(o.filename, o.lineno, o.col, message) for o in typo_rows[1:]]
    places += [(o.filename, o.lineno, o.col, seen_from_meant) for o in meant_rows]
    where = typo_rows[0]
    return LintProblem(
        where.filename, where.lineno, where.col, "near_duplicate", message, places
    )


def looks_like_typo(first: str, second: str) -> bool:
    """Whether two names differ like a typo, not by a whole word (``lr_min``/``lr_max``).

    A typo is a change of letter case, one edit (insert, delete, replace, swap two
    neighbours), or two edits inside one word of ten characters or more; names
    that differ only by their numbers (``layer1``/``layer2``) are not typos.
    """
    if first == second:
        return False
    if first.lower() == second.lower():
        return True
    if not _within_typo_distance(first, second):
        return False
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


def _within_typo_distance(first: str, second: str) -> bool:
    """One edit apart, or two edits apart inside one long word (the rest equal)."""
    if abs(len(first) - len(second)) <= 1 and _edit_distance(first, second) <= 1:
        return True
    parts_a, parts_b = _WORD_SEPARATED.split(first), _WORD_SEPARATED.split(second)
    if len(parts_a) != len(parts_b):
        return False
    differing = [(a, b) for a, b in zip(parts_a, parts_b) if a != b]
    if len(differing) != 1:
        return False
    a, b = differing[0]
    return (
        min(len(a), len(b)) >= 8
        and max(len(a), len(b)) >= LONG_WORD
        and (_edit_distance(a, b) <= 2)
    )


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


def _ignored(problem: LintProblem, spans: Dict[str, Optional[Dict]]) -> bool:
    """Whether a ``# hpreg: ignore`` is at the problem's place or at any other place
    it involves (either side of a pair)."""
    here = (problem.filename, problem.lineno, problem.col)
    return any(
        _marked(filename, lineno, col, spans)
        for filename, lineno, col in [here] + [p[:3] for p in problem.places]
    )


def _marked(filename, lineno, col, spans: Dict[str, Optional[Dict]]) -> bool:
    """Whether a ``# hpreg: ignore`` is on the line or, for a call written over
    several lines, on any of them (black puts the comment after the last one)."""
    if lineno is None:
        return False
    lines = _source.source_lines(filename)
    if not 1 <= lineno <= len(lines):
        return False
    if filename not in spans:
        # parsing again for call ends is only worth it in a file with a mark
        text = "\n".join(lines)
        spans[filename] = _call_ends(text) if IGNORE_MARK.search(text) else None
    if spans[filename] is None:
        return False
    end = lineno
    if col is not None:
        end = spans[filename].get((lineno, col), end)
    return any(IGNORE_MARK.search(line) for line in lines[lineno - 1 : end])


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
