"""Occurrence records and the queryable occurrence database (hpman's ``db``).

An occurrence is one place a hyperparameter's value comes from: a call found by a
scan, a runtime call with a default, or a value set at runtime. Records hold no AST
and no file text: source lines are read lazily when a listing or an error needs them.
"""

from __future__ import annotations

import collections
import enum
import functools

TYPE_CHECKING = False  # typing costs import time in every training job
if TYPE_CHECKING:
    import ast
    from typing import Any, Callable, Dict, Iterable, List, Optional, Union

from hpreg.io import source as _source
from hpreg.errors import DoubleAssignmentException, ImpossibleTree, NotLiteralEvaluable


class EmptyValue:
    """The value of an occurrence without a default. All instances are equal."""

    __slots__ = ()

    def __eq__(self, other):
        return isinstance(other, EmptyValue)

    def __hash__(self):
        return hash(EmptyValue)

    def __repr__(self):
        return "<no default>"


EMPTY = EmptyValue()


class HyperParameterPriority(enum.IntEnum):
    """Where a value comes from; a higher priority wins (hpman's order)."""

    PRIORITY_PARSED_FROM_SOURCE_CODE = 1
    PRIORITY_SET_FROM_CALLABLE = 2
    PRIORITY_SET_FROM_SETTER = 3


P = HyperParameterPriority


def non_literal(source: str) -> NotLiteralEvaluable:
    """The value of a default that is not a literal: its source text, never executed.

    It is a ``NotLiteralEvaluable`` instance, as hpman's sentinel was.
    """
    return NotLiteralEvaluable("not a literal: {}".format(source), source=source)


_FIELDS = (
    "name",
    "value",
    "priority",
    "filename",
    "lineno",
    "col",
    "hints",
    "manager",
    "index",
    "provenance",
)


class HyperParameterOccurrence:
    """One occurrence of a hyperparameter.

    Fields read as attributes and as items (``row.name``, ``row["hints"]``):
    ``name``, ``value`` (``EmptyValue()`` when there is no default), ``priority``,
    ``filename``, ``lineno``, ``col`` (1-based), ``hints``, ``manager``,
    ``has_default_value``; ``ast_node`` and ``source_helper`` are rebuilt on demand.
    """

    __slots__ = _FIELDS

    def __init__(
        self,
        name: Optional[str] = None,
        value: Any = EMPTY,
        priority: int = P.PRIORITY_PARSED_FROM_SOURCE_CODE,
        filename: Optional[str] = None,
        lineno: Optional[int] = None,
        col: Optional[int] = None,
        hints: Optional[Dict[str, Any]] = None,
        manager: Optional[str] = None,
        index: Optional[int] = None,
        provenance: Any = None,
        ast_node: Any = None,
        source_helper: Any = None,
    ):
        # hpman's rows carry ast_node and source_helper; hpreg rebuilds both on
        # demand from filename and lineno, so given ones are not kept
        self.name = name
        self.value = value
        self.priority = priority
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.hints = {} if hints is None else hints
        self.manager = manager
        self.index = index
        self.provenance = provenance

    # -- dict-like access, as hpman's rows allow
    def __getitem__(self, key: str):
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __setitem__(self, key: str, value) -> None:
        setattr(self, key, value)

    def __contains__(self, key: str) -> bool:
        return hasattr(self, key)

    def get(self, key: str, default=None):
        return getattr(self, key, default)

    def keys(self):
        return list(_FIELDS) + ["has_default_value"]

    def as_dict(self) -> Dict[str, Any]:
        return {key: getattr(self, key) for key in _FIELDS}

    @property
    def has_default_value(self) -> bool:
        return not isinstance(self.value, EmptyValue)

    @property
    def col_offset(self) -> Optional[int]:
        """The 0-based column, as ``ast`` counts it."""
        return None if self.col is None else self.col - 1

    @property
    def source_lines(self) -> str:
        """The code around this occurrence, read from its file when asked for."""
        return self.excerpt()

    @property
    def is_literal(self) -> bool:
        return not isinstance(self.value, NotLiteralEvaluable)

    @property
    def value_priority(self) -> int:
        return self.priority * 10 - isinstance(self.value, EmptyValue)

    @property
    def location(self) -> str:
        """``path:line:col`` for display, paths relative to the working directory."""
        return _source.position(self.filename, self.lineno, self.col)

    @property
    def short_location(self) -> str:
        """``path:line`` for display."""
        return _source.position(self.filename, self.lineno)

    def excerpt(self, before: int = 5, after: int = 5) -> str:
        """The source lines around this occurrence, ``==>`` marking its line."""
        if self.lineno is None:
            return ""
        return _source.excerpt(self.filename, self.lineno, before, after)

    @property
    def ast_node(self) -> Optional[ast.AST]:
        """The default's AST node, re-parsed from the source on demand."""
        call = self._find_call()
        if call is None or len(call.args) < 2:
            return None
        return call.args[1]

    @property
    def source_helper(self):
        from hpreg.source_helper import SourceHelper

        return SourceHelper(_source.source_text(self.filename))

    def _find_call(self) -> Optional[ast.Call]:
        if self.lineno is None:
            return None
        import ast  # only hpman's ast_node needs it

        try:
            tree = ast.parse(_source.source_text(self.filename))
        except SyntaxError:
            return None
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and node.lineno == self.lineno
                and (self.col is None or node.col_offset + 1 == self.col)
            ):
                return node
        return None

    def __repr__(self):
        return "HyperParameterOccurrence(name={!r}, value={!r}, at={})".format(
            self.name, self.value, self.short_location
        )


