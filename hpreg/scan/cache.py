"""On-disk cache of scan records, keyed on resolved path and content hash.

One file per scan key (roots, managers, scanner code, Python version) under
``$HPREG_CACHE_DIR`` (default ``$XDG_CACHE_HOME/hpreg`` or ``~/.cache/hpreg``).
Records are marshalled, never pickled, behind a checksum; anything unreadable
counts as an empty cache, and every write is atomic (``hpreg.io.atomic.write_atomic``, the one writer).

As git's index does, an entry also keeps its file's stat (size, ``mtime_ns``, inode,
``ctime_ns``) and the cache the time its scan started: a file whose stat is unchanged
and whose mtime is older than that time by more than ``RACY_MARGIN_NS`` is served
without being read. A file modified close to that time ("racy": a second edit could
keep the same mtime on a coarse clock) or whose stat changed is read and hashed.

The folder stays small: a cache unused for ``MAX_AGE_DAYS`` days goes, and at most
``MAX_CACHES`` caches are kept (the least recently used go first); a cache in use is
touched at most once a day, so that its age is the time since it was last used.
"""

import functools
import hashlib
import marshal
import os
import sys
import time
from typing import Any, Dict, Optional, Tuple

from hpreg.errors import ValuesFileError
from hpreg.io.atomic import write_atomic

_MAGIC = b"hpreg-scan-cache\x02"
_CHECKSUM_SIZE = 16

# how much older than the scan that wrote the cache a file's mtime must be for its
# stat to vouch for its content: covers coarse file-system timestamps (FAT: 2 s)
RACY_MARGIN_NS = 2_000_000_000

Stamp = Tuple[int, int, int, int]

MAX_CACHES = 100
MAX_AGE_DAYS = 30
_DAY = 24 * 3600
_PATTERN_PREFIX, _PATTERN_SUFFIX = "scan-", ".marshal"


def cache_dir() -> str:
    """Where hpreg keeps its caches (the folder may not exist yet)."""
    explicit = os.environ.get("HPREG_CACHE_DIR")
    if explicit:
        return explicit
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "hpreg")
    return os.path.join(os.path.expanduser("~"), ".cache", "hpreg")


