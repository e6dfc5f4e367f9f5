"""What runs on the node (a Slurm node, a dask worker): ``execute`` runs one job as
the local executor would (the same wrapper, run directory files and environment; a
function in a fresh interpreter, ``hpreg.runner.function_job``), and a guard process
kills the job's process group when the process running ``execute`` dies.

Once per attempt: an engine may run one task more than once. dask runs a task again
when its worker died (``allowed-failures`` times) and recomputes a finished task
whose result was lost with its worker; Slurm restarts a requeued job. So ``execute``
first records in the run directory that it launches this attempt (``launched``,
created atomically: ``<attempt> <restart>``), and a run that finds that record never
starts the command again: it returns the exit status the first run left, or raises
``AttemptDied`` (the first run died with its worker). A Slurm restart
(``SLURM_RESTART_COUNT``, ``execute_slurm``) is a new try of the same attempt: the
previous try's logs move to ``attempt<N>.<restart>/``. A task of an attempt the
coordinator has replaced (``attempt<N>/`` exists: ``rundir.prepare`` of a later
attempt moved this one's files there) raises ``AttemptSuperseded``, and a job whose
``launched`` record is moved away while it runs is killed at once."""

import os
import signal
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from hpreg.errors import ExecutorError
from hpreg.runner import rundir

STOP_FILE = "stop"  # asks a remote job to stop (Ctrl-C of its coordinator)
STOP_GRACE = 10.0  # a stopped remote job gets SIGINT, then SIGTERM, then SIGKILL
LAUNCHED = "launched"  # this attempt's command was started: "<attempt> <restart>"
RECORD_CHECK = 1.0  # seconds between two looks at the job's ``launched`` record


class AttemptDied(ExecutorError):
    """The task of an attempt whose command was started before, by a run that left
    no exit status: it died with its worker (dask runs such a task again). The
    command is not started again."""


class AttemptSuperseded(ExecutorError):
    """The task of an attempt its coordinator has given up (a later attempt owns the
    run directory), or one asked to stop before it started: nothing runs."""


class Task:
    """What a worker needs to run one job: its run directory, the command (with the
    placeholders filled) or the function, the environment to add, the directory to
    run in. Picklable (the function must be, for a remote executor)."""

    def __init__(
        self,
        job_id: str,
        run_dir: str,
        attempt: int,
        env: Dict[str, str],
        cwd: str,
        argv: Optional[List[str]] = None,
        function: Optional[Callable[[Dict[str, Any]], Any]] = None,
        point: Optional[Dict[str, Any]] = None,
        git: Optional[Dict[str, Any]] = None,
        timeout: Optional[float] = None,
    ):
        self.timeout = timeout
        self.job_id = job_id
        self.run_dir = run_dir
        self.attempt = attempt
        self.env = env
        self.cwd = cwd
        self.argv = argv
        self.function = function
        self.point = point
        self.git = git or {}

    def __repr__(self):
        return "Task({})".format(self.job_id)


def execute_slurm(task: Task) -> int:
    """``execute`` in a Slurm job: a job Slurm requeued (``SLURM_RESTART_COUNT``)
    is a new try of the same attempt, its previous try's logs kept."""
    return execute(task, restart=int(os.environ.get("SLURM_RESTART_COUNT") or 0))


