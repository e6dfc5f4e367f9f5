"""On-disk cache of scan records, keyed on resolved path and content hash.

One file per scan key (roots, managers, scanner code, Python version) under
``$HPREG_CACHE_DIR`` (default ``$XDG_CACHE_HOME/hpreg`` or ``~/.cache/hpreg``).
Records are marshalled, never pickled, behind a checksum; anything unreadable
counts as an empty cache, and every write is atomic (temp file + ``os.replace``).
"""

import functools
import hashlib
import marshal
import os
import sys
import tempfile
from typing import Any, Dict, Optional, Tuple

_MAGIC = b"hpreg-scan-cache\x01"
_CHECKSUM_SIZE = 16


def cache_dir() -> str:
    """Where hpreg keeps its caches (the folder may not exist yet)."""
    explicit = os.environ.get("HPREG_CACHE_DIR")
    if explicit:
        return explicit
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "hpreg")
    return os.path.join(os.path.expanduser("~"), ".cache", "hpreg")


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
    """Scan payloads by resolved path, served only for the same content hash.

    ``names`` is the set of manager names the stored payloads were made for (a
    scan for every imported manager only knows it at the end); the caller checks it.
    """

    def __init__(self, key: Tuple[Any, ...], version: str):
        tag = sys.implementation.cache_tag or "python"
        self._ident = repr((version, _code_fingerprint(), tag, key))
        name = hashlib.blake2b(self._ident.encode(), digest_size=12).hexdigest()
        self.path = os.path.join(cache_dir(), "scan-{}-{}.marshal".format(tag, name))
        self.names: Optional[Tuple[str, ...]] = None
        self._entries: Dict[str, Tuple[bytes, Any]] = {}
        self._seen = set()
        self._dirty = False
        self._load()

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as f:
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
            entries, names = data["files"], data["names"]
            if type(entries) is not dict or type(names) is not tuple:
                return
        except Exception:  # a damaged cache is an empty cache
            return
        self._entries = entries
        self.names = names

    def get(self, realpath: str, digest: bytes) -> Optional[Any]:
        """The payload stored for this file and content, or None."""
        self._seen.add(realpath)
        entry = self._entries.get(realpath)
        if type(entry) is tuple and len(entry) == 2 and entry[0] == digest:
            return entry[1]
        return None

    def put(self, realpath: str, digest: bytes, payload: Any) -> None:
        self._seen.add(realpath)
        self._entries[realpath] = (digest, payload)
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
            return
        data = {"ident": self._ident, "names": self.names, "files": self._entries}
        try:
            body = marshal.dumps(data)
        except ValueError:  # an unmarshallable value: skip caching, never crash
            return
        checksum = hashlib.blake2b(body, digest_size=_CHECKSUM_SIZE).digest()
        folder = os.path.dirname(self.path)
        tmp = None
        try:
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-scan-", dir=folder)
            with os.fdopen(fd, "wb") as f:
                f.write(_MAGIC + checksum + body)
            os.replace(tmp, self.path)
            tmp = None
            self._dirty = False
        except OSError:
            pass  # an unwritable cache only costs speed
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
