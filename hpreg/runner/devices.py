"""Device leases: at most one running job per device on one machine, whichever
``hpreg run`` or ``hpreg optimize`` process started it.

A device of ``--gpus`` is leased with ``fcntl.flock`` (exclusive, non-blocking) on
its lock file in a per-user folder (``<tmp>/hpreg-<uid>/devices``, mode 0700, or
``$HPREG_DEVICE_LOCKS``). A lease is an open file descriptor holding the lock. The
runner takes it before it claims a job, hands it to the job's process (the wrapper's
stdin, or inherited by a forked function) and closes its own copy: the lease follows
the job, outlives a runner killed with kill -9, and ends when the job's process
ends (the kernel drops a flock with the last descriptor of its open file, so a
crash never leaves a device locked).

Without ``fcntl`` (not POSIX) leases are only this runner's: a device is free when
no job of this runner holds it (two runners then need disjoint ``--gpus``).
"""

import errno
import hashlib
import os
import re
import stat
import tempfile
from typing import List, Optional, Sequence, Set

from hpreg.errors import ExecutorError

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows): this runner's own bookkeeping only
    fcntl = None  # type: ignore[assignment]

ENV = "HPREG_DEVICE_LOCKS"
_PLAIN = re.compile(r"[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,63}")


def lock_folder() -> str:
    """The default folder of the lock files: this user's, in the temporary folder
    (``$HPREG_DEVICE_LOCKS`` replaces it)."""
    return os.path.join(
        tempfile.gettempdir(), "hpreg-{}".format(os.getuid()), "devices"
    )


def _private_folder(path: str) -> None:
    """Create ``path`` (mode 0700) or accept it when it is a folder of this user,
    not a link: nobody else can put a lock file there or remove one."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as error:
        raise _folder_error(path, "cannot create it ({})".format(error.strerror))
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise _folder_error(path, "it is not a folder of this user")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, 0o700)


def _folder_error(path: str, problem: str) -> ExecutorError:
    return ExecutorError(
        where=path,
        problem="cannot hold the device locks of --gpus: " + problem,
        fix="remove it, or set {} to a folder of yours".format(ENV),
        executor="local",
        path=path,
    )


def _file_name(device: str) -> str:
    if _PLAIN.fullmatch(device):
        return device + ".lock"
    digest = hashlib.sha256(device.encode("utf-8", "surrogateescape")).hexdigest()
    return "device-{}.lock".format(digest[:16])


class Lease:
    """One device held by this process: ``fd`` holds its lock (None without
    ``fcntl``); the job's process gets a copy of it."""

    def __init__(self, device: str, fd: Optional[int]):
        self.device = device
        self.fd = fd

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class Devices:
    """The devices of one runner: ``take()`` leases one that no job holds, on this
    machine (``fcntl``) and in this runner; ``free()`` when its job has ended."""

    def __init__(self, names: Sequence[str], folder: Optional[str] = None):
        self.names: List[str] = list(dict.fromkeys(str(n) for n in names))
        self.busy: Set[str] = set()  # devices of this runner's running jobs
        self.leases: List[Lease] = []  # held here, not handed to a job yet
        self.folder: Optional[str] = None
        if fcntl is not None:
            chosen = folder or os.environ.get(ENV)
            self.folder = chosen or lock_folder()
            if not chosen:
                _private_folder(os.path.dirname(self.folder))
                _private_folder(self.folder)
            else:
                try:
                    os.makedirs(self.folder, 0o700, exist_ok=True)
                except OSError as error:
                    raise _folder_error(
                        self.folder, "cannot create it ({})".format(error.strerror)
                    )

    def take(self) -> Optional[Lease]:
        """A lease of the first device no job holds, or None."""
        for device in self.names:
            if device in self.busy:
                continue
            fd = None
            if self.folder is not None:
                fd = self._lock(device)
                if fd is None:
                    continue  # another process's job holds it
            lease = Lease(device, fd)
            self.busy.add(device)
            self.leases.append(lease)
            return lease
        return None

    def _lock(self, device: str) -> Optional[int]:
        path = os.path.join(self.folder, _file_name(device))
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as error:
            raise _folder_error(path, "cannot open it ({})".format(error.strerror))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None
            raise _folder_error(path, "cannot lock it ({})".format(error.strerror))
        return fd

    def started(self, lease: Lease) -> None:
        """The job's process holds its copy of the lease: close this runner's; the
        device stays busy here until ``free()``."""
        self._forget(lease)

    def give_back(self, lease: Lease) -> None:
        """No job got the lease (its claim found none, or the launch failed); a
        lease already handed to its job (``started``) stays busy."""
        if lease in self.leases:
            self._forget(lease)
            self.free(lease.device)

    def _forget(self, lease: Lease) -> None:
        lease.close()
        if lease in self.leases:
            self.leases.remove(lease)

    def free(self, device: Optional[str]) -> None:
        """The job on ``device`` has ended."""
        self.busy.discard(device)

    def reserve(self, device: Optional[str]) -> bool:
        """Count ``device`` busy for a job re-attached from a dead runner (its wrapper
        holds the lease; one started without a lease holds it here only)."""
        if device not in self.names or device in self.busy:
            return False
        self.busy.add(device)
        return True

    def close(self) -> None:
        """Release every lease still held by this process."""
        for lease in list(self.leases):
            self._forget(lease)
