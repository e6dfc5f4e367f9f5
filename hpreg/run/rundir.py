"""Run directories: a job's id, the files of ``runs/<sweep>/<id>/`` and what a job
leaves there when it ends (its exit status, written atomically, and its metrics)."""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
from typing import Any, Dict, List, Optional

from hpreg.io.files import dump_yaml, write_atomic
from hpreg.io.tree import nest_flat, plain_value

CONFIG = "config.yaml"
CMD = "cmd"
STDOUT = "stdout.log"
STDERR = "stderr.log"
METRICS = "metrics.jsonl"
META = "meta.json"
EXIT = "exit_code"  # written by the job's wrapper when the job ends
PID = "pid"  # the wrapper's pid, written by the wrapper as it starts
PRUNE = "prune"  # written by the optimizer: the job's next report() ends it
PLACEHOLDERS = ("{config}", "{run_dir}", "{id}")
# what a new attempt moves aside into attempt<N>/ (the previous attempt's record)
_ATTEMPT_FILES = (STDOUT, STDERR, METRICS, META, EXIT, PID, PRUNE)

# sh runs the command, then writes its exit status: a job that ends while no runner
# watches (the runner was killed) is still recognised as finished. The status is one
# write() of a few bytes, so a reader sees the whole number or an empty file (read
# as "not ended"), never a part of it; a rename would cost a process per job.
# A trap that runs a command (not '' which children would inherit as "ignore") keeps
# the wrapper alive on SIGINT/SIGTERM until the command has ended.
WRAPPER = (
    'd=$1; shift; echo $$ > "$d/pid"; trap : INT TERM; "$@"; c=$?; '
    'echo $c > "$d/exit_code"; exit $c'
)


def plain_point(point: Dict[str, Any]) -> Dict[str, Any]:
    """``point`` as JSON holds it (tuples as lists...), names as strings."""
    return {str(name): plain_value(value, repr) for name, value in point.items()}


def job_id(point: Dict[str, Any], command: Any) -> str:
    """A stable id: a hash of the point's values and the command (12 hex digits)."""
    text = json.dumps(
        {"point": plain_point(point), "command": command},
        sort_keys=True,
        default=repr,
        allow_nan=True,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def fill(argument: str, config: str, run_dir: str, job: str) -> str:
    """Replace ``{config}``, ``{run_dir}`` and ``{id}`` in one argument."""
    if "{" not in argument:
        return argument
    return (
        argument.replace("{config}", config)
        .replace("{run_dir}", run_dir)
        .replace("{id}", job)
    )


def prepare(run_dir: str, point: Dict[str, Any], command: List[str], attempt: int):
    """Create the run directory of a new attempt: ``config.yaml`` and ``cmd``; a
    previous attempt's logs, metrics and meta move to ``attempt<N>/``."""
    os.makedirs(run_dir, exist_ok=True)
    if attempt > 1:
        _keep_previous(run_dir, attempt - 1)
    config = os.path.join(run_dir, CONFIG)
    write_atomic(config, dump_yaml(nest_flat(plain_point(point))))
    write_atomic(
        os.path.join(run_dir, CMD), " ".join(_quote(a) for a in command) + "\n"
    )
    open(os.path.join(run_dir, METRICS), "ab").close()
    return config


def _keep_previous(run_dir: str, attempt: int) -> None:
    present = [n for n in _ATTEMPT_FILES if os.path.exists(os.path.join(run_dir, n))]
    if not present:
        return
    keep = os.path.join(run_dir, "attempt{}".format(attempt))
    os.makedirs(keep, exist_ok=True)
    for name in present:
        os.replace(os.path.join(run_dir, name), os.path.join(keep, name))


def _quote(argument: str) -> str:
    import shlex

    return shlex.quote(argument)


def read_exit_code(run_dir: str) -> Optional[int]:
    """The exit status the job's wrapper wrote when it ended, or None."""
    try:
        with open(os.path.join(run_dir, EXIT), encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def exit_time(run_dir: str) -> Optional[float]:
    try:
        return os.stat(os.path.join(run_dir, EXIT)).st_mtime
    except OSError:
        return None


def read_pid(run_dir: str) -> Optional[int]:
    try:
        with open(os.path.join(run_dir, PID), encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def read_metrics(run_dir: str) -> Dict[str, Any]:
    """Each metric's last reported value (``time`` and ``step`` left out); a line
    cut short by a crash is skipped."""
    last: Dict[str, Any] = {}
    try:
        with open(os.path.join(run_dir, METRICS), encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    for key, value in record.items():
                        if key not in ("time", "step"):
                            last[key] = value
    except OSError:
        pass
    return last


def tail(path: str, lines: int = 10, limit: int = 2000) -> str:
    """The last ``lines`` lines of a file (at most ``limit`` characters)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.rstrip("\n").split("\n")[-lines:])


def write_meta(run_dir: str, meta: Dict[str, Any]) -> None:
    write_atomic(os.path.join(run_dir, META), json.dumps(meta, indent=2) + "\n")


def read_meta(run_dir: str) -> Dict[str, Any]:
    try:
        with open(os.path.join(run_dir, META), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def new_meta(pid: int, attempt: int, git: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "start": time.time(),
        "end": None,
        "exit_code": None,
        "host": socket.gethostname(),
        "pid": pid,
        "attempt": attempt,
        "git_commit": git.get("git_commit"),
        "git_dirty": git.get("git_dirty"),
    }


def git_state(cwd: str = ".") -> Dict[str, Any]:
    """The commit and dirty flag of the git repository holding ``cwd`` (None, None
    outside one, or without git)."""
    if shutil.which("git") is None:
        return {"git_commit": None, "git_dirty": None}
    try:
        # both at once: one process start's latency, not two
        commit, status = (
            subprocess.Popen(
                argv,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for argv in (
                ["git", "rev-parse", "HEAD"],
                ["git", "status", "--porcelain", "--untracked-files=no"],
            )
        )
        head = commit.communicate(timeout=10)[0]
        changes = status.communicate(timeout=30)[0]
        if commit.returncode != 0:
            return {"git_commit": None, "git_dirty": None}
        dirty = bool(changes.strip()) if status.returncode == 0 else None
        return {"git_commit": head.strip(), "git_dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}
