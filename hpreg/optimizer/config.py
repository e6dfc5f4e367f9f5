"""An optimization's settings: the ``optimize:`` section of a sweep file, hyper_opt's
``optuna:`` section (accepted unchanged), or the command line. Errors name the file
and key (``optimize.yaml: optimize.space.lr.low: ...``)."""

import os
from typing import Any, Dict, List, Optional

from hpreg._text import did_you_mean, join_fix, suggestion
from hpreg.errors import SearchSpaceError, UsageError

SAMPLERS = ("tpe", "random", "cmaes", "grid", "qmc")
PRUNERS = ("median", "hyperband", "none")
DIRECTIONS = ("minimize", "maximize")
OPTIMIZE_KEYS = (
    "metric",
    "direction",
    "n_trials",
    "sampler",
    "seed",
    "pruner",
    "space",
    "fixed",
    "study_name",
    "storage",
)
# hyper_opt's sampler classes
SAMPLER_CLASSES = {
    "TPESampler": "tpe",
    "RandomSampler": "random",
    "CmaEsSampler": "cmaes",
    "GridSampler": "grid",
    "QMCSampler": "qmc",
}
# hyper_opt's parameter types -> a spec
HYPER_OPT_TYPES = (
    "int",
    "float",
    "loguniform",
    "uniform",
    "discrete_uniform",
    "categorical",
)


class Settings:
    """What to optimize and how; ``None`` fields take the defaults (or the command
    line's values)."""

    def __init__(self):
        self.metrics: Optional[List[str]] = None
        self.directions: Optional[List[str]] = None
        self.n_trials: Optional[int] = None
        self.sampler: Optional[str] = None
        self.sampler_options: Dict[str, Any] = {}
        self.seed: Optional[int] = None
        self.pruner: Optional[str] = None
        self.space: Optional[Dict[str, Any]] = None
        self.fixed: Dict[str, Any] = {}
        self.study_name: Optional[str] = None
        self.storage: Optional[str] = None
        self.store: Optional[str] = None
        self.reload: Optional[bool] = None
        # hyper_opt's slurm: section: {"jobs": N or None, "options": the Slurm
        # executor's options (partition, time, options: more sbatch options)}
        self.slurm: Optional[Dict[str, Any]] = None
        self.source = ""  # the file
        self.section = "optimize"
        self.notes: List[str] = []  # warnings to print

    def where(self, *keys: Any) -> str:
        path = ".".join(str(k) for k in (self.section,) + keys)
        return "{}: {}".format(self.source, path) if self.source else path


def _error(where: str, problem: str, fix: str = "", **facts) -> SearchSpaceError:
    return SearchSpaceError(where=where, problem=problem, fix=fix, **facts)


def _unknown_key(
    settings: Settings, key: Any, keys, where: Optional[str] = None
) -> SearchSpaceError:
    """``key`` is none of ``keys`` (at ``where``, default the file's ``key``)."""
    return _error(
        where or settings.where(key),
        "unknown key {!r}".format(key),
        join_fix(
            suggestion(did_you_mean(str(key), keys)),
            "(keys: {})".format(", ".join(keys)),
        ),
        path=settings.source,
        key=key,
    )


def metric_list(value: Any, where: str) -> List[str]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise _error(where, "a metric is a name, got {!r}".format(value))
    return list(values)


def direction_list(value: Any, where: str) -> List[str]:
    values = value if isinstance(value, list) else [value]
    for v in values:
        if v not in DIRECTIONS:
            raise _error(
                where,
                "unknown direction {!r}".format(v),
                join_fix(
                    suggestion(did_you_mean(str(v), DIRECTIONS)),
                    "write minimize or maximize",
                ),
            )
    return list(values)


def choice(value: Any, allowed, where: str, what: str) -> str:
    if value not in allowed:
        raise _error(
            where,
            "unknown {} {!r}".format(what, value),
            join_fix(
                suggestion(did_you_mean(str(value), allowed)),
                "(one of {})".format(", ".join(allowed)),
            ),
        )
    return value


