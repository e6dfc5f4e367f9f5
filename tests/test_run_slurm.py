"""``hpreg run --executor slurm``: a Slurm array through submitit, with a fake
``sbatch``/``sacct``/``scancel``/``srun`` on PATH (jobs run here, in the background);
and submitit's local executor through ``hpreg.run``."""

import os
import signal
import time

import pytest

import submitit  # noqa: E402,F401 (a dev requirement: CI tests the extra)

import hpreg  # noqa: E402
from hpreg.runner.store import RunStore  # noqa: E402

from run_support import env, project, run, run_argv, start  # noqa: E402
from slurm_support import install_fake_slurm, sbatch_calls  # noqa: E402


@pytest.fixture(name="slurm")
def fixture_slurm(tmp_path):
    """A fake Slurm: (environment with it on PATH, its state folder)."""
    folder, count = project(tmp_path)
    environ = env(count)
    state = install_fake_slurm(tmp_path, environ)
    return folder, count, state, environ


SLURM = ["--executor", "slurm", "--slurm-partition", "gpu", "--slurm-time", "10"]


def test_a_sweep_goes_out_as_one_array(slurm):
    folder, count, state, environ = slurm
    argv = run_argv(
        "x=1,2,3",
        extra=SLURM
        + ["--slurm-array-parallelism", "2", "--slurm-opt", "qos=high"]
        + ["--slurm-gpus-per-task", "1"],
    )
    done = run(argv, folder, environ)
    assert done.returncode == 0, done.stderr
    assert sorted(count.read_text().split()) == sorted(set(count.read_text().split()))
    assert len(count.read_text().split()) == 3
    calls = sbatch_calls(state)
    assert len(calls) == 1
    script = open(calls[0]).read()
    for line in (
        "--array=0-2%2",
        "--partition=gpu",
        "--time=10",
        "--qos=high",
        "--gpus-per-task=1",
    ):
        assert "#SBATCH " + line in script
    with RunStore(str(folder / "runs" / "s"), create=False) as store:
        jobs = store.jobs()
        assert {j.state for j in jobs} == {"done"}
        assert sorted(j.handle for j in jobs) == [
            "slurm:1000_{}".format(i) for i in range(3)
        ]
        assert sorted(j.metrics["y"] for j in jobs) == [2, 4, 6]


def test_a_dead_coordinator_is_replaced_without_submitting_twice(slurm):
    folder, count, state, environ = slurm
    environ["JOB_SLEEP"] = "3"
    argv = run_argv("x=1,2", extra=SLURM)
    first = start(argv, folder, environ)
    db = folder / "runs" / "s"
    deadline = time.time() + 30
    while time.time() < deadline:
        if sbatch_calls(state) and db.exists():
            with RunStore(str(db), create=False) as store:
                if all(j.handle for j in store.jobs("running")) and store.jobs(
                    "running"
                ):
                    break
        time.sleep(0.1)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate()
    assert not count.exists()  # the jobs were still running
    again = run(argv, folder, environ)
    assert again.returncode == 0, again.stderr
    assert len(sbatch_calls(state)) == 1  # re-attached, not submitted again
    assert sorted(count.read_text().split()) == sorted(set(count.read_text().split()))
    assert len(count.read_text().split()) == 2


def test_a_preempted_job_is_queued_again(slurm):
    folder, count, state, environ = slurm
    (state / "preempt").write_text("")
    done = run(run_argv("x=1,2", extra=SLURM), folder, environ)
    assert done.returncode == 0, done.stderr
    assert len(sbatch_calls(state)) == 2  # the preempted job went out again
    assert len(count.read_text().split()) == 2
    with RunStore(str(folder / "runs" / "s"), create=False) as store:
        assert sorted(j.attempts for j in store.jobs()) == [1, 2]
        assert {j.state for j in store.jobs()} == {"done"}


def test_usage_errors(slurm):
    folder, count, state, environ = slurm
    for extra, text in (
        (["--slurm-partition", "p"], "only goes with --executor slurm"),
        (SLURM + ["--slurm-opt", "qos"], "expected KEY=VALUE"),
        (["--executor", "slurm", "--slurm-time", "soon"], "not a Slurm time"),
        (["--scheduler", "local"], "only goes with --executor dask"),
    ):
        done = run(run_argv("x=1", extra=extra), folder, environ)
        assert done.returncode == 2, done.stderr
        assert text in done.stderr
    assert not sbatch_calls(state)


def _square(point):
    return {"y": point["x"] ** 2}


def test_submitit_local_executor_through_hpreg_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # the worker process unpickles _square from this module
    here = os.path.dirname(os.path.abspath(__file__))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([here, os.path.dirname(here)]))
    rows = hpreg.run(
        [{"x": 2}, {"x": 3}],
        _square,
        store="runs/local",
        executor="slurm",
        cluster="local",
    )
    assert sorted((r["x"], r["y"], r["state"]) for r in rows) == [
        (2, 4, "done"),
        (3, 9, "done"),
    ]
