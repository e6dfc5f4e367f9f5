"""Optuna's side: the study (storage, sampler, pruner), trial counting and the
in-process ask/tell loop of ``hpreg.optimize`` for Python objectives."""

import threading
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence

from hpreg.errors import OptionalDependencyError, Pruned, SearchSpaceError
from hpreg.optimizer.space import Dimension

STALE = "hpreg_stale"  # user attribute of a trial failed because its job died
UNUSED = "hpreg_unused"  # user attribute of a trial asked over n_trials (workers)
JOB = "hpreg_job"
ERROR = "hpreg_error"
WORKER = "hpreg_worker"  # system attribute: the worker running the trial
TOLD = "hpreg_told"  # system attribute: the worker ended the trial itself
RETRY_HISTORY = "retry_history"  # Optuna's system attribute of a stale trial's retry
GRACE_BEATS = 3  # heartbeats a worker may miss before its trials are stale
MAX_RETRY = 3  # times a stale trial is asked again before its failure counts


def require_optuna():
    """``optuna``, or an error telling how to install it."""
    try:
        import optuna
    except ImportError:
        raise OptionalDependencyError(
            problem="optimizing needs Optuna, which is not installed",
            fix="pip install hpreg[optuna]",
        ) from None
    return optuna


def make_storage(text: Optional[str], heartbeat: Optional[float] = None):
    """``journal:PATH`` (Optuna's journal file), an RDB URL, or None (in memory).
    With ``heartbeat`` (seconds, for workers), an RDB storage runs Optuna's own
    heartbeat: a running trial silent for ``GRACE_BEATS`` heartbeats is failed by
    ``fail_stale_trials`` and asked again, ``MAX_RETRY`` times at most."""
    if text is None:
        return None
    optuna = require_optuna()
    if text.startswith("journal:"):
        path = text[len("journal:") :]
        if not path:
            raise SearchSpaceError(
                where="--storage {}".format(text),
                problem="journal: needs a file path",
                fix="write journal:runs/study/optuna.journal",
            )
        import os

        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        journal = optuna.storages.journal
        return journal.JournalStorage(journal.JournalFileBackend(path))
    if "://" not in text:
        raise SearchSpaceError(
            where="--storage {}".format(text),
            problem="not a storage: expected journal:PATH or a database URL",
            fix="e.g. journal:runs/q/optuna.journal or postgresql://user@host/db",
        )
    if heartbeat is None:
        return text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = stale_retry(optuna)
        # named heartbeat_stale_trial_callback since Optuna 4.9
        new_name = "RetryHeartbeatStaleTrialCallback" in dir(optuna.storages)
        callback = (
            "heartbeat_stale_trial_callback" if new_name else "failed_trial_callback"
        )
        return optuna.storages.RDBStorage(
            text,
            heartbeat_interval=heartbeat,
            # +1 s: SQLite's clock, which times the heartbeats, has whole seconds
            grace_period=GRACE_BEATS * heartbeat + 1,
            **{callback: retry},
        )


