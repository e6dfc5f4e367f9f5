"""``hpreg optimize``: search a space with Optuna, each trial a job of the runner."""

import os
import sys
from typing import Any, Dict, Optional

from hpreg.errors import SearchSpaceError, UsageError


def add_optimize_parser(commands) -> None:
    from hpreg.cli.run import add_executor_arguments, add_job_arguments
    from hpreg.optimizer.config import DIRECTIONS, PRUNERS, SAMPLERS

    parser = commands.add_parser(
        "optimize",
        help="search hyperparameters with Optuna, each trial a job (resumable)",
        description=(
            "Run COMMAND once per Optuna trial, N at a time, into a run store "
            "(runs/<file stem>). The space comes from the file's optimize: section "
            "(or hyper_opt's optuna: section), else from the hints (low/high, "
            "choices) of the hyperparameters scanned in the command's folder. Jobs "
            "report metrics with hpreg.report(step=k, val_loss=v); the pruner stops "
            "bad ones early. Running the same command again continues the study up "
            "to --n-trials in total."
        ),
        usage="%(prog)s [FILE] [options] -- COMMAND ...",
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="a YAML file")
    parser.add_argument(
        "--metric", metavar="NAME[,NAME]", help="the reported metric to optimize"
    )
    parser.add_argument(
        "--direction", metavar="|".join(DIRECTIONS), help="default: minimize"
    )
    parser.add_argument("--n-trials", type=int, metavar="N", help="default: 50")
    parser.add_argument("--sampler", choices=SAMPLERS, help="default: tpe")
    parser.add_argument("--seed", type=int, metavar="N")
    parser.add_argument("--pruner", choices=PRUNERS, help="default: median")
    parser.add_argument(
        "--space",
        metavar="NAMES",
        help="optimize these names only (comma-separated)",
    )
    parser.add_argument(
        "--store", metavar="DIR", help="default: runs/<file stem>, or runs/optimize"
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        help="the study's storage: journal:PATH (default journal:<store>/"
        "optuna.journal) or a database URL",
    )
    parser.add_argument(
        "--study-name", metavar="NAME", help="default: the store's folder name"
    )
    parser.add_argument(
        "--worker",
        action="store_true",
        help="one of many workers sharing the study in --storage (a journal file "
        "on a shared filesystem, or a database server); start as many as you like, "
        "on any machines: together they run n_trials, each in <store>/<host>-<pid>",
    )
    parser.add_argument(
        "--heartbeat",
        type=float,
        metavar="SECONDS",
        help="--worker: seconds between heartbeats (Optuna's own on a database); a "
        "trial silent for 3 is failed and run again (default: 10)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        metavar="N",
        help="trials at once (default: 1, or a hyper_opt file's slurm.jobs)",
    )
    add_job_arguments(parser)
    add_executor_arguments(
        parser,
        default=None,
        note="; a hyper_opt file's slurm: section means slurm (its jobs and batch "
        "options are the defaults of -j and --slurm-*)",
    )
    parser.add_argument(
        "--scan",
        nargs="+",
        metavar="PATH",
        help="the code declaring the hyperparameters (default: the folder of the "
        "command's Python script)",
    )
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    parser.add_argument("--no-cache", action="store_true")
    parser.set_defaults(func=cmd_optimize, takes_command=True)


def _settings(args):
    from hpreg.optimizer.config import Settings, direction_list, metric_list, read_file

    settings = read_file(args.file) if args.file else Settings()
    if args.metric:
        settings.metrics = metric_list(args.metric.split(","), "--metric")
    if args.direction:
        settings.directions = direction_list(args.direction.split(","), "--direction")
    if args.n_trials is not None:
        if args.n_trials < 1:
            raise UsageError(where="--n-trials", problem="at least 1 trial")
        settings.n_trials = args.n_trials
    for name in ("sampler", "seed", "pruner", "storage", "study_name"):
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))
    if args.store:
        settings.store = args.store
    if not settings.metrics:
        raise UsageError(
            where=args.file or "hpreg optimize",
            problem="no metric to optimize",
            fix="give --metric NAME or metric: in the optimize: section",
        )
    if not settings.directions:
        settings.directions = ["minimize"] * len(settings.metrics)
    if len(settings.directions) == 1 and len(settings.metrics) > 1:
        settings.directions = settings.directions * len(settings.metrics)
    if len(settings.directions) != len(settings.metrics):
        raise UsageError(
            where="--direction",
            problem="{} metrics but {} directions".format(
                len(settings.metrics), len(settings.directions)
            ),
            fix="give one direction per metric",
        )
    return settings


