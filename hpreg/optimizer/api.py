"""``hpreg.optimize``: search a space with Optuna, a Python objective called in this
process or a command run as jobs of the runner; returns the ``optuna.Study``."""

import contextlib
import json
import os
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from hpreg.errors import SearchSpaceError
from hpreg.optimizer.config import (
    DIRECTIONS,
    PRUNERS,
    SAMPLERS,
    choice,
    direction_list,
    metric_list,
)
from hpreg.optimizer.lock import StoreLock
from hpreg.optimizer.space import Dimension, parse_space
from hpreg.optimizer.study import (
    check_sampler_dependencies,
    make_pruner,
    make_sampler,
    make_storage,
    open_study,
    require_optuna,
    reseed,
    run_in_process,
)

SETTINGS_FILE = "optimize.json"  # in the store: how to find the study again


def optimize(
    objective: Union[Callable[[Dict[str, Any]], Any], str, Sequence[str]],
    space: Union[Dict[str, Any], Callable[[Any], Dict[str, Any]]],
    n_trials: int = 50,
    metric: Union[str, Sequence[str]] = "value",
    direction: Union[str, Sequence[str]] = "minimize",
    sampler: str = "tpe",
    pruner: str = "median",
    seed: Optional[int] = None,
    storage: Optional[str] = None,
    study_name: Optional[str] = None,
    jobs: int = 1,
    fixed: Optional[Dict[str, Any]] = None,
    store: Optional[str] = None,
    executor: str = "local",
    **executor_options: Any,
):
    """Optimize ``objective`` over ``space`` with Optuna; returns the study.

    ``objective`` is a function called in this process with the point (a dict: the
    space's values and ``fixed``) that returns a number or a dict of metrics
    (``metric`` picks one; a list of metrics with a list of directions is a
    multi-objective study), or a command as in ``hpreg.run`` (each trial a job in
    ``store``, default ``runs/<study_name or "optimize">``, reporting its metrics
    with ``hpreg.report``). ``space`` maps names to ``{low, high, log, step}`` or
    ``{choices}``, or is a function of the Optuna trial returning the point
    (conditional spaces). Inside the objective, ``hpreg.report(step=k, metric=v)``
    reports intermediate values; when the pruner says stop it raises
    ``hpreg.Pruned`` and the trial is recorded as pruned. ``storage`` is None (in
    memory), ``journal:PATH`` or a database URL; running again on a stored study
    continues it up to ``n_trials`` in total.

    A command's trials run as jobs of ``executor`` (``"local"``, ``"slurm"``,
    ``"dask"``, with its options as for ``hpreg.run``: ``partition=``, ``time=``,
    ``options=``..., or ``scheduler=``), ``jobs`` at a time.
    """
    require_optuna()
    if callable(objective) and (executor != "local" or executor_options):
        raise SearchSpaceError(
            where="executor={!r}".format(executor),
            problem="a Python objective runs in this process",
            fix="give a command (as for hpreg.run) to run trials on an executor",
        )
    metrics = metric_list(
        list(metric) if not isinstance(metric, str) else metric, "metric"
    )
    directions = direction_list(
        list(direction) if not isinstance(direction, str) else direction, "direction"
    )
    if len(directions) == 1 and len(metrics) > 1:
        directions = directions * len(metrics)
    if len(directions) != len(metrics):
        raise SearchSpaceError(
            where="direction",
            problem="{} metrics but {} directions".format(
                len(metrics), len(directions)
            ),
            fix="give one direction per metric",
        )
    choice(sampler, SAMPLERS, "sampler", "sampler")
    choice(pruner, PRUNERS, "pruner", "pruner")
    if not isinstance(n_trials, int) or n_trials < 1:
        raise SearchSpaceError(
            where="n_trials",
            problem="expected a positive number, got {!r}".format(n_trials),
        )
    space_function = space if callable(space) else None
    dims: Dict[str, Dimension] = {} if space_function else parse_space(space)
    check_sampler_dependencies(sampler)
    if len(metrics) > 1:
        pruner = "none"  # Optuna prunes single-objective studies only
    sampler_object = make_sampler(sampler, seed, jobs, dims)
    if not callable(objective):
        store = store or os.path.join("runs", study_name or "optimize")
    # one coordinator per store
    with StoreLock(store) if store is not None else contextlib.nullcontext():
        if not callable(objective):
            if storage is None:  # a command's study lives with its jobs: resumable
                storage = "journal:" + os.path.join(store, "optuna.journal")
            if study_name is None:
                study_name = os.path.basename(os.path.abspath(store))
            write_settings(store, storage, study_name, metrics, directions)
        study = open_study(
            make_storage(storage),
            study_name,
            directions,
            sampler_object,
            make_pruner(pruner),
        )
        reseed(study, seed, lambda s: make_sampler(sampler, s, jobs, dims))
        fixed = dict(fixed or {})
        if callable(objective):
            run_in_process(
                study, objective, dims, space_function, fixed, metrics, n_trials, jobs
            )
            return study
        if space_function is not None:
            raise SearchSpaceError(
                where="space",
                problem="a command's space is a mapping, not a function",
                fix="give {name: {low, high}} or {name: {choices}}",
            )
        from hpreg.runner.api import command_of

        command = command_of(objective)
        summary = run_trials(
            study,
            command,
            store,
            dims,
            fixed,
            metrics,
            n_trials,
            jobs=jobs,
            executor=executor,
            executor_options=executor_options,
        )
        if summary.interrupted:
            raise KeyboardInterrupt
        return study


