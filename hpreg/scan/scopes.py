"""Scope resolution for the scan: one iterative AST walk that records each scope's
bindings (imports from hpreg.m, rebindings, ``global``/``nonlocal``) and the candidate
calls of watched names; ``_lookup`` resolves a name as Python would."""

import ast
import bisect
import re
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

# their ``_`` is a translation function: importing it hides the manager
I18N_MODULES = ("gettext", "django.utils.translation", "babel", "flask_babel")


# -- scopes --------------------------------------------------------------------------
_MODULE, _FUNCTION, _CLASS, _COMPREHENSION = "module", "function", "class", "comp"

# Binding kinds. MANAGER: imported from hpreg.m, made by ``HyperParameterManager("n")``
# or imported from a scanned module that exports a manager; MODULE / PACKAGE: hpreg.m /
# hpreg; PROJECT: a scanned module that exports managers (``import pkg.config as c``);
# NEUTRAL: another import (a project re-export keeps counting); DEL: ``del name``;
# ALIAS: ``y = x`` (a manager if x is one, resolved after the walk); OTHER: anything
# else, which hides the manager in that scope.
_MANAGER, _HP_MODULE, _HP_PACKAGE, _NEUTRAL, _DEL, _OTHER, _PROJECT, _ALIAS = range(8)


class _Binding:
    __slots__ = ("kind", "lineno", "offset", "label", "manager", "linked")

    def __init__(self, kind, node, label, manager=None, linked=False):
        self.kind = kind
        self.lineno = getattr(node, "lineno", 1)
        self.offset = getattr(node, "col_offset", 0)
        self.label = label
        self.manager = manager
        self.linked = linked  # given by another scanned module (not exported again)


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
        modules: Dict[str, Dict[str, str]] = {}
        for binding in bindings:
            if binding.kind == _PROJECT:
                for path, exports in binding.manager.items():
                    modules.setdefault(path, {}).update(exports)
        if modules:
            return (_PROJECT, modules)
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


# the calls that make a manager: hpman's explicit style, ``hpreg.get_manager``
MAKERS = ("HyperParameterManager", "get_manager")


def _made_manager(
    value: ast.expr, makers: FrozenSet[str] = frozenset(MAKERS)
) -> Optional[Tuple[Optional[str]]]:
    """``HyperParameterManager("hp")`` (or ``hpreg.hpm.HyperParameterManager``,
    ``get_manager("hp")``): ``("hp",)``, the manager named by its placeholder;
    ``(None,)`` when the name is not a literal; None for any other value."""
    if not isinstance(value, ast.Call):
        return None
    func = value.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name not in makers:
        return None
    args = value.args
    if not args:
        # hpman's default placeholder
        placeholder = next(
            (k.value for k in value.keywords if k.arg == "placeholder"), None
        )
        if placeholder is None:
            return ("_",) if name != "get_manager" else (None,)
        args = [placeholder]
    first = args[0]
    if (
        isinstance(first, ast.Constant)
        and isinstance(first.value, str)
        and first.value.isidentifier()
        and not _is_dunder(first.value)
    ):
        return (first.value,)
    return (None,)