def execute(task: Task, restart: int = 0) -> int:
    """Run one job on this machine (a Slurm node, a dask worker) as the local
    executor would, and return its exit status; the status and ``meta.json`` land
    in the run directory. The job stops when ``STOP_FILE`` appears there.

    At most once per attempt (and ``restart``, Slurm's restart count): a task run
    again returns the first run's exit status, or raises ``AttemptDied`` when the
    first run left none; a task of a replaced attempt raises ``AttemptSuperseded``.
    """
    import subprocess

    run_dir = task.run_dir
    earlier, record = _claim(task, restart)
    if earlier is not None:
        return earlier
    for name in (rundir.EXIT, rundir.PID):
        try:
            os.remove(os.path.join(run_dir, name))  # the coordinator's, but to be sure
        except OSError:
            pass
    env = dict(os.environ)
    env.update(task.env)
    env.setdefault("HPREG_ATTEMPT", str(task.attempt))  # named in its exit status
    cwd = task.cwd if os.path.isdir(task.cwd) else os.getcwd()
    meta = rundir.new_meta(os.getpid(), task.attempt, task.git)
    if restart:
        meta["restart"] = restart
    payload = None
    if task.function is not None:
        from hpreg.runner import function_job

        argv, payload = function_job.command(task.function, task.point or {})
    else:
        argv = list(task.argv or [])
    # appended to, never truncated: a try's files are moved away, never overwritten
    with open(os.path.join(run_dir, rundir.STDOUT), "ab") as out:
        err = open(os.path.join(run_dir, rundir.STDERR), "ab")
        try:
            proc = subprocess.Popen(
                ["sh", "-c", rundir.WRAPPER, "hpreg-job", run_dir] + argv,
                stdin=subprocess.DEVNULL if payload is None else subprocess.PIPE,
                stdout=out,
                stderr=err,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        except BaseException:
            err.close()
            raise
    guard = _guard(proc.pid)
    meta["pid"] = proc.pid
    try:
        rundir.write_meta(run_dir, meta)
        if payload is not None:
            _feed(proc.stdin, payload)
        replaced = _watch(proc.pid, task, lambda: proc.poll() is not None, record)
        if replaced:
            err.write(
                "hpreg: attempt {} was replaced by a later one: killed\n".format(
                    task.attempt
                ).encode()
            )
    finally:
        err.close()
        if guard is not None:
            guard.kill()
            guard.wait()
    if replaced:  # the run directory is the later attempt's: nothing written there
        raise AttemptSuperseded(
            where=run_dir,
            problem="attempt {} of job {} was replaced by a later attempt while it "
            "ran; it was killed".format(task.attempt, task.job_id),
            fix="its coordinator gave it up; the later attempt's result counts",
        )
    code = rundir.read_exit_code(run_dir, task.attempt)
    if code is None and proc.returncode is not None and proc.returncode >= 0:
        code = proc.returncode
    meta.update(end=rundir.exit_time(run_dir) or time.time(), exit_code=code)
    rundir.write_meta(run_dir, meta)
    return -1 if code is None else code


Record = Tuple[int, int]  # the launched record's file identity (device, inode)


def _claim(task: Task, restart: int) -> Tuple[Optional[int], Record]:
    """Record that this attempt (and try) launches now: (None, the record's
    identity) when it is this call's to launch, (the first run's exit status, ...)
    when a run of this attempt and try was launched before and ended."""
    run_dir = task.run_dir
    path = os.path.join(run_dir, LAUNCHED)
    text = "{} {}\n".format(task.attempt, restart).encode("ascii")
    while True:
        _check_current(task)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            pass
        else:
            try:
                os.write(fd, text)
                record = _identity(os.fstat(fd))
            finally:
                os.close(fd)
            break
        found = _read_record(path)
        if found is None:
            continue  # moved away meanwhile (a later attempt's prepare): look again
        attempt, tried = found
        if attempt > task.attempt:
            raise _superseded(task, "attempt {} owns the run directory".format(attempt))
        if attempt < task.attempt:
            # an earlier attempt's record its coordinator did not move: set it aside
            keep = os.path.join(run_dir, "attempt{}".format(attempt))
            os.makedirs(keep, exist_ok=True)
            try:
                os.rename(path, os.path.join(keep, LAUNCHED))
            except FileNotFoundError:
                pass  # another run of this attempt moved it
            continue
        if tried >= restart:
            return _earlier_end(task), (0, 0)
        # Slurm restarted the job: a new try of this attempt, the last one's logs kept
        _keep_try(run_dir, task.attempt, tried)
        fresh = "{}.{}".format(path, os.getpid())
        with open(fresh, "wb") as f:
            f.write(text)
            record = _identity(os.fstat(f.fileno()))
        os.replace(fresh, path)
        break
    # a later attempt's prepare may have run since the first look
    _check_current(task)
    return None, record


def _check_current(task: Task) -> None:
    """Raise ``AttemptSuperseded`` when a later attempt owns the run directory (this
    attempt's files were moved to ``attempt<N>/``) or the job was asked to stop."""
    if os.path.isdir(os.path.join(task.run_dir, "attempt{}".format(task.attempt))):
        raise _superseded(task, "a later attempt owns the run directory")
    if os.path.exists(os.path.join(task.run_dir, STOP_FILE)):
        raise _superseded(task, "its coordinator asked it to stop before it started")


def _superseded(task: Task, why: str) -> AttemptSuperseded:
    return AttemptSuperseded(
        where=task.run_dir,
        problem="attempt {} of job {} does not run: {}".format(
            task.attempt, task.job_id, why
        ),
        fix="nothing to do: a stale copy of the task (the engine ran it late)",
    )


def _earlier_end(task: Task) -> int:
    code = rundir.read_exit_code(task.run_dir, task.attempt)
    if code is not None:
        return code  # dask recomputes a result lost with its worker: the same one
    raise AttemptDied(
        where=task.run_dir,
        problem="attempt {} of job {} was started before, and that run left no "
        "exit status: it died with its worker (out of memory?)".format(
            task.attempt, task.job_id
        ),
        fix="the command is not started twice for one attempt; see its stderr.log",
    )


def _read_record(path: str) -> Optional[Tuple[int, int]]:
    """``(attempt, restart)`` from a ``launched`` record, None when there is none.
    A record just created may be empty for a moment: read again."""
    for _ in range(50):
        try:
            with open(path, "rb") as f:
                words = f.read().split()
        except FileNotFoundError:
            return None
        try:
            return int(words[0]), int(words[1])
        except (IndexError, ValueError):
            time.sleep(0.1)
    return 1 << 30, 0  # unreadable: never run on top of it


def _identity(stat: os.stat_result) -> Record:
    return stat.st_dev, stat.st_ino


def _holds(path: str, record: Record) -> bool:
    """The run directory still holds this run's ``launched`` record."""
    try:
        return _identity(os.stat(path)) == record
    except FileNotFoundError:
        return False
    except OSError:
        return True  # a filesystem hiccup is no reason to kill a job


def _keep_try(run_dir: str, attempt: int, tried: int) -> None:
    """Move a Slurm try's logs, exit status and meta to ``attempt<N>.<restart>/``."""
    keep = os.path.join(run_dir, "attempt{}.{}".format(attempt, tried))
    for name in (rundir.STDOUT, rundir.STDERR, rundir.EXIT, rundir.PID, rundir.META):
        source = os.path.join(run_dir, name)
        if os.path.exists(source):
            os.makedirs(keep, exist_ok=True)
            os.replace(source, os.path.join(keep, name))


def _feed(stream, data: bytes) -> None:
    """Write ``data`` to the job's stdin from a thread: a job slow to read it never
    blocks the watch (stop, timeout)."""

    def write():
        try:
            stream.write(data)
        except OSError:
            pass  # the job ended without reading it
        finally:
            try:
                stream.close()
            except OSError:
                pass

    threading.Thread(target=write, name="hpreg-stdin", daemon=True).start()


def _watch(pid: int, task: Task, ended: Callable[[], bool], record: Record) -> bool:
    """Wait for the job; when ``STOP_FILE`` appears, SIGINT, then SIGTERM, then
    SIGKILL to its process group; SIGTERM to this process (Slurm's scancel) and the
    job's timeout too. A job whose ``launched`` record is moved away (a later
    attempt's prepare) gets SIGKILL at once; returns True then."""
    stop = os.path.join(task.run_dir, STOP_FILE)
    launched = os.path.join(task.run_dir, LAUNCHED)
    stopping = None
    replaced = False
    received = []
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *a: received.append(1))
    deadline = time.time() + task.timeout if task.timeout else None
    next_look = time.time() + RECORD_CHECK
    while not ended():
        time.sleep(0.1)
        now = time.time()
        if now >= next_look:
            next_look = now + RECORD_CHECK
            if replaced or not _holds(launched, record):
                # no grace: its wrapper would write its exit status into the run
                # directory the later attempt owns
                replaced = True
                _signal_group(pid, signal.SIGKILL)
                continue
        if stopping is None and deadline is not None and now > deadline:
            stopping = now - STOP_GRACE  # SIGTERM at once, as locally
            _signal_group(pid, signal.SIGTERM)
            with open(os.path.join(task.run_dir, rundir.STDERR), "a") as err:
                err.write("hpreg: timed out after {:g} s\n".format(task.timeout))
        elif stopping is None and (received or os.path.exists(stop)):
            stopping = now
            _signal_group(pid, signal.SIGINT if not received else signal.SIGTERM)
        elif stopping is not None:
            waited = now - stopping
            if waited > 2 * STOP_GRACE:
                _signal_group(pid, signal.SIGKILL)
            elif waited > STOP_GRACE:
                _signal_group(pid, signal.SIGTERM)
    return replaced


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


# a guard process per job: when the process running ``execute`` dies (a lost dask
# worker, a killed submitit job), it kills the job's process group, so no copy of a
# job keeps running unseen while hpreg queues it again
_GUARD = """
import os, signal, sys, time
parent, group = int(sys.argv[1]), int(sys.argv[2])
while True:
    time.sleep(0.2)
    try:
        os.killpg(group, 0)
    except OSError:
        sys.exit(0)
    if os.getppid() != parent:
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            pass
        sys.exit(0)
"""


def _guard(group: int):
    import subprocess
    import sys

    try:
        return subprocess.Popen(
            [sys.executable, "-c", _GUARD, str(os.getpid()), str(group)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None
