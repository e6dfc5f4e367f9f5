"""The manager: one registry of hyperparameters per imported name (``hpreg.m._``).

It turns scan records into occurrences, enforces one default per name and the tree
rule for dotted names, and serves runtime values. Value priority, lowest first:
a scanned default, a runtime call's default, a value set (set_value, files, env,
command line, sweeps). Reading a value is a dict lookup on the hot path.
"""

from __future__ import annotations

import contextlib
import os
import sys

TYPE_CHECKING = False  # typing costs import time in every training job
if TYPE_CHECKING:
    from typing import Any, Dict, List, Mapping, Optional, Tuple

from hpreg.errors import (
    BadNameError,
    ImpossibleTree,
    MissingValueError,
)
from hpreg._text import did_you_mean, join_fix, suggestion
from hpreg.registry.checks import coerce_to_default
from hpreg.registry.occurrences import (
    EMPTY,
    EmptyValue,
    HyperParameterDB,
    HyperParameterOccurrence,
    HyperParamNode,
    HyperParamTree,
    P,
)
from hpreg.registry.provenance import Provenance
from hpreg.registry.ingest import ScanIngestion, skipped_file_error
from hpreg.registry.names import prefixes as _prefixes
from hpreg.registry.values import ValuesFileMixin

DICT_ANNOTATION = HyperParamTree.DICT_ANNOTATION


