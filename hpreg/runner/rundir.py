"""Run directories: a job's id, the files of ``runs/<sweep>/<id>/`` and what a job
leaves there when it ends (its exit status, written atomically, and its metrics)."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from typing import Any, Dict, List, Optional, Tuple

from hpreg.io.files import dump_yaml, write_atomic
from hpreg.io.tree import nest_flat, plain_value
from hpreg.runner.states import GIT_TIMEOUT

CONFIG = "config.yaml"
CMD = "cmd"
STDOUT = "stdout.log"
STDERR = "stderr.log"
METRICS = "metrics.jsonl"
META = "meta.json"
EXIT = "exit_code"  # written by the job's wrapper when the job ends
PID = "pid"  # the wrapper's pid, written by the wrapper as it starts
PRUNE = "prune"  # written by the optimizer: the job's next report() ends it
PRUNED = "pruned"  # written by report() when it ends the job for the optimizer
PLACEHOLDERS = ("{config}", "{run_dir}", "{id}")
# what a new attempt moves aside into attempt<N>/ (the previous attempt's record;
# "launched" is hpreg.runner.node.LAUNCHED)
_ATTEMPT_FILES = (STDOUT, STDERR, METRICS, META, EXIT, PID, PRUNE, PRUNED, "launched")


def _hostname() -> str:
    try:
        return os.uname().nodename  # gethostname(), without loading ``socket``
    except AttributeError:  # no os.uname (Windows)
        import socket

        return socket.gethostname()


HOST = _hostname()  # this machine's name, in meta.json and the store's runners

# sh runs the command, then writes its exit status: a job that ends while no runner
# watches (the runner was killed) is still recognised as finished. The status is one
# write() of a few bytes, so a reader sees the whole number or an empty file (read
# as "not ended"), never a part of it; a rename would cost a process per job.
# A trap that runs a command (not '' which children would inherit as "ignore") keeps
# the wrapper alive on SIGINT/SIGTERM until the command has ended. The status names
# its attempt ($HPREG_ATTEMPT): an earlier attempt's file is never read as this one's.
WRAPPER = (
    'd=$1; shift; echo $$ > "$d/pid"; trap : INT TERM; "$@"; c=$?; '
    'echo "$c ${HPREG_ATTEMPT:-}" > "$d/exit_code"; exit $c'
)
# The local runner's WRAPPER: its stdin is the job's device lease (hpreg.runner.devices)
# or /dev/null. It keeps it open as fd 9 until it exits and runs the command with
# /dev/null as stdin and fd 9 closed: the command's own long-lived children (a
# tensorboard server) never hold the device. (Not a descriptor passed by its number:
# dash's redirections take one digit, and the runner's may be 10 or more.)
LEASED_WRAPPER = (
    'd=$1; shift; exec 9<&0 </dev/null; echo $$ > "$d/pid"; trap : INT TERM; '
    '"$@" 9<&-; c=$?; echo "$c ${HPREG_ATTEMPT:-}" > "$d/exit_code"; exit $c'
)


def plain_point(point: Dict[str, Any]) -> Dict[str, Any]:
    """``point`` as JSON holds it (tuples as lists...), names as strings."""
    return {str(name): plain_value(value, repr) for name, value in point.items()}


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def unstable_value(point: Dict[str, Any]) -> Optional[Tuple[str, Any]]:
    """The first ``(name, value)`` of ``point`` whose text holds a memory address
    (a function, an object without a repr of its own): a job id made from it would
    change at every run, so the job would run again every time."""
    for name, value in point.items():
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, (type(None), bool, int, float, str)):
                continue
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, (list, tuple, set, frozenset)):
                stack.extend(item)
            elif _ADDRESS.search(repr(item)):
                return str(name), value
    return None


def job_id(point: Dict[str, Any], command: Any) -> str:
    """A stable id: a hash of the point's values and the command (12 hex digits)."""
    text = json.dumps(
        {"point": plain_point(point), "command": command},
        sort_keys=True,
        default=repr,
        allow_nan=True,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


_PLACEHOLDER = re.compile(r"\{(config|run_dir|id)\}")


def fill(argument: str, config: str, run_dir: str, job: str) -> str:
    """Replace ``{config}``, ``{run_dir}`` and ``{id}`` in one argument, in one
    pass: a path that holds ``{id}`` itself (``--store 'st_{id}'``) is left as
    it is."""
    if "{" not in argument:
        return argument
    values = {"config": config, "run_dir": run_dir, "id": job}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], argument)


