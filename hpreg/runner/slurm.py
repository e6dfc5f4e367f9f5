"""``--executor slurm``: jobs go out as Slurm arrays; the coordinator stays the store's
writer, records each job's Slurm id (``slurm:<array>_<task>``) as its handle and
watches the jobs with one ``sacct`` call per poll. What Slurm owns and what hpreg
owns:

- **Arrays.** A batch of jobs goes out as arrays of at most ``MaxArraySize - 1``
  tasks (``scontrol show config``, read once per run; 1001 when it cannot tell),
  one ``sbatch`` each, with our own script (``hpreg.runner.slurm_batch``); each
  task runs ``hpreg.runner.slurm_job`` on its node.
- **Caps on jobs.** When sbatch refuses an array for a cap (``MaxSubmitJobs`` of a
  QOS or association, ``MaxJobCount``...), smaller arrays are tried (halving), and
  the jobs that do not fit go back to hpreg's queue uncounted; the executor then
  keeps at most as many jobs out as fitted (its ``capacity``), so a job is offered
  to Slurm again only when one of ours ends (or ``RETRY_AFTER`` later, when the
  cap was someone else's). Any other refusal fails the run with sbatch's words.
- **``--slurm-array-parallelism N``** holds across arrays: each array gets ``%N``,
  and an array that could bring more than N of our jobs out at once waits for the
  arrays still out (``--dependency=afterany:...``), so at most N run at any time
  while all are queued in Slurm (few sbatch calls, jobs age in Slurm's queue). The
  end of one array and the start of the next may leave slots idle for a moment.
- **Time limits.** No ``--signal`` is requested (submitit's default
  ``--signal=USR2@90`` made its job-side handler end every job up to 90 s early):
  a job runs to its ``--slurm-time``, when Slurm sends SIGTERM, then SIGKILL. A job
  Slurm ended at its limit (``TIMEOUT``) is failed with the reason ``time limit``.
- **Preemption and requeue: hpreg owns them.** Jobs are submitted with
  ``--no-requeue``: Slurm never restarts one (a preempted job ends ``PREEMPTED``,
  a failed node ``NODE_FAIL``; ``scontrol requeue`` is refused), and the coordinator
  queues it again as a new, counted attempt (a new Slurm job), whose logs go to the
  run directory while the previous attempt's are kept in ``attempt<N>/``.
- **Unknown is not lost.** A failed ``sacct`` call tells nothing: nothing ended,
  nothing lost. A job ``sacct`` does not know (accounting lags, or slurmdbd is
  down) is looked for in its run directory (an exit status: it ended; a pid: it
  runs) and with ``squeue``; only a job nobody knows for ``UNKNOWN_GRACE`` seconds
  is lost (then queued again, counted). An exit status in the run directory is
  taken when sacct has not caught up after ``RUN_DIR_GRACE`` seconds.
- **A dead coordinator's jobs.** The jobs are named ``hpreg-<store>`` and each
  array's comment carries its batch's token; a manifest written before ``sbatch``
  maps its tasks to hpreg's jobs: the next coordinator finds a job whose Slurm id
  was never saved in the queue (``squeue --name``, by the comment).

``cluster="local"`` runs the jobs with submitit's local executor instead (no Slurm;
for trying a setup)."""

import math
import os
import shutil
import time
from typing import Any, Dict, List, Optional, Set

from hpreg.errors import ExecutorError, MissingExtraError, UsageError
from hpreg.runner import rundir, slurm_batch, slurm_query
from hpreg.runner.node import Task, execute
from hpreg.runner.remote import Ended, RemoteExecutor

# sacct states of a job not ended yet
ACTIVE = {
    "PENDING",
    "RUNNING",
    "REQUEUED",
    "REQUEUE_FED",
    "REQUEUE_HOLD",
    "RESIZING",
    "SUSPENDED",
    "CONFIGURING",
    "COMPLETING",
    "SIGNALING",
    "STAGE_OUT",
    "STOPPED",
}
# ended without ending by itself: queued again by hpreg (a counted attempt)
LOST = {"PREEMPTED", "NODE_FAIL", "BOOT_FAIL"}
# Slurm's word for an end, as the job's failure reason
REASONS = {"TIMEOUT": "time limit", "OUT_OF_MEMORY": "out of memory"}
UNKNOWN_GRACE = 300.0  # seconds no one (sacct, squeue, run dir) knows a job: lost
# seconds sacct may not know a job whose run directory holds its exit status before
# that status is taken (accounting lags by seconds; slurmdbd may be down for long)
RUN_DIR_GRACE = 30.0
RETRY_AFTER = 60.0  # seconds after a cap refusal before offering more jobs anyway
PREFIX = "slurm:"


