"""The Slurm executor against the real one-node cluster's limits (tests/cluster/
slurm.sh: MaxArraySize 101, a QOS ``capped`` of at most 150 jobs per user): a sweep
larger than both, and a job over its time limit."""

import sys
import textwrap

import pytest

from hpreg.runner.store import RunStore
from test_cluster_slurm import hpreg, ledger, results

pytestmark = pytest.mark.slurm

SLEEPER = textwrap.dedent(
    """\
    import os, time
    from hpreg.m import _

    time.sleep(_("seconds", 0) + 0 * _("i", 0))
    with open(os.environ["LEDGER"], "a") as f:
        f.write("{} {}\\n".format(os.environ["HPREG_RUN_ID"], _("seconds", 0)))
    """
)


def _sweep(cluster, folder, store, points, *extra, timeout=600):
    return hpreg(
        folder,
        "run",
        points,
        "--store",
        "runs/" + store,
        "-j",
        8,
        "--executor",
        "slurm",
        "--slurm-partition",
        cluster.partition,
        *extra,
        "--",
        sys.executable,
        "sleeper.py",
        timeout=timeout,
    )


def test_a_sweep_over_max_array_size_and_the_qos_cap(slurm_cluster, tmp_path):
    cluster = slurm_cluster
    (tmp_path / "sleeper.py").write_text(SLEEPER)
    store = "e" + tmp_path.name[-8:].replace("-", "")
    n = cluster.qos_capped_max_submit + 10  # > MaxArraySize too
    assert n > cluster.max_array_size
    points = "i=" + ",".join(str(i) for i in range(n))
    extra = ["--slurm-time", "10", "--slurm-opt", "qos=" + cluster.qos_capped]
    done = _sweep(cluster, tmp_path, store, points, *extra)
    assert done.returncode == 0, done.stderr + cluster.logs()
    lines = ledger(tmp_path)
    assert len(lines) == n and len({line.split()[0] for line in lines}) == n
    assert {r["state"] for r in results(tmp_path, store)} == {"done"}
    cluster.wait_drained(name="hpreg-" + store, timeout=60)


def test_a_job_over_its_time_limit_fails_for_it(slurm_cluster, tmp_path):
    cluster = slurm_cluster
    (tmp_path / "sleeper.py").write_text(SLEEPER)
    store = "t" + tmp_path.name[-8:].replace("-", "")
    # one minute: submitit's --signal=USR2@90 ended every job at once
    done = _sweep(cluster, tmp_path, store, "seconds=5,600", "--slurm-time", "1")
    assert done.returncode == 1, done.stderr + cluster.logs()
    with RunStore(str(tmp_path / "runs" / store), create=False) as runs:
        jobs = {j.point["seconds"]: j for j in runs.jobs()}
    assert jobs[5].state == "done"
    assert jobs[600].state == "failed"
    assert jobs[600].error.splitlines()[0] == "time limit", jobs[600].error
    assert [line.split()[1] for line in ledger(tmp_path)] == ["5"]