def file_stamp(path: str) -> Optional[Stamp]:
    """``(size, mtime_ns, inode, ctime_ns)`` of a file, or None when it cannot be
    stat'ed (the caller then reads it, and reports why it cannot)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def content_digest(data: bytes) -> bytes:
    """The content hash a cache entry is keyed on."""
    return hashlib.blake2b(data, digest_size=16).digest()


@functools.lru_cache(maxsize=None)
def _code_fingerprint() -> str:
    # Editing the scanner changes its records: never serve entries it did not write.
    # Every module of this package shapes the records, so all of them count.
    digest = hashlib.blake2b(digest_size=8)
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(here)):
        if name.endswith(".py"):
            with open(os.path.join(here, name), "rb") as f:
                digest.update(name.encode() + b"\0" + f.read())
    return digest.hexdigest()


class ScanCache:
    """Scan payloads by resolved path, served only for the same content hash, or for
    the same stat when that stat is old enough to vouch for the content.

    ``names`` is the set of manager names the stored payloads were made for (a
    scan for every imported manager only knows it at the end); the caller checks it.
    Entries are ``(digest, payload, stamp)`` tuples; ``stamp`` is None for entries
    that are not files (``realpath + "\\0context"``), which only their digest serves.
    """

    def __init__(self, key: Tuple[Any, ...], version: str):
        tag = sys.implementation.cache_tag or "python"
        self._ident = repr((version, _code_fingerprint(), tag, key))
        name = hashlib.blake2b(self._ident.encode(), digest_size=12).hexdigest()
        self.path = os.path.join(
            cache_dir(), "{}{}-{}{}".format(_PATTERN_PREFIX, tag, name, _PATTERN_SUFFIX)
        )
        self._mtime: Optional[float] = None  # of the cache file read, if any
        self.names: Optional[Tuple[str, ...]] = None
        # taken before any file is stat'ed: a stat taken later vouches for
        # content only if the file's mtime is older than this by the margin
        self._started = time.time_ns()
        self._trusted_before = 0  # mtimes older than this are not racy
        self._entries: Dict[str, tuple] = {}
        self._seen = set()
        self._dirty = False
        self._load()

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as f:
                self._mtime = os.fstat(f.fileno()).st_mtime
                blob = f.read()
        except OSError:
            return
        try:
            head = len(_MAGIC) + _CHECKSUM_SIZE
            body = blob[head:]
            if blob[: len(_MAGIC)] != _MAGIC or blob[len(_MAGIC) : head] != (
                hashlib.blake2b(body, digest_size=_CHECKSUM_SIZE).digest()
            ):
                return
            data = marshal.loads(body)
            if type(data) is not dict or data.get("ident") != self._ident:
                return
            entries, names, started = data["files"], data["names"], data["started"]
            if type(entries) is not dict or type(names) is not tuple:
                return
            if type(started) is not int:
                return
        except Exception:  # a damaged cache is an empty cache
            return
        self._entries = entries
        self.names = names
        self._trusted_before = started - RACY_MARGIN_NS

    def lookup(self, realpath: str, stamp: Optional[Stamp]) -> Optional[tuple]:
        """``(digest, payload)`` stored for this file when its stat vouches for
        it (unchanged, and not racy), else None: read and hash the file."""
        entry = self._entries.get(realpath)
        if (
            stamp is None
            or type(entry) is not tuple
            or len(entry) != 3
            or entry[2] != stamp
            or stamp[1] >= self._trusted_before
        ):
            return None
        self._seen.add(realpath)
        return entry[0], entry[1]

    def get(
        self, realpath: str, digest: bytes, stamp: Optional[Stamp] = None
    ) -> Optional[Any]:
        """The payload stored for this file and content, or None. ``stamp``: the
        file's stat, taken before it was read; it is kept with the entry."""
        self._seen.add(realpath)
        entry = self._entries.get(realpath)
        if type(entry) is tuple and len(entry) == 3 and entry[0] == digest:
            if stamp is not None and stamp != entry[2]:
                self._entries[realpath] = (digest, entry[1], stamp)
                self._dirty = True
            elif stamp is not None and (
                self._trusted_before <= stamp[1] < self._started - RACY_MARGIN_NS
            ):
                self._dirty = True  # racy before; this scan's start vouches for it
            return entry[1]
        return None

    def put(
        self, realpath: str, digest: bytes, payload: Any, stamp: Optional[Stamp] = None
    ) -> None:
        self._seen.add(realpath)
        self._entries[realpath] = (digest, payload, stamp)
        self._dirty = True

    def set_names(self, names: Tuple[str, ...]) -> None:
        if names != self.names:
            self.names = names
            self._dirty = True

    def save(self) -> None:
        """Write the entries of the files seen in this scan, if anything changed."""
        stale = [path for path in self._entries if path not in self._seen]
        for path in stale:
            del self._entries[path]
        if not (self._dirty or stale):
            if self._mtime is not None and self._mtime < time.time() - _DAY:
                try:
                    os.utime(self.path)  # in use: not the least recently used
                except OSError:
                    pass
            return
        data = {
            "ident": self._ident,
            "names": self.names,
            "started": self._started,
            "files": self._entries,
        }
        try:
            body = marshal.dumps(data)
        except ValueError:  # an unmarshallable value: skip caching, never crash
            return
        checksum = hashlib.blake2b(body, digest_size=_CHECKSUM_SIZE).digest()
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_atomic(self.path, _MAGIC + checksum + body, new_mode=0o600)
            self._dirty = False
        except (OSError, ValuesFileError):
            return  # an unwritable cache only costs speed
        if self._mtime is None:  # a new cache: one more in the folder
            prune(os.path.dirname(self.path), keep=self.path)
            self._mtime = time.time()


def prune(folder: str, keep: str = "", now: Optional[float] = None) -> None:
    """Remove the scan caches in ``folder`` unused for ``MAX_AGE_DAYS`` days, then the
    least recently used beyond ``MAX_CACHES``, and temporary files left by writes
    that died; never ``keep``. Errors are ignored (another process may prune too)."""
    now = time.time() if now is None else now
    caches = []
    try:
        with os.scandir(folder) as listing:
            for entry in listing:
                name = entry.name
                if not name.startswith(_PATTERN_PREFIX):
                    continue
                try:
                    mtime = entry.stat(follow_symlinks=False).st_mtime
                except OSError:
                    continue
                if name.endswith(_PATTERN_SUFFIX):
                    if entry.path != keep:
                        caches.append((mtime, entry.path))
                elif name.endswith(".tmp") and mtime < now - _DAY:
                    caches.append((0.0, entry.path))  # a write that died
    except OSError:
        return
    caches.sort(reverse=True)  # the most recently used first
    room = MAX_CACHES - (1 if keep else 0)
    for rank, (mtime, path) in enumerate(caches):
        if rank >= room or mtime < now - MAX_AGE_DAYS * _DAY:
            try:
                os.remove(path)
            except OSError:
                pass
