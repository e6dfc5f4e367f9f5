"""Submitting to Slurm: one array per ``sbatch`` call, its script, and its manifest.

Each array is a batch with a random token: its jobs are named ``hpreg-<store>`` and
carry the comment ``hpreg-batch:<token>``, and, before ``sbatch`` runs,
``<store>/.slurm/batches/<token>.json`` lists which hpreg job (and attempt) each
array task is, and ``<token>/<index>.pkl`` holds each task. A coordinator that dies
between ``sbatch`` and saving the Slurm id loses nothing: the next one finds the
array in the queue by its name and comment (``squeue``).
"""

import glob
import json
import os
import pickle
import re
import shlex
import subprocess
import sys
from typing import Any, Dict, List, Optional, Tuple

from hpreg.errors import ExecutorError
from hpreg.io.files import write_atomic
from hpreg.runner.slurm_query import COMMAND_TIMEOUT

# sbatch's words for a cap on jobs (the user's, the QOS's, the association's, the
# cluster's): the job waits in hpreg's queue and is offered again later
CAPPED = (
    "QOSMaxSubmitJobPerUserLimit",
    "QOSMaxSubmitJobPerAccountLimit",
    "AssocMaxSubmitJobLimit",
    "MaxSubmitJobs",
    "MaxJobCount",
    "Job violates accounting/QOS policy",
    "Resource temporarily unavailable",
    "temporarily unable to accept job",
)
# set by hpreg, not by --slurm-opt
OWN = ("array", "job-name", "comment", "output", "error", "open-mode", "dependency")
COMMENT = "hpreg-batch:"  # + the batch's token, in each job's comment


class Capped(Exception):
    """sbatch refused an array because of a cap on jobs (retry later, or smaller)."""


class TimedOut(Exception):
    """sbatch did not answer in time: the array may or may not have gone out."""


def folder(root: str) -> str:
    return os.path.join(root, ".slurm", "batches")


def script(
    name: str,
    token: str,
    size: int,
    throttle: Optional[int],
    logs: str,
    tasks: str,
    options: Dict[str, Any],
    after: List[str] = (),
) -> str:
    """The sbatch script of one array of ``size`` tasks (``throttle`` at once, not
    before the arrays ``after`` have ended) that run the tasks pickled in
    ``tasks``. No ``--signal``: a job runs to its time limit. ``--no-requeue``:
    hpreg, not Slurm, runs a preempted job again (as a new, counted attempt)."""
    spec = "0-{}".format(size - 1)
    if throttle:
        spec += "%{}".format(min(throttle, size))
    lines = ["#!/bin/bash"]
    settings: Dict[str, Any] = {
        "job-name": name,
        "comment": COMMENT + token,
        "array": spec,
        "output": os.path.join(logs, "%A_%a.out"),
        "error": os.path.join(logs, "%A_%a.err"),
        "open-mode": "append",
        "no-requeue": True,
    }
    if after:
        settings["dependency"] = "afterany:" + ":".join(after)
    for key, value in options.items():
        key = key.replace("_", "-")
        if key not in OWN:
            settings[key] = value
    for key, value in settings.items():
        if value is True:
            lines.append("#SBATCH --{}".format(key))
        elif value is not False and value is not None:
            lines.append("#SBATCH --{}={}".format(key, shlex.quote(str(value))))
    command = [sys.executable, "-u", "-m", "hpreg.runner.slurm_job", tasks]
    lines += ["", "exec " + " ".join(shlex.quote(a) for a in command), ""]
    return "\n".join(lines)


def write_manifest(root: str, token: str, name: str, tasks: List[Any]) -> str:
    """Write the batch's tasks (pickled) and its manifest before sbatch; returns
    the folder of the tasks."""
    where = os.path.join(folder(root), token)
    os.makedirs(where, exist_ok=True)
    for index, task in enumerate(tasks):
        write_atomic(os.path.join(where, "{}.pkl".format(index)), _dumps(task))
    manifest = {
        "name": name,
        "token": token,
        "tasks": [[task.job_id, task.attempt] for task in tasks],
        "array": None,
    }
    write_atomic(where + ".json", json.dumps(manifest).encode())
    return where


def _dumps(task) -> bytes:
    try:
        import cloudpickle  # a function target may be a closure (submitit has it)

        return cloudpickle.dumps(task)
    except ImportError:  # pragma: no cover (hpreg[slurm] installs it)
        return pickle.dumps(task)


def set_array(root: str, token: str, array: str) -> None:
    """Record the Slurm id sbatch gave the batch in its manifest."""
    path = os.path.join(folder(root), token + ".json")
    with open(path) as f:
        manifest = json.load(f)
    manifest["array"] = array
    write_atomic(path, json.dumps(manifest).encode())


def manifests(root: str) -> Dict[str, Dict[str, Any]]:
    """Every batch of the store: {token: its manifest}."""
    found = {}
    for path in glob.glob(os.path.join(folder(root), "*.json")):
        try:
            with open(path) as f:
                found[os.path.basename(path)[:-5]] = json.load(f)
        except (OSError, ValueError):
            continue  # written atomically: a broken one is not hpreg's
    return found


def find(root: str, job_id: str, attempt: int) -> List[Tuple[str, str, int]]:
    """The batches (name, token, task index) that hold ``job_id``'s attempt
    ``attempt``, newest last."""
    found = []
    for token, manifest in manifests(root).items():
        for index, (jid, tried) in enumerate(manifest.get("tasks", [])):
            if jid == job_id and tried == attempt:
                path = os.path.join(folder(root), token + ".json")
                found.append((os.path.getmtime(path), manifest["name"], token, index))
    return [(name, token, index) for _, name, token, index in sorted(found)]


def sbatch(path: str) -> str:
    """Submit the script at ``path``; returns the array's Slurm id. Raises
    ``Capped`` for a cap on jobs, ``ExecutorError`` for any other refusal."""
    try:
        done = subprocess.run(
            ["sbatch", path],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise TimedOut() from None
    except OSError as error:
        raise _failed(str(error)) from None
    said = (done.stderr or "") + (done.stdout or "")
    found = re.search(r"Submitted batch job (\d+)", done.stdout or "")
    if done.returncode == 0 and found:
        return found.group(1)
    if any(word in said for word in CAPPED):
        raise Capped(said.strip())
    raise _failed(said)


def _failed(said: str) -> ExecutorError:
    lines = [line for line in said.strip().splitlines() if line.strip()]
    return ExecutorError(
        where="--executor slurm",
        problem="sbatch failed: {}".format(
            "; ".join(lines[:3]) if lines else "no output"
        ),
        fix="check the --slurm-* options (sbatch's message above)",
        executor="slurm",
    )
