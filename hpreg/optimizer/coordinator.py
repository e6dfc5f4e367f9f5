"""The coordinator: Optuna's ask/tell loop over the runner's jobs.

Each trial is one job of the run store (id ``trial0007``, its run directory, its
config), run by the runner's executor (local, Slurm, dask). The ``Driver`` is the
executor's driver: it asks a new trial whenever a job slot frees (``feed``, never
in batches), watches the running jobs' ``metrics.jsonl`` and reports each step's
metric to the trial; when the pruner says stop it writes ``prune`` into the run
directory (shared with remote jobs), and the job's next ``hpreg.report`` ends it
(exit 0, recorded as pruned). When a job ends, its last reported metrics are told
to the study (``ended``).

A coordinator killed with kill -9 and started again: a trial whose job finished
meanwhile is told from its run directory (the executor re-reads it), one whose
job is still running is watched again, and one whose job died (or never started)
is failed as stale (it does not count) and asked again with the same parameters.
"""

import json
import os
import warnings
from typing import Any, Dict, List, Optional

from hpreg.optimizer.study import ERROR, JOB, STALE, counted, values_of

PRUNE_FILE = "prune"  # hpreg.runner.rundir.PRUNE


def job_of(number: int) -> str:
    return "trial{:04d}".format(number)


class Driver:
    interval = 0.2  # seconds between looks at the running jobs' metrics

    def __init__(
        self,
        study,
        store,
        root: str,
        command: List[str],
        dims,
        fixed: Dict[str, Any],
        metrics: List[str],
        n_trials: int,
        progress=None,
    ):
        import optuna

        self.optuna = optuna
        self.study = study
        self.store = store
        self.root = root
        self.command = command
        self.distributions = {n: d.distribution() for n, d in dims.items()}
        self.fixed = fixed
        self.metrics = metrics
        self.metric = metrics[0] if len(metrics) == 1 else None
        self.n_trials = n_trials
        self.progress = progress
        self.live: Dict[str, Any] = {}  # job id -> optuna Trial
        self.offsets: Dict[str, int] = {}  # job id -> bytes of metrics.jsonl read
        self.steps: Dict[str, set] = {}  # job id -> steps reported
        self.pruning: set = set()
        self.finished = 0  # trials told here
        self.budget = 0

    # -- start and restart -----------------------------------------------------------
    def recover(self) -> None:
        """Reconcile the study's running trials with the store's jobs (after a
        coordinator died); set the budget of trials to ask."""
        TrialState = self.optuna.trial.TrialState
        running = self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        for frozen in running:
            job_id = frozen.user_attrs.get(JOB) or job_of(frozen.number)
            job = self.store.get(job_id)
            trial = self.optuna.trial.Trial(self.study, frozen._trial_id)
            if job is None or job.state in ("interrupted", "lost"):
                self._stale(trial, frozen.params)
            elif job.state in ("done", "failed", "pruned"):
                self._tell(trial, job_id, job.state, job.metrics, job.error)
            else:  # queued, or running: the executor re-attaches or re-reads it
                self.live[job_id] = trial
                self.steps[job_id] = set(frozen.intermediate_values)
        self.budget = self.n_trials - counted(self.study) - len(self.live)
        self.store.choose(list(self.live))

    # -- the executor's driver interface ---------------------------------------------
    def feed(self) -> bool:
        """A slot is free: ask a trial and queue its job; False when the study has
        its ``n_trials``."""
        trial = self.ask()
        if trial is None:
            return False
        self.queue(trial)
        return True

    def ask(self):
        """A new trial within the budget, or None."""
        if self.budget <= 0:
            return None
        self.budget -= 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", self.optuna.exceptions.ExperimentalWarning)
            return self.study.ask(self.distributions)

    def queue(self, trial) -> None:
        """The trial's job, queued in the store."""
        job_id = job_of(trial.number)
        point = dict(self.fixed)
        point.update(trial.params)
        self.store.add_jobs([(job_id, point, self.command)])
        self.live[job_id] = trial
        self.steps[job_id] = set()
        self.store.choose(list(self.live))

    def tick(self, running: Dict[str, Any]) -> None:
        """Report new steps of the running jobs' metric; prune where told to."""
        if self.metric is None:
            return
        for job_id, handle in running.items():
            trial = self.live.get(job_id)
            if trial is None or job_id in self.pruning:
                continue
            if self._read_steps(job_id, handle.run_dir, trial):
                if trial.should_prune():
                    self.pruning.add(job_id)
                    path = os.path.join(handle.run_dir, PRUNE_FILE)
                    with open(path, "w") as f:
                        f.write("pruned by the coordinator\n")

    def _read_steps(self, job_id: str, run_dir: str, trial) -> bool:
        path = os.path.join(run_dir, "metrics.jsonl")
        offset = self.offsets.get(job_id, 0)
        try:
            if os.path.getsize(path) <= offset:
                return False
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read()
        except OSError:
            return False
        end = data.rfind(b"\n") + 1  # a line being written is read next time
        self.offsets[job_id] = offset + end
        reported = False
        seen = self.steps.setdefault(job_id, set())
        for line in data[:end].splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            step, value = record.get("step"), record.get(self.metric)
            if not isinstance(step, int) or step in seen:
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            seen.add(step)
            trial.report(float(value), step)
            reported = True
        return reported

    def ended(self, job, state: str, run_dir: str, metrics, error) -> None:
        trial = self.live.pop(job.id, None)
        ended_by_itself = state not in ("interrupted", "lost")
        if trial is not None and self.metric is not None and ended_by_itself:
            # steps written since the last look: the pruner compares curves
            self._read_steps(job.id, run_dir, trial)
        self.offsets.pop(job.id, None)
        self.steps.pop(job.id, None)
        self.pruning.discard(job.id)
        if trial is None:
            return
        if state in ("done", "failed", "pruned"):
            self._tell(trial, job.id, state, metrics, error)
        elif state == "queued":  # --max-attempts: the runner tries it again
            self.live[job.id] = trial
            return
        else:  # interrupted or lost: the job did not end by itself
            self._stale(trial, job.point)
        self.store.choose(list(self.live))

    # -- telling -----------------------------------------------------------------------
    def _tell(self, trial, job_id: str, state: str, metrics, error) -> None:
        TrialState = self.optuna.trial.TrialState
        if state == "done":
            values = values_of(metrics or {}, self.metrics)
            if values is None:
                trial.set_user_attr(
                    ERROR,
                    "the job reported no {} (hpreg.report({}=...))".format(
                        " and ".join(self.metrics), self.metrics[0]
                    ),
                )
                self.study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
            else:
                self.study.tell(
                    trial,
                    values if len(values) > 1 else values[0],
                    skip_if_finished=True,
                )
        elif state == "pruned":
            self.study.tell(trial, state=TrialState.PRUNED, skip_if_finished=True)
        else:
            if error:
                trial.set_user_attr(ERROR, str(error)[-1000:])
            self.study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
        self.finished += 1
        if self.progress is not None:
            self.progress(trial.number, state, metrics)

    def _stale(self, trial, params: Dict[str, Any]) -> None:
        """Fail a trial whose job died; it does not count and its parameters are
        asked again."""
        TrialState = self.optuna.trial.TrialState
        trial.set_user_attr(STALE, True)
        self.study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
        retry = {n: params[n] for n in self.distributions if n in params}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.study.enqueue_trial(retry, skip_if_exists=False)
        self.budget += 1
