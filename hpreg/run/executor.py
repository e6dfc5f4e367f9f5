"""Executors: where a run's jobs execute. The store and the coordinator (the process
that runs ``hpreg run`` or ``hpreg.run``) stay the source of truth in every case.

The interface, for every executor (``LocalExecutor``, ``SlurmExecutor``,
``DaskExecutor``; ``hpreg.run.api.make_executor`` builds one by name)::

    executor = make_executor("dask", store, root, jobs=4, scheduler="local")  # api
    summary = executor.run()   # runs the store's queued jobs until none is left

(``Executor`` is in ``hpreg.run.base``; the local executor keeps its own loop for
pidfd waits, signals to process groups and GPU slots, under the same contract.)

- ``run()`` claims queued (and interrupted) jobs of ``store`` (limited by
  ``store.choose``), runs each in ``root/<id>/`` and records its end in the store,
  exactly once (``store.finish`` is guarded by the runner's id). It returns a
  ``Summary`` (counts by state, failed jobs, whether it was interrupted). Jobs added
  to the store while it runs (an optimizer's next trials, from ``progress.ended``)
  are claimed too, when ``store.choose`` lets them.
- ``driver`` (the optimizer's ask/tell loop, ``hpreg.optimize.coordinator``): when a
  slot is free and no job is queued, ``driver.feed()`` adds one (and chooses it);
  ``driver.tick(running)`` looks at the running jobs (``running[id].run_dir``) every
  poll; ``driver.ended(job, state, run_dir, metrics, error)`` hears each end. A job
  whose run directory holds ``prune`` when it ends is recorded ``pruned``.
- A coordinator that dies loses nothing: the next ``run()`` on the store finds its
  jobs stale and re-attaches to those still running (by pid locally, by the Slurm
  job id or dask key recorded as the job's ``handle`` otherwise), records those
  that ended meanwhile from their run directory, and queues the others again.
- Ctrl-C (SIGINT/SIGTERM) stops the jobs, records them ``interrupted`` (queued
  again on the next run) and returns with ``summary.interrupted``.

Remote executors are ``RemoteExecutor`` subclasses: they implement four small hooks
(``submit``, ``poll``, ``attach``, ``cancel``) and ``execute`` runs each job on the
worker exactly as the local executor runs it (the same wrapper, run directory files
and environment). The run directories must be on a filesystem the workers share
(the usual case on a Slurm cluster).
"""

import os
import signal
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from hpreg.run import rundir
from hpreg.run.base import Executor
from hpreg.run.local import (
    HEARTBEAT,
    HOST,
    LAUNCH_GRACE,
    FunctionTarget,
    Summary,
    runner_dead,
)
from hpreg.run.store import RunStore

EXECUTORS = ("local", "slurm", "dask")
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


class Ended:
    """How a remote job ended, as the engine saw it: ``lost`` when it did not end by
    itself (preempted, its node or worker died): it is queued again, not failed;
    ``reason`` is the engine's word for a failure without an exit status."""

    def __init__(self, lost: bool = False, reason: Optional[str] = None, code=None):
        self.lost = lost
        self.reason = reason
        self.code = code


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
        from hpreg.run.local import _function_job

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


class _Running:
    """A remote job as ``driver.tick`` sees it: the job and its run directory."""

    def __init__(self, job, run_dir: str):
        self.job = job
        self.run_dir = run_dir


