"""Static scan: find manager calls (``_("name", default, **hints)``) with ``ast``.

Owns the public API, file walking, the text prefilter and the cache; it never runs the
scanned code. Scopes: ``_scopes``; call records: ``_call_walk``, ``_scan_records``.
"""

import ast
import contextlib
import errno
import fnmatch
import functools
import gc
import io
import os
import re
import tokenize
import warnings
from typing import Any, Dict, FrozenSet, Iterable, Iterator, List, Optional, Set, Tuple

from hpreg.scan import cache as _scan_cache
from hpreg.scan.calls import (
    CALL_TAIL,
    LATER,
    _attribute_pattern,
    _FileScanner,
    link_uses,
    restrict_uses,
    _names_alternation,
    _short,
    _Text,
    _word_pattern,
)
from hpreg.scan.project import Project
from hpreg.scan.records import SKIPPED_KINDS, Call, FileScan, Problem  # noqa: F401
from hpreg.scan.scopes import I18N_MODULES  # noqa: F401 (public API)
from hpreg.scan.sparse import SparseTree, Unparsed

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
    imported: Iterable[str] = (),
    resolved: Optional[Dict[tuple, Any]] = None,
    unbound: bool = True,
) -> FileScan:
    """Scan a string of Python code for manager calls; never runs it.

    ``managers`` are the manager names whose calls count; None means the managers
    this source binds (imported from ``hpreg.m``, or ``HyperParameterManager("n")``)
    plus ``extra``, whose bare calls count even where the source does not bind them.
    ``imported``: manager names that count when the source imports them from a
    module the scan does not know. ``resolved``: what imports from other scanned
    modules give (see ``hpreg.scan.project``). ``unbound=False``: a name the source
    never binds is not a manager (a file's ``_`` may be gettext's builtin); True
    suits a fragment of code, as hpman's ``parse_source`` takes it.
    """
    # the full parse: a fragment is small, and this keeps every detail of today's
    # parse (the file scans of ``scan_paths`` take the sparse one)
    return _scan_text(
        text, filename, managers, extra, imported, resolved, unbound, sparse=False
    )


def _scan_text(
    text,
    filename,
    managers,
    extra,
    imported,
    resolved,
    unbound,
    uses=None,
    sparse=False,
) -> FileScan:
    # ``uses``: the names the links' use is worked out for (``calls.link_uses``);
    # ``sparse``: parse only the statements the walks need (``hpreg.scan.sparse``)
    names = None if managers is None else frozenset(managers)
    if sparse and _SPARSE:
        scanner = _FileScanner(
            _Text(text), names, extra, imported, resolved, unbound, uses
        )
        tree = SparseTree(text, filename)
        try:
            scanner.scan(tree)
            tree.verify()
        except Unparsed:
            pass
        else:
            return _file_scan(filename, scanner, resolved)
    try:
        with warnings.catch_warnings():  # the scanned file's warnings are not ours
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
        return FileScan(filename, None, [], [_syntax_problem(error, text)], {})
    scanner = _FileScanner(_Text(text), names, extra, imported, resolved, unbound, uses)
    scanner.scan(tree)
    return _file_scan(filename, scanner, resolved)


# the sparse parse, on unless a test compares it with the full one
_SPARSE = True