def slurm_minutes(text: str) -> int:
    """Slurm's time formats (``MM``, ``MM:SS``, ``HH:MM:SS``, ``D-HH``,
    ``D-HH:MM``, ``D-HH:MM:SS``) as whole minutes, rounded up."""
    try:
        days = 0
        rest = text.strip()
        if "-" in rest:
            head, rest = rest.split("-", 1)
            days = int(head)
            parts = [int(p) for p in rest.split(":")]
            parts += [0] * (3 - len(parts))
            hours, minutes, seconds = parts
        else:
            parts = [int(p) for p in rest.split(":")]
            if len(parts) == 1:
                hours, minutes, seconds = 0, parts[0], 0
            elif len(parts) == 2:
                hours, minutes, seconds = 0, parts[0], parts[1]
            elif len(parts) == 3:
                hours, minutes, seconds = parts
            else:
                raise ValueError(text)
        if min(days, hours, minutes, seconds) < 0:
            raise ValueError(text)
    except ValueError:
        raise UsageError(
            where="--slurm-time {}".format(text),
            problem="not a Slurm time",
            fix="give minutes (90), HH:MM:SS (1:30:00) or D-HH:MM:SS (2-00:00:00)",
        ) from None
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if total <= 0:
        raise UsageError(
            where="--slurm-time {}".format(text),
            problem="a time limit is positive",
            fix="e.g. --slurm-time 1:00:00",
        )
    return int(math.ceil(total / 60.0))


def _submitit():
    try:
        import submitit
    except ImportError:
        raise MissingExtraError(
            where="--executor slurm",
            problem="the Slurm executor needs submitit, which is not installed",
            fix="pip install hpreg[slurm]",
            extra="slurm",
            package="submitit",
        ) from None
    return submitit


def _sid(handle: str) -> str:
    return handle[len(PREFIX) :] if handle.startswith(PREFIX) else handle


def _array(slurm_id: str) -> str:
    return slurm_id.split("_")[0]


