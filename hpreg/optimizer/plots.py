"""``hpreg results STORE --plot history|importance OUT``: Optuna's own plots of an
optimization store's study (the best value over trials; each parameter's
importance), drawn with matplotlib's Agg backend (``pip install hpreg[plot]``)."""

import warnings
from typing import Optional

from hpreg.errors import MissingExtraError, UsageError
from hpreg.optimizer.results import load_study

STUDY_PLOTS = ("history", "importance")


def plot_study(directory: str, kind: str, out: str, metric: Optional[str] = None):
    """Draw ``kind`` (``history`` or ``importance``) of the store's study into
    ``out``; returns the number of complete trials drawn from."""
    study, settings = load_study(directory)
    where = "--plot {}".format(kind)
    if study is None:
        raise UsageError(
            where=where,
            problem="{} is not an optimization store (no study)".format(directory),
            fix="use --plot X:Y OUT for the stores of 'hpreg run'",
        )
    metrics = settings["metrics"]
    name = metric or metrics[0]
    position = metrics.index(name) if name in metrics else 0
    complete = [t for t in study.get_trials(deepcopy=False) if t.values is not None]
    needed = 2 if kind == "importance" else 1
    if len(complete) < needed:
        raise UsageError(
            where=where,
            problem="the study has {} complete trial{}; {} needs {}".format(
                len(complete), "" if len(complete) == 1 else "s", kind, needed
            ),
            fix="let more trials finish ('hpreg status' shows the run)",
        )
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError(
            where=where,
            problem="plotting needs matplotlib, which is not installed",
            fix="pip install hpreg[plot]",
            extra="plot",
            package="matplotlib",
        ) from None
    from optuna.visualization import matplotlib as optuna_plots

    def target(trial):
        return trial.values[position]

    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # Optuna marks its matplotlib plots experimental
        if kind == "history":
            axes = optuna_plots.plot_optimization_history(
                study, target=target, target_name=name
            )
        else:
            axes = optuna_plots.plot_param_importances(
                study, target=target, target_name=name
            )
    figure = axes.figure
    try:
        figure.tight_layout()
        figure.savefig(out)
    finally:
        plt.close(figure)
    return len(complete)
