"""One coordinator per store: a second ``hpreg optimize`` on a store is refused at
once naming the process that holds it; after kill -9 of the holder a new one takes
over and the study ends with exactly n_trials; workers and a coordinator never
share a store."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

optuna = pytest.importorskip("optuna")

from hpreg.errors import RunStoreError  # noqa: E402
from optimize_support import count, job_env, results  # noqa: E402

JOB = textwrap.dedent(
    """\
    import os, time
    import hpreg
    from hpreg.m import _

    x = _("x", 0.5, low=0.0, high=1.0)
    with open(os.environ["COUNT_FILE"], "a") as f:
        f.write(os.environ["HPREG_RUN_ID"] + "\\n")
    go = os.environ.get("GO_FILE")
    while go and not os.path.exists(go):
        time.sleep(0.02)
    hpreg.report(val_loss=x)
    """
)
HOST = os.uname().nodename


@pytest.fixture(name="project")
def fixture_project(tmp_path):
    (tmp_path / "job.py").write_text(JOB)
    return tmp_path


def _argv(*args):
    argv = [sys.executable, "-m", "hpreg", "optimize", "--metric", "val_loss"]
    return argv + [str(a) for a in args] + ["--", sys.executable, "job.py"]


def start(project, *args, env=None):
    return subprocess.Popen(
        _argv(*args),
        cwd=str(project),
        env=env or job_env(project),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def hpreg_optimize(project, *args, env=None):
    return subprocess.run(
        _argv(*args),
        cwd=str(project),
        env=env or job_env(project),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _wait_for(predicate, timeout=60.0):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def _one_error_line(done) -> str:
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hpreg: error: "), done.stderr
    return lines[0]


def _stop(*processes):
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_a_second_coordinator_is_refused_and_takes_over_after_kill_9(project):
    go = project / "go"
    env = job_env(project, GO_FILE=go)
    args = ["--n-trials", 4, "-j", 2, "--store", "runs/opt"]
    first = start(project, *args, env=env)
    try:
        _wait_for(lambda: len(count(project)) == 2)  # its first two trials run
        second = hpreg_optimize(project, *args, env=env)
        line = _one_error_line(second)
        assert line == (
            "hpreg: error: runs/opt: another hpreg optimize (pid {} on host {}) is "
            "running on this store; wait for it or stop it".format(first.pid, HOST)
        )
        assert second.stdout == ""
        assert len(count(project)) == 2  # the refused one asked and ran nothing
        first.kill()  # its two jobs go on running, unwatched
        first.wait()
        third = start(project, *args, env=env)  # the lock died with its holder
        lock = project / "runs/opt/optimize.lock"
        _wait_for(lambda: '"pid": {},'.format(third.pid) in lock.read_text())
        go.write_text("")
        out, err = third.communicate(timeout=120)
    finally:
        _stop(first)
    assert third.returncode == 0, err
    assert "4 of 4 trials in runs/opt" in out
    runs = count(project)
    assert sorted(runs) == ["trial{:04d}".format(n) for n in range(4)]  # each once
    rows = results(project, "runs/opt")
    assert [r["state"] for r in rows] == ["complete"] * 4  # exactly n_trials


def test_workers_and_a_coordinator_do_not_share_a_store(project):
    go = project / "go"
    env = job_env(project, GO_FILE=go)
    worker = start(project, "--worker", "--n-trials", 2, "--store", "runs/w", env=env)
    coordinator = None
    try:
        _wait_for(lambda: len(count(project)) == 1)
        refused = hpreg_optimize(project, "--n-trials", 2, "--store", "runs/w", env=env)
        line = _one_error_line(refused)
        assert "runs/w: hpreg optimize --worker processes are running" in line
        go.write_text("")
        assert worker.wait(timeout=120) == 0
        go.unlink()
        coordinator = start(project, "--n-trials", 4, "--store", "runs/w", env=env)
        _wait_for(lambda: len(count(project)) == 3)
        refused = hpreg_optimize(
            project, "--worker", "--n-trials", 4, "--store", "runs/w", env=env
        )
        line = _one_error_line(refused)
        assert "(pid {} on host {})".format(coordinator.pid, HOST) in line
        go.write_text("")
        out, err = coordinator.communicate(timeout=120)
        assert coordinator.returncode == 0, err
        assert "4 of 4 trials" in out
    finally:
        _stop(worker, *([coordinator] if coordinator else []))


HOLDER = textwrap.dedent(
    """\
    import sys
    from hpreg.optimizer.lock import StoreLock

    with StoreLock(sys.argv[1]):
        print("held", flush=True)
        sys.stdin.read()
    """
)


def test_the_python_api_holds_the_lock_too(tmp_path):
    import hpreg
    from hpreg.optimizer.lock import StoreLock

    store = tmp_path / "opt"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(RunStoreError) as error:
            hpreg.optimize(
                "true", {"x": {"low": 0.0, "high": 1.0}}, n_trials=1, store=str(store)
            )
        assert error.value.holder["pid"] == holder.pid
        assert "pid {} on host {}".format(holder.pid, HOST) in str(error.value)
        assert not (store / "optimize.json").exists()  # refused before anything
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    finally:
        _stop(holder)
    with StoreLock(str(store)):  # a dead holder's lock is free; nesting is fine
        with StoreLock(str(store)):
            pass
        with pytest.raises(RunStoreError):  # but not as a worker of the same store
            StoreLock(str(store), shared=True).acquire()
    with StoreLock(str(store), shared=True), StoreLock(str(store), shared=True):
        pass
    assert (store / "optimize.lock").read_text().strip() == ""  # released: no name
