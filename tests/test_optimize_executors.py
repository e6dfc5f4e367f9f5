"""``hpreg optimize --executor slurm|dask``: each trial a job of the runner's executor,
a new trial asked as soon as a slot frees, results told back; pruning through the
run directory; hyper_opt's ``slurm:`` section as the Slurm executor's options.
The Slurm is a fake ``sbatch``/``sacct``/``scancel``/``srun`` on PATH (as in
test_run_slurm.py); the dask cluster a LocalCluster on 127.0.0.1 (one for the
module, as in test_run_dask.py)."""

import os
import subprocess
import sys
import textwrap

import pytest

import distributed  # noqa: E402 (a dev requirement: CI tests the extra)
import optuna  # noqa: E402,F401
import submitit  # noqa: E402,F401

from hpreg.errors import SearchSpaceError  # noqa: E402
from hpreg.optimizer.config import read_file  # noqa: E402
from hpreg.runner.store import RunStore  # noqa: E402

from conftest import ROOT  # noqa: E402
from slurm_support import install_fake_slurm, sbatch_calls  # noqa: E402
from dask_support import tcp_cluster  # noqa: E402
from optimize_support import count, results

JOB = textwrap.dedent(
    """\
    import os, time
    import hpreg
    from hpreg.m import _

    x = _("x", 0.5, low=0.0, high=1.0)
    run_id = os.environ["HPREG_RUN_ID"]
    with open(os.environ["COUNT_FILE"], "a") as f:
        f.write(run_id + "\\n")
    bad = run_id in os.environ.get("BAD", "").split(",")
    for step in range(int(os.environ.get("STEPS", "2"))):
        hpreg.report(step=step, val_loss=100.0 if bad else x + 1.0 / (step + 1))
        if bad:
            time.sleep(0.05)
    hpreg.report(val_loss=x)
    """
)


def _project(tmp_path):
    (tmp_path / "job.py").write_text(JOB)
    return tmp_path