def prepare(
    run_dir: str,
    point: Dict[str, Any],
    command: List[str],
    attempt: int,
    complete: bool = True,
):
    """Create the run directory of a new attempt: ``config.yaml`` and ``cmd``; a
    previous attempt's logs, metrics and meta move to ``attempt<N>/``. With
    ``complete=False``, only what the job reads (``config.yaml``): the rest is
    ``complete()``'s, once the job is on its way."""
    os.makedirs(run_dir, exist_ok=True)
    if attempt > 1:
        _keep_previous(run_dir, attempt - 1)
    config = os.path.join(run_dir, CONFIG)
    write_atomic(config, dump_yaml(nest_flat(plain_point(point))))
    if complete:
        complete_run_dir(run_dir, command)
    return config


def complete_run_dir(run_dir: str, command: List[str]) -> None:
    """``cmd``, and an empty ``metrics.jsonl`` unless the job has reported already
    (appended to, never truncated)."""
    write_atomic(
        os.path.join(run_dir, CMD), " ".join(_quote(a) for a in command) + "\n"
    )
    open(os.path.join(run_dir, METRICS), "ab").close()


def _keep_previous(run_dir: str, attempt: int) -> None:
    present = [n for n in _ATTEMPT_FILES if os.path.exists(os.path.join(run_dir, n))]
    if not present:
        return
    keep = os.path.join(run_dir, "attempt{}".format(attempt))
    os.makedirs(keep, exist_ok=True)
    for name in present:
        kept = os.path.join(keep, name)
        if os.path.exists(kept):
            # attempt <attempt> was kept already: these files are those of a claim
            # that never started (given back uncounted), and the new attempt's
            # files replace them; the record kept stays as it is
            os.remove(os.path.join(run_dir, name))
            continue
        os.replace(os.path.join(run_dir, name), kept)


def _quote(argument: str) -> str:
    import shlex

    return shlex.quote(argument)


def prune_acknowledged(run_dir: str) -> bool:
    """The job's ``report()`` saw the optimizer's prune marker and ended the job
    (a job that ends normally after the marker appeared is complete)."""
    return os.path.exists(os.path.join(run_dir, PRUNED))


def _exit_status(data: bytes, attempt: Optional[int]) -> Optional[int]:
    """``b"0 3\n"``: status 0 of attempt 3 (None when ``attempt`` is another);
    a status that names no attempt (an older wrapper's) is taken as it is."""
    words = data.split()
    code = int(words[0])
    if attempt is not None and len(words) > 1 and int(words[1]) != attempt:
        return None
    return code


def read_exit_code(run_dir: str, attempt: Optional[int] = None) -> Optional[int]:
    """The exit status the job's wrapper wrote when it ended (of ``attempt``, when
    given), or None."""
    return read_exit(run_dir, attempt)[0]


def read_exit(
    run_dir: str, attempt: Optional[int] = None
) -> Tuple[Optional[int], Optional[float]]:
    """The exit status the job's wrapper wrote and when (one open), or None, None;
    with ``attempt``, None, None for another attempt's status."""
    try:
        with open(os.path.join(run_dir, EXIT), "rb") as f:
            when = os.fstat(f.fileno()).st_mtime
            code = _exit_status(f.read(), attempt)
    except (OSError, ValueError, IndexError):
        return None, None
    return (code, when) if code is not None else (None, None)


def exit_time(run_dir: str) -> Optional[float]:
    try:
        return os.stat(os.path.join(run_dir, EXIT)).st_mtime
    except OSError:
        return None


def end_not_before(end: float, start: Optional[float]) -> float:
    """A job's end time, never before its start: the exit file's mtime comes from the
    kernel's coarse clock, which can lag ``time.time()`` by a few milliseconds."""
    return end if start is None or end >= start else start


