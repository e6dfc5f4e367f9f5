"""Static scan: find manager calls (``_("name", default, **hints)``) with ``ast``.

Owns the public API, file walking, the text prefilter and the cache; it never runs the
scanned code. Scopes: ``_scopes``; call records: ``_call_walk``, ``_scan_records``.
"""

import ast
import errno
import fnmatch
import functools
import io
import os
import re
import tokenize
import warnings
from typing import Any, Dict, FrozenSet, Iterable, Iterator, List, Optional, Set, Tuple

from hpreg.scan import cache as _scan_cache
from hpreg.scan.calls import _FileScanner, _names_alternation, _short, _Text
from hpreg.scan.records import Call, FileScan, Problem  # noqa: F401 (public API)
from hpreg.scan.scopes import I18N_MODULES  # noqa: F401 (public API)

SCANNER_VERSION = "1"

SKIP_DIRS = frozenset(
    {"venv", "__pycache__", "build", "dist", "node_modules", "site-packages"}
)

PathLike = Any  # str, os.PathLike, or an iterable of them


# -- one source ----------------------------------------------------------------------
def _syntax_problem(error: BaseException, text: Optional[str] = None) -> Problem:
    msg = getattr(error, "msg", None) or str(error)
    lineno = getattr(error, "lineno", None)
    if lineno is None and text is not None and "\0" in text:
        lineno = text.count("\n", 0, text.index("\0")) + 1
        msg = "the file contains a null byte"
    if not msg:  # MemoryError, RecursionError: no message of their own
        msg = "cannot be parsed: {}".format(
            {
                MemoryError: "out of memory (is the code nested too deeply?)",
                RecursionError: "the code is nested too deeply",
            }.get(type(error), type(error).__name__)
        )
    elif not msg.startswith("invalid syntax"):
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
@functools.lru_cache(maxsize=64)
def _candidate_pattern(names: FrozenSet[str]) -> Optional["re.Pattern[str]"]:
    if not names:
        return None
    # a bare call ``name(``, allowing spaces, continuations, comments, ``(name)(``
    return re.compile(
        r"(?:{})(?:[\s)\\]|#[^\n\r]*)*\(".format(_names_alternation(names, r"[\w.]"))
    )


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
    """``excluded(relative, base, path)``: whether a glob matches the path relative to
    the scanned folder or the basename; a glob with a folder in it also matches the
    path as given or relative to the working directory, an absolute glob the
    absolute path."""
    patterns = [p for p in ([exclude] if isinstance(exclude, str) else exclude) if p]
    patterns = [_clean_pattern(p) for p in patterns]
    if not patterns:
        return lambda relative, base, path=None: False

    def compile_(group):
        if not group:
            return lambda candidate: False
        regex = re.compile("|".join(fnmatch.translate(p) for p in group))
        return lambda candidate: bool(regex.match(os.path.normcase(candidate)))

    absolute = compile_([p for p in patterns if os.path.isabs(p)])
    relative_globs = [p for p in patterns if not os.path.isabs(p)]
    local = compile_(relative_globs)
    pathlike = compile_([p for p in relative_globs if "/" in p or os.sep in p])

    def excluded(relative: str, base: str, path: Optional[str] = None) -> bool:
        if local(relative) or local(base):
            return True
        if path is None:
            return False
        full = os.path.abspath(path)
        if absolute(full) or pathlike(os.path.normpath(path)):
            return True
        try:
            return pathlike(os.path.relpath(full))
        except ValueError:  # another drive (Windows)
            return False

    return excluded


def _clean_pattern(pattern: str) -> str:
    # "gen/", "./gen/*" and "gen" name the same folder
    pattern = os.path.normcase(os.fspath(pattern))
    while pattern.startswith("." + os.sep) or pattern.startswith("./"):
        pattern = pattern[2:]
    return pattern.rstrip("/" + os.sep) or pattern


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
                if (
                    name.startswith(".")
                    or name in SKIP_DIRS
                    or excluded(rel, name, entry.path)
                ):
                    continue
                pending.append((rel, entry.path, os.path.join(real, name)))
            elif name.endswith(".py") and not excluded(rel, name, entry.path):
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
            if excluded(relative, os.path.basename(path), path):
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


def unparsed_syntax_problems(scans: List[FileScan]) -> List[Tuple[str, Problem]]:
    """``(filename, problem)`` for files the prefilter never parsed that do not parse.

    Scans skip such files for speed (they cannot declare anything); the strict
    tools (``hpreg lint``, ``hpreg list``) still want to say a file is broken.
    """
    out = []
    for scan in scans:
        if scan.calls or scan.imports or scan.problems or scan.filename.startswith("<"):
            continue
        data, problem = _read(scan.filename)
        if problem is None:
            text, problem = _decode(data)
            if problem is None:
                found = scan_source(text, scan.filename, managers=[]).problems
                problem = next((p for p in found if p.kind == "syntax"), None)
        if problem is not None:
            out.append((scan.filename, problem))
    return out