def stale_retry(optuna):
    """Optuna's callback that asks a stale trial again (a WAITING copy recording
    the trial in its ``retry_history``), ``MAX_RETRY`` times at most."""
    storages = optuna.storages
    retry = getattr(storages, "RetryHeartbeatStaleTrialCallback", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return (retry or storages.RetryFailedTrialCallback)(max_retry=MAX_RETRY)


def make_sampler(
    name: str,
    seed: Optional[int],
    jobs: int,
    dims: Dict[str, Dimension],
    options: Optional[Dict[str, Any]] = None,
):
    optuna = require_optuna()
    samplers = optuna.samplers
    options = dict(options or {})
    try:
        if name == "tpe":
            options.setdefault("constant_liar", jobs > 1)
            return samplers.TPESampler(seed=seed, **options)
        if name == "random":
            return samplers.RandomSampler(seed=seed, **options)
        if name == "cmaes":
            return samplers.CmaEsSampler(seed=seed, **options)
        if name == "qmc":
            return samplers.QMCSampler(seed=seed, **options)
        if name == "grid":
            grid = {n: d.grid() for n, d in dims.items()}
            return samplers.GridSampler(grid, seed=seed, **options)
    except TypeError as error:
        raise SearchSpaceError(
            where="sampler {}".format(name),
            problem="bad sampler option: {}".format(error),
        ) from None
    raise SearchSpaceError(
        where="sampler {}".format(name), problem="unknown sampler {!r}".format(name)
    )


def check_sampler_dependencies(name: str) -> None:
    """cmaes and qmc need packages of their own: say so before any trial."""
    needs = {"cmaes": "cmaes", "qmc": "scipy"}.get(name)
    if needs is None:
        return
    import importlib.util

    if importlib.util.find_spec(needs) is None:
        raise OptionalDependencyError(
            where="sampler {}".format(name),
            problem="the {} sampler needs the {} package, which is not "
            "installed".format(name, needs),
            fix="pip install {}".format(needs),
        )


def make_pruner(name: str):
    optuna = require_optuna()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    return optuna.pruners.NopPruner()


def open_study(
    storage,
    study_name: Optional[str],
    directions: Sequence[str],
    sampler,
    pruner,
    load_if_exists: bool = True,
):
    optuna = require_optuna()
    if not load_if_exists and storage is not None and study_name is not None:
        try:
            optuna.load_study(study_name=study_name, storage=storage)
        except KeyError:
            pass
        else:
            raise SearchSpaceError(
                where="study {}".format(study_name),
                problem="the study exists already and reload is 0",
                fix="set reload: 1 to continue it, or give another name",
            )
    kwargs = dict(
        storage=storage,
        study_name=study_name,
        sampler=sampler,
        pruner=pruner,
        load_if_exists=load_if_exists,
    )
    if len(directions) == 1:
        return optuna.create_study(direction=directions[0], **kwargs)
    return optuna.create_study(directions=list(directions), **kwargs)


def reseed(study, seed: Optional[int], make: Callable[[int], Any]) -> None:
    """A continued study with a seed gets the seed plus its number of trials, so
    the sampler does not ask the first trials' points again."""
    if seed is None:
        return
    done = len(study.get_trials(deepcopy=False))
    if done:
        study.sampler = make(seed + done)


def counted(study) -> int:
    """Trials that count towards ``n_trials``: complete, pruned and failed (a trial
    failed because its job or worker died, and asked again, does not count)."""
    from optuna.trial import TrialState

    done = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    return sum(1 for t in study.get_trials(deepcopy=False, states=done) if counts(t))


def counts(trial) -> bool:
    """A finished trial counts towards ``n_trials`` unless it failed as stale (its
    job or worker died: it is asked again) or was asked over the budget (unused)."""
    name = trial.state.name
    if name in ("COMPLETE", "PRUNED"):
        return True
    return name == "FAIL" and not (
        trial.user_attrs.get(STALE)
        or trial.user_attrs.get(UNUSED)
        or stale_by_heartbeat(trial)
    )


def stale_by_heartbeat(trial) -> bool:
    """A worker's trial failed by a heartbeat (Optuna's, or hpreg's on a journal),
    which asks it again: a worker marks each trial it ends itself (``TOLD``), so one
    failed unmarked was failed by another worker. It does not count even before
    its retry is added (Optuna fails it, then adds the retry); once asked again
    ``MAX_RETRY`` times its failure counts."""
    return (
        trial.state.name == "FAIL"
        and bool(trial.system_attrs.get(WORKER))
        and not trial.system_attrs.get(TOLD)
        and not trial.user_attrs.get(ERROR)  # told by a worker of an older hpreg
        and not trial.user_attrs.get(UNUSED)
        and len(trial.system_attrs.get(RETRY_HISTORY) or ()) < MAX_RETRY
    )


def retries(trials) -> Dict[int, int]:
    """A stale trial's number -> the number of its retry (from the retries'
    Optuna ``retry_history``)."""
    found: Dict[int, int] = {}
    for trial in trials:
        history = trial.system_attrs.get(RETRY_HISTORY)
        if isinstance(history, list) and history:
            found[history[-1]] = trial.number
    return found


def values_of(result: Any, metrics: List[str]) -> Optional[List[float]]:
    """The objective values in ``result`` (a number, or a dict of metrics); None
    when a metric is missing or not a number."""
    if isinstance(result, dict):
        found = []
        for metric in metrics:
            value = result.get(metric)
            if isinstance(value, str) and value in ("nan", "inf", "-inf"):
                value = float(value)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return None
            found.append(float(value))
        return found
    if (
        len(metrics) == 1
        and isinstance(result, (int, float))
        and not isinstance(result, bool)
    ):
        return [float(result)]
    return None


def reporting_hook(trial, metric: Optional[str]):
    """``hpreg.report`` inside an in-process objective: each step's value of
    ``metric`` goes to the trial; when the pruner says stop, ``Pruned``."""

    def hook(step, values):
        if metric is None or step is None or metric not in values:
            return
        value = values[metric]
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return
        trial.report(float(value), int(step))
        if trial.should_prune():
            raise Pruned(step)

    return hook


def run_in_process(
    study,
    objective: Callable[[Dict[str, Any]], Any],
    dims: Dict[str, Dimension],
    space_function: Optional[Callable],
    fixed: Dict[str, Any],
    metrics: List[str],
    n_trials: int,
    jobs: int = 1,
) -> None:
    """Ask, call ``objective(point)`` in this process (``jobs`` threads), tell;
    until ``n_trials`` trials count in the study."""
    optuna = require_optuna()
    from hpreg.runner.report import set_hook

    TrialState = optuna.trial.TrialState
    distributions = {n: d.distribution() for n, d in dims.items()}
    metric = metrics[0] if len(metrics) == 1 else None
    lock = threading.Lock()
    budget = [n_trials - counted(study)]
    errors: List[BaseException] = []
    told = [0, 0]  # trials told, trials failed

    def one() -> bool:
        with lock:
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            trial = study.ask(distributions)
        point = dict(fixed)
        if space_function is not None:
            point.update(space_function(trial))
        else:
            point.update(trial.params)
        previous = set_hook(reporting_hook(trial, metric))
        state, values = TrialState.COMPLETE, None
        try:
            result = objective(point)
        except (Pruned, optuna.TrialPruned):
            state = TrialState.PRUNED
        except Exception as error:  # recorded as failed, as the runner does
            state = TrialState.FAIL
            errors.append(error)
            trial.set_user_attr(ERROR, "{}: {}".format(type(error).__name__, error))
        finally:
            set_hook(previous)
        if state == TrialState.COMPLETE:
            values = values_of(result, metrics)
            if values is None:
                state = TrialState.FAIL
                problem = (
                    "the objective returned {!r}, not {} (a number or a dict "
                    "with it)".format(result, " and ".join(metrics))
                )
                errors.append(SearchSpaceError(problem=problem))
                trial.set_user_attr(ERROR, problem)
        with lock:
            if state == TrialState.COMPLETE:
                study.tell(trial, values if len(values) > 1 else values[0])
            else:
                study.tell(trial, state=state)
            told[0] += 1
            told[1] += state == TrialState.FAIL
        return True

    def worker():
        while one():
            pass

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if jobs <= 1:
            worker()
        else:
            threads = [threading.Thread(target=worker) for _ in range(jobs)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    if told[0] and told[1] == told[0] and errors:
        raise errors[-1]  # every trial failed: the objective itself is broken


def shared_storage_note(text: str) -> Optional[str]:
    """Workers share a study through a journal file or a database server; SQLite
    serves the workers of one machine only (its locks do not hold on a network
    filesystem, Optuna's FAQ): a warning."""
    if text.lower().startswith("sqlite"):
        return (
            "--storage {}: SQLite suits workers on this machine only (its locks do "
            "not hold on a network filesystem); use journal:PATH on a shared "
            "filesystem or a PostgreSQL/MySQL URL for many machines".format(text)
        )
    return None


def open_shared_study(
    storage,
    study_name: str,
    directions: Sequence[str],
    sampler,
    pruner,
    reload: Optional[bool] = None,
    patience: float = 60.0,
):
    """The study shared by workers, created by the first of them: safe when many
    start at once (creating a study or a database's tables races; the losers load
    what the winner made, retrying for ``patience`` seconds); ``storage`` is a
    storage or a function making one (an RDB storage creates its tables).
    ``reload=False`` refuses a study that already has finished trials (workers
    started together join the new study; a study with results from before is not
    reused)."""
    import random
    import time

    optuna = require_optuna()
    deadline = time.monotonic() + patience
    delay = 0.05
    while True:
        try:
            if callable(storage):
                storage = storage()
            if reload is False:
                _refuse_finished(optuna, storage, study_name)
            return open_study(storage, study_name, directions, sampler, pruner)
        except SearchSpaceError:
            raise
        except Exception as error:
            if not _racing(optuna, error) or time.monotonic() > deadline:
                raise
        time.sleep(delay * random.uniform(1.0, 2.0))
        delay = min(2 * delay, 1.0)


def _refuse_finished(optuna, storage, study_name: str) -> None:
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        return
    finished = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]
    if finished:
        raise SearchSpaceError(
            where="study {}".format(study_name),
            problem="the study exists already with {} finished trial(s) and reload "
            "is 0".format(len(finished)),
            fix="set reload: 1 to continue it, or give another name",
        )


def _racing(optuna, error: Exception) -> bool:
    """An error of losing the race to create a study or its tables."""
    if isinstance(
        error,
        (
            optuna.exceptions.DuplicatedStudyError,
            optuna.exceptions.StorageInternalError,
            KeyError,
        ),
    ):
        return True
    return type(error).__module__.split(".")[0] == "sqlalchemy"
