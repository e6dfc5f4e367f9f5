"""``hpreg run --executor slurm`` on the real one-node Slurm cluster with accounting
(tests/cluster/slurm.sh up, as root; ``.ci/run`` starts it): the real ``hpreg``
command in a subprocess, jobs that append to a ledger, and what Slurm's own accounting
says. The fixtures and helpers are tests/cluster_support.py's."""

import json
import os
import subprocess
import sys
import textwrap
import uuid

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slurm

# one line per run of the job in the ledger: "<hpreg run id> <x>"
JOB = textwrap.dedent(
    """\
    import os, sys
    import hpreg
    from hpreg.m import _

    x = _("x", 0)
    hpreg.report(step=1, y=x * 2)
    with open(os.environ["LEDGER"], "a") as f:
        f.write("{} {}\\n".format(os.environ["HPREG_RUN_ID"], x))
    if x == int(os.environ.get("JOB_FAIL", "-1")):
        print("job failed on purpose", file=sys.stderr)
        sys.exit(1)
    """
)


@pytest.fixture(name="project")
def fixture_project(tmp_path):
    """A folder (under /tmp: the node reads it) with job.py; a store name of its own,
    so that the Slurm job name (``hpreg-<store>``) is this test's alone."""
    (tmp_path / "job.py").write_text(JOB)
    return tmp_path, "c" + uuid.uuid4().hex[:10]


def hpreg(folder, *args, timeout=300, **extra_env):
    environ = dict(os.environ)
    for name in ("HPREG_DEBUG", "HPREG_CONFIG", "HPREG_SLURM_CLUSTER"):
        environ.pop(name, None)
    environ["PYTHONPATH"] = ROOT + os.pathsep + environ.get("PYTHONPATH", "")
    environ["LEDGER"] = str(folder / "ledger.txt")
    environ["TQDM_DISABLE"] = "1"
    environ.update({k: str(v) for k, v in extra_env.items()})
    return subprocess.run(
        [sys.executable, "-m", "hpreg", *map(str, args)],
        cwd=str(folder),
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def run_sweep(cluster, folder, store, points, jobs=4, **extra_env):
    return hpreg(
        folder,
        "run",
        "x=" + ",".join(map(str, points)),
        "--store",
        "runs/" + store,
        "-j",
        jobs,
        "--executor",
        "slurm",
        "--slurm-partition",
        cluster.partition,
        "--slurm-time",
        "10",
        "--",
        sys.executable,
        "job.py",
        **extra_env,
    )


def ledger(folder):
    path = folder / "ledger.txt"
    return path.read_text().split("\n")[:-1] if path.exists() else []


def results(folder, store):
    done = hpreg(folder, "results", "runs/" + store, "--format", "json", timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_cluster_is_what_the_tests_expect(slurm_cluster):
    config = slurm_cluster.config()
    assert int(config["MaxArraySize"]) == slurm_cluster.max_array_size
    assert config["ClusterName"] == slurm_cluster.name
    assert "qos" in config["AccountingStorageEnforce"]
    qos = slurm_cluster.sacctmgr(
        "-n", "-P", "show", "qos", slurm_cluster.qos_capped, "format=name,maxsubmitpu"
    )
    assert qos.split() == [
        "{}|{}".format(slurm_cluster.qos_capped, slurm_cluster.qos_capped_max_submit)
    ]
    job = slurm_cluster.sbatch(
        "--qos", slurm_cluster.qos_capped, "--output", "/dev/null", script="true"
    )
    rows = slurm_cluster.wait_sacct([job])
    assert [(r["JobID"], r["State"]) for r in rows] == [(job, "COMPLETED")]


def test_a_sweep_runs_each_job_exactly_once(slurm_cluster, project):
    folder, store = project
    done = run_sweep(slurm_cluster, folder, store, range(10))
    assert done.returncode == 0, done.stderr + slurm_cluster.logs()
    lines = ledger(folder)
    assert sorted(int(line.split()[1]) for line in lines) == list(range(10))
    assert len({line.split()[0] for line in lines}) == 10
    rows = results(folder, store)
    assert sorted((r["x"], r["state"], r["y"]) for r in rows) == [
        (x, "done", 2 * x) for x in range(10)
    ]
    status = hpreg(folder, "status", "runs/" + store, timeout=60)
    assert status.returncode == 0, status.stderr
    assert "10 done" in status.stdout and "0 failed" in status.stdout
    # Slurm's own accounting: every task of the job's name ran once, and ended
    slurm_cluster.wait_drained(name="hpreg-" + store, timeout=60)
    tasks = slurm_cluster.sacct(name="hpreg-" + store)
    assert len(tasks) == 10, tasks
    assert {t["State"] for t in tasks} == {"COMPLETED"}, tasks
    # a second run finds everything done and submits nothing
    again = run_sweep(slurm_cluster, folder, store, range(10))
    assert again.returncode == 0, again.stderr
    assert len(ledger(folder)) == 10
    assert len(slurm_cluster.sacct(name="hpreg-" + store)) == 10


def test_a_job_that_exits_1_is_failed(slurm_cluster, project):
    folder, store = project
    done = run_sweep(slurm_cluster, folder, store, [1, 2], JOB_FAIL=2)
    assert done.returncode == 1, done.stderr + slurm_cluster.logs()
    states = {r["x"]: (r["state"], r["exit_code"]) for r in results(folder, store)}
    assert states == {1: ("done", 0), 2: ("failed", 1)}
    assert sorted(int(line.split()[1]) for line in ledger(folder)) == [1, 2]
    status = hpreg(folder, "status", "runs/" + store, timeout=60)
    assert "1 done" in status.stdout and "1 failed" in status.stdout, status.stdout
    slurm_cluster.wait_drained(name="hpreg-" + store, timeout=60)


def test_the_helpers_stop_slurmdbd_and_set_the_node_down(slurm_cluster_exclusive):
    cluster = slurm_cluster_exclusive
    with cluster.dbd_down():
        with pytest.raises(subprocess.CalledProcessError):
            cluster.sacct()
    assert isinstance(cluster.sacct(), list)  # answers again
    cluster.node_down("hpreg helper test")
    assert cluster.node_state().startswith(("down", "drain"))
    cluster.node_up()
    assert cluster.node_state() in ("idle", "mixed", "allocated")