class HyperParameterDB(list):
    """A list of occurrences with hpman's query helpers (``select``, ``group_by``...).

    Operations return new databases; rows are shared, not copied.
    """

    def copy(self) -> "HyperParameterDB":
        return HyperParameterDB(self)

    def select(self, where: Callable) -> "HyperParameterDB":
        """Rows for which ``where(row)`` is true."""
        return HyperParameterDB(row for row in self if where(row))

    def group_by(self, column: str) -> Dict[Any, "HyperParameterDB"]:
        """Rows grouped by the value of one column."""
        groups = collections.defaultdict(HyperParameterDB)
        for row in self:
            groups[_hashable(row[column])].append(row)
        return groups

    def indexing(self, idx: Union[int, List[int]]):
        """A row by position, or a database of rows by a list of positions."""
        if isinstance(idx, int):
            return self[idx]
        if isinstance(idx, list):
            return HyperParameterDB(self[i] for i in idx)
        raise IndexError("unknown index: {!r}".format(idx))

    def count(self, where: Callable) -> int:  # type: ignore[override]
        """How many rows match ``where``."""
        return sum(1 for row in self if where(row))

    def extract_column(self, column: str) -> List[Any]:
        return [row[column] for row in self]

    def choose_columns(self, *columns: str) -> "HyperParameterDB":
        return HyperParameterDB({c: row[c] for c in columns} for row in self)

    def apply(self, func: Callable) -> "HyperParameterDB":
        """Call ``func`` on every row (it may modify rows in place); returns self."""
        for row in self:
            func(row)
        return self

    def reduce(self, func: Callable, initial=EMPTY):
        if isinstance(initial, EmptyValue):
            if not self:
                raise ValueError("reduce() of an empty database with no initial value")
            return functools.reduce(func, self)
        return functools.reduce(func, self, initial)

    def empty(self) -> bool:
        return len(self) == 0

    def sorted(self, key: Callable = None, reverse: bool = False):
        """A new database sorted by ``key`` (see the builtin ``sorted``)."""
        return HyperParameterDB(sorted(self, key=key, reverse=reverse))

    def sort(self, key: Callable = None, reverse: bool = False):  # type: ignore
        """As in hpman: returns a new sorted database, leaves this one alone."""
        return self.sorted(key=key, reverse=reverse)

    def any(self, func: Callable) -> bool:
        return any(map(func, self))

    def all(self, func: Callable) -> bool:
        return all(map(func, self))

    def find_first(self, where: Callable):
        """The first row matching ``where``, or None."""
        for row in self:
            if where(row):
                return row
        return None

    def push_occurrence(self, occurrence, **_ignored) -> None:
        """Add a row; setter and call rows keep one slot per name and priority."""
        if occurrence.priority != P.PRIORITY_PARSED_FROM_SOURCE_CODE:
            for i, row in enumerate(self):
                if row.name == occurrence.name and row.priority == occurrence.priority:
                    occurrence.index = row.index
                    self[i] = occurrence
                    return
        occurrence.index = len(self)
        self.append(occurrence)