def write_settings(
    store: str, storage: Optional[str], study_name: str, metrics, directions
) -> None:
    from hpreg.io.files import write_atomic

    os.makedirs(store, exist_ok=True)
    write_atomic(
        os.path.join(store, SETTINGS_FILE),
        json.dumps(
            {
                "storage": storage,
                "study_name": study_name,
                "metrics": list(metrics),
                "directions": list(directions),
            },
            indent=2,
        )
        + "\n",
    )


def read_settings(store: str) -> Optional[Dict[str, Any]]:
    """What ``write_settings`` wrote, or None for a store of ``hpreg run``."""
    try:
        with open(os.path.join(store, SETTINGS_FILE), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def run_trials(
    study,
    command: List[str],
    store: str,
    dims: Dict[str, Dimension],
    fixed: Dict[str, Any],
    metrics: List[str],
    n_trials: int,
    jobs: int = 1,
    timeout: Optional[float] = None,
    max_attempts: Optional[int] = None,
    gpus=None,
    on_trial=None,
    executor: str = "local",
    executor_options: Optional[Dict[str, Any]] = None,
):
    """Run the study's trials as jobs of the runner in ``store`` until ``n_trials``
    count; returns the executor's ``Summary``. ``executor`` is where the jobs run
    (``local``, ``slurm``, ``dask``, with ``executor_options`` as for ``hpreg.run``);
    at most ``jobs`` run at once, a new trial asked as soon as one ends. It is the
    store's one coordinator (``StoreLock``) while it runs."""
    from hpreg.optimizer.coordinator import Driver
    from hpreg.runner.store import RunStore

    with StoreLock(store):  # one coordinator per store
        run_store = RunStore(store)
        try:
            driver = Driver(
                study,
                run_store,
                store,
                command,
                dims,
                fixed,
                metrics,
                n_trials,
                progress=on_trial,
            )
            driver.recover()
            return run_driven(
                driver,
                executor,
                run_store,
                store,
                jobs=jobs,
                timeout=timeout,
                max_attempts=max_attempts,
                gpus=gpus,
                executor_options=executor_options,
            )
        finally:
            run_store.close()


def run_driven(
    driver,
    executor: str,
    run_store,
    root: str,
    jobs: int,
    timeout: Optional[float],
    max_attempts: int,
    gpus,
    executor_options: Optional[Dict[str, Any]],
):
    """Run trials as jobs of ``executor`` until ``driver`` asks for no more; the
    summary of the run (one coordinator's, or one worker's round)."""
    from hpreg.runner.api import make_executor

    runner = make_executor(
        executor,
        run_store,
        root,
        gpus=gpus,
        jobs=jobs,
        timeout=timeout,
        max_attempts=max_attempts,
        driver=driver,
        **(executor_options or {}),
    )
    with warnings.catch_warnings():
        # Optuna warns when a trial is told twice or left finished: both expected
        warnings.filterwarnings("ignore", message=".*already reported.*")
        warnings.filterwarnings("ignore", message=".*skip_if_finished.*")
        return runner.run()


__all__ = ["optimize", "run_trials", "read_settings", "write_settings", "DIRECTIONS"]