def positive_int(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _error(where, "expected a positive whole number, got {!r}".format(value))
    return value


def read_file(path: str) -> Settings:
    """The settings of a YAML file with an ``optimize:`` (or hyper_opt's
    ``optuna:``) section; the rest of the file, when any, is a sweep whose axes
    are choices (see ``hpreg.optimizer.space.space_of_sweep``)."""
    from hpreg.io.files import load_yaml_file

    data = load_yaml_file(path, error=SearchSpaceError)
    settings = Settings()
    settings.source = str(path)
    if not isinstance(data, dict) or not data:
        raise _error(
            str(path),
            "an optimization file is a mapping with an optimize: section",
            "write optimize: {metric: val_loss, space: {...}}",
        )
    if "optimize" in data and "optuna" in data:
        raise _error(
            str(path),
            "both optimize: and optuna: sections",
            "keep one (optuna: is hyper_opt's format)",
        )
    rest = {k: v for k, v in data.items() if k not in ("optimize", "optuna", "log")}
    if "optuna" in data:
        rest.pop("slurm", None)
        read_hyper_opt(data["optuna"], settings)
        if "slurm" in data:
            settings.slurm = read_hyper_opt_slurm(data["slurm"], settings)
    elif "optimize" in data:
        read_optimize(data["optimize"], settings)
    else:
        raise _error(
            str(path),
            "no optimize: section",
            join_fix(
                suggestion(did_you_mean("optimize", [str(k) for k in data])),
                "add optimize: {metric: ..., space: {...}}",
            ),
        )
    if rest:
        from hpreg.optimizer.space import space_of_sweep
        from hpreg.sweep.file import parse_sweep

        sweep = parse_sweep(rest, source=str(path))
        space, fixed = space_of_sweep(sweep, str(path))
        merged = dict(space)
        merged.update(settings.space or {})  # the optimize: section wins
        settings.space = merged
        for name, value in fixed.items():
            settings.fixed.setdefault(name, value)
    return settings


def read_optimize(section: Any, settings: Settings) -> None:
    if not isinstance(section, dict):
        raise _error(
            settings.where(),
            "the optimize: section is a mapping, got {!r}".format(section),
            "write optimize: {metric: val_loss, space: {...}}",
        )
    for key in section:
        if key not in OPTIMIZE_KEYS:
            raise _unknown_key(settings, key, OPTIMIZE_KEYS)
    w = settings.where
    if "metric" in section:
        settings.metrics = metric_list(section["metric"], w("metric"))
    if "direction" in section:
        settings.directions = direction_list(section["direction"], w("direction"))
    if "n_trials" in section:
        settings.n_trials = positive_int(section["n_trials"], w("n_trials"))
    sampler = section.get("sampler")
    if isinstance(sampler, dict):
        options = dict(sampler)
        kind = options.pop("type", "tpe")
        settings.sampler = choice(kind, SAMPLERS, w("sampler", "type"), "sampler")
        if "seed" in options:
            settings.seed = options.pop("seed")
        settings.sampler_options = options
    elif sampler is not None:
        settings.sampler = choice(sampler, SAMPLERS, w("sampler"), "sampler")
    if "seed" in section:
        seed = section["seed"]
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise _error(w("seed"), "a seed is a whole number, got {!r}".format(seed))
        settings.seed = seed
    if "pruner" in section:
        pruner = section["pruner"]
        pruner = "none" if pruner in (None, False) else pruner
        settings.pruner = choice(pruner, PRUNERS, w("pruner"), "pruner")
    if "space" in section:
        space = section["space"]
        if not isinstance(space, dict) or not space:
            raise _error(
                w("space"),
                "the space maps names to {low, high} or {choices}",
                "write space: {lr: {low: 1.0e-5, high: 0.1, log: true}}",
            )
        settings.space = space
    if "fixed" in section:
        fixed = section["fixed"]
        if not isinstance(fixed, dict):
            raise _error(
                w("fixed"), "fixed maps names to values, got {!r}".format(fixed)
            )
        from hpreg.io.tree import flatten_nested

        settings.fixed = flatten_nested(fixed, ".", "")
    for key in ("study_name", "storage"):
        if key in section:
            value = section[key]
            if not isinstance(value, str) or not value.strip():
                raise _error(w(key), "expected a string, got {!r}".format(value))
            setattr(settings, key, value)


def read_hyper_opt(section: Any, settings: Settings) -> None:
    """hyper_opt's ``optuna:`` section: ``parameters`` (``a:b`` is ``a.b``;
    ``settings.name`` is Optuna-internal and ignored), ``name`` the study,
    ``save_path`` the store, ``reload`` 0 (a new study) or 1 (continue it)."""
    settings.section = "optuna"
    w = settings.where
    if not isinstance(section, dict):
        raise _error(w(), "the optuna: section is a mapping, got {!r}".format(section))
    if "metric" in section:
        settings.metrics = metric_list(section["metric"], w("metric"))
    if "direction" in section:
        settings.directions = direction_list(section["direction"], w("direction"))
    if "n_trials" in section:
        settings.n_trials = positive_int(section["n_trials"], w("n_trials"))
    if "name" in section:
        name = str(section["name"])
        settings.study_name = name
    if "save_path" in section:
        settings.store = str(section["save_path"])
    if "reload" in section:
        settings.reload = bool(section["reload"])
    sampler = section.get("sampler")
    if sampler is not None:
        if not isinstance(sampler, dict) or "type" not in sampler:
            raise _error(w("sampler"), "expected {type: TPESampler, ...}")
        options = dict(sampler)
        kind = options.pop("type")
        if kind not in SAMPLER_CLASSES:
            raise _error(
                w("sampler", "type"),
                "unknown sampler {!r}".format(kind),
                join_fix(
                    suggestion(did_you_mean(str(kind), SAMPLER_CLASSES)),
                    "(one of {})".format(", ".join(SAMPLER_CLASSES)),
                ),
            )
        settings.sampler = SAMPLER_CLASSES[kind]
        if "seed" in options:
            settings.seed = options.pop("seed")
        options.pop("search_space", None)
        settings.sampler_options = options
    parameters = section.get("parameters")
    if parameters is None:
        return
    if not isinstance(parameters, dict):
        raise _error(w("parameters"), "parameters is a mapping of names")
    space = {}
    for key, parameter in parameters.items():
        where = w("parameters", key)
        name = str(key).replace(":", ".")
        if not isinstance(parameter, dict) or "type" not in parameter:
            raise _error(where, "expected {type: ..., settings: {...}}")
        kind = parameter["type"]
        if kind not in HYPER_OPT_TYPES:
            raise _error(
                "{}.type".format(where),
                "unknown type {!r}".format(kind),
                join_fix(
                    suggestion(did_you_mean(str(kind), HYPER_OPT_TYPES)),
                    "(one of {})".format(", ".join(HYPER_OPT_TYPES)),
                ),
            )
        options = dict(parameter.get("settings") or {})
        options.pop("name", None)
        spec: Dict[str, Any] = {}
        if kind == "categorical":
            spec["choices"] = options.get("choices")
        else:
            spec["low"] = options.get("low")
            spec["high"] = options.get("high")
            if kind == "int":
                spec["type"] = "int"
            else:
                spec["type"] = "float"
            if kind == "loguniform" or options.get("log"):
                spec["log"] = True
            step = (
                options.get("q") if kind == "discrete_uniform" else options.get("step")
            )
            if step is not None:
                spec["step"] = step
        space[name] = (spec, "{}.settings".format(where))
    settings.space = space


SLURM_KEYS = ("jobs", "batch", "kernel")
# sbatch's one-letter options (hyper_opt writes ``-X value``; submitit ``--name=value``)
SBATCH_LETTERS = {
    "A": "account",
    "a": "array",
    "C": "constraint",
    "c": "cpus-per-task",
    "D": "chdir",
    "d": "dependency",
    "e": "error",
    "G": "gpus",
    "J": "job-name",
    "L": "licenses",
    "M": "clusters",
    "m": "distribution",
    "N": "nodes",
    "n": "ntasks",
    "o": "output",
    "p": "partition",
    "q": "qos",
    "s": "oversubscribe",
    "t": "time",
    "w": "nodelist",
    "x": "exclude",
}
# sbatch options hpreg (submitit) sets itself: a job's output is in its run directory
SBATCH_OWN = ("array", "error", "job-name", "output", "open-mode")


def read_hyper_opt_slurm(section: Any, settings: Settings) -> Dict[str, Any]:
    """hyper_opt's ``slurm:`` section as the Slurm executor's settings: ``jobs`` is
    how many trials run at once, ``batch`` the sbatch options (``-p``/``partition``
    and ``-t``/``time`` are the executor's own, the others go to sbatch as they
    are); ``kernel`` is not run (the jobs inherit the environment of ``hpreg
    optimize``)."""

    def where(*keys: Any) -> str:
        path = ".".join(str(k) for k in ("slurm",) + keys)
        return "{}: {}".format(settings.source, path) if settings.source else path

    if not isinstance(section, dict):
        raise _error(
            where(),
            "the slurm: section is a mapping, got {!r}".format(section),
            "write slurm: {jobs: 4, batch: {partition: gpu}}",
        )
    for key in section:
        if key not in SLURM_KEYS:
            raise _unknown_key(settings, key, SLURM_KEYS, where(key))
    jobs = None
    if section.get("jobs") is not None:
        jobs = positive_int(section["jobs"], where("jobs"))
    if section.get("kernel"):
        settings.notes.append(
            "{}: the jobs do not run it; they inherit the environment of hpreg "
            "optimize (activate it first)".format(where("kernel"))
        )
    batch = section.get("batch") or {}
    if not isinstance(batch, dict):
        raise _error(
            where("batch"),
            "batch maps sbatch options to values, got {!r}".format(batch),
            "write batch: {partition: gpu, t: '12:00:00'}",
        )
    options: Dict[str, Any] = {}
    extra: Dict[str, str] = {}
    for key, value in batch.items():
        text = str(key).strip().lstrip("-")
        if len(text) == 1:
            if text not in SBATCH_LETTERS:
                raise _error(
                    where("batch", key),
                    "no long sbatch option known for -{}".format(text),
                    "write the option's long name (sbatch --help)",
                )
            text = SBATCH_LETTERS[text]
        text = text.replace("_", "-")
        if not text:
            raise _error(where("batch", key), "an empty sbatch option")
        if text in SBATCH_OWN:
            settings.notes.append(
                "{}: ignored; hpreg sets it (each job's output is in its run "
                "directory)".format(where("batch", key))
            )
            continue
        if value is None or value is False:
            continue
        if text == "partition":
            options["partition"] = str(value)
        elif text == "time":
            from hpreg.runner.slurm import slurm_minutes

            try:
                slurm_minutes(str(value))
            except UsageError as error:
                raise _error(where("batch", key), error.problem, error.fix) from None
            options["time"] = str(value)
        else:
            extra[text] = value if value is True else str(value)
    if extra:
        options["options"] = extra
    return {"jobs": jobs, "options": options}


def default_store(path: Optional[str]) -> str:
    stem = "optimize"
    if path:
        stem = os.path.splitext(os.path.basename(path))[0]
    return os.path.join("runs", stem)
