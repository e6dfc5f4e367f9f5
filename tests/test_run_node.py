"""What runs on the node (``hpreg.runner.node.execute``), called as an engine would:
at most one start of a job's command per attempt and Slurm try (a ledger the
commands append to), stale tasks refused, a replaced attempt's job killed, and
function jobs in a fresh interpreter through the job wrapper."""

import os
import sys
import threading

import pytest

from hpreg.runner import rundir
from hpreg.runner.node import (
    LAUNCHED,
    STOP_FILE,
    AttemptDied,
    AttemptSuperseded,
    Task,
    execute,
)

from conftest import ROOT
from run_support import wait_for


def _ledger_script(ledger, code=0, sleep=0.0):
    return (
        "import time; open({!r}, 'a').write('ran\\n'); time.sleep({}); "
        "raise SystemExit({})".format(str(ledger), sleep, code)
    )


def _task(tmp_path, attempt=1, code=0, sleep=0.0, **fields):
    run_dir = str(tmp_path / "job")
    if not fields.get("function"):
        script = _ledger_script(tmp_path / "ledger.txt", code, sleep)
        fields.setdefault("argv", [sys.executable, "-c", script])
    variables = {"PYTHONPATH": ROOT, "HPREG_RUN_DIR": run_dir, "HPREG_RUN_ID": "j"}
    return Task("j", run_dir, attempt, variables, str(tmp_path), **fields)


def _prepare(task):
    rundir.prepare(task.run_dir, {"x": 1}, ["job"], task.attempt)


def _ran(tmp_path):
    ledger = tmp_path / "ledger.txt"
    return len(ledger.read_text().split()) if ledger.exists() else 0


