"""One coordinator per store: ``<store>/optimize.lock``, locked with ``fcntl.flock``
for as long as the coordinator runs (the kernel drops the lock when the process
ends, kill -9 included, so no stale lock is ever left to clean up).

A coordinator takes the lock exclusively and writes its host and pid into the file;
a second one is refused at once, naming that process. ``--worker`` processes share
their store by design: they take the lock shared, so workers run together while a
coordinator and workers never mix (a coordinator's budget counts its own trials
only). On NFS, Linux maps ``flock`` onto the server's byte-range locks, so the lock
holds between machines too.
"""

import errno
import json
import os
import threading
import time
from typing import Dict, Optional

from hpreg.errors import RunStoreError
from hpreg.runner.rundir import HOST

try:
    import fcntl
except ImportError:  # not POSIX: one coordinator per store is not enforced
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = "optimize.lock"
_RECORD_SIZE = 256  # the holder's record is one write() of this many bytes
_held: Dict[str, "_Held"] = {}  # lock file -> this process's hold of it
_guard = threading.Lock()


class _Held:
    def __init__(self, fd: int, exclusive: bool):
        self.fd = fd
        self.exclusive = exclusive
        self.thread = threading.get_ident()
        self.depth = 0


class StoreLock:
    """The lock of ``store``: ``with StoreLock(store):`` as its coordinator, or
    ``StoreLock(store, shared=True)`` as one of its workers. Taking it again in the
    same thread nests; it is refused with a ``RunStoreError`` naming the holder."""

    def __init__(self, store: str, shared: bool = False):
        self.store = store
        self.shared = shared
        self.path = os.path.realpath(os.path.join(store, LOCK_FILE))

    def __enter__(self) -> "StoreLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        if fcntl is None:
            return
        with _guard:
            held = _held.get(self.path)
            if held is not None:
                if held.thread != threading.get_ident() or (
                    held.exclusive != (not self.shared)
                ):
                    raise self._busy(_record(held.fd) or _this_process())
                held.depth += 1
                return
            fd = self._open()
            try:
                mode = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise self._refused(
                        "cannot lock {} ({})".format(self.path, error.strerror)
                    )
                try:
                    holder = _holder(fd)
                finally:
                    os.close(fd)
                raise self._busy(holder) from None
            if not self.shared:
                _write_record(fd)
            held = _held[self.path] = _Held(fd, not self.shared)
            held.depth = 1

    def release(self) -> None:
        if fcntl is None:
            return
        with _guard:
            held = _held.get(self.path)
            if held is None or held.thread != threading.get_ident():
                return
            held.depth -= 1
            if held.depth > 0:
                return
            del _held[self.path]
            if held.exclusive:  # a record left by kill -9 names a dead process
                os.pwrite(held.fd, b" " * _RECORD_SIZE, 0)
            os.close(held.fd)  # closing the last descriptor drops the flock

    def _open(self) -> int:
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise self._refused(
                "cannot open {} ({})".format(self.path, error.strerror)
            ) from None

    def _refused(self, problem: str) -> RunStoreError:
        return RunStoreError(where=self.store, problem=problem, path=self.store)

    def _busy(self, holder: Optional[Dict]) -> RunStoreError:
        if holder is None:  # only workers hold it (shared): none wrote a record
            problem = "hpreg optimize --worker processes are running on this store"
            fix = "a coordinator and workers do not share a store: wait for them, "
            fix += "or give another --store"
        else:
            problem = "another hpreg optimize (pid {} on host {}) is running on this "
            problem = problem.format(holder.get("pid"), holder.get("host"))
            problem += "store"
            fix = "wait for it or stop it"
        return RunStoreError(
            where=self.store, problem=problem, fix=fix, path=self.store, holder=holder
        )


def _this_process() -> Dict:
    return {"pid": os.getpid(), "host": HOST}


def _write_record(fd: int) -> None:
    record = json.dumps(dict(_this_process(), since=round(time.time(), 3)))
    # one write() of a fixed size: a reader sees the old record or the new one
    os.pwrite(fd, record.encode().ljust(_RECORD_SIZE), 0)


def _record(fd: int) -> Optional[Dict]:
    try:
        text = os.pread(fd, _RECORD_SIZE, 0).decode("utf-8", "replace").strip()
        record = json.loads(text)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _holder(fd: int, patience: float = 2.0) -> Optional[Dict]:
    """The coordinator holding the lock, or None when workers hold it (shared). A
    coordinator writes its record right after taking the lock: until then the file
    is blank or still names the coordinator before it, dead (or the lock would not
    have been free)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            pass
        else:  # no exclusive holder: workers hold it
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        record = _record(fd)
        if record is not None and not _dead_here(record):
            return record
        if time.monotonic() > deadline:
            return record or {"pid": "unknown", "host": "unknown"}
        time.sleep(0.02)


def _dead_here(record: Dict) -> bool:
    pid = record.get("pid")
    if record.get("host") != HOST or not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False
