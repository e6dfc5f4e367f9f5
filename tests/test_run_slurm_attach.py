"""A coordinator killed (kill -9) right after ``sbatch`` returned and before it saved
the Slurm ids: the next ``hpreg run`` finds the jobs in Slurm's queue by their name
and batch comment (the manifest written before sbatch), and submits nothing again."""

import signal
import sys

import pytest

import submitit  # noqa: F401 (a dev requirement: CI tests the extra)

from hpreg.runner.store import RunStore

from run_support import counted, env, project, run, run_argv
from slurm_support import install_fake_slurm, sbatch_calls

SLURM = ["--executor", "slurm", "--slurm-time", "10"]

# hpreg run, killed -9 by itself when it is about to save the first Slurm id
KILLED_BEFORE_SAVING = """\
import os, signal, sys
from hpreg.runner.store import RunStore

def set_handle(self, *args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

RunStore.set_handle = set_handle
from hpreg.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(name="slurm")
def fixture_slurm(tmp_path):
    folder, count = project(tmp_path)
    environ = env(count)
    state = install_fake_slurm(tmp_path, environ)
    return folder, count, state, environ


def test_a_coordinator_killed_before_saving_the_ids_is_replaced_without_resubmitting(
    slurm,
):
    folder, count, state, environ = slurm
    environ["JOB_SLEEP"] = "8"  # still running when the next run starts
    argv = run_argv("x=1,2", extra=SLURM)
    killed = run(
        [sys.executable, "-c", KILLED_BEFORE_SAVING] + argv[3:], folder, environ
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(sbatch_calls(state)) == 1
    with RunStore(str(folder / "runs" / "s"), create=False) as store:
        assert [j.handle for j in store.jobs()] == [None, None]  # never saved
    again = run(argv, folder, environ)
    assert again.returncode == 0, again.stderr
    assert len(sbatch_calls(state)) == 1  # found by name and comment, not resubmitted
    ran = counted(count)
    assert len(ran) == 2 and len(set(ran)) == 2, ran
    with RunStore(str(folder / "runs" / "s"), create=False) as store:
        jobs = store.jobs()
    assert {j.state for j in jobs} == {"done"}
    assert sorted(j.handle for j in jobs) == ["slurm:1000_0", "slurm:1000_1"]
    assert sorted(j.attempts for j in jobs) == [1, 1]
