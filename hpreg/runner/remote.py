"""The coordinator side of the remote executors (Slurm, dask): ``RemoteExecutor``
hands jobs to an engine through four hooks and records their ends in the store."""

import os
import signal
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from hpreg.runner import rundir
from hpreg.runner.base import Executor
from hpreg.runner.liveness import runner_dead
from hpreg.runner.local import FunctionTarget, Summary
from hpreg.runner.node import LAUNCHED, STOP_FILE, Task
from hpreg.runner.states import LAUNCH_GRACE, RECOVER_EVERY, Outcome, classify
from hpreg.runner.store import RunStore

EXECUTORS = ("local", "slurm", "dask")
REFUSED_BACKOFF = 5.0  # seconds before jobs an engine refused are offered again


class Ended:
    """How a remote job ended, as the engine saw it: ``lost`` when it did not end by
    itself (preempted, its node or worker died): it is queued again, not failed;
    ``reason`` is the engine's word for a failure without an exit status."""

    def __init__(self, lost: bool = False, reason: Optional[str] = None, code=None):
        self.lost = lost
        self.reason = reason
        self.code = code


class _Running:
    """A remote job as ``driver.tick`` sees it: the job and its run directory."""

    def __init__(self, job, run_dir: str):
        self.job = job
        self.run_dir = run_dir


