"""``hpreg results --plot X:Y OUT.png [--by Z]``: a metric against a hyperparameter,
one line per value of a third column. matplotlib is an optional extra
(``pip install hpreg[plot]``), imported only here, with the Agg backend (no display).
"""

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

from hpreg._text import did_you_mean, join_fix, suggestion
from hpreg.errors import MissingExtraError, UsageError

Series = Dict[Optional[str], List[Tuple[Any, Any]]]


def parse_axes(text: str) -> Tuple[str, str]:
    """``"lr:val_loss"`` -> ``("lr", "val_loss")``."""
    x, sep, y = text.partition(":")
    if not sep or not x.strip() or not y.strip() or ":" in y:
        raise UsageError(
            where="--plot {}".format(text),
            problem="expected X:Y, a hyperparameter and a metric",
            fix="e.g. --plot lr:val_loss out.png",
        )
    return x.strip(), y.strip()


def _check_column(name: str, known: Sequence[str], option: str) -> None:
    if name not in known:
        raise UsageError(
            where=option,
            problem="unknown column {!r}".format(name),
            fix=join_fix(
                suggestion(did_you_mean(name, list(known))),
                "(columns: {})".format(", ".join(known)),
            ),
        )


def _plain(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isnan(value))
    )


def series(
    table: Sequence[Dict[str, Any]], x: str, y: str, by: Optional[str] = None
) -> Series:
    """The lines to draw: ``{label: [(x, y), ...]}`` sorted by x, one per value of
    ``by`` (the label is ``"by=value"``; the one line is labelled None without
    ``by``). Rows without a numeric y (failed jobs) are left out."""
    from hpreg.runner.results import columns

    known = columns(table)
    option = "--plot {}:{}".format(x, y)
    _check_column(x, known, option)
    _check_column(y, known, option)
    if by is not None:
        _check_column(by, known, "--by {}".format(by))
    lines: Series = {}
    for row in table:
        xv, yv = row.get(x), row.get(y)
        if xv is None or not _plain(yv):
            continue
        label = None if by is None else "{}={}".format(by, row.get(by))
        lines.setdefault(label, []).append((xv, yv))
    for points in lines.values():
        if all(_plain(p[0]) for p in points):
            points.sort(key=lambda p: p[0])
        else:
            points.sort(key=lambda p: str(p[0]))
    return lines


def plot(
    table: Sequence[Dict[str, Any]],
    x: str,
    y: str,
    out: str,
    by: Optional[str] = None,
) -> Series:
    """Draw ``y`` against ``x`` (one line per value of ``by``) into ``out`` (the
    format follows its extension: .png, .pdf, .svg); returns the lines drawn."""
    lines = series(table, x, y, by)
    if not lines:
        raise UsageError(
            where="--plot {}:{}".format(x, y),
            problem="no job has a value of {!r} to plot".format(y),
            fix="wait for jobs to report it ('hpreg status' shows the run)",
        )
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError(
            where="--plot",
            problem="plotting needs matplotlib, which is not installed",
            fix="pip install hpreg[plot]",
            extra="plot",
            package="matplotlib",
        ) from None
    numeric = all(_plain(p[0]) for points in lines.values() for p in points)
    figure, axes = plt.subplots(figsize=(6.4, 4.8))
    try:
        categories: Dict[str, int] = {}
        for label, points in sorted(lines.items(), key=lambda kv: str(kv[0])):
            xs = [p[0] for p in points]
            if not numeric:
                xs = [categories.setdefault(str(v), len(categories)) for v in xs]
            axes.plot(xs, [p[1] for p in points], marker="o", label=label)
        if not numeric:
            axes.set_xticks(list(categories.values()))
            axes.set_xticklabels(list(categories))
        elif _log_scale([p[0] for points in lines.values() for p in points]):
            axes.set_xscale("log")
        axes.set_xlabel(x)
        axes.set_ylabel(y)
        if by is not None:
            axes.legend(title=by)
        axes.grid(True, alpha=0.3)
        figure.tight_layout()
        figure.savefig(out)
    finally:
        plt.close(figure)
    return lines


def _log_scale(values: List[Any]) -> bool:
    """Values spread over two decades or more, all positive (learning rates)."""
    positive = [v for v in values if v > 0]
    return (
        len(positive) == len(values)
        and len(values) > 1
        and max(positive) / min(positive) >= 100
    )