class HyperParameterManager(ScanIngestion, ValuesFileMixin):
    """A registry of hyperparameters declared as ``placeholder("name", default)``.

    Not thread-safe for writes; reads (``_("name")``) are plain dict lookups.
    """

    def __init__(self, placeholder: str = "_", separator: str = "."):
        if len(separator) != 1:
            raise ValueError("separator must be one character")
        self.placeholder = placeholder
        self.separator = separator
        self.reset()

    # -- lifecycle ---------------------------------------------------------------
    def reset(self) -> "HyperParameterManager":
        """Forget every occurrence and value (the object stays the same)."""
        self._values: Dict[str, Any] = {}  # effective leaf values: the hot path
        self._parsed: Dict[str, List[HyperParameterOccurrence]] = {}
        self._defaults: Dict[str, HyperParameterOccurrence] = {}
        self._called: Dict[str, HyperParameterOccurrence] = {}
        self._set: Dict[str, HyperParameterOccurrence] = {}
        # name -> (the default a call gave, the value then): _(name, default)'s
        # hot path, dropped whenever the name's value may change (``_refresh``)
        self._call_marks: Dict[str, Tuple[Any, Any]] = {}
        self._by_file: Dict[str, List[HyperParameterOccurrence]] = {}
        self._prefixes: Dict[str, int] = (
            {}
        )  # prefix -> number of scanned names under it
        self._order: Dict[str, None] = {}  # names in first-seen order
        self.scan_errors: List[Any] = []
        self._problems: List[Any] = []
        self._env_names: Dict[str, Any] = {}
        self._env_error: Optional[Exception] = None
        _apply_env_config(self)
        return self

    # -- runtime -------------------------------------------------------------------
    def __call__(self, hp_name: str, hp_value: Any = EMPTY, **hints: Any) -> Any:
        """The current value of ``hp_name``; a given default takes part at call priority."""
        try:
            if hp_value is EMPTY:
                return self._values[hp_name]
            default, value = self._call_marks[hp_name]
            if default is hp_value:  # the default this call site gave last time
                return value
        except (KeyError, TypeError):  # TypeError: an unhashable name
            pass
        return self._slow_call(hp_name, hp_value)

    def _slow_call(self, name: str, default: Any) -> Any:
        if not isinstance(name, str) or not name:
            raise self._bad_name(name)
        if not isinstance(default, EmptyValue):
            current = self._called.get(name)
            if current is None or not _same(current.value, default):
                frame = sys._getframe(2)
                self._called[name] = HyperParameterOccurrence(
                    name=name,
                    value=default,
                    priority=P.PRIORITY_SET_FROM_CALLABLE,
                    filename=frame.f_code.co_filename,
                    lineno=frame.f_lineno,
                    manager=self.placeholder,
                    provenance=Provenance(
                        "call", frame.f_code.co_filename, frame.f_lineno
                    ),
                )
                self._order.setdefault(name, None)
                self._refresh(name)
            value = self.get_value(name)
            if name in self._values and self._values[name] is value:  # a leaf
                self._call_marks[name] = (default, value)
            return value
        return self.get_value(name)

    def get_value(self, name: str, raise_exception: bool = True) -> Any:
        """The current value; a prefix of dotted names gives the nested dict under it.

        A name without any value raises a ``KeyError`` subclass (or returns
        ``EmptyValue()`` with ``raise_exception=False``).
        """
        try:
            return self._values[name]
        except (KeyError, TypeError):  # TypeError: an unhashable name
            pass
        if not isinstance(name, str) or not name:
            raise self._bad_name(name)
        if self._env_error is not None:
            raise self._env_error
        if self._has_set_under(name) or (
            name in self._prefixes and not self._has_value(name)
        ):
            return self.get_tree(name)
        if not raise_exception:
            return EmptyValue()
        raise self._missing_error(name)

    def _bad_name(self, name: Any) -> BadNameError:
        return BadNameError(
            "the name of a hyperparameter must be a non-empty string, not {!r}; "
            'write {}("name", <default>)'.format(name, self.placeholder),
            name=name,
        )

    def _missing_error(self, name: str) -> MissingValueError:
        rows = self._parsed.get(name)
        suggestions: List[str] = []
        if rows:
            places = ", ".join(o.short_location for o in rows[:3])
            problem = (
                "hyperparameter '{}' has no value: it is used at {} without a default "
                "and was never set".format(name, places)
            )
            fix = 'give it a default once, e.g. _("{}", <default>)'.format(name)
        else:
            suggestions = did_you_mean(name, self.known_names())
            problem = (
                "hyperparameter '{}' has no value: no default was found and it was "
                "never set".format(name)
            )
            fix = join_fix(
                suggestion(suggestions),
                'give it a default, e.g. _("{}", <default>), and scan the file that '
                "declares it".format(name),
            )
        return MissingValueError(
            problem=problem, fix=fix, name=name, suggestions=suggestions
        )

    def exists(self, hp_name: str) -> bool:
        """Whether the hyperparameter has a value."""
        return not isinstance(
            self.get_value(hp_name, raise_exception=False), EmptyValue
        )

    def get_occurrence(self, name: str) -> Optional[HyperParameterOccurrence]:
        """The occurrence that gives the current value, or None."""
        for table in (self._set, self._called, self._defaults):
            occurrence = table.get(name)
            if occurrence is not None:
                return occurrence
        rows = self._parsed.get(name)
        return rows[0] if rows else None

    get_occurrence_of_value = get_occurrence

    def get_occurrences(self, name: str) -> List[HyperParameterOccurrence]:
        """Every scanned occurrence of ``name``, in scan order."""
        return list(self._parsed.get(name, ()))

    def get_values(self) -> Dict[str, Any]:
        """Every hyperparameter that has a value, by flat dotted name."""
        if self._env_error is not None:
            raise self._env_error
        values = {}
        for name in self._order:
            value = self._effective(name)
            if isinstance(value, EmptyValue):
                continue
            if name not in self._set and self._has_set_under(name):
                continue  # a group set at runtime replaces a scanned dict value
            values[name] = value
        return values

    def get_nodes(self) -> List[HyperParamNode]:
        """hpman's nodes: every occurrence of each name that has a value."""
        nodes = []
        for name in self._order:
            rows = list(self._parsed.get(name, ()))
            for table in (self._called, self._set):
                if name in table:
                    rows.append(table[name])
            node = HyperParamNode(name, rows)
            if not node.empty:
                nodes.append(node)
        return nodes

    def names(self) -> List[str]:
        """Names found by a scan, in scan order."""
        return [name for name in self._order if name in self._parsed]

    def get_tree(self, prefix: str = "", annotate_dict: bool = False) -> Dict[str, Any]:
        """Values nested by dotted names, optionally below ``prefix``."""
        values = self.get_values()
        self._check_set_tree()
        tree: Dict[str, Any] = {}
        start = prefix + self.separator if prefix else ""
        for name, value in values.items():
            if start and not name.startswith(start):
                continue
            parts = name[len(start) :].split(self.separator)
            if self._has_set_under(name):
                continue  # a branch set at runtime replaces a scanned leaf
            level = tree
            for part in parts[:-1]:
                child = level.get(part)
                if not isinstance(child, dict) or _is_value_dict(child):
                    child = level[part] = {}
                level = child
            if isinstance(value, dict) and annotate_dict:
                value = dict(value, **{DICT_ANNOTATION: True})
            level[parts[-1]] = value
        return tree

    def _check_set_tree(self) -> None:
        for name in self._set:
            for prefix in _prefixes(name, self.separator):
                if prefix in self._set:
                    raise ImpossibleTree(
                        problem="'{}' is set both as a value and as a group of "
                        "'{}'".format(prefix, name),
                        fix="set one of them",
                        name=prefix,
                    )

    # -- setting values ---------------------------------------------------------------
    def set_value(
        self, name: str, value: Any, provenance: Optional[Provenance] = None
    ) -> "HyperParameterManager":
        """Set a value at the highest priority; ``provenance`` says where it came
        from (``Provenance("set")``, a call in code, when not given)."""
        return self._set_value(name, value, provenance or Provenance("set"))

    def set_values(self, values: Mapping[str, Any]) -> "HyperParameterManager":
        """Set several values (flat dotted names) at the highest priority."""
        for name, value in values.items():
            self._set_value(name, value, Provenance("set"))
        return self

    def set_tree(self, tree_values: Mapping[str, Any], prefix: str = ""):
        """Set values given as a nested dict (dotted names spelled as nesting)."""
        if not isinstance(prefix, str):
            raise TypeError("tree prefix must be a string")
        return self.set_values(self.flatten_tree(tree_values, prefix))

    def flatten_tree(self, tree: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
        """Nested names to flat dotted ones; a known leaf keeps a dict value whole."""
        from hpreg.io.tree import flatten_nested

        def keep_whole(name: str, node: dict) -> bool:
            return bool(node.get(DICT_ANNOTATION)) or self._is_known_leaf(name, node)

        flat = flatten_nested(
            dict(tree), self.separator, prefix, keep_whole, strict_keys=True
        )
        for name, value in flat.items():
            if isinstance(value, dict) and DICT_ANNOTATION in value:
                flat[name] = {k: v for k, v in value.items() if k != DICT_ANNOTATION}
        return flat

    def _is_known_leaf(self, name: str, value: dict) -> bool:
        if name in self._prefixes:
            return False
        default = self._effective(name)
        return isinstance(default, dict) or name in self._parsed

    def _set_value(self, name: str, value: Any, provenance: Provenance):
        for prefix in _prefixes(name, self.separator):
            if prefix in self._set:
                raise ImpossibleTree(
                    problem="cannot set '{}': '{}' is already set as a value".format(
                        name, prefix
                    ),
                    fix="set '{}' as a whole or reset it".format(prefix),
                    name=name,
                )
        if name in self._prefixes or self._has_set_under(name):
            raise ImpossibleTree(
                problem="cannot set '{}' to a value: it is a group of other "
                "hyperparameters ({})".format(
                    name, ", ".join(self.names_under(name)[:3])
                ),
                fix="set those names instead",
                name=name,
            )
        self._set[name] = HyperParameterOccurrence(
            name=name,
            value=value,
            priority=P.PRIORITY_SET_FROM_SETTER,
            manager=self.placeholder,
            provenance=provenance,
            filename=provenance.filename,
            lineno=provenance.lineno,
        )
        self._order.setdefault(name, None)
        self._refresh(name)
        for prefix in _prefixes(name, self.separator):
            # a set branch hides a scanned leaf dict
            self._values.pop(prefix, None)
            self._call_marks.pop(prefix, None)
        return self

    def unset(self, name: str) -> "HyperParameterManager":
        """Drop a value set at runtime, falling back to the call or scanned default."""
        self._set.pop(name, None)
        self._refresh(name)
        for prefix in _prefixes(name, self.separator):
            self._refresh(prefix)
        return self

    @contextlib.contextmanager
    def override(self, point: Mapping[str, Any], source: str = "sweep"):
        """Apply ``point`` for the duration of a ``with`` block, then restore."""
        saved = {name: self._set.get(name) for name in point}
        try:
            for name, value in point.items():
                self._set_value(name, self._fitted(name, value), Provenance(source))
            yield self
        finally:
            for name, previous in saved.items():
                if previous is None:
                    self.unset(name)
                else:
                    self._set[name] = previous
                    self._refresh(name)

    def _fitted(self, name: str, value: Any) -> Any:
        """``value`` in its default's type where that is lossless (1 -> 1.0, [..] -> (..)).

        Values no check has seen (a sweep point, ``$HPREG_CONFIG`` before a scan)
        keep their own type when they do not fit; checks report those.
        """
        try:
            return coerce_to_default(name, value, self.get_default(name))
        except TypeError:
            return value

    def _fit_to_default(self, name: str) -> None:
        """A value from ``$HPREG_CONFIG`` set before the scan found its default."""
        if isinstance(self._defaults[name].value, dict):
            self._regroup_env_dict(name)
        occurrence = self._set.get(name)
        if occurrence is not None and occurrence.provenance.source == "env":
            occurrence.value = self._fitted(name, occurrence.value)
            self._refresh(name)

    def _regroup_env_dict(self, name: str) -> None:
        # $HPREG_CONFIG was read before any scan, so ``opts: {a: 1}`` was set as
        # ``opts.a``; once ``opts`` is known to hold a dict, it is one value again
        start = name + self.separator
        parts = [
            (key, occurrence)
            for key, occurrence in self._set.items()
            if key.startswith(start) and occurrence.provenance.source == "env"
        ]
        mixed = any(
            key.startswith(start) and occurrence.provenance.source != "env"
            for key, occurrence in self._set.items()
        )
        if not parts or mixed or name in self._set:
            return
        value: Dict[str, Any] = {}
        for key, occurrence in parts:
            level = value
            *groups, leaf = key[len(start) :].split(self.separator)
            for group in groups:
                if not isinstance(level.get(group), dict):
                    level[group] = {}
                level = level[group]
            level[leaf] = occurrence.value
            del self._set[key]
            self._env_names.pop(key, None)
            self._refresh(key)
        provenance = parts[0][1].provenance
        self._set_value(name, value, provenance)
        self._env_names[name] = value

    def get_default(self, name: str) -> Any:
        """The scanned default (or a runtime call's), ``EmptyValue()`` when none."""
        occurrence = self._defaults.get(name) or self._called.get(name)
        return occurrence.value if occurrence is not None else EmptyValue()

    def get_hints(self, name: str) -> Dict[str, Any]:
        """Hints of every scanned occurrence of ``name``, merged in scan order."""
        hints: Dict[str, Any] = {}
        for occurrence in self._parsed.get(name, ()):
            hints.update(occurrence.hints or {})
        return hints

    def unknown(self) -> Dict[str, List[str]]:
        """Names set or loaded but never found by a scan, with their close matches."""
        known = set(self._parsed)
        return {
            name: did_you_mean(name, known)
            for name in self._set
            if name not in known and not self._has_known_under(name)
        }

    def provenance(self, name: str) -> Provenance:
        """Where the current value of ``name`` came from."""
        occurrence = self._set.get(name)
        if occurrence is not None:
            return occurrence.provenance
        called, scanned = self._called.get(name), self._defaults.get(name)
        if called is not None and not (
            scanned is not None and _same(scanned.value, called.value)
        ):
            return called.provenance  # a call default that differs from the scan's
        occurrence = scanned
        if occurrence is not None:
            return Provenance("default", occurrence.filename, occurrence.lineno)
        raise self._missing_error(name)

    # -- listings and the occurrence database ------------------------------------------
    def listing(self, fmt: str = "table") -> str:
        """All hyperparameters as ``table``, ``detail``, ``yaml`` or ``json`` text."""
        from hpreg.registry.listing import render

        return render([self], fmt)

    @property
    def db(self) -> HyperParameterDB:
        """Every occurrence (scanned, call defaults, set values) as a queryable list."""
        db = HyperParameterDB()
        for name in self._order:
            for occurrence in self._parsed.get(name, ()):
                db.push_occurrence(occurrence)
            for table in (self._called, self._set):
                if name in table:
                    db.push_occurrence(table[name])
        return db

    @property
    def tree(self) -> HyperParamTree:
        """hpman's ``tree``: a snapshot of every occurrence, nested by dotted name."""
        tree = HyperParamTree(self.separator)
        for occurrence in self.db:
            branch = tree._allocate(occurrence.name)
            if branch.node is None:
                branch.node = HyperParamNode(occurrence.name)
            branch.node.push(occurrence)
        return tree

    def sweep(self, sweep):
        """``sweep`` checked against this registry (see ``hpreg.validate``)."""
        # the sweep layer sits above the registry: the sweep checks itself
        return sweep.checked_against(self)

    # -- the registry protocol (validation, the runner, the optimizer) ----------------
    def known_names(self) -> set:
        """Every name a scan found or a runtime call declared."""
        return set(self._parsed) | set(self._called)

    def scanned_default(self, name: str) -> Optional[HyperParameterOccurrence]:
        """The occurrence that declares ``name``'s default in code, or ``None``."""
        return self._defaults.get(name)

    def names_under(self, prefix: str) -> List[str]:
        """Known names in the group ``prefix`` (``model`` -> ``model.width``...)."""
        start = prefix + self.separator
        return [n for n in self._order if n.startswith(start)]

    # -- internals -------------------------------------------------------------------
    def _has_known_under(self, name: str) -> bool:
        return name in self._prefixes

    def _has_set_under(self, name: str) -> bool:
        if not self._set:
            return False
        start = name + self.separator
        return any(n.startswith(start) for n in self._set)

    def _has_value(self, name: str) -> bool:
        return name in self._set or name in self._called or name in self._defaults

    def _effective(self, name: str) -> Any:
        for table in (self._set, self._called, self._defaults):
            occurrence = table.get(name)
            if occurrence is not None:
                return occurrence.value
        return EMPTY

    def _refresh(self, name: str) -> None:
        self._call_marks.pop(name, None)  # it holds the value the call path returns
        value = self._effective(name)
        if isinstance(value, EmptyValue) or (
            name not in self._set and self._has_set_under(name)
        ):
            self._values.pop(name, None)
        elif self._env_error is None:  # else every read goes the slow way and raises
            self._values[name] = value
        if not self._has_value(name) and name not in self._parsed:
            self._order.pop(name, None)

    def __repr__(self):
        return "<HyperParameterManager {!r}: {} hyperparameters>".format(
            self.placeholder, len(self._order)
        )


# -- helpers -------------------------------------------------------------------------
def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # an odd __eq__ (arrays): treat as changed
        return False


def _is_value_dict(node: dict) -> bool:
    return DICT_ANNOTATION in node


def _apply_env_config(manager: HyperParameterManager) -> None:
    """Values from ``$HPREG_CONFIG`` take effect as soon as a manager exists."""
    path = os.environ.get("HPREG_CONFIG")
    if not path:
        return
    from hpreg.errors import ValuesFileError
    from hpreg.registry.env import env_values

    try:
        values = env_values(path, manager.separator)
    except ValuesFileError as error:
        # ``from hpreg.m import _`` must not fail: the first value read raises it
        manager._env_error = error
        return
    from hpreg._text import join_fix
    from hpreg.errors import HpregError
    from hpreg.io.source import display_path

    for name, value in values.items():
        try:
            manager._set_value(name, value, Provenance("env", path))
        except HpregError as error:  # `lr: 1` and `lr.x: 2`: not one tree
            for done in list(manager._env_names):
                manager.unset(done)
            manager._env_names.clear()
            manager._env_error = error.replace(
                where="{}: {}".format(display_path(path), name),
                fix=join_fix(error.fix, "(the file $HPREG_CONFIG names)"),
            )
            return
        manager._env_names[name] = value


__all__ = ["HyperParameterManager", "skipped_file_error"]
