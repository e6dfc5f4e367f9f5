"""The local executor: one coordinator process keeps N job processes busy and is the
store's writer for them; jobs write only into their run directory.

A runner that dies (kill -9) loses nothing: the next runner finds its jobs stale,
re-attaches to those still running, records those that ended meanwhile from their
run directory, and queues again those that never started or were killed.
"""

import os
import select
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from hpreg.runner import rundir
from hpreg.runner.base import Executor
from hpreg.runner.devices import Devices, Lease
from hpreg.runner.liveness import process_alive, runner_dead
from hpreg.runner.states import CLAIMABLE, LAUNCH_GRACE, RECOVER_EVERY, classify
from hpreg.runner.store import RunStore

__all__ = ["LocalExecutor", "FunctionTarget", "Summary", "process_alive", "runner_dead"]

STOP_GRACE = float(os.environ.get("HPREG_STOP_GRACE", "10"))
KILL_GRACE = 5.0  # after a timeout's SIGTERM
HOST = rundir.HOST


class FunctionTarget:
    """A Python function run in a forked worker process with the point."""

    def __init__(self, function: Callable[[Dict[str, Any]], Any]):
        self.function = function
        module = getattr(function, "__module__", None) or "?"
        name = getattr(function, "__qualname__", None) or repr(function)
        self.command = ["python-function", "{}:{}".format(module, name)]


class Summary:
    """What one ``run`` did: counts by state afterwards, the failed jobs, and
    whether it was interrupted."""

    def __init__(self, counts, failed, interrupted, launched):
        self.counts = counts
        self.launched = launched
        self.failed = failed
        self.interrupted = interrupted


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class _Handle:
    """A job being watched: our child (``proc``), or a job re-attached from a dead
    runner (``proc`` is None: we watch its pid)."""

    def __init__(self, job, run_dir, pid, proc=None, start=None, gpu=None):
        self.job = job
        self.run_dir = run_dir
        self.pid = pid
        self.proc = proc
        self.start = start if start is not None else time.time()
        self.gpu = gpu
        self.meta: Optional[Dict[str, Any]] = None  # as written at launch
        self.deadline = None
        self.kill_at = None
        self.timed_out = False
        self.interrupted = False
        self.pidfd = None
        if hasattr(os, "pidfd_open"):
            try:
                self.pidfd = os.pidfd_open(pid)
            except OSError:
                self.pidfd = None

    def ended(self) -> bool:
        if self.proc is not None:
            if hasattr(self.proc, "poll"):
                return self.proc.poll() is not None
            return self.proc.exitcode is not None  # a multiprocessing.Process
        return not process_alive(self.pid, self.run_dir)

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        if self.proc is not None and not hasattr(self.proc, "poll"):
            self.proc.join(0)


