"""The scan's plain records: ``Call``, ``Problem`` and ``FileScan`` (re-exported by
``hpreg.scanner``). They hold only literals and text, never AST nodes."""

from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Set


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

    ``kind`` is ``syntax``, ``unreadable`` (a file or folder that cannot be read or
    decoded; ``lineno`` None for a folder), ``non_literal_name``, ``non_literal_hint``, ``arg_count``
    or ``shadowed``; ``message`` says what is wrong and how to fix it, without the
    location (``lineno``, 1-based ``col``); ``code`` is the offending source text.
    """

    __slots__ = ("kind", "manager", "message", "lineno", "col", "code")

    def __init__(
        self,
        kind: str,
        manager: Optional[str],
        message: str,
        lineno: Optional[int],
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

# the problems that make a scan skip a whole file (or folder)
SKIPPED_KINDS = ("syntax", "unreadable")


class FileScan(_Record):
    """The scan of one file: its calls, problems and ``hpreg.m`` imports.

    ``filename`` is the path as given (for display), ``realpath`` the resolved one
    (None for a source given as a string). ``imports`` maps local alias to manager
    (imported from ``hpreg.m``, made with ``HyperParameterManager("name")``, or
    imported from another scanned module); ``module_managers`` are the managers
    called as ``m.NAME`` or ``hpreg.m.NAME``. ``exports`` maps the module-level names
    this file itself binds to a manager to it; ``links`` are its imports from other
    modules, ``(level, module, name, local, at_module_level, use)`` (None: the file
    was not parsed); ``resolved`` what those imports gave when it was scanned.
    """

    __slots__ = (
        "filename",
        "realpath",
        "calls",
        "problems",
        "imports",
        "module_managers",
        "exports",
        "links",
        "resolved",
    )

    def __init__(
        self,
        filename: str,
        realpath: Optional[str] = None,
        calls: Optional[List[Call]] = None,
        problems: Optional[List[Problem]] = None,
        imports: Optional[Dict[str, str]] = None,
        module_managers: Iterable[str] = (),
        exports: Optional[Dict[str, str]] = None,
        links: Optional[tuple] = None,
        resolved: Optional[Dict[tuple, Any]] = None,
    ):
        self.filename = filename
        self.realpath = realpath
        self.calls = calls if calls is not None else []
        self.problems = problems if problems is not None else []
        self.imports = imports if imports is not None else {}
        self.module_managers = frozenset(module_managers) or _NOTHING
        self.exports = exports or _NO_EXPORTS
        self.links = links
        self.resolved = resolved or _NO_EXPORTS

    def _payload(self) -> tuple:
        return (
            tuple(self.imports.items()),
            tuple(c._dump() for c in self.calls),
            tuple(p._dump() for p in self.problems),
            tuple(sorted(self.module_managers)),
            tuple(self.exports.items()),
            self.links,
            tuple(self.resolved.items()),
        )

    @classmethod
    def _from_payload(cls, filename, realpath, payload) -> "FileScan":
        imports, calls, problems, module_managers, exports, links, resolved = payload
        return cls(
            filename,
            realpath,
            [Call(*c) for c in calls],
            [Problem(*p) for p in problems],
            dict(imports),
            module_managers,
            dict(exports),
            links,
            dict(resolved),
        )

    def _declared(self) -> Set[str]:
        """Manager names this file takes from hpreg.m (imported or as ``m.NAME``)."""
        return set(self.imports.values()) | self.module_managers


_NO_EXPORTS: Dict[Any, Any] = {}