def _execute(task, restart=0):
    """``execute`` in a thread, as a dask worker calls it (in the main thread it
    would take this process's SIGTERM)."""
    out = {}

    def target():
        try:
            out["code"] = execute(task, restart=restart)
        except BaseException as error:
            out["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    if "error" in out:
        raise out["error"]
    return out["code"]


def test_a_task_run_again_gives_back_the_first_runs_status(tmp_path):
    task = _task(tmp_path, code=3)
    _prepare(task)
    assert _execute(task) == 3
    assert _execute(task) == 3  # dask recomputing a result lost with its worker
    assert _ran(tmp_path) == 1
    assert open(os.path.join(task.run_dir, LAUNCHED)).read() == "1 0\n"


def test_a_task_whose_first_run_died_starts_nothing(tmp_path):
    task = _task(tmp_path)
    _prepare(task)
    # the first run recorded its launch, then died with its worker (no exit status)
    with open(os.path.join(task.run_dir, LAUNCHED), "w") as f:
        f.write("1 0\n")
    with pytest.raises(AttemptDied, match="died with its worker"):
        _execute(task)
    assert _ran(tmp_path) == 0


def test_a_task_of_a_replaced_attempt_does_not_run(tmp_path):
    old = _task(tmp_path, attempt=1)
    _prepare(old)
    assert _execute(old) == 0
    new = _task(tmp_path, attempt=2)
    _prepare(new)  # the coordinator moved attempt 1's files to attempt1/
    with pytest.raises(AttemptSuperseded, match="later attempt owns"):
        _execute(old)  # a stale copy of attempt 1, run late by its engine
    assert _ran(tmp_path) == 1
    assert _execute(new) == 0
    assert _ran(tmp_path) == 2
    assert open(os.path.join(new.run_dir, LAUNCHED)).read() == "2 0\n"
    with pytest.raises(AttemptSuperseded):
        _execute(old)
    assert _ran(tmp_path) == 2


def test_a_task_asked_to_stop_before_it_started_does_not_run(tmp_path):
    task = _task(tmp_path)
    _prepare(task)
    open(os.path.join(task.run_dir, STOP_FILE), "w").close()
    with pytest.raises(AttemptSuperseded, match="stop before it started"):
        _execute(task)
    assert _ran(tmp_path) == 0


def test_a_slurm_restart_is_a_new_try_that_keeps_the_last_ones_logs(tmp_path):
    task = _task(tmp_path, code=5)
    _prepare(task)
    assert _execute(task) == 5
    stdout = os.path.join(task.run_dir, rundir.STDOUT)
    with open(stdout, "a") as f:
        f.write("try 0 output\n")
    assert _execute(task, restart=1) == 5  # Slurm requeued the job: it runs again
    assert _ran(tmp_path) == 2
    kept = os.path.join(task.run_dir, "attempt1.0")
    assert open(os.path.join(kept, rundir.STDOUT)).read() == "try 0 output\n"
    assert rundir.read_exit_code(kept, 1) == 5
    assert rundir.read_meta(task.run_dir)["restart"] == 1
    assert _execute(task, restart=1) == 5  # the same try, run again: not started
    assert _execute(task, restart=0) == 5  # an older try: not started either
    assert _ran(tmp_path) == 2


def test_a_running_job_whose_attempt_is_replaced_is_killed(tmp_path):
    old = _task(tmp_path, sleep=60)
    _prepare(old)
    out = {}

    def target():
        try:
            out["code"] = execute(old)
        except BaseException as error:
            out["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    assert wait_for(lambda: _ran(tmp_path) == 1, timeout=30)
    # its coordinator gave it up (a lost worker) and prepared attempt 2
    rundir.prepare(old.run_dir, {"x": 1}, ["job"], 2)
    thread.join(30)
    assert not thread.is_alive()
    assert isinstance(out.get("error"), AttemptSuperseded), out
    # its wrapper left no exit status in the directory attempt 2 owns
    assert rundir.read_exit_code(old.run_dir) is None
    kept = os.path.join(old.run_dir, "attempt1")
    assert "replaced by a later one" in open(os.path.join(kept, rundir.STDERR)).read()


# -- function jobs ----------------------------------------------------------------------
def record_interpreter(point):
    """A function job: what ran it (a fresh ``python -m`` or a fork)."""
    return {"main": sys.modules["__main__"].__spec__.name, "y": point["x"] * 2}


def test_a_function_job_runs_in_a_fresh_interpreter_through_the_wrapper(tmp_path):
    here = os.path.dirname(os.path.abspath(__file__))
    task = _task(tmp_path, function=record_interpreter, point={"x": 4})
    task.env["PYTHONPATH"] = os.pathsep.join([here, ROOT])
    _prepare(task)
    assert _execute(task) == 0
    metrics = rundir.read_metrics(task.run_dir)
    assert metrics == {"main": "hpreg.runner.function_job", "y": 8}
    # the wrapper's pid file and exit status, as for a command
    assert rundir.read_pid(task.run_dir) == rundir.read_meta(task.run_dir)["pid"]
    assert rundir.read_exit_code(task.run_dir) == 0


def test_a_function_not_importable_by_name_is_handed_over_pickled(tmp_path):
    offset = 10
    task = _task(tmp_path, function=lambda point: point["x"] + offset, point={"x": 1})
    _prepare(task)
    assert _execute(task) == 0
    assert rundir.read_metrics(task.run_dir) == {"result": 11}


def test_a_failing_function_job_fails_with_its_traceback(tmp_path):
    def fails(point):
        raise ValueError("bad point {}".format(point["x"]))

    task = _task(tmp_path, function=fails, point={"x": 7})
    _prepare(task)
    assert _execute(task) == 1
    stderr = open(os.path.join(task.run_dir, rundir.STDERR)).read()
    assert "ValueError: bad point 7" in stderr


def test_a_function_the_job_cannot_import_is_a_clear_error(tmp_path):
    from hpreg.runner import function_job

    task = _task(tmp_path, argv=None)
    task.argv = [sys.executable, "-m", function_job.__name__, "no_such_mod:f", "{}"]
    _prepare(task)
    assert _execute(task) == 1
    stderr = open(os.path.join(task.run_dir, rundir.STDERR)).read()
    assert "cannot import the job's function no_such_mod:f" in stderr


def test_a_pickled_function_can_come_on_another_descriptor(tmp_path):
    """For a job whose stdin is taken (the local runner's device lease)."""
    import subprocess

    from hpreg.runner import function_job

    run_dir = tmp_path / "job"
    run_dir.mkdir()
    read, write = os.pipe()
    argv, payload = function_job.command(lambda p: {"z": p["x"] + 1}, {"x": 2}, fd=read)
    assert argv[-2] == "fd:{}".format(read)
    environ = dict(os.environ, PYTHONPATH=ROOT, HPREG_RUN_DIR=str(run_dir))
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, pass_fds=(read,), env=environ
    )
    os.close(read)
    with os.fdopen(write, "wb") as pipe:
        pipe.write(payload)
    assert proc.wait(60) == 0
    assert rundir.read_metrics(str(run_dir)) == {"z": 3}