class LocalExecutor(Executor):
    """Runs the queued jobs of ``store`` (limited to ``ids``) with ``jobs`` processes
    at once; ``root`` holds the run directories. ``target`` is a command (the jobs'
    own) or a ``FunctionTarget``."""

    name = "local"

    def __init__(
        self,
        store: RunStore,
        root: str,
        jobs: int = 1,
        timeout: Optional[float] = None,
        max_attempts: Optional[int] = None,
        gpus: Optional[Sequence[str]] = None,
        progress=None,
        function: Optional[FunctionTarget] = None,
        cwd: Optional[str] = None,
        driver=None,
    ):
        self.store = store
        self.root = os.path.abspath(root)
        self.slots = max(1, jobs)
        # with devices, a job holds one from launch to end: at most one job per
        # device on this machine (a lease, hpreg.runner.devices), so -j beyond the
        # number of devices, or devices leased by other runners' jobs, wait
        self.devices = Devices(gpus) if gpus else None
        if self.devices is not None:
            self.slots = min(self.slots, len(self.devices.names))
        self._device_wait = False  # queued jobs wait for a device
        self.timeout = timeout
        self.set_attempts(max_attempts)
        self.progress = progress
        self.function = function
        self.cwd = cwd or os.getcwd()
        # adds jobs as slots free (``feed()``), watches running ones (``tick``), hears
        # each end (``ended``): the optimizer's ask/tell loop (hpreg.optimize)
        self.driver = driver
        self.runner = os.urandom(16).hex()
        self.running: Dict[str, _Handle] = {}
        self.launched = 0
        self.signals = 0
        self.stop_started: Optional[float] = None
        self.stop_level = 0
        # the user's repository is read once per run, its git processes started now
        # so that they run while the store is read and the first job is prepared
        self._git_pending = rundir.start_git_state(self.cwd)
        self._git: Optional[Dict[str, Any]] = None
        self._env: Optional[Dict[str, str]] = None
        self._null: Optional[int] = None
        self._ended: List[_Handle] = []  # ended, not recorded yet
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        os.set_blocking(self._wake_r, False)

    # -- the loop ----------------------------------------------------------------------
    def run(self) -> Summary:
        store = self.store
        self.register()
        previous = self._install_signals()
        try:
            next_beat = 0.0
            while True:
                now = time.time()
                waiting_for_stale = False
                if now >= next_beat:
                    waiting_for_stale = not self.signals and self._recover()
                    next_beat = now + (
                        LAUNCH_GRACE if waiting_for_stale else RECOVER_EVERY
                    )
                if self.signals:
                    self._stop(now)
                else:
                    self._fill()
                if self._ended:
                    # recorded once the freed slots run again: a job's bookkeeping
                    # runs beside the next job, not before it
                    self._finish_ended()
                    if not self.signals:
                        self._fill()  # a failed job queued again (--max-attempts)
                if not self.running and (
                    self.signals
                    or not (
                        waiting_for_stale or self._device_wait or self._stale_left()
                    )
                ):
                    break
                self._wait(
                    max(0.0, min(next_beat, self._next_deadline()) - time.time())
                )
                self._reap()
                if self.driver is not None and not self.signals:
                    self.driver.tick(self.running)
        finally:
            try:
                self._finish_ended()
            finally:
                self._restore_signals(previous)
                self.unregister()
                self._git_pending.close()
                if self.devices is not None:
                    self.devices.close()
                if self._null is not None:
                    os.close(self._null)
                    self._null = None
                os.close(self._wake_r)
                os.close(self._wake_w)
        counts = store.counts()
        return Summary(counts, store.jobs("failed"), bool(self.signals), self.launched)

    def _stale_left(self) -> bool:
        """Running jobs of dead runners remain (waiting for their launch grace)."""
        return bool(self.store.stale_jobs(runner_dead))

    def _next_deadline(self) -> float:
        times = [time.time() + getattr(self.driver, "interval", 1.0)]
        for handle in self.running.values():
            for t in (handle.deadline, handle.kill_at):
                if t is not None:
                    times.append(t)
        if self.stop_started is not None:
            times.append(self.stop_started + STOP_GRACE * (self.stop_level))
        return min(times)

    def _wait(self, timeout: float) -> None:
        fds = [self._wake_r]
        polled = False
        for handle in self.running.values():
            if handle.pidfd is not None:
                fds.append(handle.pidfd)
            else:
                polled = True
        if polled:
            timeout = min(timeout, 0.05)
        try:
            ready, _, _ = select.select(fds, [], [], timeout)
        except InterruptedError:  # pragma: no cover (PEP 475 retries)
            ready = []
        if self._wake_r in ready:
            try:
                while os.read(self._wake_r, 512):
                    pass
            except BlockingIOError:
                pass

    def _fill(self) -> None:
        """Launch queued jobs while slots are free; with devices, a job's lease is
        taken before its claim (no job is claimed that cannot start)."""
        self._device_wait = False
        while len(self.running) < self.slots:
            lease = None
            if self.devices is not None:
                lease = self.devices.take()
                if lease is None:  # every free one is held by other runners' jobs
                    self._device_wait = self._queued() or bool(
                        self.driver is not None and self.driver.feed()
                    )
                    break
            try:
                job = self.claim_next()
                if job is None:
                    break
                self._launch(job, lease)
            finally:
                if lease is not None:
                    self.devices.give_back(lease)  # unless its job holds it

    def _queued(self) -> bool:
        counts = self.store.counts()
        return bool(sum(counts[state] for state in CLAIMABLE))

    def _finish_ended(self) -> None:
        while self._ended:
            self._finish(self._ended.pop(0))

    def _reap(self) -> None:
        """Free the slot and device of each job that ended (recorded by
        ``_finish_ended``, at once when an optimizer or a signal waits for it);
        time out the jobs past their deadline."""
        now = time.time()
        for job_id, handle in list(self.running.items()):
            if handle.ended():
                del self.running[job_id]
                if handle.gpu is not None:
                    self.devices.free(handle.gpu)
                    handle.gpu = None
                if self.driver is not None or self.signals:
                    self._finish(handle)
                else:
                    self._ended.append(handle)
                continue
            if handle.deadline is not None and now >= handle.deadline:
                handle.timed_out = True
                handle.deadline = None
                handle.kill_at = now + KILL_GRACE
                _signal_group(handle.pid, signal.SIGTERM)
            elif handle.kill_at is not None and now >= handle.kill_at:
                handle.kill_at = None
                _signal_group(handle.pid, signal.SIGKILL)

    # -- starting ----------------------------------------------------------------------
    def _launch(self, job, lease: Optional[Lease] = None) -> None:
        if not self.store.owns(job.id, self.runner):
            return  # another runner took it over: never launched here
        run_dir = os.path.join(self.root, job.id)
        try:
            config = rundir.prepare(
                run_dir, job.point, job.command, job.attempts, complete=False
            )
        except BaseException:
            self.store.release(job.id, self.runner)
            raise
        if self._git is None:
            self._git = self._git_pending.result()
        if self._env is None:
            self._env = dict(os.environ)
        gpu = lease.device if lease is not None else None
        held = lease.fd if lease is not None else None  # the wrapper's to hold
        env = self._env.copy()
        env.update(
            HPREG_CONFIG=config,
            HPREG_RUN_DIR=run_dir,
            HPREG_RUN_ID=job.id,
            HPREG_ATTEMPT=str(job.attempts),
        )
        if gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = str(gpu)
        meta = rundir.new_meta(0, job.attempts, self._git)
        if self.function is not None:
            try:
                proc = _fork_function(
                    self.function.function, job.point, run_dir, env, self.cwd
                )
            except BaseException:
                self.store.release(job.id, self.runner)
                raise
            pid = proc.pid
        else:
            argv = [rundir.fill(a, config, run_dir, job.id) for a in job.command]
            with (
                open(os.path.join(run_dir, rundir.STDOUT), "wb") as out,
                open(os.path.join(run_dir, rundir.STDERR), "wb") as err,
            ):
                try:
                    proc = subprocess.Popen(
                        ["sh", "-c", rundir.LEASED_WRAPPER, "hpreg-job", run_dir]
                        + argv,
                        stdin=self._devnull() if held is None else held,
                        stdout=out,
                        stderr=err,
                        env=env,
                        cwd=self.cwd,
                        start_new_session=True,
                    )
                except OSError:
                    self.store.release(job.id, self.runner)
                    raise
            pid = proc.pid
        if lease is not None:
            self.devices.started(lease)  # the job's process holds it now
        meta["pid"] = pid
        rundir.write_meta(run_dir, meta)
        rundir.complete_run_dir(run_dir, job.command)  # while the job starts
        handle = _Handle(job, run_dir, pid, proc, start=meta["start"], gpu=gpu)
        handle.meta = meta
        if self.timeout is not None:
            handle.deadline = handle.start + self.timeout
        self.running[job.id] = handle
        self.launched += 1
        if self.progress is not None:
            self.progress.started(job)

    def _devnull(self) -> int:
        """One ``/dev/null`` for every job's stdin (not an open per job)."""
        if self._null is None:
            self._null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        return self._null

    # -- ending --------------------------------------------------------------------------
    def _finish(self, handle: _Handle, adopted_end: Optional[float] = None) -> None:
        handle.close()
        if handle.gpu is not None:
            self.devices.free(handle.gpu)
        job, run_dir = handle.job, handle.run_dir
        code, ended_at = rundir.read_exit(run_dir, job.attempts)
        if code is None and handle.proc is not None and hasattr(handle.proc, "poll"):
            returncode = handle.proc.returncode
            # a wrapper killed by a signal wrote nothing; one that exited did
            code = returncode if returncode is not None and returncode >= 0 else None
        end = ended_at or adopted_end or time.time()
        outcome = classify(
            code,
            interrupted=handle.interrupted,
            timed_out=self.timeout if handle.timed_out else None,
            prune_acknowledged=rundir.prune_acknowledged(run_dir),
        )
        detail = None
        if outcome.state == "failed":
            detail = rundir.tail(os.path.join(run_dir, rundir.STDERR)) or None
        metrics = self.read_metrics(job, run_dir)
        meta = handle.meta if handle.meta is not None else rundir.read_meta(run_dir)
        end = rundir.end_not_before(end, meta.get("start"))
        meta.update(end=end, exit_code=code)
        if os.path.isdir(run_dir):
            rundir.write_meta(run_dir, meta)
        self.record_end(
            job, run_dir, outcome, code, end, metrics, meta.get("start"), detail
        )

    def _recover(self) -> bool:
        """Adopt the running jobs of dead runners. Returns True when some may still be
        starting (no pid file yet): they are looked at again shortly."""
        waiting = False
        now = time.time()
        for job in self.store.stale_jobs(runner_dead):
            run_dir = os.path.join(self.root, job.id)
            code = rundir.read_exit_code(run_dir, job.attempts)
            pid = rundir.read_pid(run_dir)
            if code is None and pid is None and now - (job.claimed or 0) < LAUNCH_GRACE:
                waiting = True
                continue
            if not self.store.adopt(job.id, job.runner, self.runner):
                continue  # another runner took it first
            if code is None and pid is None:
                # claimed, never started (its wrapper writes the pid file first):
                # back to the queue, not an attempt
                self.store.release(job.id, self.runner)
                continue
            job = self.store.get(job.id)
            start = rundir.read_meta(run_dir).get("start")
            if code is None and pid is not None and process_alive(pid, run_dir):
                handle = _Handle(job, run_dir, pid, start=start)
                if self.timeout is not None:  # --timeout counts from its start
                    handle.deadline = handle.start + self.timeout
                handle.gpu = self._take_device_of(pid)  # still holds its device
                self.running[job.id] = handle  # re-attached: watched, never restarted
                if self.progress is not None:
                    self.progress.started(job)
                continue
            handle = _Handle(job, run_dir, pid or 0, start=start)
            self._finish(handle)
        return waiting

    def _take_device_of(self, pid: int) -> Optional[str]:
        """The device a re-attached job was given (its ``CUDA_VISIBLE_DEVICES``),
        busy here while it runs (its wrapper holds the lease; one started without a
        lease, by an older runner, gets no new job on it either)."""
        if self.devices is None:
            return None
        device = _environ_of(pid).get("CUDA_VISIBLE_DEVICES")
        return device if self.devices.reserve(device) else None

    # -- Ctrl-C --------------------------------------------------------------------------
    def _install_signals(self):
        if threading.current_thread() is not threading.main_thread():
            return None
        previous = {}

        def on_signal(signum, frame):
            self.signals += 1
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass

        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
        return previous

    def _restore_signals(self, previous) -> None:
        if previous:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _stop(self, now: float) -> None:
        """First signal: SIGINT to every job, SIGTERM after STOP_GRACE, SIGKILL after
        twice that; a second signal kills at once."""
        if self.stop_started is None:
            self.stop_started = now
            self.stop_level = 1
            if self.progress is not None:
                self.progress.message(
                    "interrupted: stopping {} running job(s) (Ctrl-C again to "
                    "kill them)".format(len(self.running))
                )
            for handle in self.running.values():
                handle.interrupted = True
                _signal_group(handle.pid, signal.SIGINT)
            return
        if self.signals > 1 or now >= self.stop_started + 2 * STOP_GRACE:
            for handle in self.running.values():
                handle.interrupted = True
                _signal_group(handle.pid, signal.SIGKILL)
            self.stop_level = 3
        elif self.stop_level == 1 and now >= self.stop_started + STOP_GRACE:
            for handle in self.running.values():
                _signal_group(handle.pid, signal.SIGTERM)
            self.stop_level = 2


