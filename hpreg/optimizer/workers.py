"""Worker mode: many ``hpreg optimize --worker`` processes, on one machine or many,
share one study through its storage (a journal file on a shared filesystem, or a
database server such as PostgreSQL).

- Each worker runs its trials as jobs of its own run store, ``<store>/<host>-<pid>``
  (a run store is SQLite, never shared between processes of several machines); the
  trial records its worker in the system attribute ``hpreg_worker``, so
  ``hpreg results <store>`` finds every worker's jobs.
- Claiming a slot: ``n_trials`` counts complete, pruned and failed trials. A worker
  asks a new trial only while the counted and running trials are fewer than
  ``n_trials`` (under a lock file next to a journal file or an SQLite database:
  SQLite has no row locks, and two workers could take one waiting trial), and
  keeps it only when
  fewer than ``n_trials`` trials numbered before it count, run or wait. That second
  check makes the total exact without a lock (a database): two workers racing for
  the last slot both ask, the later-numbered trial is failed at once and marked
  ``hpreg_unused`` (never counted, not shown by ``hpreg results``).
- Heartbeats come from a thread (``hpreg.optimizer.heartbeat``), a first one as
  soon as the trial is asked. On a database they are Optuna's own: every worker
  calls Optuna's ``fail_stale_trials``, which fails a trial silent for
  ``GRACE_BEATS`` heartbeats (timed by the database's clock) and asks it again
  (``RetryHeartbeatStaleTrialCallback``). A journal file has no heartbeat of its
  own: a worker bumps a counter (system attribute ``hpreg_heartbeat``) on each of
  its trials, and a running trial whose counter has not moved for ``GRACE_BEATS``
  heartbeats, timed by the watching worker's own clock (clocks of machines need not
  agree), or whose worker process on the same host is gone (pid and start time),
  is failed by the one worker whose FAIL lands first, and asked again by the same
  Optuna callback. Either way a stale trial does not count (a worker marks each
  trial it ends itself, ``hpreg_told``: a worker's trial failed unmarked is stale)
  and is asked again ``MAX_RETRY`` times at most (its retries record it in their
  ``retry_history``); after that its failure counts.
- A worker ends when ``n_trials`` trials count and none runs: while other workers'
  trials run it waits, so that a dead worker's trial is retried.
"""

import contextlib
import copy
import itertools
import os
import time
import warnings
import zlib
from typing import Any, Dict, List, Optional

from hpreg.optimizer.coordinator import Driver
from hpreg.optimizer.heartbeat import Heartbeat
from hpreg.optimizer.study import (
    GRACE_BEATS,
    TOLD,
    UNUSED,
    WORKER,
    counts,
    stale_retry,
)
from hpreg.runner import rundir

BEAT = "hpreg_heartbeat"  # system attribute: the worker's heartbeat counter (journal)
HEARTBEAT = 10.0  # seconds between heartbeats
HOST = rundir.HOST


def worker_name() -> str:
    return "{}-{}".format(HOST, os.getpid())


def worker_seed(seed: Optional[int], name: str) -> Optional[int]:
    """Each worker samples its own points: the seed mixed with the worker's name."""
    if seed is None:
        return None
    return (seed + zlib.crc32(name.encode())) % (2**31)


def tally(trials) -> List[int]:
    """[counted, running] of a study's trials."""
    counted = running = 0
    for trial in trials:
        if trial.state.name == "RUNNING":
            running += 1
        elif trial.state.is_finished() and counts(trial):
            counted += 1
    return [counted, running]