def _hashable(value):
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


class HyperParameterDBLambdas:
    """Predicates and helpers for ``HyperParameterDB`` queries (``L``)."""

    @staticmethod
    def value_priority(row):
        return -(row.priority * 10 - isinstance(row.value, EmptyValue))

    @staticmethod
    def order_by(column):
        return lambda row: row[column]

    @staticmethod
    def has_default_value(row):
        return not isinstance(row.value, EmptyValue)

    @staticmethod
    def exist_attr(attr):
        return lambda row: getattr(row, attr, None) is not None

    @staticmethod
    def of_name(name):
        return lambda row: row.name == name

    @staticmethod
    def of_name_prefix(prefix):
        return lambda row: row.name.startswith(prefix)

    @staticmethod
    def of_name_suffix(suffix):
        return lambda row: row.name.endswith(suffix)

    @staticmethod
    def of_value(value):
        return lambda row: row.value == value

    @staticmethod
    def of_priority(priority):
        return lambda row: row.priority == priority

    @staticmethod
    def of_filename(filename):
        return lambda row: row.filename == filename

    @staticmethod
    def apply_column(column, func):
        def apply(row):
            row[column] = func(row[column])

        return apply

    @staticmethod
    def land(*predicates):
        return lambda row: all(p(row) for p in predicates)

    @staticmethod
    def lor(*predicates):
        return lambda row: any(p(row) for p in predicates)

    @staticmethod
    def lnot(predicate):
        return lambda row: not predicate(row)


L = HyperParameterDBLambdas


class HyperParamNode:
    """All occurrences of one name, highest priority first (hpman's node)."""

    def __init__(
        self, name: str = "", occurrences: Iterable[HyperParameterOccurrence] = ()
    ):
        self.name = name
        self._db = sorted(occurrences, key=lambda o: -o.value_priority)

    def push(self, occurrence: HyperParameterOccurrence) -> None:
        """Add an occurrence; call and setter ones keep one slot per value priority."""
        rank = occurrence.value_priority
        if occurrence.priority == P.PRIORITY_PARSED_FROM_SOURCE_CODE:
            self._db.append(occurrence)
            self._db.sort(key=lambda o: -o.value_priority)
            return
        for i, row in enumerate(self._db):
            if row.value_priority == rank:
                self._db[i] = occurrence
                return
            if row.value_priority < rank:
                self._db.insert(i, occurrence)
                return
        self._db.append(occurrence)

    def get(self) -> Optional[HyperParameterOccurrence]:
        return self._db[0] if self._db else None

    @property
    def db(self) -> List[HyperParameterOccurrence]:
        return self._db

    @property
    def value(self):
        return self._db[0].value if self._db else EMPTY

    @property
    def empty(self) -> bool:
        return isinstance(self.value, EmptyValue)

    def _check_source_code_double_assigment(self, occurrence) -> None:
        """hpman's check: a second scanned default for this node raises."""
        for row in self._db:
            if (
                row.priority == P.PRIORITY_PARSED_FROM_SOURCE_CODE
                and row.has_default_value
            ):
                raise DoubleAssignmentException(
                    problem="conflicting defaults for '{}': {!r} at {} and {!r} at "
                    "{}".format(
                        occurrence.name,
                        row.value,
                        row.short_location,
                        occurrence.value,
                        occurrence.short_location,
                    ),
                    fix="keep one default",
                    name=occurrence.name,
                    first=row,
                    second=occurrence,
                )

    def __len__(self):
        return len(self._db)


