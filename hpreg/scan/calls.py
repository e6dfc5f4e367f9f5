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
    _PROJECT,
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


# what may stand between a callee and its parenthesis: spaces, line continuations,
# closing brackets (``(name)(``) and comments; a comment is taken whole, or, last,
# up to a parenthesis inside it (as ``#[^\n\r]*`` in the loop would, without that
# loop's exponential backtracking over the ways to split a comment such as ``####``)
CALL_TAIL = r"(?:[\s)\\]|#[^\n\r]*(?![^\n\r]))*(?:#[^\n\r]*)?\("


@functools.lru_cache(maxsize=64)
def _calls_through(tops: FrozenSet[str]) -> "re.Pattern[str]":
    # ``top(`` or ``top.a.b(`` (spaces, continuations and comments allowed before
    # the parenthesis): group 1 is the top name, group 2 the attributes after it
    return re.compile(
        r"((?:{}))(?!\w)((?:\s*\.\s*\w+)*)".format(_names_alternation(tops, r"[\w.]"))
        + CALL_TAIL
    )


@functools.lru_cache(maxsize=64)
def _word_pattern(names: FrozenSet[str]) -> "re.Pattern[str]":
    if not names:
        return re.compile(r"(?!)")
    return re.compile(r"(?:{})(?!\w)".format(_names_alternation(names, r"\w")))


