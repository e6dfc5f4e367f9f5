"""Results of an optimization store: one row per trial with its state in Optuna's
words (``complete``, ``pruned``, ``failed``, ``running``), its parameters and its
job's last metrics; ``best`` keeps the K best complete trials."""

import os
from typing import Any, Dict, List, Optional

from hpreg.errors import UsageError
from hpreg.optimizer.api import read_settings
from hpreg.optimizer.coordinator import job_of
from hpreg.optimizer.study import (
    ERROR,
    JOB,
    STALE,
    UNUSED,
    WORKER,
    make_storage,
    require_optuna,
    retries,
    stale_by_heartbeat,
)

STATE_WORDS = {
    "COMPLETE": "complete",
    "PRUNED": "pruned",
    "FAIL": "failed",
    "RUNNING": "running",
    "WAITING": "waiting",
}


def is_optimization_store(directory: str) -> bool:
    return read_settings(directory) is not None


def load_study(directory: str):
    settings = read_settings(directory)
    if settings is None:
        return None, None
    optuna = require_optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = settings["storage"]
    if storage and storage.startswith("journal:"):
        path = storage[len("journal:") :]
        if not os.path.exists(path):
            raise UsageError(
                where=directory,
                problem="the study's journal {} is missing".format(path),
                fix="run 'hpreg optimize' from the folder it was started in",
            )
    study = optuna.load_study(
        study_name=settings["study_name"], storage=make_storage(storage)
    )
    return study, settings


def rows(directory: str, store=None) -> List[Dict[str, Any]]:
    """Every trial of the store's study as a flat row."""
    study, settings = load_study(directory)
    jobs = {job.id: job for job in store.jobs()} if store is not None else {}
    metrics = settings["metrics"]
    workers: Dict[str, Dict[str, Any]] = {}  # a worker's folder -> its jobs
    table = []
    trials = study.get_trials(deepcopy=False)
    again = retries(trials)
    for trial in trials:
        if trial.user_attrs.get(UNUSED):
            continue  # asked over n_trials by a worker and dropped at once
        job_id = trial.user_attrs.get(JOB) or job_of(trial.number)
        owner = trial.system_attrs.get(WORKER)
        if isinstance(owner, dict) and owner.get("store"):
            job = _worker_jobs(directory, str(owner["store"]), workers).get(job_id)
        else:
            job = jobs.get(job_id)
        state = STATE_WORDS.get(trial.state.name, trial.state.name.lower())
        row: Dict[str, Any] = {
            "id": job_id if job is not None else str(trial.number),
            "state": state,
            "exit_code": job.exit_code if job is not None else None,
        }
        row.update(job.point if job is not None else trial.params)
        if job is not None:
            for name, value in job.metrics.items():
                row["metric." + name if name in row else name] = value
        if trial.values is not None:
            for name, value in zip(metrics, trial.values):
                row.setdefault(name, value)
        if isinstance(owner, dict) and owner.get("store"):
            row["worker"] = owner["store"]
        if state == "failed" and trial.user_attrs.get(STALE):
            row["note"] = (
                "stale: its job died with the coordinator or its worker; asked "
                "again with the same parameters"
            )
        elif stale_by_heartbeat(trial) or trial.number in again:
            row["note"] = "stale: its worker died; " + (
                "asked again as trial {}".format(again[trial.number])
                if trial.number in again
                else "to be asked again"
            )
        elif trial.user_attrs.get(ERROR):
            row["note"] = str(trial.user_attrs[ERROR]).splitlines()[-1][:200]
        table.append(row)
    return table


def _worker_jobs(directory: str, name: str, workers) -> Dict[str, Any]:
    """The jobs of one worker's run store (``<store>/<host>-<pid>``), or none when
    it is on another machine."""
    if name not in workers:
        from hpreg.runner.store import RunStore

        folder = os.path.join(directory, name)
        workers[name] = {}
        if os.path.basename(name) == name and os.path.exists(
            os.path.join(folder, "hpreg.db")
        ):
            with RunStore(folder, create=False) as run_store:
                workers[name] = {job.id: job for job in run_store.jobs()}
    return workers[name]


def best(
    table: List[Dict[str, Any]], k: int, metric: str, direction: str
) -> List[Dict[str, Any]]:
    """The ``k`` best complete rows by ``metric`` (``direction``: minimize or
    maximize)."""
    complete = [
        r
        for r in table
        if r.get("state") == "complete" and isinstance(r.get(metric), (int, float))
    ]
    complete.sort(key=lambda r: r[metric], reverse=direction == "maximize")
    return complete[:k]


def best_of_store(directory: str, table, k: int, metric: Optional[str] = None):
    settings = read_settings(directory)
    if settings is None:
        raise UsageError(
            where="--best {}".format(k),
            problem="{} is not an optimization store (no study)".format(directory),
            fix="use --sort COLUMN for the stores of 'hpreg run'",
        )
    name = metric or settings["metrics"][0]
    direction = settings["directions"][settings["metrics"].index(name)]
    return best(table, k, name, direction)