class HyperParamTree:
    """hpman's tree of nodes by dotted name (``manager.tree`` is a snapshot of one).

    The manager keeps flat tables; this class is here for code written against
    hpman's ``tree`` (``count()``, ``empty``, ``get(name).is_leaf()``...).
    Changing a snapshot does not change the manager.
    """

    DICT_ANNOTATION = "__is_dict__"

    def __init__(self, separator: str = ".", name: str = ""):
        if len(separator) != 1:
            raise ValueError("separator must be one character")
        self.sep = separator
        self.name = name
        self.children: Dict[str, "HyperParamTree"] = {}
        self.node: Optional[HyperParamNode] = None

    def flatten(self):
        """The non-empty leaf nodes, depth first."""
        if self.is_leaf() and self.node is not None and not self.node.empty:
            yield self.node
        for child in self.children.values():
            yield from child.flatten()

    def count(self) -> int:
        return sum(1 for _node in self.flatten())

    @property
    def empty(self) -> bool:
        return not self.children and self.node is None

    def is_leaf(self) -> bool:
        return not self.children

    def is_branch(self) -> bool:
        return self.is_valid(strict=False) and bool(self.children)

    def is_valid(self, strict: bool = False) -> bool:
        """A node with both a value and children is valid only while that value
        is a default (not strict) rather than a set one."""
        if self.is_leaf() or self.node is None or self.node.empty:
            return True
        if not strict and self.node.get().priority < P.PRIORITY_SET_FROM_SETTER:
            return True
        return False

    def tree_values(self, annotate_dict: bool = False) -> Dict[str, Any]:
        values: Dict[str, Any] = {}
        for key, child in self.children.items():
            if child.is_leaf():
                value = child.node.value if child.node is not None else EMPTY
                if isinstance(value, dict) and annotate_dict:
                    value = dict(value, **{self.DICT_ANNOTATION: True})
                values[key] = value
            else:
                values[key] = child.tree_values(annotate_dict)
        return values

    def validate(self) -> bool:
        if not self.is_valid(strict=True):
            raise ImpossibleTree(
                problem="'{}' is both a value and a group".format(self.node.name),
                fix="rename one of them",
            )
        for child in self.children.values():
            child.validate()
        return True

    def push_occurrence(self, occurrence, *, source_helper=None) -> None:
        """Add an occurrence, with hpman's checks (one default, leaf or group)."""
        tree = self._allocate(occurrence.name)
        if tree.node is None:
            tree.node = HyperParamNode(occurrence.name)
        if (
            occurrence.priority == P.PRIORITY_PARSED_FROM_SOURCE_CODE
            and occurrence.has_default_value
        ):
            tree.node._check_source_code_double_assigment(occurrence)
        tree.node.push(occurrence)
        if not tree.is_valid(strict=True):
            raise ImpossibleTree(
                problem="'{}' is both a value and a group".format(occurrence.name),
                fix="rename one of them",
            )

    def _allocate(self, name: str) -> "HyperParamTree":
        tree = self
        for part in name.split(self.sep):
            child = tree.children.get(part)
            if child is None:
                child = tree.children[part] = HyperParamTree(self.sep, part)
            tree = child
        return tree

    def get(self, key: str) -> Optional["HyperParamTree"]:
        """The subtree at a dotted name, None when there is none."""
        tree: Optional[HyperParamTree] = self
        for part in key.split(self.sep) if key else ():
            tree = tree.children.get(part) if tree is not None else None
        return tree

    def __setitem__(self, key: str, value: Any) -> None:
        self.push_occurrence(
            HyperParameterOccurrence(
                name=key, value=value, priority=P.PRIORITY_SET_FROM_SETTER
            )
        )