def _alias_source(value: ast.expr) -> Optional[tuple]:
    """``y = x``: ("name", "x"); ``y = m.x`` / ``y = hpreg.m.x``: ("attr", base, x)."""
    if isinstance(value, ast.Name):
        return ("name", value.id)
    if isinstance(value, ast.Attribute):
        base = value.value
        if isinstance(base, ast.Name):
            return ("attr", base.id, value.attr, _HP_MODULE)
        if (
            isinstance(base, ast.Attribute)
            and base.attr == "m"
            and isinstance(base.value, ast.Name)
        ):
            return ("attr", base.value.id, value.attr, _HP_PACKAGE)
    return None


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

    def __init__(
        self,
        watch: FrozenSet[str],
        marks: Optional[List[int]] = None,
        resolved: Optional[Dict[tuple, Any]] = None,
        makers: Optional[Dict[Tuple[int, int], str]] = None,
    ):
        self.watch = watch  # names whose calls (``n()``, ``n.x()``, ``n.m.x()``) count
        self.marks = marks  # sorted lines that mention a watched name; None: all
        # (level, module, name) of an import from a scanned module -> the manager it
        # gives, or {name: manager} when it gives a module that exports managers
        self.resolved = resolved or {}
        self.module = _Scope(_MODULE, None)
        self.scopes = [self.module]
        self.calls: List[Tuple[ast.Call, _Scope]] = []
        self.stack: List[Tuple[ast.AST, _Scope]] = []
        # imports from other modules: (level, module, name, local, at module level)
        self.links: List[tuple] = []
        self.star = False  # a module-level ``from x import *``
        self.star_lines: List[int] = []  # they bind names the text does not show
        self.aliases: List[Tuple[_Scope, _Binding]] = []
        # (line, column) of ``x = HyperParameterManager("name")`` -> the manager: the
        # first walk checks where the maker comes from, later walks are given it
        self.makers = makers
        self.made: Dict[Tuple[int, int], str] = {}
        self.maker_names = frozenset(MAKERS)  # and the names they are imported as
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
        self._resolve_aliases()

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
        where = (node.lineno, node.col_offset)
        if self.makers is not None and where in self.makers:
            made: Optional[tuple] = (self.makers[where],)
        else:
            made = _made_manager(node.value, self.maker_names)
        source = None if made is not None else _alias_source(node.value)
        for target in node.targets:
            if made is not None and made[0] is not None and type(target) is ast.Name:
                label = "{} = {}(...)".format(target.id, _callee(node.value))
                if self.makers is None:  # checked once the imports are known
                    maker = ("make", node.value.func, made[0], where)
                    binding = _Binding(_ALIAS, target, label, manager=maker)
                    self.aliases.append((scope, binding))
                elif where in self.makers:
                    binding = _Binding(_MANAGER, target, label, manager=made[0])
                else:  # not hpreg's: as hpman's, it may still make a manager
                    binding = _Binding(_NEUTRAL, target, label)
                scope.bind(target.id, binding)
            elif made is not None:  # a manager whose name the scan cannot know
                self._bind_target(target, scope, _NEUTRAL, "assignment")
            elif source is not None and type(target) is ast.Name:
                binding = _Binding(_ALIAS, target, "assignment", manager=source)
                scope.bind(target.id, binding)
                self.aliases.append((scope, binding))
            else:
                self._bind_target(target, scope, _OTHER, "assignment")
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
            top = alias.name.split(".")[0]
            if top != "hpreg":
                local = alias.asname or alias.name
                self.links.append((0, alias.name, None, local, scope is self.module))
            exports = self.resolved.get((0, alias.name, None))
            if alias.asname:
                kind = _import_kind(alias.name)
                if alias.name == "hpreg":
                    kind = _HP_PACKAGE
                label = "import {} as {}".format(alias.name, alias.asname)
                binding = _Binding(kind, where, label)
                if isinstance(exports, dict):
                    binding = _Binding(_PROJECT, where, label, manager={"": exports})
                scope.bind(alias.asname, binding)
            else:
                kind = _HP_PACKAGE if top == "hpreg" else _NEUTRAL
                binding = _Binding(kind, where, "import " + alias.name)
                if isinstance(exports, dict):
                    path = alias.name[len(top) + 1 :]
                    binding = _Binding(
                        _PROJECT, where, "import " + alias.name, manager={path: exports}
                    )
                scope.bind(top, binding)

    def _import_from(self, node, scope):
        module = node.module or ""
        for alias in node.names:
            if alias.name == "*":
                if module == "hpreg.m" and not node.level:
                    continue  # hpreg.m exports nothing to ``*``
                self.star = self.star or scope is self.module
                self.star_lines.append(node.lineno)
                self.links.append((node.level, module, "*", "*", scope is self.module))
                found = self.resolved.get((node.level, module, "*"))
                for local, manager in sorted((found or {}).items()):
                    label = "from {} import *".format("." * node.level + module)
                    scope.bind(local, _Binding(_MANAGER, node, label, manager, True))
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
            else:
                if node.level or not (module == "hpreg" or module[:6] == "hpreg."):
                    self.links.append(
                        (node.level, module, alias.name, local, scope is self.module)
                    )
                found = self.resolved.get((node.level, module, alias.name))
                if isinstance(found, str):
                    binding = _Binding(_MANAGER, where, label, found, linked=True)
                elif isinstance(found, dict):
                    binding = _Binding(_PROJECT, where, label, {"": found}, linked=True)
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
                while isinstance(base, ast.Attribute):  # m.x, hpreg.m.x, pkg.config.x
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

    def _resolve_aliases(self) -> None:
        """``y = x``: y is the manager x is, where x is bound; else y hides it."""
        pending = self.aliases
        for _round in range(len(pending) + 1):
            unresolved = []
            for scope, binding in pending:
                source = binding.manager
                verdict = self._alias_verdict(scope, binding)
                if verdict is None:
                    unresolved.append((scope, binding))
                elif verdict is False:
                    kind = _NEUTRAL if source[0] == "make" else _OTHER
                    binding.kind, binding.manager = kind, None
                else:
                    binding.kind, binding.manager = _MANAGER, verdict[0]
                    binding.linked = verdict[1]
                    if source[0] == "make":
                        self.made[source[3]] = verdict[0]
                    else:
                        binding.label = "assignment of manager '{}'".format(verdict[0])
            if len(unresolved) == len(pending):
                break
            pending = unresolved
        for _scope, binding in pending:  # a cycle: y = x; x = y
            kind = _NEUTRAL if binding.manager[0] == "make" else _OTHER
            binding.kind, binding.manager = kind, None
        self.aliases = []

    def _alias_verdict(self, scope: _Scope, binding: _Binding):
        """The manager name, False (not a manager), or None (depends on an alias
        not resolved yet)."""
        source = binding.manager
        if source[0] == "make":
            return self._maker_verdict(scope, source)
        name = source[1]
        owner = _lookup(scope, name, self.module)
        if owner is None:
            return False
        bindings = owner.bindings[name]
        if any(b.kind == _ALIAS for b in bindings):
            return None
        kind, detail = owner._classify(bindings)
        if source[0] == "name":
            if kind != _MANAGER:
                return False
            first = next(b for b in bindings if b.kind == _MANAGER)
            return (detail, first.linked)
        if kind == source[3] and not _is_dunder(source[2]):
            return (source[2], False)
        if kind == _PROJECT and source[3] == _HP_MODULE:
            found = detail.get("", {}).get(source[2])
            return (found, True) if found else False
        return False

    def _maker_verdict(self, scope: _Scope, source: tuple):
        """``HyperParameterManager("hp")`` makes manager hp when the callee comes
        from hpreg (or hpman): imported from it, or reached through it."""
        func = source[1]
        base = func
        while isinstance(base, ast.Attribute):
            base = base.value
            if isinstance(base, ast.Attribute) and base.attr == "m":
                return False  # hpreg.m.get_manager is a manager called get_manager
        if not isinstance(base, ast.Name):
            return False
        owner = _lookup(scope, base.id, self.module)
        if owner is None:
            return False
        bindings = owner.bindings[base.id]
        if any(b.kind == _ALIAS for b in bindings):
            return None
        pattern = _MAKER_IMPORT if base is func else _HP_IMPORT
        if any(
            b.kind == _HP_PACKAGE and base is not func or pattern.match(b.label)
            for b in bindings
        ):
            return (source[2], False)
        return False


# ``from hpreg import HyperParameterManager`` / ``import hpreg.hpm as hpm``: labels
# of the bindings through which a maker is hpreg's (or hpman's)
_MAKER_IMPORT = re.compile(
    r"from (?:hpreg|hpman)(?:\.\w+)* import (?:HyperParameterManager|get_manager)$"
)
_HP_IMPORT = re.compile(r"(?:from|import) (?:hpreg|hpman)\b")


def _callee(value: ast.Call) -> str:
    func = value.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "?")
