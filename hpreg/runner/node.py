"""What runs on the node (a Slurm node, a dask worker): ``execute`` runs one job as
the local executor would (the same wrapper, run directory files and environment),
and a guard process kills the job's process group when the process running
``execute`` dies."""

import os
import signal
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from hpreg.runner import rundir

STOP_FILE = "stop"  # asks a remote job to stop (Ctrl-C of its coordinator)
STOP_GRACE = 10.0  # a stopped remote job gets SIGINT, then SIGTERM, then SIGKILL


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


def execute(task: Task) -> int:
    """Run one job on this machine (a Slurm node, a dask worker) as the local
    executor would, and return its exit status; the status and ``meta.json`` land
    in the run directory. The job stops when ``STOP_FILE`` appears there."""
    import subprocess

    run_dir = task.run_dir
    for name in (rundir.EXIT, rundir.PID, STOP_FILE):
        try:
            os.remove(os.path.join(run_dir, name))  # a preempted try's leftovers
        except OSError:
            pass
    env = dict(os.environ)
    env.update(task.env)
    cwd = task.cwd if os.path.isdir(task.cwd) else os.getcwd()
    meta = rundir.new_meta(os.getpid(), task.attempt, task.git)
    if task.function is not None:
        from hpreg.runner.local import _function_job

        # os.fork, not multiprocessing: a dask worker is a daemonic process
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child)
            try:
                _function_job(task.function, task.point, run_dir, env, cwd)
            finally:
                os._exit(1)
        meta["pid"] = pid
        rundir.write_meta(run_dir, meta)
        status = []

        def child_ended():
            if not status:
                done, how = os.waitpid(pid, os.WNOHANG)
                if done:
                    status.append(how)
            return bool(status)

        _watch(pid, task, child_ended)
        code = rundir.read_exit_code(run_dir)
        if code is None and os.WIFEXITED(status[0]):
            code = os.WEXITSTATUS(status[0])
    else:
        with (
            open(os.path.join(run_dir, rundir.STDOUT), "wb") as out,
            open(os.path.join(run_dir, rundir.STDERR), "wb") as err,
        ):
            proc = subprocess.Popen(
                ["sh", "-c", rundir.WRAPPER, "hpreg-job", run_dir] + task.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        guard = _guard(proc.pid)
        meta["pid"] = proc.pid
        rundir.write_meta(run_dir, meta)
        try:
            _watch(proc.pid, task, lambda: proc.poll() is not None)
        finally:
            if guard is not None:
                guard.kill()
                guard.wait()
        code = rundir.read_exit_code(run_dir)
        if code is None and proc.returncode is not None and proc.returncode >= 0:
            code = proc.returncode
    meta.update(end=rundir.exit_time(run_dir) or time.time(), exit_code=code)
    rundir.write_meta(run_dir, meta)
    return -1 if code is None else code


def _watch(pid: int, task: Task, ended: Callable[[], bool]) -> None:
    """Wait for the job; when ``STOP_FILE`` appears, SIGINT, then SIGTERM, then
    SIGKILL to its process group; SIGTERM to this process (Slurm's scancel) and the
    job's timeout too."""
    stop = os.path.join(task.run_dir, STOP_FILE)
    stopping = None
    received = []
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *a: received.append(1))
    deadline = time.time() + task.timeout if task.timeout else None
    while not ended():
        time.sleep(0.1)
        if stopping is None and deadline is not None and time.time() > deadline:
            stopping = time.time() - STOP_GRACE  # SIGTERM at once, as locally
            _signal_group(pid, signal.SIGTERM)
            with open(os.path.join(task.run_dir, rundir.STDERR), "a") as err:
                err.write("hpreg: timed out after {:g} s\n".format(task.timeout))
        elif stopping is None and (received or os.path.exists(stop)):
            stopping = time.time()
            _signal_group(pid, signal.SIGINT if not received else signal.SIGTERM)
        elif stopping is not None:
            waited = time.time() - stopping
            if waited > 2 * STOP_GRACE:
                _signal_group(pid, signal.SIGKILL)
            elif waited > STOP_GRACE:
                _signal_group(pid, signal.SIGTERM)


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
