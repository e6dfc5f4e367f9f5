"""``--executor slurm`` against Slurm's limits, with the stand-in Slurm: arrays of at
most ``MaxArraySize - 1`` tasks, sbatch refusing for a cap on a user's jobs, and
``--slurm-array-parallelism`` held across arrays."""

import json
import subprocess

import pytest

import submitit  # noqa: F401 (a dev requirement: CI tests the extra)

from hpreg.runner import slurm_query
from hpreg.runner.store import RunStore

from run_support import counted, env, project, run, run_argv
from slurm_support import (
    calls,
    install_fake_slurm,
    sbatch_calls,
    set_mode,
    submitted,
    task_states,
)

SLURM = ["--executor", "slurm", "--slurm-time", "10"]


@pytest.fixture(name="slurm")
def fixture_slurm(tmp_path):
    """(project folder, ledger file, stand-in's state folder, environment)."""
    folder, count = project(tmp_path)
    environ = env(count)
    state = install_fake_slurm(tmp_path, environ)
    return folder, count, state, environ


def _jobs(folder):
    with RunStore(str(folder / "runs" / "s"), create=False) as store:
        return store.jobs()


def _points(n):
    return "x=" + ",".join(str(i) for i in range(1, n + 1))


def _once_each(count, n):
    ran = counted(count)
    assert len(ran) == n and len(set(ran)) == n, ran


def test_the_stand_in_refuses_an_array_over_max_array_size(slurm, tmp_path):
    folder, count, state, environ = slurm
    set_mode(state, "max_array_size", 4)
    script = tmp_path / "big.sh"
    script.write_text("#!/bin/bash\n#SBATCH --array=0-4\ntrue\n")
    done = subprocess.run(
        ["sbatch", str(script)], env=environ, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr == (
        "sbatch: error: Batch job submission failed: "
        "Invalid job array specification\n"
    )
    config = subprocess.run(
        ["scontrol", "show", "config"], env=environ, capture_output=True, text=True
    )
    assert "MaxArraySize            = 4" in config.stdout


def test_max_array_size_is_read_from_scontrol_or_defaults(slurm, monkeypatch):
    folder, count, state, environ = slurm
    monkeypatch.setenv("PATH", environ["PATH"])
    monkeypatch.setenv("FAKE_SLURM_DIR", str(state))
    set_mode(state, "max_array_size", 7)
    assert slurm_query.max_array_size() == 7
    set_mode(state, "scontrol", "fail")
    assert slurm_query.max_array_size() == 1001


def test_a_sweep_over_max_array_size_goes_out_as_several_arrays(slurm):
    folder, count, state, environ = slurm
    set_mode(state, "max_array_size", 4)
    done = run(run_argv(_points(10), extra=SLURM), folder, environ, timeout=120)
    assert done.returncode == 0, done.stderr
    arrays = submitted(state)
    assert [a["size"] for a in arrays.values()] == [3, 3, 3, 1]
    assert len(sbatch_calls(state)) == 4  # none refused
    assert len(calls(state, "scontrol")) == 1  # read once per run
    _once_each(count, 10)
    jobs = _jobs(folder)
    assert {j.state for j in jobs} == {"done"}
    assert sorted(j.handle for j in jobs) == sorted(
        "slurm:{}_{}".format(a, i) for a, r in arrays.items() for i in range(r["size"])
    )


def test_a_cap_on_the_users_jobs_keeps_jobs_queued_until_they_fit(slurm):
    folder, count, state, environ = slurm
    set_mode(state, "max_submit", 3)
    environ["JOB_SLEEP"] = "0.5"
    done = run(run_argv(_points(8), jobs=8, extra=SLURM), folder, environ, timeout=120)
    assert done.returncode == 0, done.stderr
    _once_each(count, 8)
    assert {j.state for j in _jobs(folder)} == {"done"}
    assert {j.attempts for j in _jobs(folder)} == {1}  # a refusal is no attempt
    arrays = submitted(state)
    assert sum(a["size"] for a in arrays.values()) == 8  # each job went out once
    assert all(a["size"] <= 3 for a in arrays.values())
    # a refusal is not retried at every poll: only when a job of ours ended
    refused = len(sbatch_calls(state)) - len(arrays)
    assert 1 <= refused <= 2 * len(arrays) + 2, (refused, len(arrays))


def test_another_sbatch_error_fails_the_run_with_sbatchs_words(slurm):
    folder, count, state, environ = slurm
    argv = run_argv("x=1,2", extra=SLURM + ["--slurm-opt", "bogus=1"])
    done = run(argv, folder, environ)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "sbatch failed: sbatch: unrecognized option '--bogus=1'" in done.stderr
    assert "check the --slurm-* options" in done.stderr
    assert not submitted(state)
    assert {j.state for j in _jobs(folder)} == {"queued"}


def test_array_parallelism_holds_across_arrays(slurm):
    folder, count, state, environ = slurm
    set_mode(state, "max_array_size", 4)
    environ["JOB_SLEEP"] = "0.3"
    extra = SLURM + ["--slurm-array-parallelism", "2"]
    done = run(run_argv(_points(7), jobs=8, extra=extra), folder, environ, timeout=120)
    assert done.returncode == 0, done.stderr
    _once_each(count, 7)
    arrays = submitted(state)
    ids = list(arrays)
    assert [a["size"] for a in arrays.values()] == [3, 3, 1]
    assert all(a["throttle"] == min(2, a["size"]) for a in arrays.values())
    # each array waits for the ones out before it
    assert [a["after"] for a in arrays.values()] == [[], ids[:1], ids[:2]]
    spans = sorted((j.start, j.end) for j in _jobs(folder))
    most = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    assert most <= 2, spans
    assert set(task_states(state).values()) == {"COMPLETED"}


def test_a_small_sweep_within_the_parallelism_waits_for_nothing(slurm):
    folder, count, state, environ = slurm
    extra = SLURM + ["--slurm-array-parallelism", "4"]
    done = run(run_argv("x=1,2", extra=extra), folder, environ)
    assert done.returncode == 0, done.stderr
    script = open(sbatch_calls(state)[0]).read()
    assert "--dependency" not in script
    assert "#SBATCH --array=0-1%2" in script
    assert "#SBATCH --no-requeue" in script
    assert "--signal" not in script
    # the manifest of the batch, written before sbatch: task index -> job, attempt
    manifest = json.loads(open(sbatch_calls(state)[0][: -len(".sh")] + ".json").read())
    assert manifest["name"] == submitted(state)["1000"]["name"] == "hpreg-s"
    assert submitted(state)["1000"]["comment"] == "hpreg-batch:" + manifest["token"]
    assert sorted(manifest["tasks"]) == sorted([j.id, 1] for j in _jobs(folder))
    assert manifest["array"] == "1000"
