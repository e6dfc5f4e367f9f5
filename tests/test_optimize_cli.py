"""hpreg optimize end to end: trials as runner jobs, pruning a subprocess job,
results --best, continuing, kill -9 of the coordinator, user errors."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import optuna  # noqa: E402,F401 (a dev requirement: CI tests the extra)
from optimize_support import count, job_env as _env, results

JOB = textwrap.dedent(
    """\
    import os, time
    import hpreg
    from hpreg.m import _

    x = _("x", 0.5, low=0.0, high=1.0)
    kind = _("kind", "a", choices=["a", "b"])
    run_id = os.environ["HPREG_RUN_ID"]
    with open(os.environ["COUNT_FILE"], "a") as f:
        f.write(run_id + "\\n")
    go = os.environ.get("GO_FILE")
    while go and not os.path.exists(go):
        time.sleep(0.02)
    bad = run_id in os.environ.get("BAD", "").split(",")
    for step in range(int(os.environ.get("STEPS", "3"))):
        loss = 100.0 if bad else x + 1.0 / (step + 1)
        hpreg.report(step=step, val_loss=loss)
        if bad:
            time.sleep(0.05)
    hpreg.report(val_loss=x)
    """
)


@pytest.fixture(name="project")
def fixture_project(tmp_path):
    (tmp_path / "job.py").write_text(JOB)
    return tmp_path


def hpreg_optimize(project, *args, env=None, **popen):
    argv = [sys.executable, "-m", "hpreg", "optimize", *map(str, args)]
    argv += ["--", sys.executable, "job.py"]
    return subprocess.run(
        argv,
        cwd=str(project),
        env=env or _env(project),
        capture_output=True,
        text=True,
        timeout=120,
        **popen,
    )


def test_space_from_hints_trials_as_jobs_results_and_continuing(project):
    done = hpreg_optimize(
        project, "--metric", "val_loss", "--n-trials", 4, "--seed", 0, "-j", 2
    )
    assert done.returncode == 0, done.stderr
    assert "4 of 4 trials in runs/optimize" in done.stdout
    rows = results(project, "runs/optimize")
    assert [r["state"] for r in rows] == ["complete"] * 4
    assert {r["kind"] for r in rows} <= {"a", "b"}
    assert all(0.0 <= r["x"] <= 1.0 and r["val_loss"] == r["x"] for r in rows)
    config = (project / "runs" / "optimize" / "trial0000" / "config.yaml").read_text()
    assert "x:" in config and "kind:" in config
    best = results(project, "runs/optimize", "--best", "2")
    assert [r["val_loss"] for r in best] == sorted(r["val_loss"] for r in rows)[:2]
    again = hpreg_optimize(
        project, "--metric", "val_loss", "--n-trials", 6, "--seed", 0
    )
    assert again.returncode == 0, again.stderr
    assert len(count(project)) == 6  # continued to 6 in total, nothing run twice
    assert len(results(project, "runs/optimize")) == 6


def test_a_file_picks_the_space_and_the_store(project):
    (project / "q.yaml").write_text(
        "optimize:\n  metric: val_loss\n  n_trials: 3\n  sampler: random\n"
        "  space: {x: {low: 0.0, high: 0.25}}\n  fixed: {kind: b}\n"
    )
    done = hpreg_optimize(project, "q.yaml")
    assert done.returncode == 0, done.stderr
    rows = results(project, "runs/q")
    assert len(rows) == 3 and all(r["kind"] == "b" and r["x"] <= 0.25 for r in rows)


def test_pruning_stops_a_subprocess_job_that_reports_a_bad_curve(project):
    env = _env(project, BAD="trial0005", STEPS=200)
    done = hpreg_optimize(
        project,
        "--metric",
        "val_loss",
        "--n-trials",
        6,
        "--sampler",
        "random",
        "--space",
        "x",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    rows = results(project, "runs/optimize")
    assert [r["state"] for r in rows] == ["complete"] * 5 + ["pruned"]
    assert rows[5]["exit_code"] == 0  # ended on its own, quietly
    lines = (project / "runs/optimize/trial0005/metrics.jsonl").read_text().splitlines()
    assert len(lines) < 200  # stopped well before its 200 steps


def _wait_for(predicate, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_kill_9_of_the_coordinator_then_resume(project):
    go = project / "go"
    env = _env(project, GO_FILE=go)
    argv = [sys.executable, "-m", "hpreg", "optimize", "--metric", "val_loss"]
    argv += [
        "--n-trials",
        "4",
        "-j",
        "2",
        "--seed",
        "0",
        "--",
        sys.executable,
        "job.py",
    ]
    coordinator = subprocess.Popen(
        argv, cwd=str(project), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    store = project / "runs" / "optimize"
    try:
        _wait_for(lambda: len(count(project)) == 2)
    finally:
        coordinator.kill()
        coordinator.wait()
    # one job dies with the coordinator, the other finishes while none watches
    dead_pid = int((store / "trial0001" / "pid").read_text())
    os.killpg(dead_pid, signal.SIGKILL)
    go.write_text("")
    _wait_for(lambda: (store / "trial0000" / "exit_code").exists())
    resumed = hpreg_optimize(
        project, "--metric", "val_loss", "--n-trials", 4, "-j", 2, env=env
    )
    assert resumed.returncode == 0, resumed.stderr
    runs = count(project)
    assert runs.count("trial0000") == 1  # recorded from its run dir, never run again
    rows = results(project, str(store))
    states = {r["id"]: r["state"] for r in rows}
    assert states["trial0000"] == "complete"
    # the killed job was lost, not failed: its trial runs again (a counted attempt)
    assert states["trial0001"] == "complete" and runs.count("trial0001") == 2
    assert (store / "trial0001" / "attempt1").is_dir()
    complete = [r for r in rows if r["state"] == "complete"]
    assert len(complete) == 4


@pytest.mark.parametrize(
    "args, message",
    [
        (["--n-trials", "2"], "no metric to optimize"),
        (["--metric", "val_loss", "--space", "xx"], "unknown hyperparameter 'xx'"),
        (["q.yaml"], "q.yaml: optimize.space.x.low: a log space needs low > 0"),
        (["q.yaml", "--space", "kind"], None),
    ],
)
def test_user_errors_are_one_line(project, args, message):
    (project / "q.yaml").write_text(
        "optimize:\n  metric: val_loss\n  space: {x: {low: 0.0, high: 1.0, log: true}}\n"
    )
    if message is None:
        (project / "q.yaml").write_text(
            "optimize:\n  metric: val_loss\n  n_trials: 1\n  space: {kidn: {choices: [a]}}\n"
        )
        message = "did you mean 'kind'"
        args = ["q.yaml"]
    done = hpreg_optimize(project, *args)
    assert done.returncode in (1, 2)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hpreg: error: "), done.stderr
    assert message in lines[0]
    assert not (project / "count.txt").exists()  # no trial started


def test_history_and_importance_plots_of_a_study(project):
    done = hpreg_optimize(
        project, "--metric", "val_loss", "--n-trials", 4, "--seed", 1, "-j", 2
    )
    assert done.returncode == 0, done.stderr
    for kind in ("history", "importance"):
        out = project / "{}.png".format(kind)
        drawn = subprocess.run(
            [sys.executable, "-m", "hpreg", "results", "runs/optimize", "--plot"]
            + [kind, str(out)],
            cwd=str(project),
            env=_env(project),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert drawn.returncode == 0, drawn.stderr
        assert drawn.stdout == "{} of 4 complete trials written to {}\n".format(
            kind, out
        )
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_study_plots_need_an_optimization_store(cli, tmp_path):
    (tmp_path / "runs").mkdir()
    code, out, err = cli("results", tmp_path / "runs", "--plot", "history", "h.png")
    assert code != 0 and out == ""
    assert err.startswith("hpreg: error: ") and len(err.splitlines()) == 1
