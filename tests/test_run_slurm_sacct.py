"""``--executor slurm`` when Slurm's accounting misbehaves (the stand-in Slurm's
``sacct`` fails, lags or forgets), and Slurm's time limit: a failed call is a
failed call, a job sacct does not know is unknown (not lost) while squeue or its
run directory knows it, and a job runs to its time limit."""

import sys
import textwrap
import threading

import pytest

import submitit  # noqa: F401 (a dev requirement: CI tests the extra)

import hpreg
from hpreg.runner import slurm
from hpreg.runner.store import RunStore

from run_support import counted, env, project, run, wait_for
from slurm_support import calls, install_fake_slurm, sbatch_calls, set_mode, submitted


@pytest.fixture(name="slurm_here")
def fixture_slurm_here(tmp_path, monkeypatch):
    """The stand-in Slurm for ``hpreg.run`` in this process, whose graces (for a
    job nobody knows, for an exit status sacct does not know) are one second:
    (folder, ledger, state folder)."""
    folder, count = project(tmp_path)
    environ = env(count)
    state = install_fake_slurm(tmp_path, environ)
    for name in ("PATH", "PYTHONPATH", "COUNT_FILE", "FAKE_SLURM_DIR"):
        monkeypatch.setenv(name, environ[name])
    monkeypatch.chdir(folder)
    monkeypatch.setattr(slurm, "UNKNOWN_GRACE", 1.0)
    monkeypatch.setattr(slurm, "RUN_DIR_GRACE", 1.0)
    return folder, count, state


def _run(n, **options):
    rows = hpreg.run(
        [{"x": i} for i in range(1, n + 1)],
        [sys.executable, "job.py"],
        store="runs/s",
        jobs=2,
        executor="slurm",
        time="10",
        **options,
    )
    return sorted(row["state"] for row in rows)


def _attempts(folder):
    with RunStore(str(folder / "runs" / "s"), create=False) as store:
        return sorted(j.attempts for j in store.jobs())


def _once_each(count, n):
    ran = counted(count)
    assert len(ran) == n and len(set(ran)) == n, ran


def test_a_failing_sacct_ends_and_loses_nothing(slurm_here):
    folder, count, state = slurm_here
    set_mode(state, "sacct", "fail")

    def heal():
        # the jobs ended, and the coordinator kept asking a failing sacct for
        # longer than the grace: then accounting comes back
        wait_for(lambda: len(counted(count)) == 2, timeout=60)
        seen = len(calls(state, "sacct"))
        wait_for(lambda: len(calls(state, "sacct")) >= seen + 4, timeout=60)
        set_mode(state, "sacct", None)

    healer = threading.Thread(target=heal)
    healer.start()
    try:
        assert _run(2) == ["done", "done"]
    finally:
        healer.join()
    assert len(sbatch_calls(state)) == 1  # not one more sbatch
    _once_each(count, 2)
    assert _attempts(folder) == [1, 1]


def test_a_forgetful_sacct_still_sees_jobs_through_squeue_and_run_dirs(
    slurm_here, monkeypatch
):
    folder, count, state = slurm_here
    set_mode(state, "sacct", "forget")  # slurmdbd down: sacct knows nothing
    monkeypatch.setenv("JOB_SLEEP", "1.5")  # the second job pends > the grace
    assert _run(2, array_parallelism=1) == ["done", "done"]
    assert len(sbatch_calls(state)) == 1
    _once_each(count, 2)
    assert _attempts(folder) == [1, 1]
    assert calls(state, "squeue")  # asked while sacct did not know


def test_a_lagging_sacct_is_waited_for(slurm_here):
    folder, count, state = slurm_here
    set_mode(state, "sacct", "lag:4")
    assert _run(3) == ["done"] * 3
    assert len(sbatch_calls(state)) == 1
    _once_each(count, 3)


def test_a_job_nobody_knows_is_lost_once_and_runs_again(slurm_here):
    folder, count, state = slurm_here
    set_mode(state, "sacct", "forget")
    (state / "preempt").write_text("")  # the first task ends before it starts
    assert _run(2) == ["done", "done"]
    assert len(sbatch_calls(state)) == 2  # lost once, submitted once more
    _once_each(count, 2)
    assert _attempts(folder) == [1, 2]


def test_one_sacct_call_per_poll_for_every_job(slurm_here, monkeypatch):
    folder, count, state = slurm_here
    set_mode(state, "max_array_size", 2)  # one job per array
    monkeypatch.setenv("JOB_SLEEP", "1")
    assert _run(3, array_parallelism=3) == ["done"] * 3
    arrays = ",".join(submitted(state))
    assert arrays == "1000,1001,1002"
    lines = calls(state, "sacct")
    assert all(line.count("-j ") == 1 for line in lines), lines
    assert any("-j " + arrays in line for line in lines), lines


SLEEPER = textwrap.dedent(
    """\
    import os, time
    from hpreg.m import _

    time.sleep(_("seconds", 0))
    with open(os.environ["COUNT_FILE"], "a") as f:
        f.write(os.environ["HPREG_RUN_ID"] + "\\n")
    """
)


def test_a_job_runs_to_its_time_limit_and_one_over_it_fails_for_it(tmp_path):
    folder, count = project(tmp_path)
    (folder / "sleeper.py").write_text(SLEEPER)
    environ = env(count)
    # a minute of --time lasts 4 s: submitit's --signal=USR2@90 would come at once
    state = install_fake_slurm(tmp_path, environ, minute=4)
    argv = [sys.executable, "-m", "hpreg", "run", "seconds=1,600", "--store", "runs/s"]
    argv += ["--executor", "slurm", "--slurm-time", "1"]
    argv += ["--", sys.executable, "sleeper.py"]
    done = run(argv, folder, environ, timeout=120)
    assert done.returncode == 1, done.stderr
    script = open(sbatch_calls(state)[0]).read()
    assert "--signal" not in script and "#SBATCH --time=1" in script
    with RunStore(str(folder / "runs" / "s"), create=False) as store:
        jobs = {j.point["seconds"]: j for j in store.jobs()}
    assert jobs[1].state == "done"  # ran its second to the end
    assert jobs[600].state == "failed"
    assert jobs[600].error.splitlines()[0] == "time limit"
    assert len(counted(count)) == 1
