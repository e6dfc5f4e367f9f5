"""``hpreg.report``: a job appends its metrics to its run directory's
``metrics.jsonl``. Cheap to import: a training script pays nothing for the runner."""

import json
import math
import os
import threading
import time
from typing import Any, Callable, Optional

_RESERVED = ("time", "step")
# hpreg.runner.rundir's PRUNE and PRUNED, not imported: this module stays light
_PRUNE = "prune"
_PRUNED = "pruned"
_local = threading.local()


def set_hook(hook: Optional[Callable[..., None]]) -> Optional[Callable[..., None]]:
    """Send this thread's ``report`` calls to ``hook(step, metrics)`` instead of a
    run directory (None: back to the run directory); returns the previous hook.
    ``hpreg.optimize`` sets one around an objective it calls in-process; the hook
    raises ``hpreg.Pruned`` to stop the trial."""
    previous = getattr(_local, "hook", None)
    _local.hook = hook
    return previous


def report(step: Optional[int] = None, **metrics: Any) -> None:
    """Append ``metrics`` (and ``step`` when given) to the run's ``metrics.jsonl``;
    the last value of each metric is the job's result. Outside a run
    (no ``$HPREG_RUN_DIR``) it does nothing, so the same script runs standalone.

    In a trial of ``hpreg optimize`` whose pruner said stop, it raises
    ``hpreg.Pruned`` (a ``SystemExit`` with status 0: the job ends quietly and is
    recorded as pruned)."""
    hook = getattr(_local, "hook", None)
    if hook is not None:
        _check_names(metrics)
        hook(step, metrics)
        return
    run_dir = os.environ.get("HPREG_RUN_DIR")
    if not run_dir:
        return
    _check_names(metrics)
    record = {name: _number(value) for name, value in metrics.items()}
    record["time"] = time.time()
    if step is not None:
        record["step"] = _number(step)
    line = (json.dumps(record, default=repr) + "\n").encode("utf-8")
    # one write() with O_APPEND: lines of a crashed job are whole or absent
    fd = os.open(
        os.path.join(run_dir, "metrics.jsonl"),
        os.O_WRONLY | os.O_APPEND | os.O_CREAT,
        0o644,
    )
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    if os.path.exists(os.path.join(run_dir, _PRUNE)):
        from hpreg.errors import Pruned

        # the acknowledgement: this job ends because of the prune, not by itself
        open(os.path.join(run_dir, _PRUNED), "ab").close()
        raise Pruned(step)


def _check_names(metrics) -> None:
    for name in metrics:
        if name in _RESERVED:
            raise TypeError(
                "report(): {!r} is written by hpreg; give the metric another "
                "name".format(name)
            )


def _number(value: Any) -> Any:
    """numpy and torch scalars as Python numbers; NaN and infinities as strings
    (strict JSON has no place for them)."""
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value