class SlurmExecutor(RemoteExecutor):
    """Submits the queued jobs as Slurm arrays (``array_parallelism`` of them run at
    a time, across arrays); ``options`` are more sbatch options (``{"qos":
    "high"}`` is ``--qos=high``). ``cluster="local"`` runs them with submitit's
    local executor instead (no Slurm; for tests and trying things out)."""

    name = "slurm"

    def __init__(
        self,
        store,
        root: str,
        partition: Optional[str] = None,
        gpus_per_task: Optional[int] = None,
        time: Optional[str] = None,
        array_parallelism: Optional[int] = None,
        options: Optional[Dict[str, Any]] = None,
        cluster: str = "slurm",
        **common,
    ):
        super().__init__(store, root, **common)
        self.partition = partition
        self.gpus_per_task = gpus_per_task
        self.minutes = slurm_minutes(time) if time is not None else None
        self.array_parallelism = array_parallelism or common.get("jobs")
        self.options = dict(options or {})
        self.cluster = cluster
        self.executor = None  # submitit's local executor (cluster="local")
        self._jobs: Dict[str, Any] = {}  # job id -> submitit job (cluster="local")
        self._base_capacity = self.capacity
        self._max_array: Optional[int] = None
        self._out: Dict[str, Set[str]] = {}  # array id -> our job ids out in it
        self._unknown: Dict[str, float] = {}  # job id -> since when nobody knows it
        self._refused: Optional[float] = None  # when sbatch last said "capped"

    def sbatch_options(self) -> Dict[str, Any]:
        """The sbatch options of every array (besides hpreg's own)."""
        options: Dict[str, Any] = {}
        if self.partition:
            options["partition"] = self.partition
        if self.minutes is not None:
            options["time"] = self.minutes
        if self.gpus_per_task is not None:
            options["gpus-per-task"] = self.gpus_per_task
        options.update(self.options)
        return options

    def open(self) -> None:
        if self.cluster == "local":
            submitit = _submitit()
            folder = os.path.join(self.root, ".slurm", "%j")
            executor = submitit.LocalExecutor(folder=folder)
            executor.update_parameters(
                timeout_min=self.minutes or 60 * 24, visible_gpus=()
            )
            self.executor = executor
            return
        needed = ("sbatch", "sacct", "squeue", "scancel")
        missing = [c for c in needed if not shutil.which(c)]
        if missing:
            raise ExecutorError(
                where="--executor slurm",
                problem="{} not found on PATH".format(", ".join(missing)),
                fix="run hpreg on a machine of the Slurm cluster (a login node)",
                executor="slurm",
            )

    # -- submitting ------------------------------------------------------------------
    def max_array(self) -> int:
        """Tasks per array: ``MaxArraySize - 1``, asked once per run."""
        if self._max_array is None:
            self._max_array = max(1, slurm_query.max_array_size() - 1)
        return self._max_array

    def submit(self, tasks: List[Task]) -> List[Optional[str]]:
        if self.cluster == "local":
            return self._submit_local(tasks)
        handles: List[Optional[str]] = [None] * len(tasks)
        start, size = 0, min(len(tasks), self.max_array())
        while start < len(tasks):
            size = min(size, len(tasks) - start)
            chunk = tasks[start : start + size]
            try:
                array = self._submit_array(chunk)
            except slurm_batch.Capped:
                if size > 1:
                    size //= 2  # a smaller array may fit under the cap
                    continue
                if self.watched or start:
                    self._capped(len(self.watched) + start)
                    break
                # nothing of ours is out, yet Slurm takes nothing: other jobs fill
                # the cap; wait here (returning would end the run)
                if self._wait(RETRY_AFTER / 4):
                    break
                continue
            for i, task in enumerate(chunk):
                handles[start + i] = "{}{}_{}".format(PREFIX, array, i)
                self._out.setdefault(array, set()).add(task.job_id)
            start += size
        return handles

    def _submit_array(self, tasks: List[Task]) -> str:
        """One array of ``tasks``: manifest, script, sbatch. Returns its id."""
        token = os.urandom(4).hex()
        name = self.job_name()
        where = slurm_batch.write_manifest(self.root, token, name, tasks)
        logs = os.path.join(self.root, ".slurm")
        throttle = self.array_parallelism
        after = self._after(len(tasks))
        path = where + ".sh"
        options = self.sbatch_options()
        text = slurm_batch.script(
            name, token, len(tasks), throttle, logs, where, options, after
        )
        with open(path, "w") as f:
            f.write(text)
        try:
            array = slurm_batch.sbatch(path)
        except slurm_batch.TimedOut:
            array = self._submitted_as(token)
            if not array:
                raise slurm_batch.Capped("sbatch timed out") from None
        slurm_batch.set_array(self.root, token, array)
        return array

    def _after(self, size: int) -> List[str]:
        """The arrays a new one of ``size`` tasks waits for: those still out, when
        together they could run more than ``array_parallelism`` jobs."""
        if not self.array_parallelism:
            return []
        out = sum(len(jobs) for jobs in self._out.values())
        if out + size <= self.array_parallelism:
            return []
        return sorted((a for a, jobs in self._out.items() if jobs), key=int)

    def _submitted_as(self, token: str) -> str:
        """The array id of the batch ``token`` (sbatch timed out: did it go out?)."""
        found = self._find(token)
        if found is None:
            raise ExecutorError(
                where="--executor slurm",
                problem="sbatch timed out, and squeue does not say whether batch "
                "{} went out".format(token),
                fix="run the same command again once the Slurm controller answers",
                executor="slurm",
            )
        return found

    def job_name(self) -> str:
        """The Slurm job name of the store's jobs: ``hpreg-<store's folder name>``."""
        return "hpreg-" + (os.path.basename(self.root.rstrip(os.sep)) or "runs")

    def _find(self, token: str) -> Optional[str]:
        """The array id of the batch ``token`` if it is pending or running (squeue:
        the controller knows a job the moment sbatch returns); "" when it is not,
        None when squeue did not answer. (A batch that ended has left its exit
        status in its run directories, or is to run again.)"""
        queued = slurm_query.squeue([self.job_name()])
        if queued is None:
            return None
        for slurm_id, (_, comment) in queued.items():
            if comment == slurm_batch.COMMENT + token:
                return _array(slurm_id)
        return ""

    def _capped(self, fitted: int) -> None:
        """sbatch took ``fitted`` jobs of ours out at once, and no more: keep at
        most that many out until ``RETRY_AFTER``."""
        self._refused = time.time()
        cap = max(1, fitted)
        if self._base_capacity is not None:
            cap = min(cap, self._base_capacity)
        self.capacity = cap

    def _wait(self, seconds: float) -> bool:
        """Sleep (a signal wakes it up); True when a signal stops the run."""
        self._wake.wait(seconds)
        return bool(self.signals)

    def _submit_local(self, tasks: List[Task]) -> List[Optional[str]]:
        with self.executor.batch():
            jobs = [self.executor.submit(execute, task) for task in tasks]
        handles: List[Optional[str]] = []
        for task, job in zip(tasks, jobs):
            self._jobs[task.job_id] = job
            handles.append(PREFIX + str(job.job_id))
        return handles

    # -- a dead coordinator's jobs ---------------------------------------------------
    def attach(self, job_id: str, handle: Optional[str]) -> Optional[str]:
        # submitit's local jobs die with the process that started them
        if self.cluster == "local":
            return None
        if handle and handle.startswith(PREFIX):
            self._watch(job_id, _sid(handle))
            return handle
        job = self.store.get(job_id)
        if job is None:
            return None
        for _, token, index in reversed(
            slurm_batch.find(self.root, job_id, job.attempts)
        ):
            array = self._find(token)
            if array is None:
                raise ExecutorError(
                    where="--executor slurm",
                    problem="squeue did not answer: cannot tell whether job {} is "
                    "in Slurm's queue (batch {})".format(job_id, token),
                    fix="run the same command again once Slurm answers",
                    executor="slurm",
                )
            if array:
                slurm_id = "{}_{}".format(array, index)
                self._watch(job_id, slurm_id)
                return PREFIX + slurm_id
        return None  # never submitted: queued again

    def _watch(self, job_id: str, slurm_id: str) -> None:
        self._out.setdefault(_array(slurm_id), set()).add(job_id)

    # -- watching --------------------------------------------------------------------
    def poll(self, handles: Dict[str, str]) -> Dict[str, Ended]:
        if self.cluster == "local":
            return self._poll_local(handles)
        if self._refused is not None and time.time() - self._refused > RETRY_AFTER:
            self._refused = None  # the cap may have been someone else's: try again
            self.capacity = self._base_capacity
        ids = {job_id: _sid(handle) for job_id, handle in handles.items()}
        states = slurm_query.sacct(sorted({_array(s) for s in ids.values()}, key=int))
        if states is None:
            return {}  # a failed call tells nothing: nothing ended, nothing lost
        ended: Dict[str, Ended] = {}
        unknown = []
        for job_id, slurm_id in ids.items():
            state = states.get(slurm_id)
            if state is None:
                unknown.append(job_id)
            elif state not in ACTIVE:
                ended[job_id] = self._ending(job_id, state)
            else:
                self._unknown.pop(job_id, None)
        if unknown:
            ended.update(self._unknown_jobs(unknown, ids))
        for job_id in ended:
            self._unknown.pop(job_id, None)
            out = self._out.get(_array(ids[job_id]))
            if out is not None:
                out.discard(job_id)
        return ended

    def _ending(self, job_id: str, state: str) -> Ended:
        if state in LOST:
            return Ended(lost=True, reason="slurm: " + state)
        if state in REASONS:  # Slurm ended it: the reason, whatever its exit status
            return Ended(reason=REASONS[state])
        if self._exit_code(job_id) is not None:
            return Ended()  # it ended by itself: its exit status tells how
        return Ended(reason="slurm: " + state)

    def _exit_code(self, job_id: str) -> Optional[int]:
        """The exit status the job's current attempt left in its run directory."""
        watched = self.watched.get(job_id)
        attempt = watched[0].attempts if watched else None
        return rundir.read_exit_code(os.path.join(self.root, job_id), attempt)

    def _unknown_jobs(self, unknown: List[str], ids: Dict[str, str]):
        """Which of the jobs sacct does not know have ended (their run directory
        holds an exit status, and sacct has not caught up for ``RUN_DIR_GRACE``) or
        are lost (nobody knows them for ``UNKNOWN_GRACE``)."""
        now = time.time()
        ended: Dict[str, Ended] = {}
        ask = []
        for job_id in unknown:
            run_dir = os.path.join(self.root, job_id)
            first = self._unknown.setdefault(job_id, now)
            if self._exit_code(job_id) is not None:
                if now - first > RUN_DIR_GRACE:
                    ended[job_id] = Ended()  # it ended: its run directory tells how
            elif os.path.exists(os.path.join(run_dir, rundir.PID)):
                self._unknown.pop(job_id, None)  # it runs
            else:
                ask.append(job_id)
        if not ask:
            return ended
        queued = slurm_query.squeue([self.job_name()])
        if queued is None:
            return ended  # squeue failed: cannot tell now
        for job_id in ask:
            if ids[job_id] in queued:
                self._unknown.pop(job_id, None)
            elif now - self._unknown[job_id] > UNKNOWN_GRACE:
                ended[job_id] = Ended(lost=True, reason="unknown to Slurm")
        return ended

    def _poll_local(self, handles: Dict[str, str]) -> Dict[str, Ended]:
        ended = {}
        for job_id in handles:
            job = self._jobs.get(job_id)
            if job is None:
                ended[job_id] = Ended(lost=True)
            elif job.done():
                try:
                    code = job.result()
                    ended[job_id] = Ended(code=code)
                except Exception as error:  # the worker itself failed
                    ended[job_id] = Ended(reason=str(error).strip()[-2000:])
        return ended

    def cancel(self, handles: Dict[str, str]) -> None:
        if self.cluster == "local":
            for job_id in handles:
                job = self._jobs.get(job_id)
                if job is not None:
                    try:
                        job.cancel(check=False)
                    except Exception:
                        pass
            return
        ids = [_sid(h) for h in handles.values() if h.startswith(PREFIX)]
        if ids:
            slurm_query.call(["scancel"] + ids)