def read_pid(run_dir: str) -> Optional[int]:
    try:
        with open(os.path.join(run_dir, PID), encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


METRICS_LINE_LIMIT = 1 << 20  # bytes of one metrics line; a longer one is cut


def read_metrics(run_dir: str) -> Dict[str, Any]:
    """Each metric's last reported value (``time`` and ``step`` left out); a line
    cut short by a crash, not UTF-8, not JSON or too deep is skipped."""
    return read_metrics_checked(run_dir)[0]


def read_metrics_checked(run_dir: str) -> Tuple[Dict[str, Any], List[str]]:
    """``read_metrics`` and what was wrong with the file, in words (lines skipped,
    lines over ``METRICS_LINE_LIMIT`` bytes cut): a job's end is recorded whatever
    its metrics hold. An integer too long for Python's int is kept as its text."""
    last: Dict[str, Any] = {}
    bad = cut = 0
    try:
        with open(os.path.join(run_dir, METRICS), "rb") as f:
            while True:
                line = f.readline(METRICS_LINE_LIMIT + 1)
                if not line:
                    break
                if len(line) > METRICS_LINE_LIMIT and not line.endswith(b"\n"):
                    cut += 1
                    while line and not line.endswith(b"\n"):  # the rest of it
                        line = f.readline(METRICS_LINE_LIMIT)
                    continue
                record = _metrics_record(line)
                if record is None:
                    bad += line.strip() != b""
                    continue
                for key, value in record.items():
                    if key not in ("time", "step"):
                        last[key] = value
    except OSError:
        pass
    problems = []
    if bad:
        problems.append("{} unreadable line{} skipped".format(bad, "s"[: bad > 1]))
    if cut:
        problems.append(
            "{} line{} over {} MB skipped".format(
                cut, "s"[: cut > 1], METRICS_LINE_LIMIT >> 20
            )
        )
    return last, problems


def _int_or_text(digits: str):
    try:
        return int(digits)
    except ValueError:  # past Python's digit limit: kept, as text
        return digits


def _metrics_record(line: bytes) -> Optional[Dict[str, Any]]:
    try:
        record = json.loads(line.decode("utf-8"), parse_int=_int_or_text)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


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
        "host": HOST,
        "pid": pid,
        "attempt": attempt,
        "git_commit": git.get("git_commit"),
        "git_dirty": git.get("git_dirty"),
    }


def git_state(cwd: str = ".") -> Dict[str, Any]:
    """The commit and dirty flag of the git repository holding ``cwd`` (None, None
    outside one, or without git)."""
    return start_git_state(cwd).result()


_NO_GIT = {"git_commit": None, "git_dirty": None}


class GitState:
    """``git rev-parse HEAD`` and ``git status`` of ``cwd``, started at once and
    read by ``result()`` (a runner reads them once per run, not per job);
    ``close()`` waits for them if their result was never wanted."""

    def __init__(self, cwd: str = "."):
        self._procs: List[subprocess.Popen] = []
        self._result: Optional[Dict[str, Any]] = None
        if shutil.which("git") is None:
            self._result = dict(_NO_GIT)
            return
        try:
            # both at once: one process start's latency, not two
            for argv in (
                ["git", "rev-parse", "HEAD"],
                # no index.lock taken: the user's own git commands never fail
                # for a runner's status, and one ended early leaves no lock behind
                [
                    "git",
                    "--no-optional-locks",
                    "status",
                    "--porcelain",
                    "--untracked-files=no",
                ],
            ):
                self._procs.append(
                    subprocess.Popen(
                        argv,
                        cwd=cwd,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL,
                        text=True,
                    )
                )
        except (OSError, subprocess.SubprocessError):
            self.close()
            self._result = dict(_NO_GIT)

    def result(self) -> Dict[str, Any]:
        if self._result is None:
            commit, status = self._procs
            deadline = time.time() + GIT_TIMEOUT  # both, under a runner's staleness
            try:
                head = commit.communicate(timeout=GIT_TIMEOUT)[0]
                left = max(0.1, deadline - time.time())
                changes = status.communicate(timeout=left)[0]
            except (OSError, subprocess.SubprocessError):
                for proc in self._procs:  # a hung git: the run goes on without it
                    proc.kill()
                    proc.communicate()
                self._procs = []
                self._result = dict(_NO_GIT)
                return dict(self._result)
            if commit.returncode != 0:
                self._result = dict(_NO_GIT)
            else:
                dirty = bool(changes.strip()) if status.returncode == 0 else None
                self._result = {"git_commit": head.strip(), "git_dirty": dirty}
            self._procs = []
        return dict(self._result)

    def close(self) -> None:
        """Wait for the git processes (they are short; never killed midway)."""
        for proc in self._procs:
            try:
                proc.communicate(timeout=GIT_TIMEOUT)
            except subprocess.SubprocessError:
                proc.kill()
                proc.communicate()
        self._procs = []


def start_git_state(cwd: str = ".") -> GitState:
    """Start reading the git state of ``cwd`` (see ``GitState``)."""
    return GitState(cwd)
