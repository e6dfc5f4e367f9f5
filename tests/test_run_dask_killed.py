"""dask with its default configuration, and jobs that kill their worker: dask runs a
task again when its worker died and recomputes results lost with it; hpreg starts a
job's command at most once per attempt (a ledger the jobs append to as they start)
and records a job that kills its worker ``failed: killed its worker``. A cluster of
its own: these tests kill its workers."""

import os
import sys
import textwrap
import time

import pytest

import distributed  # noqa: E402 (a dev requirement: CI tests the extra)

from hpreg.runner import rundir  # noqa: E402
from hpreg.runner.node import Task, execute  # noqa: E402
from hpreg.runner.store import RunStore  # noqa: E402

from conftest import ROOT  # noqa: E402
from dask_support import tcp_cluster  # noqa: E402
from run_support import env, run, wait_for  # noqa: E402

# appends its id to the ledger as it starts; x == 0 kills its dask worker (kill -9,
# as the kernel's out-of-memory killer would) and would run on for a minute
KILLER = textwrap.dedent(
    """\
    import os, sys, time
    import hpreg
    from hpreg.m import _

    x = _("x", 0)
    with open(os.environ["LEDGER"], "a") as f:
        f.write(os.environ["HPREG_RUN_ID"] + "\\n")
    if x == 0:
        # the job's parent is its wrapper (sh), whose parent is the dask worker
        with open("/proc/{}/stat".format(os.getppid()), "rb") as f:
            worker = int(f.read().rsplit(b")", 1)[1].split()[1])
        with open("/proc/{}/cmdline".format(worker), "rb") as f:
            if b"multiprocessing" not in f.read():
                sys.exit(99)  # not a worker process: kill nothing
        os.kill(worker, 9)
        time.sleep(60)
    time.sleep(float(os.environ.get("JOB_SLEEP", "0")))
    hpreg.report(y=x * 2)
    """
)


@pytest.fixture(name="cluster", scope="module")
def fixture_cluster():
    with tcp_cluster() as cluster:
        yield cluster


def _ledger(path):
    return path.read_text().split() if path.exists() else []


def test_a_job_that_kills_its_worker_fails_and_nothing_runs_twice(cluster, tmp_path):
    (tmp_path / "killer.py").write_text(KILLER)
    ledger = tmp_path / "ledger.txt"
    argv = [sys.executable, "-m", "hpreg", "run", "x=range(6)", "--store", "runs/k"]
    argv += ["-j", "2", "--max-attempts", "2"]
    argv += ["--executor", "dask", "--scheduler", cluster.scheduler_address, "--"]
    argv += ["env", "PYTHONPATH=" + ROOT, "LEDGER={}".format(ledger), "JOB_SLEEP=0.3"]
    argv += [sys.executable, "killer.py"]
    started = time.time()
    done = run(argv, tmp_path, env(tmp_path / "count.txt"), timeout=240)
    assert time.time() - started < 200
    assert done.returncode == 1, done.stderr
    with RunStore(str(tmp_path / "runs" / "k"), create=False) as store:
        jobs = {j.point["x"]: j for j in store.jobs()}
    killer = jobs.pop(0)
    assert killer.state == "failed"
    assert killer.error.startswith("killed its worker"), killer.error
    assert killer.attempts == 2
    assert {j.state for j in jobs.values()} == {"done"}
    assert sorted(j.metrics["y"] for j in jobs.values()) == [2, 4, 6, 8, 10]
    started_ids = _ledger(ledger)
    assert started_ids.count(killer.id) == 2  # once per hpreg attempt
    for job in jobs.values():
        assert started_ids.count(job.id) == 1, job.point  # recomputed, never rerun


def test_a_result_lost_with_its_worker_is_recomputed_without_running_again(
    cluster, tmp_path
):
    """A job that merely shared a worker with one that killed it: its finished
    result was lost with the worker; dask recomputes it elsewhere, and the task
    gives back the exit status its run directory holds."""
    run_dir = str(tmp_path / "job")
    rundir.prepare(run_dir, {"x": 1}, ["job"], 1)
    ledger = tmp_path / "ledger.txt"
    script = "open({!r}, 'a').write('ran\\n'); raise SystemExit(3)".format(str(ledger))
    task = Task("j", run_dir, 1, {}, str(tmp_path), argv=[sys.executable, "-c", script])
    with distributed.Client(cluster.scheduler_address) as client:
        assert wait_for(lambda: len(client.scheduler_info()["workers"]) == 2, 60)
        first = sorted(client.scheduler_info()["workers"])[0]
        future = client.submit(
            execute,
            task,
            pure=False,
            retries=0,
            workers=[first],
            allow_other_workers=True,
        )
        assert future.result(timeout=60) == 3
        assert list(client.who_has(future).values()) == [(first,)]
        pid = client.run(os.getpid, workers=[first])[first]
        os.kill(pid, 9)

        def elsewhere():
            holders = list(client.who_has(future).values())
            return holders and holders[0] and first not in holders[0]

        assert wait_for(elsewhere, timeout=60)  # computed again, on another worker
        assert future.result(timeout=60) == 3
    assert _ledger(ledger) == ["ran"]  # the command itself ran once


def test_dasks_killed_worker_is_the_jobs_failure_not_a_loss():
    """dask's own ``KilledWorker`` (a task on workers that died more than
    ``allowed-failures`` times) fails the job; a closed connection loses it."""
    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker

    from hpreg.runner.dask import DaskExecutor

    class Errored:
        status = "error"

        def __init__(self, error):
            self.error = error

        def exception(self):
            return self.error

    killed = DaskExecutor._outcome(None, Errored(KilledWorker("k", "w", 3)))
    assert (killed.lost, killed.reason) == (False, "killed its worker")
    lost = DaskExecutor._outcome(None, Errored(CommClosedError("gone")))
    assert lost.lost and "CommClosedError" in lost.reason
