"""Scans into a manager: parse files or source, ingest scan records as occurrences.

One default per name (a second is a ``DoubleAssignmentException`` naming both
places), the tree rule for dotted names (a name is a value or a group, not both),
and a file scanned again replaces what it gave before.
"""

from __future__ import annotations

import os
import warnings

TYPE_CHECKING = False  # typing costs import time in every training job
if TYPE_CHECKING:
    from typing import Any, Iterable, List, Optional

    from hpreg.io.paths import PathArg

from hpreg.errors import (
    BadCallError,
    DoubleAssignmentException,
    ImpossibleTree,
    NotLiteralEvaluable,
    NotLiteralNameException,
    ScanError,
    ScanWarning,
)
from hpreg.io import source as _source
from hpreg.registry.names import prefixes as _prefixes
from hpreg.registry.occurrences import (
    EmptyValue,
    HyperParameterOccurrence,
    P,
    non_literal,
)


class ScanIngestion:
    """The static-scan half of ``HyperParameterManager`` (a mixin: it works on the
    manager's tables)."""

    # -- static scan ----------------------------------------------------------------
    def parse_file(
        self,
        path: PathArg,
        *,
        strict: bool = False,
        exclude: Iterable[str] = (),
        cache: bool = True,
    ) -> "ScanIngestion":
        """Scan a file, a directory (recursively) or a list of both for this manager's calls.

        Re-scanning a file replaces its earlier occurrences. A file that does not
        parse is skipped with a ``ScanWarning`` (``strict=True`` raises instead).
        """
        from hpreg.io.paths import as_path_list
        from hpreg.scan.scanner import scan_paths

        scans = scan_paths(
            as_path_list(path),
            managers=[self.placeholder],
            exclude=exclude,
            cache=cache,
        )
        self._forget_deleted(as_path_list(path))
        for scan in scans:
            self.ingest(scan, strict=strict)
        return self

    def parse_source(
        self, source: str, filename: str = "<unknown>", *, strict: bool = False
    ) -> "ScanIngestion":
        """Scan a string of Python code as if it were the file ``filename``."""
        from hpreg.scan.scanner import scan_source

        _source.register_source(filename, source)
        self.ingest(scan_source(source, filename, managers=[self.placeholder]), strict)
        return self

    def ingest(self, scan, strict: bool = False, collect: bool = False) -> list:
        """Add one file's scan records, replacing what that file gave before.

        Returns that file's problems (second defaults, non-literal names...):
        with ``collect`` they are gathered instead of raised or warned about.
        """
        self._problems = []
        key = getattr(scan, "realpath", None) or scan.filename
        self._forget_file(key)
        self.scan_errors = [e for e in self.scan_errors if e.key != key]
        self._current_key = key
        _source.forget_file(scan.filename)
        for problem in scan.problems:
            if problem.manager not in (None, self.placeholder):
                continue
            self._handle_problem(scan.filename, problem, strict, collect)
        added = self._by_file.setdefault(key, [])
        for call in scan.calls:
            if call.manager != self.placeholder:
                continue
            occurrence = HyperParameterOccurrence(
                name=call.name,
                value=_call_value(call),
                priority=P.PRIORITY_PARSED_FROM_SOURCE_CODE,
                filename=scan.filename,
                lineno=call.lineno,
                col=call.col,
                hints=call.hints,
                manager=self.placeholder,
            )
            try:
                self._add_parsed(occurrence, added)
            except (DoubleAssignmentException, ImpossibleTree) as error:
                if not collect:
                    raise
                self._problems.append(error)
        problems, self._problems = self._problems, []
        return problems

    def _handle_problem(self, filename, problem, strict, collect):
        if problem.kind in ("syntax", "unreadable"):
            error = skipped_file_error(filename, problem, self._current_key, strict)
            if strict:
                raise error
            self.scan_errors.append(error)
            if not collect:
                warnings.warn(str(error), ScanWarning, stacklevel=4)
            else:
                self._problems.append(error)
            return
        error_class = {
            "non_literal_name": NotLiteralNameException,
            "non_literal_hint": NotLiteralEvaluable,
            "arg_count": BadCallError,
        }.get(problem.kind)
        if error_class is None:  # e.g. shadowing: only lint reports it
            return
        error = error_class(
            where=_source.position(filename, problem.lineno, problem.col),
            problem=problem.message,
            filename=filename,
            lineno=problem.lineno,
            col=problem.col,
            code=getattr(problem, "code", None),
        )
        if not collect:
            raise error
        self._problems.append(error)

    def _forget_deleted(self, paths: List[str]) -> None:
        """Forget files under the scanned folders that no longer exist (a file
        renamed between two scans would otherwise declare its defaults twice)."""
        folders = [
            os.path.join(os.path.realpath(p), "") for p in paths if os.path.isdir(p)
        ]
        if not folders:
            return
        keys = {key for key, rows in self._by_file.items() if rows}
        keys |= {error.key for error in self.scan_errors}
        for key in keys:
            if (
                os.path.isabs(key)
                and any(key.startswith(folder) for folder in folders)
                and not os.path.exists(key)
            ):
                self._forget_file(key)
                self.scan_errors = [e for e in self.scan_errors if e.key != key]

    def _forget_file(self, key: str) -> None:
        for occurrence in self._by_file.pop(key, ()):
            name = occurrence.name
            rows = self._parsed.get(name)
            if rows is None:
                continue
            rows.remove(occurrence)
            if self._defaults.get(name) is occurrence:
                del self._defaults[name]
            if not rows:
                del self._parsed[name]
                for prefix in _prefixes(name, self.separator):
                    self._prefixes[prefix] -= 1
                    if not self._prefixes[prefix]:
                        del self._prefixes[prefix]
            self._refresh(name)

    def _add_parsed(self, occurrence, file_rows) -> None:
        name = occurrence.name
        self._check_tree(occurrence)
        if occurrence.has_default_value:
            first = self._defaults.get(name)
            if first is not None:
                raise DoubleAssignmentException(
                    problem="conflicting defaults for '{}': {!r} at {} and {!r} at "
                    "{}".format(
                        name,
                        first.value,
                        first.short_location,
                        occurrence.value,
                        occurrence.short_location,
                    ),
                    fix='keep one default and write _("{}") elsewhere'.format(name),
                    name=name,
                    first=first,
                    second=occurrence,
                )
            self._defaults[name] = occurrence
            self._fit_to_default(name)
        rows = self._parsed.get(name)
        if rows is None:
            rows = self._parsed[name] = []
            for prefix in _prefixes(name, self.separator):
                self._prefixes[prefix] = self._prefixes.get(prefix, 0) + 1
        rows.append(occurrence)
        file_rows.append(occurrence)
        self._order.setdefault(name, None)
        self._refresh(name)

    def _check_tree(self, occurrence) -> None:
        name = occurrence.name
        if name in self._prefixes and name not in self._parsed:
            other = self._first_under(name)
            raise _tree_error(name, occurrence, other)
        for prefix in _prefixes(name, self.separator):
            rows = self._parsed.get(prefix)
            if rows:
                raise _tree_error(prefix, rows[0], occurrence)

    def _first_under(self, prefix: str) -> HyperParameterOccurrence:
        start = prefix + self.separator
        for name, rows in self._parsed.items():
            if name.startswith(start) and rows:
                return rows[0]
        raise LookupError(prefix)


def skipped_file_error(
    filename: str, problem, key: Optional[str] = None, strict: bool = False
) -> ScanError:
    """The error (or warning text) for a file a scan skipped because it does not parse."""
    position = _source.position(filename, problem.lineno, problem.col)
    fix = "scan without this file" if strict else "use strict=True to stop here"
    error = ScanError(
        filename=filename,
        lineno=problem.lineno,
        offset=problem.col,
        text=getattr(problem, "code", None),
        where=position,
        problem="skipped, {}".format(problem.message),
        fix="fix it, or {}".format(fix),
    )
    error.col = problem.col
    error.key = key or filename
    return error


def _call_value(call) -> Any:
    if not call.has_default:
        return EmptyValue()
    if call.value_source is not None:
        return non_literal(call.value_source)
    return call.value


def _tree_error(prefix, leaf, under) -> ImpossibleTree:
    return ImpossibleTree(
        problem="'{}' is a value at {} and a group of '{}' at {}".format(
            prefix, leaf.short_location, under.name, under.short_location
        ),
        fix="rename one of them",
        name=prefix,
        first=leaf,
        second=under,
    )