def _registry(args, command):
    from hpreg.cli.run import _script_folder

    paths = args.scan
    if not paths:
        folder = _script_folder(command)
        paths = [folder] if folder else None
    if not paths:
        return None
    from hpreg.registry.all_managers import scan_all
    from hpreg.registry.protocol import MergedRegistry

    found, problems = scan_all(
        paths, collect=True, exclude=args.exclude, cache=not args.no_cache, into={}
    )
    for problem in problems:
        print("hpreg: warning: {}".format(problem), file=sys.stderr)
    return MergedRegistry(found)


def _dims(settings, registry, picked):
    from hpreg.optimizer.space import dimension, space_from_hints

    dims: Dict[str, Any] = {}
    source: Dict[str, Any] = dict(settings.space or {})
    if picked is not None:
        missing = [n for n in picked if n not in source]
        if missing:
            if registry is None:
                raise UsageError(
                    where="--space",
                    problem="no space for {}".format(", ".join(missing)),
                    fix="give them in the file's optimize.space, or --scan the code "
                    "whose hints bound them",
                )
            source.update(space_from_hints(registry, missing))
        source = {n: source[n] for n in picked}
    elif not source:
        if registry is None:
            raise UsageError(
                problem="no search space",
                fix="write an optimize: section with a space, or --scan the code "
                "whose hints give low/high or choices",
            )
        source = space_from_hints(registry)
        if not source:
            raise SearchSpaceError(
                where="hints",
                problem="no scanned hyperparameter has low/high or choices hints",
                fix="declare them (_('lr', 1e-3, low=1e-5, high=0.1, log=True)) or "
                "give a file with optimize.space",
            )
    from hpreg.optimizer.space import Dimension

    for name, spec in source.items():
        if isinstance(spec, Dimension):
            dims[name] = spec
            continue
        where = settings.where("space", name) if settings.source else name
        if isinstance(spec, tuple):
            spec, where = spec
            where = "{}: {}".format(settings.source, where)
        default, has = None, False
        if registry is not None and name in registry.known_names():
            default, has = registry.get_default(name), True
        dims[name] = dimension(name, spec, where, default, has)
    return dims


def cmd_optimize(args) -> int:
    from hpreg.cli.run import _gpus
    from hpreg.optimizer.lock import StoreLock
    from hpreg.optimizer.space import check_space
    from hpreg.optimizer.study import check_sampler_dependencies, require_optuna

    command = getattr(args, "command", None)
    if not command:
        raise UsageError(
            problem="no command to run",
            fix="write it after '--': hpreg optimize FILE -- python train.py",
        )
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(where="-j {}".format(args.jobs), problem="run at least 1 job")
    if args.heartbeat is not None and (not args.worker or args.heartbeat <= 0):
        raise UsageError(
            where="--heartbeat {}".format(args.heartbeat),
            problem="a positive number of seconds, for --worker",
        )
    settings = _settings(args)
    executor, executor_options = _executor(args, settings)
    gpus = _gpus(args.gpus)
    registry = _registry(args, command)
    picked = None
    if args.space:
        picked = [n.strip() for n in args.space.split(",") if n.strip()]
    dims = _dims(settings, registry, picked)
    if registry is not None:
        notes = check_space(
            dims,
            settings.fixed,
            registry,
            lambda name: settings.where("fixed", name) if settings.source else name,
        )
        for note in notes:
            print("hpreg: warning: {}".format(note), file=sys.stderr)
    for note in settings.notes:
        print("hpreg: warning: {}".format(note), file=sys.stderr)
    plan = _Plan(settings, args)
    check_sampler_dependencies(plan.sampler)
    optuna = require_optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    options = dict(
        timeout=args.timeout,
        max_attempts=args.max_attempts,
        gpus=gpus,
        on_trial=_trial_printer(plan.metrics),
        executor=executor,
        executor_options=executor_options,
    )
    if args.worker:
        with StoreLock(plan.store, shared=True):
            return _work(args, command, settings, dims, plan, options)
    with StoreLock(plan.store):
        return _coordinate(args, command, settings, dims, plan, options)


