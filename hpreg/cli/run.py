"""``hpreg run``, ``hpreg status`` and ``hpreg results``: run a sweep's points as jobs
into a run store, watch it, read its results."""

import itertools
import os
import sys
from typing import List, Optional

from hpreg.errors import UsageError


def add_run_parsers(commands) -> None:
    from hpreg.cli.sweep import take_extras

    run = commands.add_parser(
        "run",
        help="run a command on every point of a sweep (resumable)",
        description=(
            "Run COMMAND once per point of the sweep (a file and/or overrides, as for "
            "'hpreg sweep'), N at a time, into a run store (runs/<sweep file stem>). "
            "Each job sees its point through $HPREG_CONFIG; {config}, {run_dir} and "
            "{id} are replaced in COMMAND. Jobs already done are not run again."
        ),
        usage="%(prog)s [SWEEP] [NAME=VALUES ...] [options] -- COMMAND ...",
    )
    run.add_argument(
        "items",
        nargs="*",
        metavar="FILE | module.py:function | NAME=VALUES",
        help="an optional sweep file first, then overrides",
    )
    run.add_argument(
        "--scan",
        nargs="+",
        metavar="PATH",
        help="validate the sweep against the code in PATH (default: the folder of "
        "the command's Python script)",
    )
    run.add_argument(
        "--store",
        metavar="DIR",
        help="the run directory (default: runs/<sweep file stem>, or runs/sweep)",
    )
    run.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="jobs at once (default: the number of CPUs)",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --store, skipping what is done (the default "
        "when it exists; with --resume a missing store is an error)",
    )
    run.add_argument(
        "--retry-failed", action="store_true", help="run failed jobs again"
    )
    add_job_arguments(run)
    add_executor_arguments(run)
    run.add_argument("--unique", action="store_true", help="drop repeated points")
    run.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    run.add_argument("--no-cache", action="store_true")
    run.set_defaults(func=cmd_run, take_extras=take_extras, takes_command=True)

    status = commands.add_parser(
        "status", help="counts by state, progress and failures of a run store"
    )
    status.add_argument("store", metavar="DIR")
    status.set_defaults(func=cmd_status)

    results = commands.add_parser(
        "results", help="a table of every job's values and last metrics"
    )
    results.add_argument("store", metavar="DIR")
    results.add_argument(
        "--sort", metavar="[-]COLUMN", help="sort by a column (-COLUMN: descending)"
    )
    results.add_argument(
        "--where",
        metavar="EXPR",
        help='keep rows where EXPR is true, e.g. "valid_loss < 0.5"',
    )
    results.add_argument("--format", choices=("table", "csv", "json"), default="table")
    results.add_argument(
        "--best",
        type=int,
        metavar="K",
        help="an optimization store: the K best complete trials by the study's metric",
    )
    results.add_argument(
        "--plot",
        nargs=2,
        metavar=("X:Y", "OUT"),
        help="draw metric Y against hyperparameter X into OUT (e.g. out.png), or, "
        "for an optimization store, 'history' or 'importance' (needs pip install "
        "hpreg[plot])",
    )
    results.add_argument(
        "--by", metavar="COLUMN", help="with --plot: one line per value of COLUMN"
    )
    results.set_defaults(func=cmd_results)


def add_job_arguments(parser) -> None:
    """``--timeout``, ``--max-attempts`` and ``--gpus`` (``hpreg run`` and ``hpreg
    optimize``: a trial is a job)."""
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="a job running longer fails (SIGTERM, then SIGKILL)",
    )
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=None,
        metavar="N",
        help="attempts of a job in all, the first included, whatever ended them "
        "(default 3: a job lost with its node or worker, preempted or interrupted "
        "runs again; given, a job's own failure is retried too)",
    )
    parser.add_argument(
        "--gpus",
        metavar="IDS",
        help="device ids, e.g. 0,1: each job gets one in CUDA_VISIBLE_DEVICES, "
        "never one held by another job (with -j above their number, jobs wait "
        "for a free device)",
    )


