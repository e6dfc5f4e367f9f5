"""Exactly once under damage, on a dask cluster with its default configuration: the
coordinator killed -9 at 30 random moments while its jobs run on the cluster, then
run to the end: every job done once (a ledger the jobs append to as they start),
none left running or queued."""

import random
import subprocess
import sys
import time

import pytest

import distributed  # noqa: F401 (a dev requirement: CI tests the extra)

from hpreg.runner.store import RunStore  # noqa: E402

from dask_support import tcp_cluster  # noqa: E402
from run_support import env  # noqa: E402

LEDGER_JOB = 'echo "$HPREG_RUN_ID" >> "$LEDGER"; sleep 0.05'


@pytest.fixture(name="cluster", scope="module")
def fixture_cluster():
    with tcp_cluster() as cluster:
        yield cluster


def _start(folder, environ, points, scheduler):
    argv = [sys.executable, "-m", "hpreg", "run", "x=range(0,{})".format(points)]
    argv += ["--store", "runs/s", "-j", "2", "--executor", "dask"]
    # a dask worker has its own environment: the command sets what the job needs
    argv += ["--scheduler", scheduler, "--", "env", "LEDGER=" + environ["LEDGER"]]
    argv += ["sh", "-c", LEDGER_JOB]
    return subprocess.Popen(
        argv,
        cwd=str(folder),
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ledger(path):
    return path.read_text().split() if path.exists() else []


def test_coordinator_killed_at_30_random_moments_then_each_job_runs_once(
    cluster, tmp_path
):
    ledger = tmp_path / "ledger"
    environ = env(tmp_path / "count", LEDGER=ledger)
    rng = random.Random(7)
    points = 200
    for _ in range(30):
        coordinator = _start(tmp_path, environ, points, cluster.scheduler_address)
        before = len(_ledger(ledger))
        # a random moment after the coordinator's jobs have started on the cluster
        deadline = time.time() + 60
        target = min(points, before + rng.randint(0, 6))
        while len(_ledger(ledger)) < target and coordinator.poll() is None:
            assert time.time() < deadline, "the coordinator started no job"
            time.sleep(0.005)
        coordinator.kill()
        coordinator.wait()
    final = _start(tmp_path, environ, points, cluster.scheduler_address)
    _, stderr = final.communicate(timeout=300)
    assert final.returncode == 0, stderr
    runs = _ledger(ledger)
    assert sorted(set(runs)) == sorted(runs) and len(runs) == points  # each once
    with RunStore(str(tmp_path / "runs" / "s")) as store:
        counts = store.counts()
        assert counts["done"] == points
        assert counts["running"] == counts["queued"] == counts["lost"] == 0