def _environ_of(pid: int) -> Dict[str, str]:
    """The environment ``pid`` was started with (Linux ``/proc``; empty elsewhere)."""
    try:
        with open("/proc/{}/environ".format(pid), "rb") as f:
            data = f.read()
    except OSError:
        return {}
    environ = {}
    for item in data.split(b"\0"):
        name, sep, value = item.partition(b"=")
        if sep:
            environ[name.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return environ


def _fork_function(function, point, run_dir, env, cwd):
    """Run ``function(point)`` in a forked worker process, as a command would run:
    its own session, output into the run dir, the exit status written atomically."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    process = context.Process(
        target=_function_job, args=(function, point, run_dir, env, cwd), daemon=False
    )
    process.start()
    return process


def _function_job(function, point, run_dir, env, cwd):  # pragma: no cover (child)
    import traceback

    os.setsid()
    _die_with_parent()
    with open(os.path.join(run_dir, rundir.PID), "w") as f:
        f.write("{}\n".format(os.getpid()))
    for fd, name in ((1, rundir.STDOUT), (2, rundir.STDERR)):
        target = os.open(
            os.path.join(run_dir, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644
        )
        os.dup2(target, fd)
        os.close(target)
    # sys.stdout may be another object than fd 1 (pytest's capture, an IDE's)
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    code = 0
    try:
        result = function(dict(point))
        from hpreg.runner.report import report

        if isinstance(result, dict):
            report(**result)
        elif isinstance(result, (int, float)) and not isinstance(result, bool):
            report(result=result)
        elif result is not None:
            report(result=result)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    from hpreg.io.files import write_atomic

    write_atomic(os.path.join(run_dir, rundir.EXIT), "{}\n".format(code))
    os._exit(code)


def _die_with_parent() -> None:
    """Linux: the worker gets SIGKILL when its runner dies (no orphan runs unseen)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
