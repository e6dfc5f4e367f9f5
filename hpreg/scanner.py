"""Static scan: find manager calls (``_("name", default, **hints)``) with ``ast``.

Pure: it never imports or runs the scanned code and knows no runtime values. It
returns plain records (``Call``, ``Problem``, ``FileScan``); the manager layer turns
them into occurrences and errors. Names resolve per scope as Python resolves them.
"""

import ast
import bisect
import errno
import fnmatch
import functools
import io
import os
import re
import tokenize
import warnings
from typing import Any, Dict, FrozenSet, Iterable, Iterator, List, Optional, Set, Tuple

from . import _scan_cache

SCANNER_VERSION = "1"

I18N_MODULES = ("gettext", "django.utils.translation", "babel", "flask_babel")
SKIP_DIRS = frozenset(
    {"venv", "__pycache__", "build", "dist", "node_modules", "site-packages"}
)

PathLike = Any  # str, os.PathLike, or an iterable of them


# -- records -----------------------------------------------------------------------
class _Record:
    __slots__ = ()

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._dump() == other._dump()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(
            "{}={!r}".format(k, getattr(self, k)) for k in self.__slots__
        )
        return "{}({})".format(type(self).__name__, fields)

    def _dump(self) -> tuple:
        return tuple(getattr(self, k) for k in self.__slots__)


class Call(_Record):
    """One manager call site: ``manager("name", default, **hints)``.

    ``value`` is the literal default (None without one); a default that is not a
    literal has ``has_default=True``, ``value=None`` and its text in ``value_source``.
    ``lineno``/``col`` are 1-based. No AST nodes or file text are kept.
    """

    __slots__ = (
        "manager",
        "name",
        "has_default",
        "value",
        "value_source",
        "hints",
        "lineno",
        "col",
    )

    def __init__(
        self,
        manager: str,
        name: str,
        has_default: bool,
        value: Any,
        value_source: Optional[str],
        hints: Dict[str, Any],
        lineno: int,
        col: int,
    ):
        self.manager = manager
        self.name = name
        self.has_default = has_default
        self.value = value
        self.value_source = value_source
        self.hints = hints
        self.lineno = lineno
        self.col = col


class Problem(_Record):
    """Something the scan could not take as a declaration.

    ``kind`` is ``syntax``, ``non_literal_name``, ``non_literal_hint``, ``arg_count``
    or ``shadowed``; ``message`` says what is wrong and how to fix it, without the
    location (``lineno``, 1-based ``col``); ``code`` is the offending source text.
    """

    __slots__ = ("kind", "manager", "message", "lineno", "col", "code")

    def __init__(
        self,
        kind: str,
        manager: Optional[str],
        message: str,
        lineno: int,
        col: Optional[int] = None,
        code: Optional[str] = None,
    ):
        self.kind = kind
        self.manager = manager
        self.message = message
        self.lineno = lineno
        self.col = col
        self.code = code


_NOTHING: FrozenSet[str] = frozenset()


class FileScan(_Record):
    """The scan of one file: its calls, problems and ``hpreg.m`` imports.

    ``filename`` is the path as given (for display), ``realpath`` the resolved one
    (None for a source given as a string). ``imports`` maps local alias to manager;
    ``module_managers`` are the managers called as ``m.NAME`` or ``hpreg.m.NAME``.
    """

    __slots__ = (
        "filename",
        "realpath",
        "calls",
        "problems",
        "imports",
        "module_managers",
    )

    def __init__(
        self,
        filename: str,
        realpath: Optional[str] = None,
        calls: Optional[List[Call]] = None,
        problems: Optional[List[Problem]] = None,
        imports: Optional[Dict[str, str]] = None,
        module_managers: Iterable[str] = (),
    ):
        self.filename = filename
        self.realpath = realpath
        self.calls = calls if calls is not None else []
        self.problems = problems if problems is not None else []
        self.imports = imports if imports is not None else {}
        self.module_managers = frozenset(module_managers) or _NOTHING

    def _payload(self) -> tuple:
        return (
            tuple(self.imports.items()),
            tuple(c._dump() for c in self.calls),
            tuple(p._dump() for p in self.problems),
            tuple(sorted(self.module_managers)),
        )

    @classmethod
    def _from_payload(cls, filename, realpath, payload) -> "FileScan":
        imports, calls, problems, module_managers = payload
        return cls(
            filename,
            realpath,
            [Call(*c) for c in calls],
            [Problem(*p) for p in problems],
            dict(imports),
            module_managers,
        )

    def _declared(self) -> Set[str]:
        """Manager names this file takes from hpreg.m (imported or as ``m.NAME``)."""
        return set(self.imports.values()) | self.module_managers


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
    code = code.strip()
    return code if len(code) <= limit else code[: limit - 3] + "..."