def _coordinate(args, command, settings, dims, plan, options) -> int:
    """The one coordinator of ``plan.store``: runs the study's trials as jobs."""
    from hpreg.optimizer.api import run_trials
    from hpreg.optimizer.study import (
        counted,
        make_pruner,
        make_sampler,
        make_storage,
        open_study,
        reseed,
    )

    study = open_study(
        make_storage(plan.storage),
        plan.study_name,
        plan.directions,
        make_sampler(
            plan.sampler, settings.seed, args.jobs, dims, settings.sampler_options
        ),
        make_pruner(plan.pruner),
        load_if_exists=settings.reload is not False,
    )
    reseed(
        study,
        settings.seed,
        lambda s: make_sampler(
            plan.sampler, s, args.jobs, dims, settings.sampler_options
        ),
    )
    plan.write_settings()
    before = counted(study)
    summary = run_trials(
        study,
        command,
        plan.store,
        dims,
        settings.fixed,
        plan.metrics,
        plan.n_trials,
        jobs=args.jobs,
        **options,
    )
    line = "{} of {} trials in {}".format(counted(study), plan.n_trials, plan.store)
    if counted(study) == before:
        line = "nothing to run: " + line
    return _report(study, summary, plan, plan.store, line)


class _Plan:
    """What one ``hpreg optimize`` resolves from its settings and arguments: the
    store, the Optuna storage and study name, the metrics, sampler and pruner."""

    def __init__(self, settings, args):
        from hpreg.optimizer.config import default_store

        self.store = settings.store or default_store(args.file)
        self.storage = settings.storage or "journal:" + os.path.join(
            self.store, "optuna.journal"
        )
        self.study_name = settings.study_name or os.path.basename(
            os.path.abspath(self.store)
        )
        self.metrics, self.directions = settings.metrics, settings.directions
        self.sampler = settings.sampler or "tpe"
        # a multi-objective study cannot prune (Optuna's ``should_prune``)
        self.pruner = "none" if len(self.metrics) > 1 else settings.pruner or "median"
        self.n_trials = settings.n_trials or 50

    def write_settings(self) -> None:
        from hpreg.optimizer.api import write_settings

        write_settings(
            self.store, self.storage, self.study_name, self.metrics, self.directions
        )


def _executor(args, settings):
    """Where the trials run and the executor's options: ``--executor`` (and its
    options, as for ``hpreg run``), else ``slurm`` when a hyper_opt file has a
    ``slurm:`` section, whose ``jobs`` and ``batch`` are the defaults of ``-j`` and
    the ``--slurm-*`` options. Sets ``args.jobs``."""
    from hpreg.cli.run import _executor_options

    mapped = settings.slurm
    if args.executor is None:
        args.executor = "slurm" if mapped is not None else "local"
    elif mapped is not None and args.executor != "slurm":
        settings.notes.append(
            "{}: slurm: not used with --executor {}".format(
                settings.source, args.executor
            )
        )
        mapped = None
    options = _executor_options(args)
    if args.jobs is None:
        args.jobs = (mapped or {}).get("jobs") or 1
    if mapped is not None:
        merged = dict(mapped["options"])
        for key, value in options.items():
            if key == "options":
                merged["options"] = dict(merged.get("options") or {}, **value)
            elif value is not None:
                merged[key] = value
        options = merged
    return args.executor, options


