"""hpreg's Slurm executor against submitit's own ``map_array``, on a real Slurm
cluster (``tests/cluster/slurm.sh up`` starts a one-node one), in one run.

Targets (issue 13):

- submitting a 5,000-point sweep of ``true`` takes at most
  ``ceil(N / (MaxArraySize - 1)) + 1`` ``sbatch`` calls (6 at Slurm's default
  MaxArraySize of 1001); the run is stopped (Ctrl-C: ``scancel``) once every job is
  submitted, as a one-node cluster would take hours to run them;
- ``hpreg run --executor slurm`` of a smaller sweep (200 points) run to the end
  takes at most 1.3x the wall time of submitit's ``map_array`` of the same jobs
  (submitted, then waited for until every result is in), with one ``sacct`` call
  per poll at most.

``sbatch``, ``sacct`` and ``squeue`` are counted by shims put first on PATH that log
each call and run the real command. Without a cluster (no ``sinfo`` answering) it
says so and exits 0. ``--quick``: 1,000 points submitted, 40 run.
"""

import argparse
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COUNTED = ("sbatch", "sacct", "squeue")
SHIM = '#!/bin/sh\necho "$(date +%s.%N)" >> "{log}"\nexec {real} "$@"\n'


def cluster_up() -> bool:
    try:
        result = subprocess.run(
            ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return False
    states = ("idle", "mixed", "alloc")
    return result.returncode == 0 and any(s in result.stdout for s in states)


def max_array_size() -> int:
    out = subprocess.run(
        ["scontrol", "show", "config"], capture_output=True, text=True, timeout=60
    ).stdout
    for line in out.splitlines():
        if line.split("=")[0].strip() == "MaxArraySize":
            return int(line.split("=", 1)[1].strip())
    return 1001


def shims(folder: str):
    """A bin folder of counting shims, and the log file of each command."""
    bin_dir = os.path.join(folder, "bin")
    os.makedirs(bin_dir)
    logs = {}
    for name in COUNTED:
        real = shutil.which(name)
        logs[name] = os.path.join(folder, name + ".log")
        path = os.path.join(bin_dir, name)
        with open(path, "w") as f:
            f.write(SHIM.format(log=logs[name], real=real))
        os.chmod(path, 0o755)
    return bin_dir, logs


def calls(log: str) -> int:
    if not os.path.exists(log):
        return 0
    with open(log) as f:
        return sum(1 for _ in f)


def _hpreg(folder: str, name: str, n: int):
    bin_dir, logs = shims(os.path.join(folder, name + "-shims"))
    env = dict(os.environ, TQDM_DISABLE="1")
    env["PATH"] = bin_dir + os.pathsep + env["PATH"]
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    argv = [sys.executable, "-m", "hpreg", "run", "x=range(0,{})".format(n)]
    argv += ["--store", os.path.join(folder, name), "--executor", "slurm"]
    argv += ["--", "true"]
    return argv, env, logs


def count_submissions(folder: str, n: int):
    """sbatch calls to submit ``n`` jobs (the run is stopped once all are out)."""
    argv, env, logs = _hpreg(folder, "submitted", n)
    proc = subprocess.Popen(
        argv, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    db = os.path.join(folder, "submitted", "hpreg.db")
    deadline = time.time() + 1800
    while time.time() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(db, timeout=30) as conn:
                out = conn.execute(
                    "SELECT COUNT(*) FROM jobs WHERE handle IS NOT NULL"
                ).fetchone()[0]
        except sqlite3.Error:
            out = 0
        if out >= n:
            break
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=600)
    return calls(logs["sbatch"])


def time_hpreg(folder: str, n: int):
    argv, env, logs = _hpreg(folder, "runs", n)
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit("hpreg run failed:\n" + result.stderr[-3000:])
    return seconds, {name: calls(log) for name, log in logs.items()}


def _true(_):
    return subprocess.run(["true"]).returncode


def time_submitit(folder: str, n: int) -> float:
    import submitit

    executor = submitit.AutoExecutor(folder=os.path.join(folder, "submitit", "%j"))
    executor.update_parameters(
        slurm_array_parallelism=n, timeout_min=60, slurm_signal_delay_s=0
    )
    size = max_array_size() - 1
    start = time.perf_counter()
    jobs = []
    for first in range(0, n, size):
        jobs += executor.map_array(_true, range(first, min(n, first + size)))
    for job in jobs:
        job.result()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    submitted, ran = (1000, 40) if args.quick else (5000, 200)
    if not cluster_up():
        print("no Slurm cluster answers (sudo tests/cluster/slurm.sh up): skipped")
        return 0
    size = max_array_size()
    folder = tempfile.mkdtemp(prefix="hpreg-bench-slurm-")
    try:
        sbatch = count_submissions(folder, submitted)
        peer = time_submitit(folder, ran)
        ours, counted = time_hpreg(folder, ran)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    most = math.ceil(submitted / (size - 1)) + 1
    ok_sbatch = sbatch <= most
    print(
        "{} jobs submitted, MaxArraySize {}: {} sbatch calls (target <= {}): "
        "{}".format(submitted, size, sbatch, most, "PASS" if ok_sbatch else "FAIL")
    )
    ratio = ours / peer
    print(
        "{} jobs of 'true' run: submitit map_array {:.1f} s, hpreg run --executor "
        "slurm {:.1f} s ({} sacct, {} squeue calls)".format(
            ran, peer, ours, counted["sacct"], counted["squeue"]
        )
    )
    print(
        "  hpreg / submitit = {:.2f}x (target <= 1.3x): {}".format(
            ratio, "PASS" if ratio <= 1.3 else "FAIL"
        )
    )
    return 0 if ok_sbatch and ratio <= 1.3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
