"""``hpreg.report``: a job appends its metrics to its run directory's
``metrics.jsonl``. Cheap to import: a training script pays nothing for the runner."""

import json
import math
import os
import time
from typing import Any, Optional

_RESERVED = ("time", "step")


def report(step: Optional[int] = None, **metrics: Any) -> None:
    """Append ``metrics`` (and ``step`` when given) to the run's ``metrics.jsonl``;
    the last value of each metric is the job's result. Outside a run
    (no ``$HPREG_RUN_DIR``) it does nothing, so the same script runs standalone."""
    run_dir = os.environ.get("HPREG_RUN_DIR")
    if not run_dir:
        return
    for name in metrics:
        if name in _RESERVED:
            raise TypeError(
                "report(): {!r} is written by hpreg; give the metric another "
                "name".format(name)
            )
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