def _trial_printer(metrics):
    def on_trial(number, state, metrics_seen):
        word = {"done": "complete"}.get(state, state)
        shown = " ".join(
            "{}={}".format(m, _short((metrics_seen or {}).get(m)))
            for m in metrics
            if (metrics_seen or {}).get(m) is not None
        )
        print("trial {}: {} {}".format(number, word, shown).rstrip(), flush=True)

    return on_trial


def _report(study, summary, plan, jobs_store, line) -> int:
    """The last lines of a run: interrupted, failures, the best trial."""
    from hpreg.optimizer.study import counts

    trials = study.get_trials(deepcopy=False)
    total = sum(1 for t in trials if counts(t))
    if summary.interrupted:
        print(
            "hpreg: interrupted; {} of {} trials counted: run the same command to "
            "go on".format(total, plan.n_trials),
            file=sys.stderr,
        )
        return 130
    failed = [t for t in trials if t.state.name == "FAIL" and counts(t)]
    if failed:
        print(
            "hpreg: warning: {} trial(s) failed ('hpreg status {}' shows their "
            "stderr)".format(len(failed), jobs_store),
            file=sys.stderr,
        )
        if len(failed) == total:
            print("hpreg: error: every trial failed", file=sys.stderr)
            return 1
    best = _best_text(study, plan.metrics)
    if best:
        line += "; best {}".format(best)
    print(line + "; 'hpreg results {} --best 5' shows the best".format(plan.store))
    return 0


def _work(args, command, settings, dims, plan, options) -> int:
    """``--worker``: one of many processes sharing the study in ``plan.storage``."""
    from hpreg.optimizer.study import (
        GRACE_BEATS,
        counted,
        make_pruner,
        make_sampler,
        make_storage,
        open_shared_study,
        reseed,
        shared_storage_note,
    )
    from hpreg.optimizer.workers import HEARTBEAT, run_worker, worker_name, worker_seed

    note = shared_storage_note(plan.storage)
    if note:
        print("hpreg: warning: {}".format(note), file=sys.stderr)
    name = worker_name()
    seed = worker_seed(settings.seed, name)
    jobs = max(2, args.jobs)  # other workers run trials too: TPE's constant liar
    heartbeat = args.heartbeat or HEARTBEAT
    study = open_shared_study(
        lambda: make_storage(plan.storage, heartbeat=heartbeat),
        plan.study_name,
        plan.directions,
        make_sampler(plan.sampler, seed, jobs, dims, settings.sampler_options),
        make_pruner(plan.pruner),
        reload=settings.reload,
    )
    reseed(
        study,
        seed,
        lambda s: make_sampler(plan.sampler, s, jobs, dims, settings.sampler_options),
    )
    plan.write_settings()
    summary, driver = run_worker(
        study,
        command,
        plan.store,
        dims,
        settings.fixed,
        plan.metrics,
        plan.n_trials,
        plan.storage,
        jobs=args.jobs,
        heartbeat=heartbeat,
        name=name,
        **options,
    )
    if driver.lost:
        print(
            "hpreg: warning: {} trial(s) run here were failed as stale by another "
            "worker meanwhile (no heartbeat from here for {} heartbeats: an "
            "overloaded machine or storage?); they run again there and their "
            "results here are not told".format(driver.lost, GRACE_BEATS),
            file=sys.stderr,
        )
    line = "worker {}: {} trial(s) here; {} of {} trials in {}".format(
        name, driver.finished, counted(study), plan.n_trials, plan.store
    )
    return _report(study, summary, plan, os.path.join(plan.store, name), line)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return "{:.4g}".format(value)
    return str(value)


def _best_text(study, metrics) -> Optional[str]:
    if len(metrics) > 1:
        return None
    try:
        trial = study.best_trial
    except ValueError:
        return None
    params = " ".join("{}={}".format(k, _short(v)) for k, v in trial.params.items())
    return "{}={} in trial {} ({})".format(
        metrics[0], _short(trial.value), trial.number, params
    )
