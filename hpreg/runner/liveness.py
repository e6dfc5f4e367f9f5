"""Whether a runner is alive: on this host by its process (pid and start time, so
a recycled pid is not taken for it), on another host by its heartbeat, which a
thread writes (``Heartbeat``) so that no blocking call of the runner's main loop
can make a live runner look dead. The timeouts are in ``hpreg.runner.states``."""

import os
import threading
import time
from typing import Any, Dict, Optional

from hpreg.errors import RunStoreError
from hpreg.runner.rundir import HOST
from hpreg.runner.states import HEARTBEAT, STALE_AFTER


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


_BOOT = _boot_id()


def process_identity(pid: int) -> Optional[str]:
    """``<boot id>:<start time in clock ticks>`` of a running process (Linux
    ``/proc``), None when it is gone, a zombie, or there is no ``/proc``."""
    try:
        with open("/proc/{}/stat".format(pid), "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if not fields or fields[0] in (b"Z", b"X"):
        return None
    # field 22 of stat is the start time; fields[0] is field 3 (the state)
    return "{}:{}".format(_BOOT, fields[19].decode())


def process_alive(pid: int, marker: Optional[str] = None) -> bool:
    """``pid`` runs (a zombie does not); with ``marker``, only if its command line
    holds it (so a recycled pid is not taken for our job)."""
    if os.path.exists("/proc/self/stat"):
        if process_identity(pid) is None:
            return False
        if marker is not None:
            try:
                with open("/proc/{}/cmdline".format(pid), "rb") as f:
                    return marker.encode() in f.read().split(b"\0")
            except OSError:
                return False
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def runner_dead(runner: Dict[str, Any], now: Optional[float] = None) -> bool:
    """A runner on this host is dead when its process is gone (or is another
    process with its pid); one on another host when it has not beaten for
    ``STALE_AFTER`` seconds."""
    if runner["host"] == HOST:
        identity = runner.get("identity")
        if identity and os.path.exists("/proc/self/stat"):
            return process_identity(runner["pid"]) != identity
        return not process_alive(runner["pid"])
    now = time.time() if now is None else now
    return runner["heartbeat"] < now - STALE_AFTER


def check_one_host(store) -> None:
    """Refuse a store another host's live runner holds: SQLite's locks do not hold
    across the machines of a shared filesystem."""
    now = time.time()
    for runner in store.runners():
        if runner["host"] != HOST and not runner_dead(runner, now):
            raise RunStoreError(
                where=store.directory,
                problem="in use by hpreg on host {} (pid {}); SQLite's locks do "
                "not hold between machines".format(runner["host"], runner["pid"]),
                fix="run one coordinator per store, from one host: wait for that "
                "one to end, or stop it (it is dead {:g} s after its last "
                "heartbeat)".format(STALE_AFTER),
                path=store.path,
            )


class Heartbeat:
    """A daemon thread that refreshes ``runner``'s heartbeat (and its running
    jobs') every ``HEARTBEAT`` seconds through its own connection to the store."""

    def __init__(self, store, runner: str, interval: float = HEARTBEAT):
        self._beater = store.beater()
        self._runner = runner
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="hpreg-heartbeat", daemon=True
        )

    def start(self) -> "Heartbeat":
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._beater.beat(self._runner)  # a busy store: the next beat

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._beater.close()
