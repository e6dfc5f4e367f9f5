"""``--executor slurm``: jobs go out as Slurm arrays through submitit (the optional
extra ``hpreg[slurm]``). The coordinator stays the store's writer: it records each
job's Slurm id (``slurm:<array>_<task>``) as the job's handle, watches the jobs with
``sacct``, and a coordinator that replaces a dead one re-attaches to the jobs still
pending or running instead of submitting them again. A job Slurm preempted (or whose
node failed) is queued again and resubmitted."""

import math
import os
import shutil
import subprocess
import time
from typing import Any, Dict, List, Optional

from hpreg.errors import ExecutorError, MissingExtraError, UsageError
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
# ended without ending by itself: queued again by hpreg
LOST = {"PREEMPTED", "NODE_FAIL", "BOOT_FAIL"}
UNKNOWN_GRACE = 300.0  # seconds sacct may not know a job just submitted


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


class SlurmExecutor(RemoteExecutor):
    """Submits every queued job at once as one Slurm array (``array_parallelism``
    of them run at a time); ``options`` are more sbatch options (``{"qos": "high"}``
    is ``--qos=high``). ``cluster="local"`` runs them with submitit's local executor
    instead (no Slurm; for tests and trying things out)."""

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
        self._jobs: Dict[str, Any] = {}  # job id -> submitit job (this process's)
        self._first_seen: Dict[str, float] = {}
        self.executor = None

    def parameters(self) -> Dict[str, Any]:
        """What goes to submitit's ``update_parameters`` (sbatch options)."""
        params: Dict[str, Any] = {
            "job_name": "hpreg-" + os.path.basename(self.root.rstrip(os.sep))
        }
        if self.partition:
            params["partition"] = self.partition
        if self.gpus_per_task is not None:
            params["gpus_per_task"] = self.gpus_per_task
        if self.minutes is not None:
            params["time"] = self.minutes
        if self.array_parallelism:
            params["array_parallelism"] = self.array_parallelism
        if self.options:
            params["additional_parameters"] = dict(self.options)
        return params

    def open(self) -> None:
        submitit = _submitit()
        folder = os.path.join(self.root, ".slurm", "%j")
        if self.cluster == "local":
            executor = submitit.LocalExecutor(folder=folder)
            executor.update_parameters(
                timeout_min=self.minutes or 60 * 24, visible_gpus=()
            )
        else:
            missing = [c for c in ("sbatch", "sacct", "scancel") if not shutil.which(c)]
            if missing:
                raise ExecutorError(
                    where="--executor slurm",
                    problem="{} not found on PATH".format(", ".join(missing)),
                    fix="run hpreg on a machine of the Slurm cluster (a login node)",
                    executor="slurm",
                )
            executor = submitit.SlurmExecutor(folder=folder)
            try:
                executor.update_parameters(**self.parameters())
            except ValueError as error:
                raise UsageError(
                    where="--slurm-opt",
                    problem=str(error).splitlines()[0],
                    fix="give sbatch options as --slurm-opt KEY=VALUE",
                ) from None
        self.executor = executor

    def submit(self, tasks: List[Task]) -> List[Optional[str]]:
        submitit = _submitit()
        try:
            with self.executor.batch():
                jobs = [self.executor.submit(execute, task) for task in tasks]
        except (submitit.core.utils.FailedJobError, subprocess.CalledProcessError) as e:
            raise ExecutorError(
                where="--executor slurm",
                problem="sbatch failed: {}".format(str(e).strip().splitlines()[-1]),
                fix="check the --slurm-* options (sbatch's message above)",
                executor="slurm",
            ) from None
        handles = []
        for task, job in zip(tasks, jobs):
            self._jobs[task.job_id] = job
            handles.append("slurm:" + str(job.job_id))
        return handles

    def attach(self, job_id: str, handle: Optional[str]) -> Optional[str]:
        # a job of a dead coordinator: sacct tells its state (submitit's local jobs
        # die with the process that started them)
        if self.cluster != "local" and handle and handle.startswith("slurm:"):
            return handle
        return None

    def poll(self, handles: Dict[str, str]) -> Dict[str, Ended]:
        if self.cluster == "local":
            return self._poll_local(handles)
        states = self.sacct([h.split(":", 1)[1] for h in handles.values()])
        ended = {}
        now = time.time()
        for job_id, handle in handles.items():
            state = states.get(handle.split(":", 1)[1])
            if state is None:
                first = self._first_seen.setdefault(job_id, now)
                if now - first > UNKNOWN_GRACE:
                    ended[job_id] = Ended(lost=True, reason="unknown to sacct")
                continue
            if state in ACTIVE:
                continue
            if state in LOST:
                ended[job_id] = Ended(lost=True, reason="slurm: " + state)
            else:
                ended[job_id] = Ended(reason="slurm: " + state)
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

    def sacct(self, slurm_ids: List[str]) -> Dict[str, str]:
        """The state (first word: ``CANCELLED by 123`` is ``CANCELLED``) of each
        Slurm job id (``1234`` or ``1234_5``), from one ``sacct`` call."""
        submitit = _submitit()
        arrays = sorted({i.split("_")[0] for i in slurm_ids})
        if not arrays:
            return {}
        command = ["sacct", "-o", "JobID,State", "--parsable2"]
        for array in arrays:
            command += ["-j", array]
        try:
            out = subprocess.run(
                command, capture_output=True, text=True, timeout=60, check=True
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return {}  # sacct hiccup: look again at the next poll
        watcher = submitit.slurm.slurm.SlurmInfoWatcher()
        info = watcher.read_info(out)
        return {
            job: (stats.get("State") or "UNKNOWN").split()[0].upper()
            for job, stats in info.items()
        }

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
        ids = [h.split(":", 1)[1] for h in handles.values() if h.startswith("slurm:")]
        if ids:
            try:
                subprocess.run(["scancel"] + ids, capture_output=True, timeout=60)
            except (OSError, subprocess.SubprocessError):
                pass
