"""Call extraction: resolve the walked calls of one parsed file to manager calls and
turn them into ``Call`` and ``Problem`` records (arguments, hints, shadowing)."""

import ast
import functools
import re
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from hpreg._text import shorten
from hpreg.scan.records import Call, Problem
from hpreg.scan.scopes import (
    _DEL,
    _HP_MODULE,
    _HP_PACKAGE,
    _MANAGER,
    _MODULE,
    _NEUTRAL,
    _OTHER,
    _Binding,
    _is_dunder,
    _lookup,
    _Scope,
    _Walker,
)


# -- source text helpers -------------------------------------------------------------
_NEWLINE = re.compile(r"\r\n|\r|\n")


class _Text:
    """The scanned text, split into lines only when a column or segment needs it."""

    __slots__ = ("text", "ascii", "_lines")

    def __init__(self, text: str):
        self.text = text
        self.ascii = text.isascii()
        self._lines: Optional[List[str]] = None

    def line(self, lineno: int) -> str:
        if self._lines is None:
            self._lines = _NEWLINE.split(self.text)
        if 1 <= lineno <= len(self._lines):
            return self._lines[lineno - 1]
        return ""

    def marks(self, pattern: "re.Pattern[str]") -> Optional[List[int]]:
        """Sorted numbers of the lines where ``pattern`` matches (None: unknown)."""
        text = self.text
        if "\r" in text and text.count("\r") != text.count("\r\n"):
            return None  # a lone CR ends a line too: walk the whole file
        lines, lineno, last = [], 1, 0
        for match in pattern.finditer(text):
            start = match.start()
            lineno += text.count("\n", last, start)
            last = start
            if not lines or lines[-1] != lineno:
                lines.append(lineno)
        return lines

    def col(self, lineno: int, offset: int) -> int:
        """1-based character column of an ast (UTF-8 byte) offset."""
        if self.ascii:
            return offset + 1
        raw = self.line(lineno).encode("utf-8", "surrogatepass")
        return len(raw[:offset].decode("utf-8", "replace")) + 1

    def segment(self, node: ast.AST) -> str:
        lineno, end = node.lineno, node.end_lineno or node.lineno
        start, stop = node.col_offset, node.end_col_offset
        if self.ascii:
            if lineno == end:
                return self.line(lineno)[start:stop]
            parts = [self.line(lineno)[start:]]
            parts += [self.line(i) for i in range(lineno + 1, end)]
            parts.append(self.line(end)[:stop])
            return "\n".join(parts)
        raw = [
            self.line(i).encode("utf-8", "surrogatepass")
            for i in range(lineno, end + 1)
        ]
        if len(raw) == 1:
            raw[0] = raw[0][start:stop]
        else:
            raw[0], raw[-1] = raw[0][start:], raw[-1][:stop]
        return "\n".join(r.decode("utf-8", "replace") for r in raw)


def _short(code: str, limit: int = 200) -> str:
    return shorten(code.strip(), limit)


# -- watched-name patterns (the scanner's prefilter shares the alternation) ---------
def _names_alternation(names: Iterable[str], before: str) -> str:
    # the name comes first and the lookbehind after it: ``re`` then scans for the
    # name's text quickly instead of testing the lookbehind at every position
    return "|".join(
        "{0}(?<!{1}{0})".format(re.escape(n), before)
        for n in sorted(names, key=len, reverse=True)
    )


@functools.lru_cache(maxsize=64)
def _word_pattern(names: FrozenSet[str]) -> "re.Pattern[str]":
    if not names:
        return re.compile(r"(?!)")
    return re.compile(r"(?:{})(?!\w)".format(_names_alternation(names, r"\w")))