@functools.lru_cache(maxsize=64)
def _attribute_pattern(names: FrozenSet[str]) -> Optional["re.Pattern[str]"]:
    if not names:
        return None
    # ``module.name(``: a manager a scanned module exports, called through it
    return re.compile(
        r"\.\s*(?:{})(?!\w)".format(
            "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        )
        + CALL_TAIL
    )


# a link whose use is not worked out yet (``link_uses`` later)
LATER = object()


def link_uses(links: Iterable[tuple], text: str, names: Any = None) -> tuple:
    """The walked imports ``(level, module, name, local, at_module)``, each with what
    the file does with it (``use``): the attributes called through it (``c.hp(``),
    and "" if it is called (``hp(``). ``names``: the only names that matter (every
    name a scanned module exports a manager as): ``use`` then keeps those
    attributes, and "" only for a link importing one of them (all ``Project``
    looks at); None keeps everything; ``LATER`` leaves ``use`` None."""
    links = tuple(link[:5] for link in links)
    if not links:
        return ()
    if names is LATER:
        return tuple(link[:5] + (None,) for link in links)
    if names is not None and not any(link[2] in names for link in links):
        attribute = _attribute_pattern(names)
        if attribute is None or attribute.search(text) is None:
            return tuple(link[:5] + ((),) for link in links)
    tops = frozenset(link[3].split(".")[0] for link in links if link[2] != "*")
    chains: Dict[str, Set[tuple]] = {}
    for match in _calls_through(tops).finditer(text):
        rest = match.group(2)
        parts = (match.group(1),)
        if rest:
            parts += tuple(p.strip() for p in rest.split(".")[1:])
        chains.setdefault(parts[0], set()).add(parts)
    out = []
    for level, module, name, local, at_module in links:
        parts = tuple(local.split("."))
        use = set()
        for chain in chains.get(parts[0], ()):
            if chain[: len(parts)] == parts:
                if len(chain) == len(parts):
                    if name is not None:
                        use.add("")
                else:
                    use.add(chain[-1])
        out.append((level, module, name, local, at_module, tuple(sorted(use))))
    return tuple(out) if names is None else restrict_uses(out, names)


def restrict_uses(links: Iterable[tuple], names: FrozenSet[str]) -> tuple:
    """Links whose ``use`` keeps only what matters for ``names`` (``link_uses``)."""
    return tuple(
        link[:5]
        + (tuple(u for u in link[5] if u in names or u == "" and link[2] in names),)
        for link in links
    )


# -- one file ------------------------------------------------------------------------
# lines the first walk must see: hpreg imports, managers made in the module, imports
_FIRST_WALK = re.compile(r"hpreg|HyperParameterManager|get_manager|import")


_RENAMED_MAKER = re.compile(r"\b(?:HyperParameterManager|get_manager)\s+as\s+(\w+)")


class _FileScanner:
    """Resolve a walked file's calls into Call and Problem records.

    ``managers``: the managers whose calls count (None: every manager the file binds,
    plus ``extra``). A name imported from a module the scan does not resolve counts
    if it names one of these (or of ``imported``: every manager of the project). A
    name the code never binds counts only with ``unbound`` (hpman's placeholder:
    ``_.parse_source("_('a', 1)")``), and not where the code binds that manager under
    another name (there it is a builtin such as gettext's ``_``); after ``from x
    import *`` it counts as if imported.
    ``resolved`` maps imports from other scanned modules to what they give.
    """

    def __init__(
        self,
        text: _Text,
        managers: Optional[FrozenSet[str]],
        extra,
        imported: Iterable[str] = (),
        resolved: Optional[Dict[tuple, Any]] = None,
        unbound: bool = True,
        uses: Any = None,
    ):
        self.text = text
        self.uses = uses  # ``link_uses``'s names
        self.counts_unbound = unbound
        self.managers = managers
        self.extra = frozenset(extra)
        self.imported = frozenset(imported)
        self.resolved = resolved or {}
        self.calls: List[Call] = []
        self.problems: List[Problem] = []
        self.imports: Dict[str, str] = {}
        self.exports: Dict[str, str] = {}
        self.links: tuple = ()
        self.module_managers: Set[str] = set()
        self.hidden: Dict[Tuple[int, str], list] = {}

    def scan(self, tree: Any) -> None:
        """Walk ``tree``: a parsed module, or a ``sparse.SparseTree`` asked for the
        statements each walk needs."""
        if isinstance(tree, ast.AST):
            parsed = tree
            tree = lambda marks: parsed  # noqa: E731
        else:
            tree = tree.tree
        watch = set(self.extra if self.managers is None else self.managers)
        watch |= self.imported
        # first the imports: hpreg's add local names (aliases) to watch; the others
        # are the file's links to the modules it may take a manager from
        text = self.text.text
        renamed = []
        if "HyperParameterManager" in text or "get_manager" in text:
            renamed = _RENAMED_MAKER.findall(text)
        pattern = _FIRST_WALK
        if renamed:  # ``from hpreg import HyperParameterManager as HPM``
            pattern = re.compile(
                "|".join([_FIRST_WALK.pattern] + [re.escape(n) for n in renamed])
            )
        marks = self.text.marks(pattern)
        first = _Walker(frozenset(), marks, self.resolved)
        first.maker_names = first.maker_names.union(renamed)
        first.walk(tree(marks))
        self.links = link_uses(first.links, self.text.text, self.uses)
        for scope in first.scopes:
            for local, bindings in scope.bindings.items():
                for binding in bindings:
                    if binding.kind in (_MANAGER, _HP_MODULE, _HP_PACKAGE, _PROJECT):
                        watch.add(local)
                        if self.managers is None and binding.kind == _MANAGER:
                            watch.add(binding.manager)
        while True:
            frozen = frozenset(watch)
            marks = self.text.marks(_word_pattern(frozen))
            if marks is not None and first.star_lines:
                marks = sorted(set(marks).union(first.star_lines))
            walker = _Walker(frozen, marks, self.resolved, first.made)
            walker.walk(tree(marks))
            # ``hp = _``: a manager bound under a name not watched yet: walk again
            for scope in walker.scopes:
                for local, bindings in scope.bindings.items():
                    if any(b.kind == _MANAGER for b in bindings):
                        watch.add(local)
            if len(watch) == len(frozen):
                break
        self.module = walker.module
        aliased = set()
        for scope in walker.scopes:
            for local, bindings in scope.bindings.items():
                for binding in bindings:
                    if binding.kind == _MANAGER:
                        self.imports.setdefault(local, binding.manager)
                        if local != binding.manager:
                            aliased.add(binding.manager)
        for local, bindings in self.module.bindings.items():
            kind, manager = self.module.status(local)
            if kind == _MANAGER:
                origin = next(b for b in bindings if b.kind == _MANAGER)
                if not origin.linked:
                    self.exports[local] = manager
        if self.managers is None:
            self.bare = self.extra | self.imported | set(self.imports.values())
            self.unbound = self.extra - aliased
        else:
            self.bare = self.managers
            self.unbound = self.managers - aliased
        if not self.counts_unbound:
            self.unbound = frozenset()
        if first.star:  # ``from x import *`` may bind any name
            self.unbound = self.unbound | self.bare
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
        path = []
        base = func.value
        while isinstance(base, ast.Attribute):
            path.append(base.attr)
            base = base.value
        if not isinstance(base, ast.Name):
            return None
        owner = _lookup(scope, base.id, self.module)
        if owner is None:
            return None
        kind, detail = owner.status(base.id)
        if kind == _PROJECT:
            exports = detail.get(".".join(reversed(path)))
            manager = exports.get(func.attr) if exports else None
            return manager if manager is not None and self._wanted(manager) else None
        want = {(): _HP_MODULE, ("m",): _HP_PACKAGE}.get(tuple(path))
        if want is None or kind != want:
            return None
        if not self._wanted(func.attr):
            return None
        self.module_managers.add(func.attr)
        return func.attr

    def _manager_of_name(self, name: str, scope: _Scope, node) -> Optional[str]:
        owner = _lookup(scope, name, self.module)
        if owner is None:
            return name if name in self.unbound else None
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
            return name if name in self.bare else None
        return name if name in self.unbound else None

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
            if first.label.startswith("from hpreg.m "):
                origin = "imported from hpreg.m (manager '{}', line {})"
            else:
                origin = "bound to manager '{}' (line {}, " + first.label + ")"
            origin = origin.format(manager, first.lineno)
            for binding in bindings:
                # a fallback import (``from hpman.m import _``) is not worth a report
                if binding.kind in (_MANAGER, _DEL, _NEUTRAL, _PROJECT):
                    continue
                message = (
                    "'{}' is {} and rebound here ({}); calls may no longer reach the "
                    "manager; use another name for this binding".format(
                        name, origin, binding.label
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
