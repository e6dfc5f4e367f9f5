"""Asking Slurm: ``sacct``, ``squeue`` and ``scontrol show config``, each one call with
a timeout, parsed. A call that fails (non-zero exit, timeout, no such command) gives
None: the caller knows nothing from it, which is not the same as Slurm knowing
nothing."""

import re
import subprocess
from typing import Dict, List, Optional, Tuple

COMMAND_TIMEOUT = 60.0  # seconds: shorter than the coordinator's staleness threshold
DEFAULT_MAX_ARRAY_SIZE = 1001  # Slurm's default, when scontrol cannot tell
# sacct/squeue fold an array's pending tasks into one line: 1234_[0-3,7%2]
_FOLDED = re.compile(r"^(\d+)_\[([^\]]*)\]$")


def call(command: List[str], timeout: float = COMMAND_TIMEOUT) -> Optional[str]:
    """The standard output of ``command``, or None when it failed."""
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def max_array_size() -> int:
    """``MaxArraySize`` of ``scontrol show config`` (``DEFAULT_MAX_ARRAY_SIZE`` when
    scontrol fails or does not say)."""
    out = call(["scontrol", "show", "config"])
    found = re.search(r"^\s*MaxArraySize\s*=\s*(\d+)", out or "", re.M)
    return int(found.group(1)) if found else DEFAULT_MAX_ARRAY_SIZE


def expand(slurm_id: str) -> List[str]:
    """The task ids a (possibly folded) id names: ``12_[0-2%4]`` is ``12_0``,
    ``12_1``, ``12_2``; any other id is itself."""
    folded = _FOLDED.match(slurm_id)
    if not folded:
        return [slurm_id]
    array, spec = folded.groups()
    ids = []
    for part in spec.split("%")[0].split(","):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            continue
        for i in range(int(first), int(last or first) + 1):
            ids.append("{}_{}".format(array, i))
    return ids


def _rows(out: str) -> List[Tuple[str, str, str]]:
    """(task id, state's first word, third field) of ``ID|STATE|...`` lines, folded
    ids expanded (``CANCELLED by 123`` is ``CANCELLED``)."""
    found = []
    for line in out.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 3 or not parts[0]:
            continue
        state = (parts[1].split() or ["UNKNOWN"])[0].upper()
        for slurm_id in expand(parts[0]):
            found.append((slurm_id, state, parts[2]))
    return found


def sacct(arrays: List[str]) -> Optional[Dict[str, str]]:
    """{task id: state} of the jobs of ``arrays`` (array job ids), from one
    ``sacct`` call; None when the call failed."""
    if not arrays:
        return {}
    out = call(
        ["sacct", "-X", "-n", "-P", "-o", "JobID,State,JobName", "-j", ",".join(arrays)]
    )
    if out is None:
        return None
    return {slurm_id: state for slurm_id, state, _ in _rows(out)}


def squeue(names: List[str]) -> Optional[Dict[str, Tuple[str, str]]]:
    """{task id: (state, comment)} of the pending and running jobs named ``names``
    (the controller's view, current even when accounting lags); None when the call
    failed."""
    if not names:
        return {}
    out = call(["squeue", "-h", "-r", "--name", ",".join(names), "-o", "%i|%T|%k"])
    if out is None:
        return None
    return {slurm_id: (state, comment) for slurm_id, state, comment in _rows(out)}