class RemoteExecutor(Executor):
    """The coordinator of an executor that hands jobs to an engine (Slurm, dask).

    Subclasses implement:

    - ``open()`` / ``close()``: connect to the engine and let go of it;
    - ``submit(tasks) -> handles``: send the tasks (one batch: a Slurm array) and
      return one handle string per task (recorded in the store before anything
      else happens);
    - ``poll(handles) -> {job_id: Ended}``: which of the watched jobs (job id ->
      handle) have ended;
    - ``attach(job_id, handle) -> bool``: watch a job a dead coordinator submitted;
      False when the engine no longer knows it (its run directory then tells);
    - ``cancel(handles)``: stop jobs (Ctrl-C); best effort, ``STOP_FILE`` too.

    ``capacity`` is how many jobs are out at once (None: every queued job is
    submitted at once, the engine queues them; with a ``driver``, ``jobs``).
    """

    poll_interval = 0.5
    capacity: Optional[int] = None

    def __init__(
        self,
        store: RunStore,
        root: str,
        jobs: Optional[int] = None,
        timeout: Optional[float] = None,
        max_attempts: int = 1,
        progress=None,
        function: Optional[FunctionTarget] = None,
        cwd: Optional[str] = None,
        driver=None,
    ):
        self.store = store
        self.root = os.path.abspath(root)
        self.jobs = jobs
        # the optimizer's ask/tell loop: feed() when a slot is free, tick() while
        # jobs run, ended() for each end (see LocalExecutor)
        self.driver = driver
        if driver is not None and self.capacity is None:
            self.capacity = max(1, jobs or 1)  # a trial is asked when a slot frees
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.progress = progress
        self.function = function
        self.cwd = cwd or os.getcwd()
        self.runner = os.urandom(16).hex()
        self.watched: Dict[str, Tuple[Any, str]] = {}  # job id -> (job, handle)
        self.launched = 0
        self.signals = 0
        self._git = None
        self._wake = threading.Event()

    # -- hooks -----------------------------------------------------------------------
    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def submit(self, tasks: List[Task]) -> List[str]:  # pragma: no cover (abstract)
        raise NotImplementedError

    def poll(self, handles: Dict[str, str]) -> Dict[str, Ended]:  # pragma: no cover
        raise NotImplementedError

    def attach(self, job_id: str, handle: str) -> bool:
        return False

    def cancel(self, handles: Dict[str, str]) -> None:
        pass

    # -- the loop --------------------------------------------------------------------
    def run(self) -> Summary:
        store = self.store
        self.open()
        store.register(self.runner, HOST, os.getpid())
        previous = self._install_signals()
        try:
            next_beat = 0.0
            while True:
                now = time.time()
                waiting = False
                if now >= next_beat:
                    store.heartbeat(self.runner)
                    waiting = not self.signals and self._recover()
                    next_beat = now + (LAUNCH_GRACE if waiting else HEARTBEAT)
                if self.signals:
                    self._stop()
                    break
                self._submit_queued()
                self._reap()
                if self.driver is not None and not self.signals:
                    self.driver.tick(
                        {
                            i: _Running(job, os.path.join(self.root, i))
                            for i, (job, _) in self.watched.items()
                        }
                    )
                if not self.watched and not waiting:
                    if not store.stale_jobs(runner_dead):
                        # jobs queued again (lost, --max-attempts) go out first
                        if not self._submit_queued():
                            break
                        continue
                self._wake.wait(self.poll_interval)
        finally:
            self._restore_signals(previous)
            store.unregister(self.runner)
            self.close()
        counts = store.counts()
        return Summary(counts, store.jobs("failed"), bool(self.signals), self.launched)

    def _submit_queued(self) -> int:
        tasks, jobs = [], []
        while self.capacity is None or len(self.watched) + len(tasks) < self.capacity:
            job = self.claim_next()
            if job is None:
                break
            try:
                tasks.append(self._task(job))
            except BaseException:
                self.store.finish(job.id, self.runner, "queued")
                raise
            jobs.append(job)
        if not tasks:
            return 0
        try:
            handles = self.submit(tasks)
        except BaseException:
            for job in jobs:
                self.store.finish(job.id, self.runner, "queued")
            raise
        for job, handle in zip(jobs, handles):
            self.store.set_handle(job.id, self.runner, handle)
            self.watched[job.id] = (job, handle)
            self.launched += 1
            if self.progress is not None:
                self.progress.started(job)
        return len(tasks)

    def _task(self, job) -> Task:
        run_dir = os.path.join(self.root, job.id)
        config = rundir.prepare(run_dir, job.point, job.command, job.attempts)
        for name in (rundir.EXIT, rundir.PID, STOP_FILE):
            try:
                os.remove(os.path.join(run_dir, name))
            except OSError:
                pass
        if self._git is None:
            self._git = rundir.git_state(self.cwd)
        env = {"HPREG_CONFIG": config, "HPREG_RUN_DIR": run_dir, "HPREG_RUN_ID": job.id}
        task = Task(
            job.id,
            run_dir,
            job.attempts,
            env,
            self.cwd,
            git=self._git,
            timeout=self.timeout,
        )
        if self.function is not None:
            task.function = self.function.function
            task.point = dict(job.point)
        else:
            task.argv = [rundir.fill(a, config, run_dir, job.id) for a in job.command]
        return task

    def _reap(self) -> None:
        if not self.watched:
            return
        ended = self.poll({i: h for i, (_, h) in self.watched.items()})
        for job_id, how in ended.items():
            job, _ = self.watched.pop(job_id)
            self._finish(job, how)

    def _finish(self, job, how: Ended, interrupted: bool = False) -> None:
        run_dir = os.path.join(self.root, job.id)
        code = rundir.read_exit_code(run_dir)
        if code is None and how.code is not None and how.code >= 0:
            code = how.code
        error = None
        if how.lost or (interrupted and code != 0):
            state = "interrupted"  # queued again: claimed by this run or the next
        elif os.path.exists(os.path.join(run_dir, rundir.PRUNE)):
            state = "pruned"  # the optimizer's pruner stopped it (hpreg.optimize)
        elif code == 0:
            state = "done"
        elif code is None:
            state = "failed"
            error = how.reason or "ended without an exit status"
            stderr = rundir.tail(os.path.join(run_dir, rundir.STDERR))
            if stderr:
                error += "\n" + stderr
        else:
            state = "failed"
            error = rundir.tail(os.path.join(run_dir, rundir.STDERR))
        meta = rundir.read_meta(run_dir)
        end = rundir.end_not_before(
            rundir.exit_time(run_dir) or time.time(), meta.get("start")
        )
        metrics = rundir.read_metrics(run_dir)
        self.record_end(
            job, run_dir, state, code, end, error, metrics, meta.get("start")
        )

    def _recover(self) -> bool:
        """Adopt the running jobs of dead coordinators: re-attach by handle, record
        those that ended from their run directory, queue the others again."""
        waiting = False
        now = time.time()
        for job in self.store.stale_jobs(runner_dead):
            run_dir = os.path.join(self.root, job.id)
            code = rundir.read_exit_code(run_dir)
            if code is None and not job.handle:
                if now - (job.claimed or 0) < LAUNCH_GRACE:
                    waiting = True  # being submitted right now, maybe
                    continue
            if not self.store.adopt(job.id, job.runner, self.runner):
                continue
            job = self.store.get(job.id)
            if code is None and job.handle and self.attach(job.id, job.handle):
                self.watched[job.id] = (job, job.handle)
                if self.progress is not None:
                    self.progress.started(job)
                continue
            self._finish(job, Ended(lost=code is None))
        return waiting

    def _stop(self) -> None:
        if self.progress is not None and self.watched:
            self.progress.message(
                "interrupted: stopping {} job(s)".format(len(self.watched))
            )
        handles = {i: h for i, (_, h) in self.watched.items()}
        for job_id in handles:
            try:
                open(os.path.join(self.root, job_id, STOP_FILE), "w").close()
            except OSError:
                pass
        try:
            self.cancel(handles)
        finally:
            for job_id in list(self.watched):
                job, _ = self.watched.pop(job_id)
                self._finish(job, Ended(), interrupted=True)

    # -- Ctrl-C ----------------------------------------------------------------------
    def _install_signals(self):
        if threading.current_thread() is not threading.main_thread():
            return None
        previous = {}

        def on_signal(signum, frame):
            self.signals += 1
            self._wake.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
        return previous

    def _restore_signals(self, previous) -> None:
        if previous:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
