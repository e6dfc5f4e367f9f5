"""Scans that cover every manager at once (``hpreg.parse_file``)."""

import warnings
from typing import Dict, Iterable, List, Optional, Tuple

from hpreg.io import source as _source
from hpreg.io.paths import PathArg, as_path_list
from hpreg.errors import ScanWarning
from hpreg.registry.managers import get_manager
from hpreg.registry.manager import (
    HyperParameterManager,
    skipped_file_error,
)


def parse_file(
    path: PathArg,
    *,
    strict: bool = False,
    exclude: Iterable[str] = (),
    cache: bool = True,
) -> List[HyperParameterManager]:
    """Scan for every manager name imported from ``hpreg.m``; returns those managers.

    A call by ``hp`` lands in ``hpreg.m.hp``, a call by ``_`` in ``hpreg.m._``, so
    no declaration is missed because it was made through another manager. Names
    count when the scanned code or this process imports them from ``hpreg.m``
    (so bare calls through a project's re-export are found, as ``_.parse_file``
    finds them).
    """
    found, _problems = scan_all(path, strict=strict, exclude=exclude, cache=cache)
    return found


def parse_source(
    source: str, filename: str = "<unknown>", *, strict: bool = False
) -> List[HyperParameterManager]:
    """``parse_file`` for a string of code; returns the managers it declares into."""
    from hpreg.scan.scanner import scan_source

    _source.register_source(filename, source)
    scan = scan_source(source, filename, managers=None, extra=_zoo_names())
    found, _problems = _dispatch([scan], strict=strict, collect=False, stacklevel=3)
    return found


def scan_all(
    path: PathArg,
    *,
    strict: bool = False,
    exclude: Iterable[str] = (),
    cache: bool = True,
    collect: bool = False,
    into: Optional[Dict[str, HyperParameterManager]] = None,
    every_syntax_error: bool = False,
) -> Tuple[List[HyperParameterManager], List[Exception]]:
    """Scan for all managers; with ``collect=True`` problems are returned, not raised.

    ``every_syntax_error`` also parses the files the quick text check skips, to
    report those that do not parse (for the command line; slower on big trees).

    ``into`` maps manager names to the managers to fill (default: ``hpreg.m``'s,
    whose names then count in every file, as they do for ``_.parse_file``).
    """
    from hpreg.scan.scanner import scan_paths

    paths = as_path_list(path)
    for manager in get_managers_pool(into):
        manager._forget_deleted(paths)
    scans = scan_paths(
        paths,
        managers=None,
        exclude=exclude,
        cache=cache,
        extra=_zoo_names() if into is None else (),
    )
    found, problems = _dispatch(scans, strict=strict, collect=collect, into=into)
    if every_syntax_error:
        from hpreg.scan.scanner import unparsed_syntax_problems

        for filename, problem in unparsed_syntax_problems(scans):
            problems.append(skipped_file_error(filename, problem))
    return found, problems


def _dispatch(scans, strict: bool, collect: bool, into=None, stacklevel: int = 4):
    # stacklevel: warnings point at the user's call (scan_all adds one frame)
    touched: Dict[str, HyperParameterManager] = {}
    problems: List[Exception] = []

    def manager_for(name):
        if name not in touched:
            if into is None:
                touched[name] = get_manager(name)
            else:
                touched[name] = into.setdefault(name, HyperParameterManager(name))
        return touched[name]

    skipped = []
    for scan in scans:
        for problem in scan.problems:
            if problem.kind not in ("syntax", "unreadable"):
                continue
            error = skipped_file_error(
                scan.filename, problem, getattr(scan, "realpath", None), strict
            )
            if strict:
                raise error
            skipped.append(error)
            problems.append(error)
            if not collect:
                warnings.warn(str(error), ScanWarning, stacklevel=stacklevel)
        names = {call.manager for call in scan.calls}
        names |= {p.manager for p in scan.problems if p.manager}
        names |= set(scan.imports.values())
        for name in sorted(names):
            manager = manager_for(name)
            problems.extend(manager.ingest(scan, strict=strict, collect=collect))
    pool = get_managers_pool(into)
    for error in skipped:  # a file that no longer parses no longer declares anything
        for manager in pool:
            manager._forget_file(error.key)
    holders = list(touched.values()) or [manager_for("_")]
    for manager in holders:
        keys = {error.key for error in skipped}
        manager.scan_errors = [e for e in manager.scan_errors if e.key not in keys]
        manager.scan_errors.extend(skipped)
    return [touched[name] for name in sorted(touched)], problems


def _zoo_names() -> Tuple[str, ...]:
    """The manager names this process imported from ``hpreg.m``."""
    from hpreg.registry.managers import managers

    return tuple(sorted(managers().names()))


def get_managers_pool(into) -> List[HyperParameterManager]:
    """The managers a scan may have filled before: ``into``'s or ``hpreg.m``'s."""
    from hpreg.registry.managers import managers

    return list(into.values()) if into is not None else list(managers())
