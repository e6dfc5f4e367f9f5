"""Scans that cover every manager at once (``hpreg.parse_file``)."""

import warnings
from typing import Dict, Iterable, List, Optional, Tuple

from . import _source
from .errors import ScanError, ScanWarning
from .manager import HyperParameterManager, PathArg, _as_path_list, get_manager


def parse_file(
    path: PathArg,
    *,
    strict: bool = False,
    exclude: Iterable[str] = (),
    cache: bool = True,
) -> List[HyperParameterManager]:
    """Scan for every manager name imported from ``hpreg.m``; returns those managers.

    A call by ``hp`` lands in ``hpreg.m.hp``, a call by ``_`` in ``hpreg.m._``, so
    no declaration is missed because it was made through another manager.
    """
    found, _problems = scan_all(path, strict=strict, exclude=exclude, cache=cache)
    return found


def parse_source(
    source: str, filename: str = "<unknown>", *, strict: bool = False
) -> List[HyperParameterManager]:
    """``parse_file`` for a string of code; returns the managers it declares into."""
    from .scanner import scan_source

    _source.register_source(filename, source)
    scan = scan_source(source, filename, managers=None)
    found, _problems = _dispatch([scan], strict=strict, collect=False)
    return found


def scan_all(
    path: PathArg,
    *,
    strict: bool = False,
    exclude: Iterable[str] = (),
    cache: bool = True,
    collect: bool = False,
    into: Optional[Dict[str, HyperParameterManager]] = None,
) -> Tuple[List[HyperParameterManager], List[Exception]]:
    """Scan for all managers; with ``collect=True`` problems are returned, not raised.

    ``into`` maps manager names to the managers to fill (default: ``hpreg.m``'s).
    """
    from .scanner import scan_paths

    scans = scan_paths(_as_path_list(path), managers=None, exclude=exclude, cache=cache)
    return _dispatch(scans, strict=strict, collect=collect, into=into)


def _dispatch(scans, strict: bool, collect: bool, into=None):
    touched: Dict[str, HyperParameterManager] = {}
    problems: List[Exception] = []

    def manager_for(name):
        if name not in touched:
            if into is None:
                touched[name] = get_manager(name)
            else:
                touched[name] = into.setdefault(name, HyperParameterManager(name))
        return touched[name]

    for scan in scans:
        syntax = [p for p in scan.problems if p.kind == "syntax"]
        for problem in syntax:
            error = _syntax_error(scan.filename, problem)
            if strict:
                raise error
            problems.append(error)
            if not collect:
                warnings.warn(str(error), ScanWarning, stacklevel=3)
        names = {call.manager for call in scan.calls}
        names |= {p.manager for p in scan.problems if p.manager}
        names |= set(scan.imports.values())
        for name in sorted(names):
            manager = manager_for(name)
            manager._ingest(scan, strict=strict, collect=collect)
            if collect:
                problems.extend(manager.problems)
                manager.problems = []
    return [touched[name] for name in sorted(touched)], problems


def _syntax_error(filename: str, problem) -> ScanError:
    where = _source.display_path(filename)
    message = "{}:{}: skipped, {}; fix it, or scan without this file".format(
        where, problem.lineno, problem.message
    )
    return ScanError(message, filename, problem.lineno, problem.col, problem.code)
