"""``hpreg repair STORE``: rebuild a store's ``hpreg.db`` from its run directories
(``config.yaml``, ``cmd``, ``meta.json``, the exit status, the metrics) when the
database is missing, empty or damaged, so that nothing finished runs again. The
damaged file is kept beside the new one."""

import os
import shlex
import time
from typing import Any, Dict, List, Optional, Tuple

from hpreg.errors import HpregError
from hpreg.io.files import load_yaml_file
from hpreg.io.tree import flatten_nested
from hpreg.runner import rundir
from hpreg.runner.states import DONE, FAILED, PRUNED, RUNNING
from hpreg.runner.store import DB_NAME, RunStore, run_directories


class Repaired:
    """What ``repair`` did: the counts by state of the rebuilt store, and where
    the damaged database went (None when there was none)."""

    def __init__(self, counts: Dict[str, int], kept: Optional[str]):
        self.counts = counts
        self.kept = kept


def repair(directory: str) -> Repaired:
    """Rebuild ``directory``'s store from its run directories. Jobs that ended are
    recorded as they ended; a job with no exit status is left ``running`` with no
    runner, so the next ``hpreg run`` re-attaches to it if it still runs, and
    otherwise queues it again."""
    directory = str(directory)
    kept = _move_aside(os.path.join(directory, DB_NAME))
    rows = sorted(_row(directory, name) for name in run_directories(directory))
    with RunStore(directory, rebuilding=True) as store:
        store.restore([job for _, _, job in rows])
        return Repaired(store.counts(), kept)


def _move_aside(path: str) -> Optional[str]:
    if not os.path.exists(path):
        return None
    kept = "{}.damaged-{}".format(path, time.strftime("%Y%m%d-%H%M%S"))
    os.replace(path, kept)
    for suffix in ("-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.replace(path + suffix, kept + suffix)
    return kept


def _row(directory: str, name: str) -> Tuple[float, str, Dict[str, Any]]:
    run_dir = os.path.join(directory, name)
    meta = rundir.read_meta(run_dir)
    point = _point(run_dir)
    command = _command(run_dir)
    code = rundir.read_exit_code(run_dir)
    attempts = max(int(meta.get("attempt") or 1), _kept_attempts(run_dir) + 1)
    job: Dict[str, Any] = {
        "id": name,
        "point": point,
        "command": command,
        "attempts": attempts,
        "tries": attempts,
        "start": meta.get("start"),
        "end": meta.get("end"),
        "exit_code": code,
        "metrics": rundir.read_metrics(run_dir),
        "error": None,
    }
    if code is None:
        job["state"] = RUNNING  # no runner: the next run adopts it (re-attach)
        job["claimed"] = meta.get("start") or 0.0
    elif rundir.prune_acknowledged(run_dir):
        job["state"] = PRUNED
    elif code == 0:
        job["state"] = DONE
    else:
        job["state"] = FAILED
        stderr = rundir.tail(os.path.join(run_dir, rundir.STDERR))
        job["error"] = "exit code {}".format(code) + ("\n" + stderr if stderr else "")
    return (meta.get("start") or float("inf"), name, job)


def _point(run_dir: str) -> Dict[str, Any]:
    try:
        values = load_yaml_file(os.path.join(run_dir, rundir.CONFIG))
    except (HpregError, OSError):
        return {}  # the point is for display: the id is the directory's name
    return flatten_nested(values) if isinstance(values, dict) else {}


def _command(run_dir: str) -> List[str]:
    try:
        with open(os.path.join(run_dir, rundir.CMD), encoding="utf-8") as f:
            return shlex.split(f.read())
    except (OSError, ValueError):
        return []


def _kept_attempts(run_dir: str) -> int:
    kept = 0
    for entry in os.listdir(run_dir):
        if entry.startswith("attempt") and entry[7:].isdigit():
            kept = max(kept, int(entry[7:]))
    return kept
