"""``hpreg run --executor dask``: jobs on a dask.distributed cluster listening on
TCP (127.0.0.1), one cluster for the module (its start-up is slow); a lost worker's
job is queued again by hpreg and done once."""

import os
import sys
import threading
import time

import pytest

import distributed  # noqa: E402 (a dev requirement: CI tests the extra)

import hpreg  # noqa: E402
from hpreg.errors import ExecutorError  # noqa: E402
from hpreg.runner.store import RunStore  # noqa: E402

from conftest import ROOT  # noqa: E402
from run_support import (
    counted,
    env,
    project,
    run,
    run_argv,
    start,
    wait_for,
)  # noqa: E402
from dask_support import tcp_cluster  # noqa: E402


@pytest.fixture(name="cluster", scope="module")
def fixture_cluster():
    with tcp_cluster() as cluster:
        yield cluster


def _job(count, sleep=0):
    """job.py with what it needs: a dask worker has its own environment (the
    coordinator's is not sent), so the command sets it."""
    return [
        "env",
        "PYTHONPATH=" + ROOT,
        "COUNT_FILE={}".format(count),
        "JOB_SLEEP={}".format(sleep),
        sys.executable,
        "job.py",
    ]


def test_a_sweep_runs_on_the_cluster(cluster, tmp_path):
    folder, count = project(tmp_path)
    argv = run_argv(
        "x=1,2,3",
        extra=["--executor", "dask", "--scheduler", cluster.scheduler_address],
    )
    argv = argv[: argv.index("--") + 1] + _job(count)
    done = run(argv, folder, env(count))
    assert done.returncode == 0, done.stderr
    ids = count.read_text().split()
    assert len(ids) == 3 and len(set(ids)) == 3
    with RunStore(str(folder / "runs" / "s"), create=False) as store:
        jobs = store.jobs()
        assert {j.state for j in jobs} == {"done"}
        assert all(j.handle.startswith("dask:") for j in jobs)
        assert sorted(j.metrics["y"] for j in jobs) == [2, 4, 6]


def test_a_job_whose_worker_dies_fails_then_is_tried_again(
    cluster, tmp_path, monkeypatch
):
    """The worker running a job is killed (kill -9): dask runs the task again (its
    default ``allowed-failures``), which finds the attempt launched and starts
    nothing; the attempt fails ``killed its worker`` and ``--max-attempts`` tries
    the job again."""
    folder, count = project(tmp_path)
    monkeypatch.chdir(folder)
    rows = []
    runner = threading.Thread(
        target=lambda: rows.extend(
            hpreg.run(
                [{"x": 5}],
                _job(count, sleep=3),
                store="runs/lost",
                executor="dask",
                scheduler=cluster.scheduler_address,
                max_attempts=2,
            )
        )
    )
    runner.start()
    launched = folder / "runs" / "lost"
    with distributed.Client(cluster.scheduler_address) as client:
        assert wait_for(lambda: list(launched.glob("*/pid")), timeout=60)
        busy = [w for w, keys in client.processing().items() if keys]
        assert busy  # the job has started on that worker
        pids = client.run(os.getpid, workers=busy)
        for pid in pids.values():
            os.kill(pid, 9)
    runner.join(90)
    assert not runner.is_alive()
    assert [(r["state"], r["y"]) for r in rows] == [("done", 10)]
    assert len(count.read_text().split()) == 1  # the killed copy died with its worker
    with RunStore(str(launched), create=False) as store:
        (job,) = store.jobs()
        assert job.attempts == 2
    assert (launched / job.id / "attempt1" / "launched").read_text() == "1 0\n"


def test_an_unreachable_scheduler_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExecutorError) as caught:
        hpreg.run(
            [{"x": 1}],
            ["true"],
            store="runs/x",
            executor="dask",
            scheduler="tcp://127.0.0.1:9",
            connect_timeout=1,
        )
    assert "cannot reach the dask scheduler" in str(caught.value)
    with RunStore("runs/x", create=False) as store:
        assert store.counts()["queued"] == 1  # nothing claimed, nothing lost


def test_kill_9_of_the_coordinator_then_the_next_one_finishes_each_job_once(
    cluster, tmp_path
):
    """The coordinator dies (kill -9) with jobs running on the remote cluster; the
    next ``hpreg run`` re-attaches to them or runs them again, and every job
    completes exactly once (counted by the jobs themselves)."""
    folder, count = project(tmp_path)
    argv = run_argv(
        "x=range(6)",
        extra=["--executor", "dask", "--scheduler", cluster.scheduler_address],
    )
    argv = argv[: argv.index("--") + 1] + _job(count, sleep=1.5)
    runner = start(argv, folder, env(count))
    try:
        assert wait_for(lambda: len(counted(count)) >= 1, timeout=60)
    finally:
        runner.kill()  # SIGKILL: no clean-up of any kind
        runner.communicate()
    with RunStore(str(folder / "runs" / "s"), create=False) as store:
        assert store.counts()["running"] >= 1  # left behind, mid-run
    again = run(argv, folder, env(count), timeout=120)
    assert again.returncode == 0, again.stderr
    ids = counted(count)
    assert len(ids) == 6 and len(set(ids)) == 6
    with RunStore(str(folder / "runs" / "s"), create=False) as store:
        assert {j.state for j in store.jobs()} == {"done"}