def _env(project, **extra):
    env = dict(os.environ)
    env.pop("HPREG_DEBUG", None)
    env.pop("HPREG_CONFIG", None)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["COUNT_FILE"] = str(project / "count.txt")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def hpreg_optimize(project, args, command, env):
    argv = [sys.executable, "-m", "hpreg", "optimize", *map(str, args), "--"]
    return subprocess.run(
        argv + command,
        cwd=str(project),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# -- the fake Slurm ------------------------------------------------------------------
@pytest.fixture(name="slurm")
def fixture_slurm(tmp_path):
    """(project folder, environment with the fake Slurm on PATH, its state folder)."""
    project = _project(tmp_path)
    env = _env(project)
    state = install_fake_slurm(tmp_path, env)
    return project, env, state


def _scripts(state):
    return [open(path).read() for path in sbatch_calls(state)]


def test_trials_run_as_slurm_jobs_asked_as_slots_free(slurm):
    project, env, state = slurm
    args = ["--metric", "val_loss", "--n-trials", 4, "--seed", 0, "-j", 2]
    args += ["--executor", "slurm", "--slurm-partition", "gpu"]
    done = hpreg_optimize(project, args, [sys.executable, "job.py"], env)
    assert done.returncode == 0, done.stderr
    assert "4 of 4 trials in runs/optimize" in done.stdout
    assert "failed" not in done.stderr, done.stderr
    ran = count(project)
    assert sorted(ran) == ["trial{:04d}".format(i) for i in range(4)]  # each once
    rows = results(project, "runs/optimize", env=env)
    assert [r["state"] for r in rows] == ["complete"] * 4, rows
    assert all(r["val_loss"] == r["x"] for r in rows)
    with RunStore(str(project / "runs" / "optimize"), create=False) as store:
        jobs = store.jobs()
        assert len(jobs) == 4 and {j.state for j in jobs} == {"done"}
        assert all(j.handle.startswith("slurm:") for j in jobs)
    scripts = _scripts(state)
    # the first two trials went out together; each later one when a slot freed
    assert 2 <= len(scripts) <= 4
    assert all("#SBATCH --partition=gpu" in s for s in scripts)


def test_a_hyper_opt_slurm_section_is_the_slurm_executor(slurm):
    project, env, state = slurm
    (project / "hyper.yml").write_text(
        textwrap.dedent(
            """\
            slurm:
              jobs: 2
              kernel: "conda activate ml"
              batch: {partition: x, t: "0:10:00", A: "NAML0001", mem: 1G, o: out.txt}
            optuna:
              metric: val_loss
              n_trials: 2
              save_path: runs/h
              sampler: {type: RandomSampler}
              parameters:
                x: {type: float, settings: {name: x, low: 0.0, high: 1.0}}
            """
        )
    )
    done = hpreg_optimize(project, ["hyper.yml"], [sys.executable, "job.py"], env)
    assert done.returncode == 0, done.stderr
    assert "2 of 2 trials in runs/h" in done.stdout
    assert "slurm.kernel" in done.stderr and "slurm.batch.o: ignored" in done.stderr
    scripts = _scripts(state)
    assert len(scripts) == 1  # jobs: 2: both trials out at once, one array
    script = scripts[0]
    assert "#SBATCH --partition=x" in script
    assert "#SBATCH --array=0-1%2" in script
    assert "#SBATCH --time=10" in script
    assert "#SBATCH --account=NAML0001" in script
    assert "#SBATCH --mem=1G" in script
    assert "out.txt" not in script
    assert sorted(count(project)) == ["trial0000", "trial0001"]


def test_hyper_opt_slurm_section_maps_and_its_errors(tmp_path):
    path = tmp_path / "h.yml"
    base = "optuna: {metric: m}\n"
    path.write_text(base + "slurm: {jobs: 3, batch: {p: gpu, n: 8, exclusive: true}}")
    settings = read_file(str(path))
    assert settings.slurm == {
        "jobs": 3,
        "options": {"partition": "gpu", "options": {"ntasks": "8", "exclusive": True}},
    }
    for text, where, problem in (
        ("slurm: {job: 2}", "slurm.job", "did you mean 'jobs'"),
        ("slurm: {jobs: 0}", "slurm.jobs", "positive"),
        ("slurm: {batch: {t: soon}}", "slurm.batch.t", "not a Slurm time"),
        ("slurm: {batch: {Z: 1}}", "slurm.batch.Z", "no long sbatch option"),
        ("slurm: {batch: [a]}", "slurm.batch", "maps sbatch options"),
    ):
        path.write_text(base + text)
        with pytest.raises(SearchSpaceError) as caught:
            read_file(str(path))
        assert "h.yml: " + where in str(caught.value)
        assert problem in str(caught.value)


def test_a_slurm_option_needs_the_slurm_executor(tmp_path):
    project = _project(tmp_path)
    done = hpreg_optimize(
        project,
        ["--metric", "val_loss", "--n-trials", 1, "--slurm-partition", "gpu"],
        [sys.executable, "job.py"],
        _env(project),
    )
    assert done.returncode == 2  # a usage error
    assert done.stderr.strip() == (
        "hpreg: error: --slurm-partition: only goes with --executor slurm; "
        "add --executor slurm"
    )
    assert not count(project)


# -- dask ----------------------------------------------------------------------------
@pytest.fixture(name="cluster", scope="module")
def fixture_cluster():
    with tcp_cluster() as cluster:
        yield cluster


def _dask_job(project, **extra):
    """A dask worker has its own environment: the command sets what the job needs."""
    variables = {"PYTHONPATH": ROOT, "COUNT_FILE": project / "count.txt"}
    variables.update(extra)
    return (
        ["env"]
        + ["{}={}".format(k, v) for k, v in variables.items()]
        + [
            sys.executable,
            "job.py",
        ]
    )


def test_trials_run_on_a_dask_cluster(cluster, tmp_path):
    project = _project(tmp_path)
    args = ["--metric", "val_loss", "--n-trials", 4, "--seed", 0, "-j", 2]
    args += ["--executor", "dask", "--scheduler", cluster.scheduler_address]
    env = _env(project)
    done = hpreg_optimize(project, args, _dask_job(project), env)
    assert done.returncode == 0, done.stderr
    assert "4 of 4 trials in runs/optimize" in done.stdout
    assert sorted(count(project)) == ["trial{:04d}".format(i) for i in range(4)]
    rows = results(project, "runs/optimize", env=env)
    assert [r["state"] for r in rows] == ["complete"] * 4
    with RunStore(str(project / "runs" / "optimize"), create=False) as store:
        assert all(j.handle.startswith("dask:") for j in store.jobs())


def test_pruning_a_dask_job_through_its_run_directory(cluster, tmp_path):
    project = _project(tmp_path)
    args = ["--metric", "val_loss", "--n-trials", 6, "--sampler", "random", "-j", 2]
    args += ["--executor", "dask", "--scheduler", cluster.scheduler_address]
    env = _env(project)
    command = _dask_job(project, BAD="trial0005", STEPS=200)
    done = hpreg_optimize(project, args, command, env)
    assert done.returncode == 0, done.stderr
    rows = results(project, "runs/optimize", env=env)
    assert [r["state"] for r in rows] == ["complete"] * 5 + ["pruned"]
    assert rows[5]["exit_code"] == 0  # ended on its own, quietly
    lines = (project / "runs/optimize/trial0005/metrics.jsonl").read_text()
    assert len(lines.splitlines()) < 200  # stopped well before its 200 steps
    assert len(count(project)) == 6


def test_hpreg_optimize_runs_a_command_on_an_executor(cluster, tmp_path, monkeypatch):
    import hpreg

    project = _project(tmp_path)
    monkeypatch.chdir(project)
    study = hpreg.optimize(
        _dask_job(project),
        {"x": {"low": 0.0, "high": 1.0}},
        n_trials=2,
        metric="val_loss",
        jobs=2,
        store="runs/api",
        executor="dask",
        scheduler=cluster.scheduler_address,
    )
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 2
    assert sorted(count(project)) == ["trial0000", "trial0001"]
    with RunStore("runs/api", create=False) as store:
        assert all(j.handle.startswith("dask:") for j in store.jobs())


def test_a_python_objective_has_no_executor():
    import hpreg

    with pytest.raises(SearchSpaceError, match="a Python objective runs in this"):
        hpreg.optimize(lambda p: p["x"], {"x": {"low": 0, "high": 1}}, executor="dask")


def test_a_worker_runs_its_trials_on_an_executor(cluster, tmp_path):
    project = _project(tmp_path)
    args = ["--metric", "val_loss", "--n-trials", 2, "--worker", "-j", 2]
    args += ["--executor", "dask", "--scheduler", cluster.scheduler_address]
    env = _env(project)
    done = hpreg_optimize(project, args, _dask_job(project), env)
    assert done.returncode == 0, done.stderr
    assert "2 of 2 trials in runs/optimize" in done.stdout
    rows = results(project, "runs/optimize", env=env)
    assert [r["state"] for r in rows] == ["complete"] * 2
    assert len(count(project)) == 2