class RemoteExecutor(Executor):
    """The coordinator of an executor that hands jobs to an engine (Slurm, dask).

    Subclasses implement:

    - ``open()`` / ``close()``: connect to the engine and let go of it;
    - ``submit(tasks) -> handles``: send the tasks (one batch: Slurm arrays) and
      return one handle string per task (recorded in the store before anything
      else happens), or None for a task the engine would not take now (a cap on a
      user's jobs): its job goes back to the queue uncounted and is offered again
      at a later poll;
    - ``poll(handles) -> {job_id: Ended}``: which of the watched jobs (job id ->
      handle) have ended;
    - ``attach(job_id, handle) -> handle or None``: watch a job a dead coordinator
      submitted; ``handle`` is None when that coordinator died before saving it
      (the engine may still find the job, e.g. by its Slurm job name). Returns the
      handle to watch, or None when the engine does not know the job (its run
      directory then tells);
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
        max_attempts: Optional[int] = None,
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
        self.set_attempts(max_attempts)
        self.progress = progress
        self.function = function
        self.cwd = cwd or os.getcwd()
        self.runner = os.urandom(16).hex()
        self.watched: Dict[str, Tuple[Any, str]] = {}  # job id -> (job, handle)
        self.launched = 0
        self.signals = 0
        self._git = None
        self._wake = threading.Event()
        self._offer_at = 0.0  # after an engine refused jobs: when to offer again

    # -- hooks -----------------------------------------------------------------------
    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def submit(
        self, tasks: List[Task]
    ) -> List[Optional[str]]:  # pragma: no cover (abstract)
        raise NotImplementedError

    def poll(self, handles: Dict[str, str]) -> Dict[str, Ended]:  # pragma: no cover
        raise NotImplementedError

    def attach(self, job_id: str, handle: Optional[str]) -> Optional[str]:
        return None

    def cancel(self, handles: Dict[str, str]) -> None:
        pass

    # -- the loop --------------------------------------------------------------------
    def run(self) -> Summary:
        store = self.store
        self.open()
        self.register()
        previous = self._install_signals()
        try:
            next_beat = 0.0
            while True:
                now = time.time()
                waiting = False
                if now >= next_beat:
                    waiting = not self.signals and self._recover()
                    next_beat = now + (LAUNCH_GRACE if waiting else RECOVER_EVERY)
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
                refused = self._offer_at > time.time()
                if not self.watched and not waiting and not refused:
                    if not store.stale_jobs(runner_dead):
                        # jobs queued again (lost, --max-attempts) go out first
                        if not self._submit_queued():
                            break
                        continue
                self._wake.wait(self.poll_interval)
        finally:
            self._restore_signals(previous)
            self.unregister()
            self.close()
        counts = store.counts()
        return Summary(counts, store.jobs("failed"), bool(self.signals), self.launched)

    def _submit_queued(self) -> int:
        if self._offer_at > time.time():
            return 0  # the engine refused jobs a moment ago
        tasks, jobs = [], []
        while self.capacity is None or len(self.watched) + len(tasks) < self.capacity:
            job = self.claim_next()
            if job is None:
                break
            try:
                tasks.append(self._task(job))
            except BaseException:
                self.store.release(job.id, self.runner)
                raise
            jobs.append(job)
        if not tasks:
            return 0
        try:
            handles = self.submit(tasks)
        except BaseException:
            for job in jobs:
                self.store.release(job.id, self.runner)
            raise
        submitted = 0
        for job, handle in zip(jobs, handles):
            if handle is None:  # the engine's cap: offered again a bit later
                self.store.release(job.id, self.runner)
                self._offer_at = time.time() + REFUSED_BACKOFF
                continue
            self.store.set_handle(job.id, self.runner, handle)
            self.watched[job.id] = (job, handle)
            self.launched += 1
            submitted += 1
            if self.progress is not None:
                self.progress.started(job)
        return submitted

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
        env = {
            "HPREG_CONFIG": config,
            "HPREG_RUN_DIR": run_dir,
            "HPREG_RUN_ID": job.id,
            "HPREG_ATTEMPT": str(job.attempts),
        }
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
        code = rundir.read_exit_code(run_dir, job.attempts)
        if code is None and how.code is not None and how.code >= 0:
            code = how.code
        outcome = classify(
            code,
            interrupted=interrupted,
            lost=how.lost and code != 0,  # preempted: its wrapper may have written 143
            engine_reason=how.reason or ("ended without an exit status"),
            prune_acknowledged=rundir.prune_acknowledged(run_dir),
        )
        if outcome.state == "failed" and how.reason and code not in (None, 0):
            # the engine ended it (Slurm's time limit): that, not the exit status
            outcome = Outcome("failed", how.reason)
        detail = None
        if outcome.state == "failed":
            detail = rundir.tail(os.path.join(run_dir, rundir.STDERR)) or None
        meta = rundir.read_meta(run_dir)
        end = rundir.end_not_before(
            rundir.exit_time(run_dir) or time.time(), meta.get("start")
        )
        metrics = self.read_metrics(job, run_dir)
        self.record_end(
            job, run_dir, outcome, code, end, metrics, meta.get("start"), detail
        )

    def _recover(self) -> bool:
        """Adopt the running jobs of dead coordinators: re-attach by handle, record
        those that ended from their run directory, queue the others again."""
        waiting = False
        now = time.time()
        for job in self.store.stale_jobs(runner_dead):
            run_dir = os.path.join(self.root, job.id)
            code = rundir.read_exit_code(run_dir, job.attempts)
            if code is None and not job.handle:
                if now - (job.claimed or 0) < LAUNCH_GRACE:
                    waiting = True  # being submitted right now, maybe
                    continue
            if not self.store.adopt(job.id, job.runner, self.runner):
                continue
            job = self.store.get(job.id)
            handle = self.attach(job.id, job.handle) if code is None else None
            if handle is not None:
                if handle != job.handle:
                    self.store.set_handle(job.id, self.runner, handle)
                    job = self.store.get(job.id)
                self.watched[job.id] = (job, handle)
                if self.progress is not None:
                    self.progress.started(job)
                continue
            if code is None and not os.path.exists(os.path.join(run_dir, LAUNCHED)):
                # never started (a dead coordinator's task the engine dropped):
                # queued again uncounted; a late copy of it shares the attempt's
                # record, so only one of them runs
                self.store.release(job.id, self.runner)
                continue
            self._finish(
                job,
                Ended(
                    lost=code is None,
                    reason="its runner died and the engine does not know it",
                ),
            )
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
