"""Scans that cover every manager at once (``hpreg.parse_file``)."""

from typing import Iterable, List

from . import _source
from .manager import PathArg, _as_path_list, get_manager, managers


def parse_file(
    path: PathArg,
    *,
    strict: bool = False,
    exclude: Iterable[str] = (),
    cache: bool = True,
    collect: bool = False,
) -> List:
    """Scan for every manager name imported from ``hpreg.m``; returns those managers.

    A call by ``hp`` lands in ``hpreg.m.hp``, a call by ``_`` in ``hpreg.m._``, so
    no declaration is missed because it was made through another manager.
    """
    from .scanner import scan_paths

    names = set(managers().names())
    scans = scan_paths(
        _as_path_list(path), managers=None, exclude=exclude, cache=cache, extra=names
    )
    return _dispatch(scans, strict, collect)


def parse_source(source: str, filename: str = "<unknown>", *, strict: bool = False):
    """``parse_file`` for a string of code; returns the managers it declares into."""
    from .scanner import scan_source

    _source.register_source(filename, source)
    names = set(managers().names())
    scan = scan_source(source, filename, managers=None, extra=names)
    return _dispatch([scan], strict, False)


def _dispatch(scans, strict: bool, collect: bool) -> List:
    touched = {}
    for scan in scans:
        names = {call.manager for call in scan.calls}
        names |= {p.manager for p in scan.problems if p.manager}
        names |= set(scan.imports.values())
        for name in sorted(names):
            manager = touched.setdefault(name, get_manager(name))
            manager._ingest(scan, strict=strict, collect=collect)
        if not names and any(p.kind == "syntax" for p in scan.problems):
            manager = touched.setdefault("_", get_manager("_"))
            manager._ingest(scan, strict=strict, collect=collect)
    return [touched[name] for name in sorted(touched)]