# -- one file ------------------------------------------------------------------------
class _FileScanner:
    """Resolve a walked file's calls into Call and Problem records."""

    def __init__(self, text: _Text, managers: Optional[FrozenSet[str]], extra):
        self.text = text
        self.managers = managers
        self.extra = frozenset(extra)
        self.calls: List[Call] = []
        self.problems: List[Problem] = []
        self.imports: Dict[str, str] = {}
        self.module_managers: Set[str] = set()
        self.hidden: Dict[Tuple[int, str], list] = {}

    def scan(self, tree: ast.AST) -> None:
        watch = set(self.extra if self.managers is None else self.managers)
        if "hpreg" in self.text.text:
            # first the hpreg imports: they add local names (aliases) to watch
            imports = _Walker(frozenset(), self.text.marks(re.compile("hpreg")))
            imports.walk(tree)
            for scope in imports.scopes:
                for local, bindings in scope.bindings.items():
                    for binding in bindings:
                        if binding.kind in (_MANAGER, _HP_MODULE, _HP_PACKAGE):
                            watch.add(local)
                            if self.managers is None and binding.manager:
                                watch.add(binding.manager)
        watch = frozenset(watch)
        walker = _Walker(watch, self.text.marks(_word_pattern(watch)))
        walker.walk(tree)
        self.module = walker.module
        for scope in walker.scopes:
            for local, bindings in scope.bindings.items():
                for binding in bindings:
                    if binding.kind == _MANAGER:
                        self.imports.setdefault(local, binding.manager)
        if self.managers is None:
            self.bare = self.extra | set(self.imports.values())
        else:
            self.bare = self.managers
        for scope in walker.scopes:
            self._rebindings(scope)
        for node, scope in walker.calls:
            manager = self._manager_of(node.func, scope)
            if manager is not None:
                self._record(node, manager)
        for (lineno, offset, name), (binding, manager, count, first) in sorted(
            self.hidden.items()
        ):
            self.problems.append(
                self._hidden_problem(name, binding, manager, count, first)
            )
        self.calls.sort(key=lambda c: (c.lineno, c.col))
        self.problems.sort(key=lambda p: (p.lineno, p.col or 0))

    def _wanted(self, manager: str) -> bool:
        return not _is_dunder(manager) and (
            self.managers is None or manager in self.managers
        )

    def _manager_of(self, func: ast.expr, scope: _Scope) -> Optional[str]:
        if isinstance(func, ast.Name):
            return self._manager_of_name(func.id, scope, func)
        if not isinstance(func, ast.Attribute):
            return None
        base, want = func.value, _HP_MODULE
        if (
            isinstance(base, ast.Attribute)
            and base.attr == "m"
            and isinstance(base.value, ast.Name)
        ):
            base, want = base.value, _HP_PACKAGE
        if not isinstance(base, ast.Name):
            return None
        owner = _lookup(scope, base.id, self.module)
        if owner is None or owner.status(base.id)[0] != want:
            return None
        if not self._wanted(func.attr):
            return None
        self.module_managers.add(func.attr)
        return func.attr

    def _manager_of_name(self, name: str, scope: _Scope, node) -> Optional[str]:
        owner = _lookup(scope, name, self.module)
        if owner is None:
            return name if name in self.bare else None
        kind, detail = owner.status(name)
        if kind == _MANAGER:
            return detail if self._wanted(detail) else None
        if kind == _NEUTRAL:
            return name if name in self.bare else None
        if kind == _OTHER:
            would_be = self._would_be(owner, name)
            if would_be is not None:
                key = (detail.lineno, detail.offset, name)
                entry = self.hidden.setdefault(key, [detail, would_be, 0, node.lineno])
                entry[2] += 1
                entry[3] = min(entry[3], node.lineno)
        return None

    def _would_be(self, owner: _Scope, name: str) -> Optional[str]:
        """The manager a hidden call would reach without its scope's binding."""
        while owner.kind != _MODULE:
            owner = _lookup(owner.enclosing(), name, self.module)
            if owner is None:
                break
            kind, detail = owner.status(name)
            if kind == _MANAGER:
                return detail if self._wanted(detail) else None
            if kind != _NEUTRAL:  # hpreg.m itself, or hidden further out anyway
                return None
            break
        return name if name in self.bare else None

    def _hidden_problem(self, name, binding, manager, count, first) -> Problem:
        calls = "{} call{}".format(count, "" if count == 1 else "s")
        message = (
            "'{name}' is bound to something else here ({label}), so {calls} of "
            "{name}() in this scope (first at line {first}) will not be scanned as "
            "hyperparameters of manager '{manager}'; rename that binding, or import "
            "the manager under another name (from hpreg.m import {manager} as hp)".format(
                name=name,
                label=binding.label,
                calls=calls,
                first=first,
                manager=manager,
            )
        )
        return self._problem("shadowed", manager, message, binding)

    def _rebindings(self, scope: _Scope) -> None:
        for name, bindings in scope.bindings.items():
            kind, manager = scope.status(name)
            if kind != _MANAGER or not self._wanted(manager):
                continue
            first = next(b for b in bindings if b.kind == _MANAGER)
            for binding in bindings:
                # a fallback import (``from hpman.m import _``) is not worth a report
                if binding.kind in (_MANAGER, _DEL, _NEUTRAL):
                    continue
                message = (
                    "'{}' is imported from hpreg.m (manager '{}', line {}) and rebound "
                    "here ({}); calls may no longer reach the manager; use another "
                    "name for this binding".format(
                        name, manager, first.lineno, binding.label
                    )
                )
                self.problems.append(
                    self._problem("shadowed", manager, message, binding)
                )

    def _problem(self, kind, manager, message, binding: _Binding) -> Problem:
        col = self.text.col(binding.lineno, binding.offset)
        code = _short(self.text.line(binding.lineno))
        return Problem(kind, manager, message, binding.lineno, col, code)

    def _node_problem(self, kind, manager, message, node) -> Problem:
        col = self.text.col(node.lineno, node.col_offset)
        return Problem(
            kind, manager, message, node.lineno, col, _short(self.text.segment(node))
        )

    def _record(self, node: ast.Call, manager: str) -> None:
        args = node.args
        if not 1 <= len(args) <= 2 or any(isinstance(a, ast.Starred) for a in args):
            got = (
                "*args" if any(isinstance(a, ast.Starred) for a in args) else len(args)
            )
            message = (
                "{}() takes the hyperparameter's name and an optional default (1 or "
                "2 positional arguments), got {}; pass hints as keywords".format(
                    manager, got
                )
            )
            self.problems.append(
                self._node_problem("arg_count", manager, message, node)
            )
            return
        first = args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            message = (
                "the name of a hyperparameter must be a literal string, not {}; "
                'write it as {}("name", ...)'.format(
                    _short(self.text.segment(first), 60), manager
                )
            )
            self.problems.append(
                self._node_problem("non_literal_name", manager, message, first)
            )
            return
        name = first.value
        has_default = len(args) == 2
        value = value_source = None
        if has_default:
            try:
                value = ast.literal_eval(args[1])
            except Exception:  # not a literal: keep its text, never run it
                value_source = self.text.segment(args[1])
        hints: Dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                message = (
                    "hints of '{}' include **{}, which is not a literal; write each "
                    "hint as keyword=literal".format(
                        name, _short(self.text.segment(keyword.value), 60)
                    )
                )
                self.problems.append(
                    self._node_problem(
                        "non_literal_hint", manager, message, keyword.value
                    )
                )
                continue
            try:
                hints[keyword.arg] = ast.literal_eval(keyword.value)
            except Exception:
                message = (
                    "hint '{}' of '{}' is not a literal: {}; hints must be literals "
                    "(numbers, strings, None, tuples, lists, dicts, sets)".format(
                        keyword.arg, name, _short(self.text.segment(keyword.value), 60)
                    )
                )
                self.problems.append(
                    self._node_problem(
                        "non_literal_hint", manager, message, keyword.value
                    )
                )
        col = self.text.col(node.lineno, node.col_offset)
        self.calls.append(
            Call(
                manager, name, has_default, value, value_source, hints, node.lineno, col
            )
        )
