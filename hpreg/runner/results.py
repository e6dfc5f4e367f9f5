"""Results of a run store: one flat row per job (id, state, exit code, values, last
metrics), filtered with the sweep layer's safe expressions, sorted, rendered; and the
status report of ``hpreg status``."""

import csv
import io
import json
import math
import os
import time
from typing import Any, Dict, List, Optional, Sequence

from hpreg._text import did_you_mean, join_fix, suggestion
from hpreg.errors import UsageError
from hpreg.runner.progress import counts_text, progress_line
from hpreg.runner.rundir import STDERR, tail

FIXED = ("id", "state", "exit_code")


def rows(store) -> List[Dict[str, Any]]:
    """Every job as a flat row: ``id``, ``state``, ``exit_code``, each
    hyperparameter, each metric's last value (a metric named like a hyperparameter
    is prefixed ``metric.``)."""
    table = []
    for job in store.jobs():
        row: Dict[str, Any] = {
            "id": job.id,
            "state": job.state,
            "exit_code": job.exit_code,
        }
        for name, value in job.point.items():
            row[name] = value
        for name, value in job.metrics.items():
            row["metric." + name if name in row else name] = value
        table.append(row)
    return table


def columns(table: Sequence[Dict[str, Any]]) -> List[str]:
    names: Dict[str, None] = dict.fromkeys(FIXED)
    for row in table:
        for name in row:
            names.setdefault(name, None)
    return list(names)


def where(table: List[Dict[str, Any]], text: str) -> List[Dict[str, Any]]:
    """The rows for which the expression ``text`` is true; a row without a name the
    expression reads (a failed job has no metrics) is left out."""
    from hpreg.sweep.expressions import compile_expression

    expression = compile_expression(text, where="--where")
    known = columns(table)
    for name in expression.names:
        if name not in known:
            raise UsageError(
                where="--where {!r}".format(text),
                problem="unknown column {!r}".format(name),
                fix=join_fix(
                    suggestion(did_you_mean(name, known)),
                    "(columns: {})".format(", ".join(known)),
                ),
            )
    return [
        row
        for row in table
        if all(row.get(n) is not None for n in expression.names) and expression(row)
    ]


def sort(table: List[Dict[str, Any]], key: str) -> List[Dict[str, Any]]:
    """Sorted by column ``key`` (``-key``: descending); rows without it go last."""
    descending = key.startswith("-")
    name = key[1:] if descending else key
    known = columns(table)
    if name not in known:
        raise UsageError(
            where="--sort {}".format(key),
            problem="unknown column {!r}".format(name),
            fix=join_fix(
                suggestion(did_you_mean(name, known)),
                "(columns: {})".format(", ".join(known)),
            ),
        )

    present = [r for r in table if r.get(name) is not None]
    absent = [r for r in table if r.get(name) is None]
    numbers = [r for r in present if _is_number(r[name])]
    others = [r for r in present if not _is_number(r[name])]
    numbers.sort(key=lambda r: r[name], reverse=descending)
    others.sort(key=lambda r: str(r[name]), reverse=descending)
    return numbers + others + absent


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isnan(value))
    )


def render(table: List[Dict[str, Any]], fmt: str = "table") -> str:
    names = columns(table) if table else list(FIXED)
    if fmt == "json":
        from hpreg.io.limits import json_safe

        return json.dumps(json_safe(table), indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        for row in table:
            writer.writerow([_csv_cell(row.get(n)) for n in names])
        return out.getvalue().rstrip("\n")
    from prettytable import PrettyTable

    pretty = PrettyTable(names)
    pretty.align = "r"
    pretty.align["id"] = "l"
    pretty.align["state"] = "l"
    for row in table:
        pretty.add_row([_cell(row.get(n)) for n in names])
    return pretty.get_string()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "{:.4g}".format(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value


def status(store, directory: str, now: Optional[float] = None) -> str:
    """Counts by state, a progress line, and each failed job with its stderr tail."""
    now = time.time() if now is None else now
    jobs = store.jobs()
    counts = store.counts()
    starts = [j.start for j in jobs if j.start]
    elapsed = None
    eta = None
    if starts:
        running = (
            counts["running"]
            or counts["queued"]
            or counts["interrupted"]
            or counts["lost"]
        )
        last = max((j.end for j in jobs if j.end), default=now)
        elapsed = (now if running else last) - min(starts)
        finished = counts["done"] + counts["failed"]
        left = (
            counts["queued"]
            + counts["interrupted"]
            + counts["lost"]
            + counts["running"]
        )
        if finished and elapsed > 0:
            eta = elapsed / finished * left
    lines = [
        "{}: {} jobs: {}".format(directory, len(jobs), counts_text(counts)),
        progress_line(counts, elapsed, eta if counts["running"] else None),
    ]
    lines.extend(failures(jobs, directory))
    return "\n".join(lines)


def failures(jobs, directory: str, ids=None) -> List[str]:
    """``failed:`` and each failed job (of ``ids``, when given) with its exit status
    and the tail of its stderr; no lines when none failed."""
    failed = [j for j in jobs if j.state == "failed" and (ids is None or j.id in ids)]
    lines = ["failed:"] if failed else []
    for job in failed:
        lines.append(
            "  {} exit {} (attempt {}): {}".format(
                job.id,
                job.exit_code,
                job.attempts,
                " ".join("{}={}".format(k, v) for k, v in job.point.items()),
            )
        )
        text = job.error or tail(os.path.join(directory, job.id, STDERR))
        for line in (text or "(no output on stderr)").splitlines()[-10:]:
            lines.append("    | " + line)
    return lines