def _file_scan(filename, scanner: _FileScanner, resolved) -> FileScan:
    return FileScan(
        filename,
        None,
        scanner.calls,
        scanner.problems,
        scanner.imports,
        scanner.module_managers,
        scanner.exports,
        scanner.links,
        resolved,
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
    return re.compile(r"(?:{})".format(_names_alternation(names, r"[\w.]")) + CALL_TAIL)


@functools.lru_cache(maxsize=64)
def _imported_pattern(names: FrozenSet[str]) -> Optional["re.Pattern[str]"]:
    if not names:
        return None
    # ``from x import a, name as h`` (parenthesized or continued lines too); the
    # keyword comes first, its lookbehind after, for speed (as in the other patterns)
    return re.compile(
        r"import(?<![\w.]import)(?!\w)\s*(?:\([^)]*?|(?:[^;\n\\]|\\[\s\S])*?)"
        r"(?<![\w.])(?:{})(?!\w)".format(
            "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        )
    )


def _is_candidate(
    text: str, names: FrozenSet[str], exported: FrozenSet[str] = frozenset()
) -> bool:
    """False only when the text cannot hold a call of these managers: ``names``
    called bare, or names other scanned modules export a manager as (``exported``)
    imported or called as ``module.name(``."""
    if "hpreg" in text:
        return True
    # each pattern needs one of its names as a word: most texts have none of them
    if _word_pattern(names | exported).search(text) is None:
        return False
    for pattern in (
        _candidate_pattern(names),
        _attribute_pattern(exported),
        _imported_pattern(exported),
    ):
        if pattern is not None and pattern.search(text) is not None:
            return True
    return False


@functools.lru_cache(maxsize=64)
def _bytes_words(names: FrozenSet[str]) -> "re.Pattern[bytes]":
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    # a module can export a name only if it writes it, or imports ``*``
    pattern = r"(?<!\w)(?:{})(?!\w)|\bimport\s*\*".format(alternation)
    return re.compile(pattern.encode())


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


def _walk_dir(
    root: str, root_real: str, excluded, unreadable: Optional[list] = None
) -> List[Tuple[str, str]]:
    found = []
    pending = [("", root, root_real)]
    while pending:
        relative, folder, real = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as error:
            if unreadable is not None:
                message = "cannot be read: {}; check its permissions".format(
                    _reason(error)
                )
                unreadable.append((folder, Problem("unreadable", None, message, None)))
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
    paths: PathLike, exclude: Iterable[str] = (), unreadable: Optional[list] = None
) -> Iterator[Tuple[str, str]]:
    """(display path, resolved path) of every Python file to scan, each once;
    ``unreadable`` collects (folder, problem) for the folders that cannot be read."""
    excluded = _exclude_matcher(exclude)
    seen: Set[str] = set()
    for path in _as_list(paths):
        if os.path.isdir(path):
            files = _walk_dir(path, os.path.realpath(path), excluded, unreadable)
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


def _reason(error: OSError) -> str:
    """``permission denied``: an OSError's reason, as a message says it."""
    reason = error.strerror or type(error).__name__
    return reason[:1].lower() + reason[1:]


def _read(path: str) -> Tuple[Optional[bytes], Optional[Problem]]:
    try:
        with open(path, "rb") as f:
            return f.read(), None
    except OSError as error:
        message = "cannot be read: {}; check its permissions".format(_reason(error))
        if isinstance(error, IsADirectoryError):
            message = "cannot be read: it is a folder"
        return None, Problem("unreadable", None, message, None)
    except MemoryError:
        return None, Problem("unreadable", None, "cannot be read: out of memory", None)


_NO_TRIGGERS: Tuple[FrozenSet[str], FrozenSet[str]] = (frozenset(), frozenset())


def _scan_data(
    data,
    display,
    real,
    names,
    extra,
    imported=frozenset(),
    triggers=_NO_TRIGGERS,
    parse=False,
    resolved=None,
    uses=None,
) -> FileScan:
    text, problem = _decode(data)
    if problem is not None:
        return FileScan(display, real, [], [problem], {})
    if not parse:
        candidates = names if names is not None else frozenset(extra) | imported
        if not _is_candidate(text, candidates | triggers[0], triggers[1]):
            return FileScan(display, real, [], [], {})
    # the all-managers scan takes only the names a file binds: one it never binds is
    # a builtin (gettext's ``_``); ``manager.parse_file`` keeps hpman's placeholder
    unbound = names is not None
    scan = _scan_text(
        text, display, names, extra, imported, resolved, unbound, uses, sparse=True
    )
    scan.realpath = real
    return scan


def _skipped(scan: FileScan) -> bool:
    return bool(scan.problems) and scan.problems[0].kind in SKIPPED_KINDS


@contextlib.contextmanager
def _collection_paused():
    """The cyclic garbage collector off for a scan: its passes over the many
    short-lived ``ast`` nodes (which form no cycles) cost a tenth of a cold scan."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def scan_paths(
    paths: PathLike,
    managers: Optional[Iterable[str]] = None,
    exclude: Iterable[str] = (),
    cache: bool = True,
    extra: Iterable[str] = (),
) -> List[FileScan]:
    """Scan files and directories; one FileScan per Python file, in file order.

    ``managers=None`` scans for every manager the files bind (imported from
    ``hpreg.m``, made with ``HyperParameterManager("name")``, or imported from
    another scanned module that exports one), plus ``extra``. Files that do not
    parse come back with a ``syntax`` problem, files that cannot be read with an
    ``unreadable`` one (folders too). Unchanged files come from the cache.
    """
    folders: List[Tuple[str, Problem]] = []
    files = list(_iter_files(paths, exclude, folders))
    names = None if managers is None else frozenset(managers)
    extra = frozenset(extra)
    store = None
    if cache:
        roots = tuple(sorted(os.path.realpath(p) for p in _as_list(paths)))
        mode = (
            tuple(sorted(names)) if names is not None else ("*",) + tuple(sorted(extra))
        )
        store = _scan_cache.ScanCache((roots, mode), SCANNER_VERSION)
    with _collection_paused():
        scans = _scan_files(files, names, extra, store)
    if store is not None:
        store.save()
    skipped = [FileScan(folder, None, [], [problem], {}) for folder, problem in folders]
    return skipped + scans


def _scan_one(
    display, real, names, extra, store, force=False, read=None, **options
) -> FileScan:
    # read: (data, digest, stamp) kept from the first pass, not read and hashed again
    if read is None:
        stamp = _scan_cache.file_stamp(real) if store is not None else None
        data, problem = _read(real)
        if problem is not None:
            return FileScan(display, real, [], [problem], {})
        digest = _digest(data, store)
    else:
        data, digest, stamp = read
    if store is not None and not force:
        payload = store.get(real, digest, stamp)
        if payload is not None:
            try:
                return FileScan._from_payload(display, real, payload)
            except Exception:  # a damaged entry is a miss
                pass
    scan = _scan_data(data, display, real, names, extra, **options)
    if store is not None:
        store.put(real, digest, scan._payload(), stamp)
    return scan


def _digest(data: bytes, store) -> bytes:
    # the content hash only keys the cache: without one, b"" marks a file read
    return _scan_cache.content_digest(data) if store is not None else b""


# how many bytes of the files pass 1 defers it keeps for pass 2 (the rest is read
# again): most trees fit, and a huge one does not hold all its text at once
_KEEP_BYTES = 64 * 1024 * 1024


def _scan_files(files, names, extra, store) -> List[FileScan]:
    # Pass 1 learns every manager name and which modules export one: files that
    # mention hpreg are scanned now; the rest wait for the full set of names.
    scans: List[Optional[FileScan]] = [None] * len(files)
    digests: List[Optional[bytes]] = [None] * len(files)
    # each file's stat, taken before it is read: what the cache keeps with its entry
    stamps: List[Optional[_scan_cache.Stamp]] = [None] * len(files)
    cached: Dict[int, FileScan] = {}
    declared = set(extra)
    kept: Dict[int, tuple] = {}  # deferred files' bytes, within budget
    early: Dict[int, Optional[bytes]] = {}  # the files scanned in this pass
    budget = _KEEP_BYTES
    for index, (display, real) in enumerate(files):
        payload = hit = None
        if store is not None:
            stamp = stamps[index] = _scan_cache.file_stamp(real)
            hit = store.lookup(real, stamp)
            if hit is not None:  # an unchanged stat vouches for the content
                digests[index], payload = hit
        if payload is None:
            data, problem = _read(real)
            if problem is not None:
                digests[index] = None
                scans[index] = FileScan(display, real, [], [problem], {})
                continue
            digest = digests[index] = _digest(data, store)
            if store is not None:
                payload = store.get(real, digest, stamps[index])
        if payload is not None:
            try:
                scan = FileScan._from_payload(display, real, payload)
            except Exception:
                payload = None
            else:
                declared |= scan._declared()
                cached[index] = scan
                continue
            if hit is not None:  # a damaged entry: read the file after all
                data, problem = _read(real)
                if problem is not None:
                    digests[index] = None
                    scans[index] = FileScan(display, real, [], [problem], {})
                    continue
                digest = digests[index] = _scan_cache.content_digest(data)
        if b"hpreg" in data:
            # what the links' use keeps depends on the exported names, known after
            # this pass: worked out then from the bytes kept, or restricted then
            keep = len(data) <= budget
            uses = LATER if keep else None
            scan = scans[index] = _scan_data(
                data, display, real, names, extra, uses=uses
            )
            declared |= scan._declared()
            early[index] = data if keep else None
            if keep:
                budget -= len(data)
        elif len(data) <= budget:
            kept[index] = (data, digest, stamps[index])
            budget -= len(data)
    # bare calls of a manager imported from a module the scan does not resolve
    imported = frozenset(declared) if names is None else frozenset()
    exported: Dict[str, Set[str]] = {}
    for scan in list(cached.values()) + scans:
        if scan is not None:
            for local, manager in scan.exports.items():
                exported.setdefault(local, set()).add(manager)
    # the text prefilter also looks for the names the wanted managers are exported as
    wanted = {
        local: found if names is None else found & names
        for local, found in exported.items()
    }
    aliases = frozenset(n for n, found in wanted.items() if found - {n})
    triggers = (aliases, frozenset(n for n, found in wanted.items() if found))
    # what the payloads depend on besides each file's content: the names, and the
    # names the text prefilter looks for because another module exports them
    key = tuple(sorted(imported if names is None else names))
    key += tuple("\0alias " + n for n in sorted(aliases))
    key += tuple("\0export " + n for n in sorted(triggers[1]))
    # the links' use keeps what matters for every exported name
    uses = frozenset(exported)
    key += tuple("\0name " + n for n in sorted(uses - triggers[1]))
    reuse = store is not None and store.names == key
    options = {"imported": imported, "triggers": triggers, "uses": uses}
    for index, data in early.items():
        scan = scans[index]
        if scan.links:
            if data is None:
                scan.links = restrict_uses(scan.links, uses)
            else:
                text = _decode(data)[0] if uses else ""
                scan.links = link_uses(scan.links, text or "", uses)
        if store is not None:
            store.put(files[index][1], digests[index], scan._payload(), stamps[index])
    for index, (display, real) in enumerate(files):
        scan = scans[index]
        if scan is not None:
            if digests[index] is None or _skipped(scan):
                continue
            if imported - set(scan.imports.values()) - extra:
                # scanned before the full set was known: bare calls of the others
                scans[index] = _scan_one(
                    display, real, names, extra, store, force=True, **options
                )
            continue
        if index in cached and reuse:
            scans[index] = cached[index]
            continue
        scans[index] = _scan_one(
            display,
            real,
            names,
            extra,
            store,
            force=True,
            read=kept.pop(index, None),
            **options,
        )
    if store is not None:
        store.set_names(key)
    if exported:
        _follow_links(
            files, scans, digests, stamps, names, extra, store, key, options, exported
        )
    return scans  # type: ignore[return-value]


# the cache entry of a file scanned with what its imports from the project give
_CONTEXT = "\0context"


def _follow_links(
    files, scans, digests, stamps, names, extra, store, key, options, exported
) -> None:
    """Re-scan the files that import a manager from another scanned module, with
    what those imports give (``hpreg.scan.project``)."""

    def base(index):
        scan = scans[index]
        if scan is None or _skipped(scan) or digests[index] is None:
            return None
        if scan.links is not None:
            return scan
        # skipped by the text prefilter, but imported: parse it for its exports
        display, real = files[index]
        data, problem = _read(real)
        if problem is not None:
            return None
        scan = scans[index] = _scan_data(
            data, display, real, names, extra, parse=True, **options
        )
        if store is not None and _scan_cache.content_digest(data) == digests[index]:
            store.put(real, digests[index], scan._payload(), stamps[index])
        return scan

    def mentions(index, words):
        scan = scans[index]
        if scan is not None and scan.links is not None:
            return True
        data, problem = _read(files[index][1])
        return (
            problem is None and _bytes_words(frozenset(words)).search(data) is not None
        )

    project = Project(files, base, mentions, exported)
    contexts = {}
    for index in range(len(files)):
        scan = scans[index]
        if scan is not None and scan.links:
            context = project.context(index, scan.links)
            if context:
                contexts[index] = context
    for index, context in contexts.items():
        display, real = files[index]
        payload = digest = None
        if store is not None:
            ident = repr((key, sorted((k, _canonical(v)) for k, v in context.items())))
            digest = _scan_cache.content_digest(digests[index] + ident.encode())
            payload = store.get(real + _CONTEXT, digest)
        if payload is not None:
            try:
                scans[index] = FileScan._from_payload(display, real, payload)
                continue
            except Exception:
                pass
        data, problem = _read(real)
        if problem is not None:
            continue
        scan = scans[index] = _scan_data(
            data, display, real, names, extra, parse=True, resolved=context, **options
        )
        if store is not None:
            store.put(real + _CONTEXT, digest, scan._payload())


def _canonical(value) -> Any:
    return value if isinstance(value, str) else tuple(sorted(value.items()))


def unparsed_syntax_problems(scans: List[FileScan]) -> List[Tuple[str, Problem]]:
    """``(filename, problem)`` for files the prefilter never parsed that do not parse.

    Scans skip such files for speed (they cannot declare anything); the strict
    tools (``hpreg lint``, ``hpreg list``) still want to say a file is broken.
    """
    out = []
    for scan in scans:
        if scan.calls or scan.imports or scan.problems or scan.filename.startswith("<"):
            continue
        if scan.links is not None:  # parsed: a syntax error would be among problems
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