def add_executor_arguments(parser, default: Optional[str] = "local", note: str = ""):
    """``--executor``, ``--scheduler`` and ``--slurm-*`` (``hpreg run`` and ``hpreg
    optimize``); ``_executor_options`` reads them."""
    parser.add_argument(
        "--executor",
        choices=("local", "slurm", "dask"),
        default=default,
        help="where jobs run: processes here (default), a Slurm array (needs "
        "pip install hpreg[slurm]) or a dask cluster (pip install hpreg[dask])" + note,
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --executor dask: the scheduler (tcp://host:8786), or 'local' "
        "for a LocalCluster of -j workers (the default)",
    )
    parser.add_argument("--slurm-partition", metavar="NAME")
    parser.add_argument("--slurm-gpus-per-task", type=int, metavar="N")
    parser.add_argument(
        "--slurm-time", metavar="TIME", help="time limit per job, e.g. 1:00:00"
    )
    parser.add_argument(
        "--slurm-array-parallelism",
        type=int,
        metavar="N",
        help="jobs of the array running at once (default: -j)",
    )
    parser.add_argument(
        "--slurm-opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other sbatch option, e.g. --slurm-opt qos=high (repeatable)",
    )


def _script_folder(command: List[str]) -> Optional[str]:
    """The folder of the command's Python script (its first argument ending in .py)."""
    for argument in command:
        if argument.endswith(".py") and os.path.isfile(argument):
            return os.path.dirname(os.path.abspath(argument))
    return None


def _gpus(text: Optional[str]) -> Optional[List[str]]:
    if text is None:
        return None
    ids = [part.strip() for part in text.split(",")]
    if not all(ids) or len(set(ids)) != len(ids):
        raise UsageError(
            where="--gpus {}".format(text),
            problem="expected distinct device ids separated by commas",
            fix="e.g. --gpus 0,1",
        )
    return ids


def _check_options(args) -> None:
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(where="-j {}".format(args.jobs), problem="run at least 1 job")
    if args.max_attempts is not None and args.max_attempts < 1:
        raise UsageError(
            where="--max-attempts {}".format(args.max_attempts),
            problem="at least 1 attempt (the first included)",
        )
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError(
            where="--timeout {}".format(args.timeout),
            problem="a timeout is a positive number of seconds",
        )


def _executor_options(args) -> dict:
    """The chosen executor's own options; another executor's are a usage error."""
    slurm = {
        "--slurm-partition": args.slurm_partition,
        "--slurm-gpus-per-task": args.slurm_gpus_per_task,
        "--slurm-time": args.slurm_time,
        "--slurm-array-parallelism": args.slurm_array_parallelism,
        "--slurm-opt": args.slurm_opt or None,
    }
    given = [name for name, value in slurm.items() if value is not None]
    if args.scheduler is not None:
        given.append("--scheduler")
    for name in given:
        wanted = "dask" if name == "--scheduler" else "slurm"
        if args.executor != wanted:
            raise UsageError(
                where=name,
                problem="only goes with --executor {}".format(wanted),
                fix="add --executor {}".format(wanted),
            )
    if args.executor != "local" and args.gpus is not None:
        raise UsageError(
            where="--gpus",
            problem="only goes with the local executor",
            fix="with Slurm, use --slurm-gpus-per-task N",
        )
    if args.executor == "dask":
        return {"scheduler": args.scheduler or "local"}
    if args.executor != "slurm":
        return {}
    for name in ("--slurm-gpus-per-task", "--slurm-array-parallelism"):
        value = slurm[name]
        if value is not None and value < 1:
            raise UsageError(where="{} {}".format(name, value), problem="at least 1")
    options = {}
    for item in args.slurm_opt:
        key, sep, value = item.partition("=")
        key = key.strip().lstrip("-")
        if not sep or not key:
            raise UsageError(
                where="--slurm-opt {}".format(item),
                problem="expected KEY=VALUE (an sbatch option)",
                fix="e.g. --slurm-opt qos=high or --slurm-opt mem=16G",
            )
        options[key] = value
    if args.slurm_time is not None:
        from hpreg.runner.slurm import slurm_minutes

        slurm_minutes(args.slurm_time)  # checked before anything is submitted
    return {
        "partition": args.slurm_partition,
        "gpus_per_task": args.slurm_gpus_per_task,
        "time": args.slurm_time,
        "array_parallelism": args.slurm_array_parallelism,
        "options": options,
        "cluster": os.environ.get("HPREG_SLURM_CLUSTER", "slurm"),
    }


def cmd_run(args) -> int:
    from hpreg.cli.sweep import build_sweep, reclaim_items, validate_sweep
    from hpreg.runner.api import run_points
    from hpreg.sweep.output import MAX_OUT_POINTS, check_point, too_many

    command = getattr(args, "command", None)
    if not command:
        raise UsageError(
            problem="no command to run",
            fix="write it after '--': hpreg run SWEEP -- python train.py",
        )
    _check_options(args)
    gpus = _gpus(args.gpus)
    executor_options = _executor_options(args)
    reclaim_items(args)
    sweep, stem, path = build_sweep(args)
    if not args.scan:
        folder = _script_folder(command)
        args.scan = [folder] if folder else None
    if args.scan:
        sweep = validate_sweep(sweep, args, path)
    too_long = too_many(sweep._count_cheaply(), "hpreg run", MAX_OUT_POINTS)
    if too_long is not None:
        raise too_long
    # every value is checked before any job starts; a sweep that cannot be counted
    # cheaply (a where, a function) is counted as it is read, up to the limit
    points = list(itertools.islice(sweep, MAX_OUT_POINTS + 1))
    if len(points) > MAX_OUT_POINTS:
        raise too_many(len(points), "hpreg run", MAX_OUT_POINTS, at_least=True)
    for i, point in enumerate(points):
        check_point(point, "point {}".format(i))
    store = args.store or os.path.join("runs", stem)
    if args.resume and not os.path.exists(os.path.join(store, "hpreg.db")):
        raise UsageError(
            where="--resume",
            problem="there is no run to resume in {}".format(store),
            fix="check --store, or drop --resume to start the run",
        )
    summary, run_store = run_points(
        points,
        command,
        store,
        jobs=args.jobs,
        timeout=args.timeout,
        max_attempts=args.max_attempts,
        retry_failed=args.retry_failed,
        gpus=gpus,
        progress=None,
        executor=args.executor,
        executor_options=executor_options,
    )
    try:
        return _report(summary, store, len(points))
    finally:
        run_store.close()


def _report(summary, store: str, total: int) -> int:
    counts = summary.counts
    if summary.interrupted:
        left = counts["queued"] + counts["interrupted"] + counts["lost"]
        print(
            "hpreg: interrupted; {} of {} jobs done, {} queued again: run the same "
            "command to go on".format(counts["done"], total, left),
            file=sys.stderr,
        )
        return 130
    if summary.failed:
        print(
            "hpreg: {} of {} jobs failed ('hpreg status {}' shows their stderr; "
            "--retry-failed runs them again):".format(
                len(summary.failed), total, store
            ),
            file=sys.stderr,
        )
        for job in summary.failed:
            print(
                "  {} exit {}: {}".format(
                    job.id,
                    job.exit_code,
                    " ".join("{}={}".format(k, v) for k, v in job.point.items()),
                ),
                file=sys.stderr,
            )
        return 1
    if summary.launched == 0 and counts["done"] == total:
        print("nothing to run: all {} jobs are done in {}".format(total, store))
    else:
        line = "{} of {} jobs done in {}".format(counts["done"], total, store)
        if counts["running"]:
            line += " ({} still running in another 'hpreg run')".format(
                counts["running"]
            )
        print(line + "; 'hpreg results {}' shows them".format(store))
    return 0


def _open(directory: str):
    from hpreg.runner.store import RunStore

    if not os.path.isdir(directory):
        raise UsageError(
            where=directory,
            problem="no such run directory",
            fix="give the folder 'hpreg run' wrote (--store DIR, default "
            "runs/<sweep file stem>)",
        )
    return RunStore(directory, create=False, readonly=True)


def _optimization_rows(directory: str, store):
    """The trials of an optimization store (``hpreg optimize``), or None."""
    from hpreg.optimizer.results import is_optimization_store, rows

    if not is_optimization_store(directory):
        return None
    return rows(directory, store)


def cmd_status(args) -> int:
    from hpreg.runner.results import status

    with _open(args.store) as store:
        print(status(store, args.store))
    return 0


def cmd_results(args) -> int:
    from hpreg.runner import results

    best = getattr(args, "best", None)
    if best is not None and best < 1:
        raise UsageError(where="--best {}".format(best), problem="K is at least 1")
    with _open(args.store) as store:
        table = _optimization_rows(args.store, store)
        if table is None:
            table = results.rows(store)
        jobs = store.jobs("failed")
    if best is not None:
        from hpreg.optimizer.results import best_of_store

        table = best_of_store(args.store, table, best)
    if args.where:
        table = results.where(table, args.where)
    if args.sort:
        table = results.sort(table, args.sort)
    if args.by is not None and args.plot is None:
        raise UsageError(
            where="--by {}".format(args.by),
            problem="--by only goes with --plot",
            fix="e.g. --plot lr:val_loss out.png --by batch_size",
        )
    if args.plot is not None and args.plot[0] in ("history", "importance"):
        from hpreg.optimizer.plots import plot_study

        drawn = plot_study(args.store, args.plot[0], args.plot[1])
        print(
            "{} of {} complete trials written to {}".format(
                args.plot[0], drawn, args.plot[1]
            )
        )
        return 0
    if args.plot is not None:
        from hpreg.runner.plot import parse_axes, plot

        x, y = parse_axes(args.plot[0])
        lines = plot(table, x, y, args.plot[1], by=args.by)
        print(
            "{} against {} ({} line{}) written to {}".format(
                y, x, len(lines), "" if len(lines) == 1 else "s", args.plot[1]
            )
        )
        return 0
    print(results.render(table, args.format))
    if args.format == "table":  # CSV and JSON rows keep their documented columns
        shown = {row.get("id") for row in table}
        for line in results.failures(jobs, args.store, shown):
            print(line)
    return 0