# -- scopes --------------------------------------------------------------------------
_MODULE, _FUNCTION, _CLASS, _COMPREHENSION = "module", "function", "class", "comp"

# Binding kinds. MANAGER: imported from hpreg.m; MODULE / PACKAGE: hpreg.m / hpreg;
# NEUTRAL: another import (a project re-export keeps counting); DEL: ``del name``;
# OTHER: anything else, which hides the manager in that scope.
_MANAGER, _HP_MODULE, _HP_PACKAGE, _NEUTRAL, _DEL, _OTHER = range(6)


class _Binding:
    __slots__ = ("kind", "lineno", "offset", "label", "manager")

    def __init__(self, kind, node, label, manager=None):
        self.kind = kind
        self.lineno = getattr(node, "lineno", 1)
        self.offset = getattr(node, "col_offset", 0)
        self.label = label
        self.manager = manager


class _Scope:
    __slots__ = ("kind", "parent", "bindings", "globals", "nonlocals", "_status")

    def __init__(self, kind: str, parent: Optional["_Scope"]):
        self.kind = kind
        self.parent = parent
        self.bindings: Dict[str, List[_Binding]] = {}
        self.globals: Set[str] = set()
        self.nonlocals: Set[str] = set()
        self._status: Dict[str, tuple] = {}

    def bind(self, name: str, binding: _Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def enclosing(self) -> Optional["_Scope"]:
        """The scope names not bound here resolve in (class bodies do not enclose)."""
        scope = self.parent
        while scope is not None and scope.kind == _CLASS:
            scope = scope.parent
        return scope

    def status(self, name: str) -> tuple:
        """What ``name`` is in this scope: (MANAGER, name) / (HIDDEN, binding) / ..."""
        cached = self._status.get(name)
        if cached is None:
            cached = self._status[name] = self._classify(self.bindings[name])
        return cached

    def _classify(self, bindings: List[_Binding]) -> tuple:
        for binding in bindings:
            if binding.kind == _MANAGER:
                return (_MANAGER, binding.manager)
        for binding in bindings:
            if binding.kind in (_HP_MODULE, _HP_PACKAGE):
                return (binding.kind, None)
        hiding = [
            b
            for b in bindings
            if b.kind == _OTHER or (b.kind == _DEL and self.kind != _MODULE)
        ]
        if hiding:
            return (_OTHER, min(hiding, key=lambda b: (b.lineno, b.offset)))
        return (_NEUTRAL, None)


def _lookup(scope: _Scope, name: str, module: _Scope) -> Optional[_Scope]:
    """The scope whose binding ``name`` refers to from ``scope``; None for a global
    or builtin the file never binds."""
    while scope is not None:
        if scope.kind == _MODULE:
            return scope if name in scope.bindings else None
        if name in scope.globals:
            return module if name in module.bindings else None
        if name in scope.bindings:
            return scope
        scope = scope.enclosing()
    return None


def _import_kind(module: str) -> int:
    if module == "hpreg.m":
        return _HP_MODULE
    if any(module == lib or module.startswith(lib + ".") for lib in I18N_MODULES):
        return _OTHER
    return _NEUTRAL


def _makes_manager(value: ast.expr) -> bool:
    """``HyperParameterManager("_")`` or ``get_manager(...)``: hpman's explicit style
    binds the name to a manager, not to something else."""
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name in ("HyperParameterManager", "get_manager")


def _is_dunder(name: str) -> bool:
    # as hpreg.m refuses them: "__x__", but not "__" or "___" (valid manager names)
    return name[:2] == name[-2:] == "__" and bool(name.strip("_"))


# -- the walk ------------------------------------------------------------------------
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_MATCH_CAPTURES = tuple(
    getattr(ast, n) for n in ("MatchAs", "MatchStar", "MatchMapping") if hasattr(ast, n)
)
_LEAVES = (ast.Name, ast.Constant, ast.expr_context, ast.Pass, ast.Break, ast.Continue)
_FIELDS: Dict[type, Tuple[str, ...]] = {}


def _subclasses(base: type) -> Set[type]:
    found = set()
    for sub in base.__subclasses__():
        found.add(sub)
        found |= _subclasses(sub)
    return found


_STATEMENTS = frozenset(_subclasses(ast.stmt))


def _child_fields(node_type: type) -> Tuple[str, ...]:
    fields = _FIELDS.get(node_type)
    if fields is None:
        fields = _FIELDS[node_type] = tuple(f for f in node_type._fields if f != "ctx")
    return fields


class _Walker:
    """Collect scopes, bindings and candidate calls in one iterative pass (deeply
    nested expressions must not hit the recursion limit)."""

    def __init__(self, watch: FrozenSet[str], marks: Optional[List[int]] = None):
        self.watch = watch  # names whose calls (``n()``, ``n.x()``, ``n.m.x()``) count
        self.marks = marks  # sorted lines that mention a watched name; None: all
        self.module = _Scope(_MODULE, None)
        self.scopes = [self.module]
        self.calls: List[Tuple[ast.Call, _Scope]] = []
        self.stack: List[Tuple[ast.AST, _Scope]] = []
        self.handlers = {
            ast.Module: self._module,
            ast.FunctionDef: self._function,
            ast.AsyncFunctionDef: self._function,
            ast.Lambda: self._lambda,
            ast.ClassDef: self._class,
            ast.Assign: self._assign,
            ast.AugAssign: self._aug_assign,
            ast.AnnAssign: self._ann_assign,
            ast.For: self._for,
            ast.AsyncFor: self._for,
            ast.With: self._with,
            ast.AsyncWith: self._with,
            ast.NamedExpr: self._named_expr,
            ast.Delete: self._delete,
            ast.ExceptHandler: self._except,
            ast.Import: self._import,
            ast.ImportFrom: self._import_from,
            ast.Global: self._global,
            ast.Nonlocal: self._nonlocal,
            ast.Call: self._call,
        }
        for comp in _COMPREHENSIONS:
            self.handlers[comp] = self._comprehension
        for capture in _MATCH_CAPTURES:
            self.handlers[capture] = self._match_capture
        if hasattr(ast, "TypeAlias"):
            self.handlers[ast.TypeAlias] = self._type_alias

    def walk(self, tree: ast.AST) -> None:
        stack, handlers, marks = self.stack, self.handlers, self.marks
        stack.append((tree, self.module))
        while stack:
            node, scope = stack.pop()
            node_type = type(node)
            # a statement that never mentions a watched name can neither bind one
            # nor call one: skip it whole (most of a file, most of the time)
            if marks is not None and node_type in _STATEMENTS:
                first = node.lineno
                decorators = getattr(node, "decorator_list", None)
                if decorators:
                    first = min(first, decorators[0].lineno)
                index = bisect.bisect_left(marks, first)
                if index == len(marks) or marks[index] > node.end_lineno:
                    continue
            handler = handlers.get(node_type)
            if handler is not None:
                handler(node, scope)
            elif not isinstance(node, _LEAVES):
                self._children(node, scope)
        self._redirect()

    def _children(self, node: ast.AST, scope: _Scope) -> None:
        push = self.stack.append
        for field in _child_fields(type(node)):
            value = getattr(node, field, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        push((item, scope))
            elif isinstance(value, ast.AST):
                push((value, scope))

    def _push(self, nodes: Iterable[Optional[ast.AST]], scope: _Scope) -> None:
        self.stack.extend((n, scope) for n in nodes if n is not None)

    def _new_scope(self, kind: str, parent: _Scope) -> _Scope:
        scope = _Scope(kind, parent)
        self.scopes.append(scope)
        return scope

    def _bind_target(self, target, scope, kind, label) -> None:
        if isinstance(target, ast.Name):
            scope.bind(target.id, _Binding(kind, target, label))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._bind_target(element, scope, kind, label)
        elif isinstance(target, ast.Starred):
            self._bind_target(target.value, scope, kind, label)
        else:  # attribute or subscript targets bind nothing but may hold calls
            self.stack.append((target, scope))

    # scopes
    def _module(self, node, scope):
        self._push(node.body, scope)

    def _arguments(self, args: ast.arguments, outer: _Scope, inner: _Scope, annotate):
        self._push(args.defaults, outer)
        self._push(args.kw_defaults, outer)
        every = args.posonlyargs + args.args + args.kwonlyargs
        every += [a for a in (args.vararg, args.kwarg) if a is not None]
        for arg in every:
            inner.bind(arg.arg, _Binding(_OTHER, arg, "parameter"))
            if annotate:
                self._push([arg.annotation], outer)

    def _function(self, node, scope):
        scope.bind(node.name, _Binding(_OTHER, node, "function definition"))
        self._push(node.decorator_list, scope)
        self._push([node.returns], scope)
        self._push(getattr(node, "type_params", ()), scope)
        inner = self._new_scope(_FUNCTION, scope)
        self._arguments(node.args, scope, inner, annotate=True)
        self._push(node.body, inner)

    def _lambda(self, node, scope):
        inner = self._new_scope(_FUNCTION, scope)
        self._arguments(node.args, scope, inner, annotate=False)
        self._push([node.body], inner)

    def _class(self, node, scope):
        scope.bind(node.name, _Binding(_OTHER, node, "class definition"))
        self._push(node.decorator_list, scope)
        self._push(node.bases, scope)
        self._push([k.value for k in node.keywords], scope)
        self._push(getattr(node, "type_params", ()), scope)
        self._push(node.body, self._new_scope(_CLASS, scope))

    def _comprehension(self, node, scope):
        generators = node.generators
        self.stack.append((generators[0].iter, scope))  # evaluated outside
        inner = self._new_scope(_COMPREHENSION, scope)
        for index, generator in enumerate(generators):
            self._bind_target(generator.target, inner, _OTHER, "comprehension target")
            if index:
                self.stack.append((generator.iter, inner))
            self._push(generator.ifs, inner)
        if isinstance(node, ast.DictComp):
            self._push([node.key, node.value], inner)
        else:
            self.stack.append((node.elt, inner))

    # bindings
    def _assign(self, node, scope):
        kind = _NEUTRAL if _makes_manager(node.value) else _OTHER
        for target in node.targets:
            self._bind_target(target, scope, kind, "assignment")
        self.stack.append((node.value, scope))

    def _aug_assign(self, node, scope):
        self._bind_target(node.target, scope, _OTHER, "augmented assignment")
        self.stack.append((node.value, scope))

    def _ann_assign(self, node, scope):
        # ``x: int`` makes x local in a function; elsewhere it binds nothing
        if node.value is not None or scope.kind == _FUNCTION:
            self._bind_target(node.target, scope, _OTHER, "annotated assignment")
        elif not isinstance(node.target, ast.Name):
            self.stack.append((node.target, scope))
        self._push([node.annotation, node.value], scope)

    def _for(self, node, scope):
        self._bind_target(node.target, scope, _OTHER, "for loop target")
        self._push([node.iter], scope)
        self._push(node.body + node.orelse, scope)

    def _with(self, node, scope):
        for item in node.items:
            self.stack.append((item.context_expr, scope))
            if item.optional_vars is not None:
                self._bind_target(item.optional_vars, scope, _OTHER, "with ... as")
        self._push(node.body, scope)

    def _named_expr(self, node, scope):
        target_scope = scope
        while target_scope.kind == _COMPREHENSION:
            target_scope = target_scope.parent
        self._bind_target(node.target, target_scope, _OTHER, "assignment (:=)")
        self.stack.append((node.value, scope))

    def _delete(self, node, scope):
        for target in node.targets:
            self._bind_target(target, scope, _DEL, "del")

    def _except(self, node, scope):
        if node.name:
            scope.bind(node.name, _Binding(_OTHER, node, "except ... as"))
        self._push([node.type], scope)
        self._push(node.body, scope)

    def _match_capture(self, node, scope):
        name = getattr(node, "name", None) or getattr(node, "rest", None)
        if name:
            scope.bind(name, _Binding(_OTHER, node, "match capture"))
        self._children(node, scope)

    def _type_alias(self, node, scope):
        self._bind_target(node.name, scope, _OTHER, "type alias")
        self._push([node.value], scope)

    def _import(self, node, scope):
        for alias in node.names:
            where = alias if hasattr(alias, "lineno") else node
            if alias.asname:
                kind = _import_kind(alias.name)
                if alias.name == "hpreg":
                    kind = _HP_PACKAGE
                label = "import {} as {}".format(alias.name, alias.asname)
                scope.bind(alias.asname, _Binding(kind, where, label))
            else:
                top = alias.name.split(".")[0]
                kind = _HP_PACKAGE if top == "hpreg" else _NEUTRAL
                scope.bind(top, _Binding(kind, where, "import " + alias.name))

    def _import_from(self, node, scope):
        module = node.module or ""
        for alias in node.names:
            if alias.name == "*":
                continue
            where = alias if hasattr(alias, "lineno") else node
            local = alias.asname or alias.name
            label = "from {} import {}".format("." * node.level + module, alias.name)
            if node.level == 0 and module == "hpreg.m":
                if _is_dunder(alias.name):
                    continue
                binding = _Binding(_MANAGER, where, label, manager=alias.name)
            elif node.level == 0 and module == "hpreg" and alias.name == "m":
                binding = _Binding(_HP_MODULE, where, label)
            elif node.level == 0:
                binding = _Binding(_import_kind(module), where, label)
            else:
                binding = _Binding(_NEUTRAL, where, label)
            scope.bind(local, binding)

    def _global(self, node, scope):
        scope.globals.update(node.names)

    def _nonlocal(self, node, scope):
        scope.nonlocals.update(node.names)

    def _call(self, node, scope):
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in self.watch:
                self.calls.append((node, scope))
        else:
            if isinstance(func, ast.Attribute):
                base = func.value
                if isinstance(base, ast.Attribute) and base.attr == "m":
                    base = base.value
                if isinstance(base, ast.Name) and base.id in self.watch:
                    self.calls.append((node, scope))
            self.stack.append((func, scope))
        self._push(node.args, scope)
        self._push([k.value for k in node.keywords], scope)

    def _redirect(self) -> None:
        """Move bindings made under ``global`` / ``nonlocal`` to the scope they bind."""
        for scope in self.scopes[1:]:
            for name in list(scope.bindings):
                if name in scope.globals:
                    self.module.bindings.setdefault(name, []).extend(
                        scope.bindings.pop(name)
                    )
                elif name in scope.nonlocals:
                    moved = scope.bindings.pop(name)
                    target = scope.enclosing()
                    while target is not None and target.kind != _MODULE:
                        if name in target.bindings and name not in target.nonlocals:
                            target.bindings[name].extend(moved)
                            break
                        target = target.enclosing()


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


def _syntax_problem(error: BaseException, text: Optional[str] = None) -> Problem:
    msg = getattr(error, "msg", None) or str(error)
    lineno = getattr(error, "lineno", None)
    if lineno is None and text is not None and "\0" in text:
        lineno = text.count("\n", 0, text.index("\0")) + 1
        msg = "the file contains a null byte"
    if not msg.startswith("invalid syntax"):
        msg = "invalid syntax ({})".format(msg)
    line = getattr(error, "text", None)
    code = _short(line) if line else None
    return Problem(
        "syntax", None, msg, lineno or 1, getattr(error, "offset", None), code
    )


def scan_source(
    text: str,
    filename: str = "<unknown>",
    managers: Optional[Iterable[str]] = None,
    extra: Iterable[str] = (),
) -> FileScan:
    """Scan a string of Python code for manager calls; never runs it.

    ``managers`` are the manager names whose bare calls count; None means the names
    this source imports from ``hpreg.m`` (plus ``extra``).
    """
    names = None if managers is None else frozenset(managers)
    try:
        with warnings.catch_warnings():  # the scanned file's warnings are not ours
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
        return FileScan(filename, None, [], [_syntax_problem(error, text)], {})
    scanner = _FileScanner(_Text(text), names, extra)
    scanner.scan(tree)
    return FileScan(
        filename,
        None,
        scanner.calls,
        scanner.problems,
        scanner.imports,
        scanner.module_managers,
    )


def find_manager_imports(text: str) -> Set[str]:
    """Manager names a source imports from ``hpreg.m`` (or calls through it)."""
    if "hpreg" not in text:
        return set()
    scan = scan_source(text, managers=None)
    return scan._declared()


# -- the prefilter -------------------------------------------------------------------
def _names_alternation(names: Iterable[str], before: str) -> str:
    # the name comes first and the lookbehind after it: ``re`` then scans for the
    # name's text quickly instead of testing the lookbehind at every position
    return "|".join(
        "{0}(?<!{1}{0})".format(re.escape(n), before)
        for n in sorted(names, key=len, reverse=True)
    )


@functools.lru_cache(maxsize=64)
def _candidate_pattern(names: FrozenSet[str]) -> Optional["re.Pattern[str]"]:
    if not names:
        return None
    # a bare call ``name(``, allowing spaces, continuations, comments, ``(name)(``
    return re.compile(
        r"(?:{})(?:[\s)\\]|#[^\n\r]*)*\(".format(_names_alternation(names, r"[\w.]"))
    )


@functools.lru_cache(maxsize=64)
def _word_pattern(names: FrozenSet[str]) -> "re.Pattern[str]":
    if not names:
        return re.compile(r"(?!)")
    return re.compile(r"(?:{})(?!\w)".format(_names_alternation(names, r"\w")))


def _is_candidate(text: str, names: FrozenSet[str]) -> bool:
    """False only when the text cannot hold a call of these managers."""
    if "hpreg" in text:
        return True
    pattern = _candidate_pattern(names)
    return pattern is not None and pattern.search(text) is not None


# -- files ---------------------------------------------------------------------------
def _as_list(paths: PathLike) -> list:
    if isinstance(paths, (str, bytes, os.PathLike)):
        return [os.fspath(paths)]
    return [os.fspath(p) for p in paths]


def _exclude_matcher(exclude: Iterable[str]):
    patterns = [p for p in ([exclude] if isinstance(exclude, str) else exclude) if p]
    if not patterns:
        return lambda relative, base: False
    regex = re.compile(
        "|".join(fnmatch.translate(os.path.normcase(p)) for p in patterns)
    )

    def excluded(relative: str, base: str) -> bool:
        return bool(
            regex.match(os.path.normcase(relative))
            or regex.match(os.path.normcase(base))
        )

    return excluded


class _MissingPathError(FileNotFoundError):
    def __str__(self) -> str:  # OSError's would put "[Errno 2]" first
        return "{}: {}".format(self.filename, self.strerror)


def _not_found(path: str) -> FileNotFoundError:
    message = "no such file or directory; check the path to scan"
    return _MissingPathError(errno.ENOENT, message, path)


def _walk_dir(root: str, root_real: str, excluded) -> List[Tuple[str, str]]:
    found = []
    pending = [("", root, root_real)]
    while pending:
        relative, folder, real = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            rel = relative + "/" + name if relative else name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if name.startswith(".") or name in SKIP_DIRS or excluded(rel, name):
                    continue
                pending.append((rel, entry.path, os.path.join(real, name)))
            elif name.endswith(".py") and not excluded(rel, name):
                try:
                    if not entry.is_file():
                        continue
                    link = entry.is_symlink()
                except OSError:
                    continue
                target = (
                    os.path.realpath(entry.path) if link else os.path.join(real, name)
                )
                found.append((entry.path, target))
    found.sort()
    return found


def _iter_files(
    paths: PathLike, exclude: Iterable[str] = ()
) -> Iterator[Tuple[str, str]]:
    """(display path, resolved path) of every Python file to scan, each once."""
    excluded = _exclude_matcher(exclude)
    seen: Set[str] = set()
    for path in _as_list(paths):
        if os.path.isdir(path):
            files = _walk_dir(path, os.path.realpath(path), excluded)
        elif os.path.exists(path):
            relative = path.replace(os.sep, "/")
            if excluded(relative, os.path.basename(path)):
                continue
            files = [(path, os.path.realpath(path))]
        else:
            raise _not_found(path)
        for display, real in files:
            if real not in seen:
                seen.add(real)
                yield display, real


def iter_python_files(paths: PathLike, exclude: Iterable[str] = ()) -> Iterator[str]:
    """Python files under ``paths`` (a file, a directory scanned recursively and
    sorted, or a list of both), skipping hidden and build folders and ``exclude``
    globs (matched on the relative path and on the basename)."""
    for display, _real in _iter_files(paths, exclude):
        yield display


def _decode(data: bytes) -> Tuple[Optional[str], Optional[Problem]]:
    try:
        encoding, _lines = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        message = "{}; declare a known encoding, or save the file as UTF-8".format(
            getattr(error, "msg", error)
        )
        return None, Problem("syntax", None, message, 1)
    try:
        return data.decode(encoding), None
    except (UnicodeDecodeError, LookupError) as error:
        start = getattr(error, "start", 0)
        lineno = data.count(b"\n", 0, start) + 1
        message = (
            "cannot be decoded as {} ({}); save it as UTF-8 or declare its encoding "
            "(# -*- coding: ... -*-)".format(encoding, error)
        )
        return None, Problem("syntax", None, message, lineno)


def _read(path: str) -> Tuple[Optional[bytes], Optional[Problem]]:
    try:
        with open(path, "rb") as f:
            return f.read(), None
    except OSError as error:
        message = "cannot be read ({}); check its permissions".format(
            error.strerror or error
        )
        return None, Problem("syntax", None, message, 1)


def _scan_data(data, display, real, names, extra) -> FileScan:
    text, problem = _decode(data)
    if problem is not None:
        return FileScan(display, real, [], [problem], {})
    candidates = names if names is not None else frozenset(extra)
    if not _is_candidate(text, candidates):
        return FileScan(display, real, [], [], {})
    scan = scan_source(text, display, names, extra)
    scan.realpath = real
    return scan


def scan_paths(
    paths: PathLike,
    managers: Optional[Iterable[str]] = None,
    exclude: Iterable[str] = (),
    cache: bool = True,
    extra: Iterable[str] = (),
) -> List[FileScan]:
    """Scan files and directories; one FileScan per Python file, in file order.

    ``managers=None`` scans for every manager name imported from ``hpreg.m``
    anywhere in the files (plus ``extra``), bare calls included. Files that do not
    parse come back with a ``syntax`` problem. Unchanged files come from the cache.
    """
    files = list(_iter_files(paths, exclude))
    names = None if managers is None else frozenset(managers)
    extra = frozenset(extra)
    store = None
    if cache:
        roots = tuple(sorted(os.path.realpath(p) for p in _as_list(paths)))
        mode = (
            tuple(sorted(names)) if names is not None else ("*",) + tuple(sorted(extra))
        )
        store = _scan_cache.ScanCache((roots, mode), SCANNER_VERSION)
    if names is not None:
        scans = [_scan_one(d, r, names, extra, store) for d, r in files]
        if store is not None:
            store.set_names(tuple(sorted(names)))
    else:
        scans = _scan_all_managers(files, extra, store)
    if store is not None:
        store.save()
    return scans


def _scan_one(display, real, names, extra, store, force=False) -> FileScan:
    data, problem = _read(real)
    if problem is not None:
        return FileScan(display, real, [], [problem], {})
    digest = _scan_cache.content_digest(data)
    if store is not None and not force:
        payload = store.get(real, digest)
        if payload is not None:
            try:
                return FileScan._from_payload(display, real, payload)
            except Exception:  # a damaged entry is a miss
                pass
    scan = _scan_data(data, display, real, names, extra)
    if store is not None:
        store.put(real, digest, scan._payload())
    return scan


def _scan_all_managers(files, extra, store) -> List[FileScan]:
    # Pass 1 learns every manager name imported anywhere: files that mention hpreg
    # are scanned now for their own imports; the rest wait for the full set of names.
    scans: List[Optional[FileScan]] = []
    cached: Dict[int, FileScan] = {}
    declared = set(extra)
    for index, (display, real) in enumerate(files):
        data, problem = _read(real)
        if problem is not None:
            scans.append(FileScan(display, real, [], [problem], {}))
            continue
        digest = _scan_cache.content_digest(data)
        payload = store.get(real, digest) if store is not None else None
        if payload is not None:
            try:
                scan = FileScan._from_payload(display, real, payload)
            except Exception:
                payload = None
            else:
                declared |= scan._declared()
                cached[index] = scan
                scans.append(None)
                continue
        if b"hpreg" in data:
            scan = _scan_data(data, display, real, None, extra)
            declared |= scan._declared()
            scans.append(scan)
            if store is not None:
                store.put(real, digest, scan._payload())
        else:
            scans.append(None)
    names = frozenset(declared)
    reuse = store is not None and store.names == tuple(sorted(names))
    for index, (display, real) in enumerate(files):
        scan = scans[index]
        if scan is not None:
            if scan.problems and scan.problems[0].kind == "syntax":
                continue
            if names - set(scan.imports.values()) - extra:
                # scanned before the full set was known: bare calls of the others
                scans[index] = _scan_one(display, real, None, names, store, force=True)
            continue
        if index in cached and reuse:
            scans[index] = cached[index]
            continue
        scans[index] = _scan_one(display, real, None, names, store, force=True)
    if store is not None:
        store.set_names(tuple(sorted(names)))
    return scans  # type: ignore[return-value]