def started(pid: int) -> Optional[int]:
    """When process ``pid`` started (clock ticks since boot), None when unknown: a
    pid with another start time is another process."""
    try:
        with open("/proc/{}/stat".format(pid), "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


class FileLock:
    """A lock file next to a journal (``O_EXCL`` creation: NFSv3 and later, as
    Optuna's own journal lock); a holder killed with -9 loses it after
    ``grace`` seconds."""

    def __init__(self, path: str, grace: int = 10):
        from optuna.storages.journal import JournalFileOpenLock

        self.path = path
        self.lock = JournalFileOpenLock(path, grace_period=grace)

    @contextlib.contextmanager
    def held(self):
        self.lock.acquire()
        try:
            yield
        finally:
            try:
                self.lock.release()
            except RuntimeError:  # taken from us after the grace period
                pass


def lock_for(storage_text: str) -> Optional[FileLock]:
    """The claim lock of a journal file or an SQLite database (None for a database
    server, whose row locks keep two workers from taking one waiting trial; SQLite
    has none)."""
    if storage_text.startswith("journal:"):
        return FileLock(os.path.abspath(storage_text[len("journal:") :]) + ".hpreg")
    if storage_text.lower().startswith("sqlite:///"):
        path = storage_text[len("sqlite:///") :].split("?")[0]
        if path and path != ":memory:":
            return FileLock(os.path.abspath(path) + ".hpreg")
    return None


class WorkerDriver(Driver):
    """The coordinator's driver for one worker of a shared study."""

    def __init__(
        self,
        *args,
        name: str,
        heartbeat: float = HEARTBEAT,
        lock: Optional[FileLock] = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.name = name
        self.heartbeat = heartbeat
        self.poll = min(1.0, heartbeat)
        self.lock = lock
        self.owner = {
            "store": name,
            "host": HOST,
            "pid": os.getpid(),
            "started": started(os.getpid()),
            "heartbeat": heartbeat,
        }
        self.storage = self.study._storage  # Optuna's storage of the study
        exceptions = self.optuna.exceptions
        # an RDB storage made with a heartbeat (make_storage): Optuna's own
        interval = getattr(self.storage, "get_heartbeat_interval", lambda: None)()
        self.optuna_heartbeat = interval is not None
        if self.optuna_heartbeat:
            beat = self.storage.record_heartbeat
        else:
            counter = itertools.count(1)

            def beat(trial_id: int) -> None:
                self.storage.set_trial_system_attr(trial_id, BEAT, next(counter))

        self.heart = Heartbeat(
            beat, heartbeat, gone=exceptions.UpdateFinishedTrialError
        )
        self.retry = stale_retry(self.optuna)
        self.next_look = 0.0
        self.full_until = 0.0  # no claim before: the study was full
        self.seen: Dict[int, Any] = {}  # trial id -> (heartbeat seen, since)
        self.unused = 0  # trials asked over the budget here
        self.lost = 0  # trials failed as stale by another worker while run here

    def recover(self) -> None:
        """A worker's store is its own and new: nothing to reconcile."""

    # -- claiming ----------------------------------------------------------------------
    def ask(self):
        now = time.monotonic()
        if now < self.full_until:
            return None
        with self._locked():
            counted, running = tally(self.study.get_trials(deepcopy=False))
            if counted + running >= self.n_trials:
                self.full_until = now + self.poll
                return None
            with warnings.catch_warnings():
                warnings.simplefilter(
                    "ignore", self.optuna.exceptions.ExperimentalWarning
                )
                # the heartbeat is ours (a thread), not Study.optimize's
                warnings.filterwarnings("ignore", message="Heartbeat of storage")
                trial = self.study.ask(self.distributions)
            self.heart.add(trial._trial_id)  # a first beat at once
            self.storage.set_trial_system_attr(trial._trial_id, WORKER, self.owner)
        if not self._within_budget(trial):
            self.heart.discard(trial._trial_id)
            trial.set_user_attr(UNUSED, True)
            self.study.tell(
                trial, state=self.optuna.trial.TrialState.FAIL, skip_if_finished=True
            )
            self.unused += 1
            self.full_until = now + self.poll
            return None
        return trial

    def _locked(self):
        return self.lock.held() if self.lock is not None else contextlib.nullcontext()

    def _within_budget(self, trial) -> bool:
        """Fewer than ``n_trials`` trials numbered before this one count, run or
        wait (an earlier trial's claim wins over a later one's)."""
        ahead = 0
        for other in self.study.get_trials(deepcopy=False):
            if other.number >= trial.number:
                continue
            if other.state.name in ("RUNNING", "WAITING") or (
                other.state.is_finished() and counts(other)
            ):
                ahead += 1
        return ahead < self.n_trials

    def ended(self, job, state, run_dir, metrics, error) -> None:
        trial = self.live.get(job.id)
        if trial is not None and state != "queued":  # queued: --max-attempts
            self.heart.discard(trial._trial_id)
        super().ended(job, state, run_dir, metrics, error)
        self.full_until = 0.0

    def _tell(self, trial, job_id: str, state: str, metrics, error) -> None:
        try:
            # a trial failed by its worker is marked: an unmarked one is stale
            self.storage.set_trial_system_attr(trial._trial_id, TOLD, True)
        except self.optuna.exceptions.UpdateFinishedTrialError:
            # failed as stale by another worker (this one looked dead): it is
            # asked again there, and this job's result is not told
            self.lost += 1
            return
        super()._tell(trial, job_id, state, metrics, error)

    # -- stale trials ------------------------------------------------------------------
    def tick(self, running: Dict[str, Any]) -> None:
        super().tick(running)
        self.watch()

    def watch(self) -> None:
        """Every ``poll`` seconds, fail the stale trials of dead workers."""
        now = time.monotonic()
        if now < self.next_look:
            return
        self.next_look = now + self.poll
        if self.optuna_heartbeat:
            with self._locked(), warnings.catch_warnings():
                warnings.simplefilter(
                    "ignore", self.optuna.exceptions.ExperimentalWarning
                )
                self.optuna.storages.fail_stale_trials(self.study)
        else:
            self.reap(now)

    def reap(self, now: float) -> None:
        """A journal's stale trials: silent for ``GRACE_BEATS`` heartbeats of their
        worker (by this worker's clock), or their worker on this host is gone."""
        mine = {trial._trial_id for trial in self.live.values()}
        TrialState = self.optuna.trial.TrialState
        running = self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        for frozen in running:
            key = frozen._trial_id
            if key in mine:
                continue
            owner = frozen.system_attrs.get(WORKER) or {}
            beat = frozen.system_attrs.get(BEAT)
            seen = self.seen.get(key)
            if seen is None or seen[0] != beat:
                seen = self.seen[key] = (beat, now)
            interval = owner.get("heartbeat") or self.heartbeat
            silent = now - seen[1] > GRACE_BEATS * float(interval)
            if silent or self._owner_gone(owner):
                self._fail_stale(frozen)
        alive = {t._trial_id for t in running}
        for key in list(self.seen):
            if key not in alive:
                del self.seen[key]

    def _owner_gone(self, owner: Dict[str, Any]) -> bool:
        """The trial's worker ran on this host and its process is gone (its pid
        ended, or is another process's now)."""
        from hpreg.runner.local import process_alive

        pid = owner.get("pid")
        if owner.get("host") != HOST or not isinstance(pid, int):
            return False
        if pid == os.getpid() and owner.get("started") == self.owner["started"]:
            return False
        if not process_alive(pid):
            return True
        return owner.get("started") is not None and started(pid) != owner["started"]

    def _fail_stale(self, frozen) -> None:
        """Fail another worker's dead trial; the worker whose FAIL lands first asks
        it again (Optuna's retry callback, as Optuna's heartbeat does)."""
        exceptions = self.optuna.exceptions
        TrialState = self.optuna.trial.TrialState
        self.seen.pop(frozen._trial_id, None)
        with self._locked():  # no worker claims a slot between the two
            try:
                changed = self.storage.set_trial_state_values(
                    frozen._trial_id, TrialState.FAIL
                )
            except (exceptions.UpdateFinishedTrialError, RuntimeError):
                return  # it ended meanwhile, or another worker failed it first
            if not changed:
                return
            failed = copy.deepcopy(self.storage.get_trial(frozen._trial_id))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.retry(self.study, failed)
        self.full_until = 0.0

    # -- between runs of the executor --------------------------------------------------
    def state(self) -> str:
        """``work`` (a slot to claim), ``wait`` (other workers' trials run: one may
        die and be retried) or ``done``."""
        self.watch()
        counted, running = tally(self.study.get_trials(deepcopy=False))
        if counted + running < self.n_trials:
            self.full_until = 0.0
            return "work"
        return "wait" if running else "done"


def ensure_store(store: str, lock_path: str) -> None:
    """An empty run store at the top of a shared store (``hpreg results`` opens it),
    made by one worker at a time."""
    from hpreg.runner.store import RunStore

    if os.path.exists(os.path.join(store, "hpreg.db")):
        return
    os.makedirs(store, exist_ok=True)
    with FileLock(lock_path).held():
        RunStore(store).close()


def run_worker(
    study,
    command: List[str],
    store: str,
    dims,
    fixed: Dict[str, Any],
    metrics: List[str],
    n_trials: int,
    storage_text: str,
    jobs: int = 1,
    timeout: Optional[float] = None,
    max_attempts: Optional[int] = None,
    gpus=None,
    on_trial=None,
    heartbeat: float = HEARTBEAT,
    name: Optional[str] = None,
    executor: str = "local",
    executor_options: Optional[Dict[str, Any]] = None,
):
    """Run trials of the shared study as jobs in ``<store>/<name>`` until the
    study has ``n_trials``; returns (the last executor ``Summary``, the driver).
    The jobs run on ``executor`` (``local``, ``slurm``, ``dask``) as in
    ``hpreg.optimizer.api.run_trials``."""
    from hpreg.optimizer.api import run_driven
    from hpreg.runner.store import RunStore

    name = name or worker_name()
    folder = os.path.join(store, name)
    ensure_store(store, os.path.join(os.path.abspath(store), "hpreg.db.create"))
    run_store = RunStore(folder)
    driver = WorkerDriver(
        study,
        run_store,
        folder,
        command,
        dims,
        fixed,
        metrics,
        n_trials,
        progress=on_trial,
        name=name,
        heartbeat=heartbeat,
        lock=lock_for(storage_text),
    )
    driver.heart.start()
    try:
        while True:
            summary = run_driven(
                driver,
                executor,
                run_store,
                folder,
                jobs=jobs,
                timeout=timeout,
                max_attempts=max_attempts,
                gpus=gpus,
                executor_options=executor_options,
            )
            if summary.interrupted:
                return summary, driver
            try:
                state = driver.state()
                while state == "wait":
                    time.sleep(driver.poll)
                    state = driver.state()
            except KeyboardInterrupt:
                summary.interrupted = True
                return summary, driver
            if state == "done":
                return summary, driver
    finally:
        driver.heart.stop()
        run_store.close()
