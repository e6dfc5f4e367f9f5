"""``hpreg.run``: run a sweep's points as jobs into a run store, from Python or from
``hpreg run``; returns the rows ``hpreg results --format json`` prints."""

import os
import shlex
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

from hpreg.runner.base import Executor
from hpreg.runner.local import FunctionTarget, Summary
from hpreg.runner.progress import Progress
from hpreg._text import shorten
from hpreg.errors import UsageError
from hpreg.runner.rundir import job_id, plain_point, unstable_value
from hpreg.runner.store import RunStore

Target = Union[str, Sequence[str], Callable[[Dict[str, Any]], Any]]


def command_of(target: Target):
    """The command list of ``target`` (a string is split like a shell), or a
    ``FunctionTarget`` for a function."""
    if callable(target):
        return FunctionTarget(target)
    if isinstance(target, str):
        command = shlex.split(target)
    else:
        command = [str(a) for a in target]
    if not command:
        raise ValueError("the command to run is empty")
    return command


def make_executor(
    name: str, store: RunStore, root: str, gpus=None, **options
) -> Executor:
    """The executor ``name`` (``local``, ``slurm``, ``dask``) over ``store``, with
    the common options (``jobs``, ``timeout``, ``max_attempts``, ``progress``,
    ``function``, ``cwd``; ``gpus`` for local, ignored by the others) and its own
    (``slurm_*`` for slurm: ``partition``, ``gpus_per_task``, ``time``,
    ``array_parallelism``, ``options``, ``cluster``; ``scheduler`` for dask)."""
    if name == "local":
        from hpreg.runner.local import LocalExecutor

        return LocalExecutor(store, root, gpus=gpus, **options)
    if name == "slurm":
        from hpreg.runner.slurm import SlurmExecutor

        return SlurmExecutor(store, root, **options)
    if name == "dask":
        from hpreg.runner.dask import DaskExecutor

        return DaskExecutor(store, root, **options)
    raise ValueError(
        "unknown executor {!r} (choose from local, slurm, dask)".format(name)
    )


def run_points(
    points: Iterable[Dict[str, Any]],
    target: Target,
    store: str,
    jobs: Optional[int] = None,
    timeout: Optional[float] = None,
    max_attempts: Optional[int] = None,
    retry_failed: bool = False,
    gpus: Optional[Sequence[str]] = None,
    progress: Optional[bool] = None,
    stream=None,
    executor: str = "local",
    executor_options: Optional[Dict[str, Any]] = None,
):
    """Add the points to the store as jobs, run what is not done with ``executor``
    (``local``, ``slurm``, ``dask``; ``executor_options`` are its own, see
    ``hpreg.runner.api.make_executor``); returns the ``Summary`` and the open
    ``RunStore`` (limited to these jobs)."""

    command = command_of(target)
    function = command if isinstance(command, FunctionTarget) else None
    label = function.command if function is not None else command
    entries = []
    for point in points:
        unstable = unstable_value(point)
        if unstable is not None:
            raise UsageError(
                where="the point's {!r}".format(unstable[0]),
                problem="{} is not plain data: a job id made from it would change "
                "at every run".format(shorten(repr(unstable[1]), 80)),
                fix="sweep over a name, number or string and build the object "
                "in the job",
            )
        plain = plain_point(point)
        entries.append((job_id(plain, label), plain, label))
    run_store = RunStore(store)
    try:
        run_store.add_jobs(entries)
        run_store.choose([e[0] for e in entries])
        if retry_failed:
            run_store.requeue_failed()
        reporter = None
        if progress is not False:
            reporter = Progress(run_store, stream=stream, bar=progress)
        runner = make_executor(
            executor,
            run_store,
            store,
            gpus=gpus,
            jobs=jobs or os.cpu_count() or 1,
            timeout=timeout,
            max_attempts=max_attempts,
            progress=reporter,
            function=function,
            **(executor_options or {}),
        )
        try:
            summary: Summary = runner.run()
        finally:
            if reporter is not None:
                reporter.close()
    except BaseException:
        run_store.close()
        raise
    return summary, run_store


def run(
    sweep: Iterable[Dict[str, Any]],
    target: Target,
    jobs: Optional[int] = None,
    store: str = os.path.join("runs", "sweep"),
    timeout: Optional[float] = None,
    max_attempts: Optional[int] = None,
    retry_failed: bool = False,
    gpus: Optional[Sequence[str]] = None,
    progress: Optional[bool] = False,
    executor: str = "local",
    **executor_options: Any,
) -> List[Dict[str, Any]]:
    """Run every point of ``sweep`` as a job and return the results' rows.

    ``target`` is a command (a list, or a string split like a shell; ``{config}``,
    ``{run_dir}`` and ``{id}`` are replaced) or a function called in a worker
    process with the point, whose return value (a number, or a dict of metrics) is
    the job's result. Jobs already done in ``store`` are not run again; failed ones
    only with ``retry_failed``. ``jobs`` defaults to the number of CPUs.

    ``executor`` is where jobs run: ``"local"`` (processes on this machine),
    ``"slurm"`` (a Slurm array; options ``partition``, ``gpus_per_task``, ``time``,
    ``array_parallelism``, ``options`` (more sbatch options), ``cluster="local"``
    for submitit's local executor) or ``"dask"`` (option ``scheduler``: an address,
    ``"local"`` or a ``distributed.Client``).
    """
    from hpreg.runner.results import rows

    summary, run_store = run_points(
        sweep,
        target,
        store,
        jobs=jobs,
        timeout=timeout,
        max_attempts=max_attempts,
        retry_failed=retry_failed,
        gpus=gpus,
        progress=progress,
        executor=executor,
        executor_options=executor_options,
    )
    try:
        if summary.interrupted:
            raise KeyboardInterrupt
        return rows(run_store)
    finally:
        run_store.close()
