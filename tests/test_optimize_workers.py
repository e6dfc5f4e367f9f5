"""hpreg optimize --worker: many workers share one study through its storage;
together they run exactly n_trials, a dead worker's trial is retried with the same
parameters, reload: 0 refuses a used study."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

optuna = pytest.importorskip("optuna")

from optimize_support import count, job_env as _env, results

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
    time.sleep(float(os.environ.get("SLEEP", "0")))
    hpreg.report(val_loss=x)
    """
)


@pytest.fixture(name="project")
def fixture_project(tmp_path):
    (tmp_path / "job.py").write_text(JOB)
    return tmp_path


def _argv(*args):
    argv = [sys.executable, "-m", "hpreg", "optimize", *map(str, args)]
    return argv + ["--", sys.executable, "job.py"]


def start(project, *args, env=None):
    return subprocess.Popen(
        _argv(*args),
        cwd=str(project),
        env=env or _env(project),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def hpreg_optimize(project, *args, env=None):
    return subprocess.run(
        _argv(*args),
        cwd=str(project),
        env=env or _env(project),
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


def _trials(project, store="runs/optimize"):
    from hpreg.optimizer.results import load_study

    old = os.getcwd()
    os.chdir(str(project))
    try:
        return load_study(store)[0].trials
    finally:
        os.chdir(old)


# 2 s: Optuna's grace is 3 heartbeats + 1 s (7 s), hpreg's 3 heartbeats (6 s); a dead
# worker on this host is found by its pid at once
WORKER = ["--worker", "--metric", "val_loss", "--heartbeat", "2"]


def test_workers_started_together_run_exactly_n_trials(project):
    env = _env(project, SLEEP=0.1)
    workers = [start(project, *WORKER, "--n-trials", 7, env=env) for _ in range(3)]
    outs = [w.communicate(timeout=120) for w in workers]
    for worker, (out, err) in zip(workers, outs):
        assert worker.returncode == 0, err
        assert "7 of 7 trials in runs/optimize" in out
    runs = count(project)
    assert len(runs) == 7 and len(set(runs)) == 7  # no trial run twice, none lost
    rows = results(project, "runs/optimize")
    assert [r["id"] for r in rows] == ["trial{:04d}".format(n) for n in range(7)]
    assert all(r["state"] == "complete" and r["val_loss"] == r["x"] for r in rows)
    here = sum(int(out.split(": ")[-1].split(" trial(s)")[0]) for out, _ in outs)
    assert here == 7  # each worker says how many it ran
    folders = {r["worker"] for r in rows}
    assert all((project / "runs/optimize" / f / "hpreg.db").exists() for f in folders)
    again = hpreg_optimize(project, *WORKER, "--n-trials", 7, env=env)
    assert again.returncode == 0, again.stderr
    assert len(count(project)) == 7  # the study is full: nothing more runs


def test_kill_9_of_a_worker_mid_trial_retries_its_trial_elsewhere(project):
    go = project / "go"
    env = _env(project, GO_FILE=go)
    store = project / "runs" / "optimize"
    workers = [start(project, *WORKER, "--n-trials", 4, env=env) for _ in range(2)]
    try:
        _wait_for(lambda: len(count(project)) == 2)  # one trial in each worker
        victim = workers[0]
        folder = store / "{}-{}".format(os.uname().nodename, victim.pid)
        _wait_for(lambda: list(folder.glob("trial*/pid")))
        run_dir = list(folder.glob("trial*/pid"))[0].parent
        victim.kill()  # the worker and its job die mid-trial, as with a lost machine
        victim.wait()
        os.killpg(int((run_dir / "pid").read_text()), signal.SIGKILL)
        go.write_text("")
        out, err = workers[1].communicate(timeout=120)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert workers[1].returncode == 0, err
    assert "4 of 4 trials" in out
    rows = results(project, "runs/optimize")
    dead = [r for r in rows if r["state"] == "failed"]
    assert len(dead) == 1 and dead[0]["id"] == run_dir.name
    assert "stale" in dead[0]["note"]
    complete = [r for r in rows if r["state"] == "complete"]
    assert len(complete) == 4  # the stale trial does not count
    retried = [r for r in complete if r["x"] == dead[0]["x"]]
    assert len(retried) == 1 and retried[0]["worker"] == "{}-{}".format(
        os.uname().nodename, workers[1].pid
    )
    again = [t for t in _trials(project) if t.system_attrs.get("retry_history")]
    assert [t.system_attrs["retry_history"] for t in again] == [
        [int(run_dir.name[len("trial") :])]
    ]


STORAGES = {
    "journal": lambda project: [],  # the default: journal:<store>/optuna.journal
    "sqlite": lambda project: ["--storage", "sqlite:///{}/s.db".format(project)],
}


@pytest.mark.parametrize("storage", sorted(STORAGES))
def test_kill_9_of_one_of_three_workers_ends_with_exactly_n_trials(project, storage):
    """A journal's trial is failed by hpreg's heartbeat (here: its worker's pid is
    gone), an RDB's by Optuna's (silent for 3 heartbeats); either way it is asked
    again once and the study ends with exactly n_trials complete."""
    go = project / "go"
    env = _env(project, GO_FILE=go)
    args = WORKER + ["--n-trials", 6] + STORAGES[storage](project)
    store = project / "runs" / "optimize"
    workers = [start(project, *args, env=env) for _ in range(3)]
    try:
        _wait_for(lambda: len(count(project)) == 3)  # one trial in each worker
        victim = workers[1]
        folder = store / "{}-{}".format(os.uname().nodename, victim.pid)
        _wait_for(lambda: list(folder.glob("trial*/pid")))
        run_dir = list(folder.glob("trial*/pid"))[0].parent
        victim.kill()
        victim.wait()
        os.killpg(int((run_dir / "pid").read_text()), signal.SIGKILL)
        go.write_text("")
        outs = [w.communicate(timeout=120) for w in (workers[0], workers[2])]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    for worker, (out, err) in zip((workers[0], workers[2]), outs):
        assert worker.returncode == 0, err
        assert "6 of 6 trials in runs/optimize" in out
        assert ("SQLite suits workers on this machine only" in err) == (
            storage == "sqlite"
        )
    rows = results(project, "runs/optimize")
    complete = [r for r in rows if r["state"] == "complete"]
    assert len(complete) == 6  # exactly n_trials: no overshoot, none lost
    dead = [r for r in rows if r["state"] != "complete"]
    assert len(dead) == 1 and dead[0]["id"] == run_dir.name
    assert dead[0]["state"] == "failed" and "stale" in dead[0]["note"], dead
    retry = [r for r in complete if r["x"] == dead[0]["x"]]
    assert len(retry) == 1
    assert dead[0]["note"].endswith(
        "asked again as trial {}".format(int(retry[0]["id"][5:]))
    )
    runs = count(project)
    assert len(runs) == 7 and len(set(runs)) == 7  # the dead one, then six, once each


@pytest.fixture(
    name="database",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def fixture_database(request, tmp_path):
    """An RDB URL of a fresh database: SQLite's, or one on the real PostgreSQL
    server (``postgres_url``, tests/cluster_support.py)."""
    if request.param == "sqlite":
        return "sqlite:///{}".format(tmp_path / "study.db")
    return request.getfixturevalue("postgres_url")


def test_four_workers_on_a_database_one_killed_9_run_exactly_n_trials(
    project, database
):
    """Four workers started together on an RDB URL, one killed -9 mid-trial: Optuna's
    heartbeat fails its trial, another worker runs it again, and the study ends
    with exactly n_trials complete."""
    go = project / "go"
    env = _env(project, GO_FILE=go)
    args = WORKER + ["--n-trials", 8, "--storage", database]
    store = project / "runs" / "optimize"
    workers = [start(project, *args, env=env) for _ in range(4)]
    try:
        _wait_for(lambda: len(count(project)) == 4)  # one trial in each worker
        victim = workers[2]
        folder = store / "{}-{}".format(os.uname().nodename, victim.pid)
        _wait_for(lambda: list(folder.glob("trial*/pid")))
        run_dir = list(folder.glob("trial*/pid"))[0].parent
        victim.kill()
        victim.wait()
        os.killpg(int((run_dir / "pid").read_text()), signal.SIGKILL)
        go.write_text("")
        alive = [w for w in workers if w is not victim]
        outs = [w.communicate(timeout=120) for w in alive]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    for worker, (out, err) in zip(alive, outs):
        assert worker.returncode == 0, err
        assert "8 of 8 trials in runs/optimize" in out
    rows = results(project, "runs/optimize")
    assert [r["state"] for r in rows].count("complete") == 8  # exactly n_trials
    dead = [r for r in rows if r["state"] != "complete"]
    assert [r["id"] for r in dead] == [run_dir.name] and "stale" in dead[0]["note"]
    assert len([r for r in rows if r["x"] == dead[0]["x"]]) == 2  # run again
    runs = count(project)
    assert len(runs) == 9 and len(set(runs)) == 9  # no trial run twice


HYPER_OPT = """\
optuna:
  name: shared
  reload: {reload}
  metric: val_loss
  direction: minimize
  n_trials: {n}
  save_path: runs/ho
  sampler: {{type: RandomSampler}}
  parameters:
    x: {{type: float, settings: {{name: x, low: 0.0, high: 1.0}}}}
"""


@pytest.mark.parametrize("worker", [[], ["--worker"]])
def test_reload_0_refuses_a_used_study_and_reload_1_continues_it(project, worker):
    (project / "ho.yaml").write_text(HYPER_OPT.format(reload=0, n=2))
    first = hpreg_optimize(project, "ho.yaml", *worker)
    assert first.returncode == 0, first.stderr
    again = hpreg_optimize(project, "ho.yaml", *worker)
    assert again.returncode == 1
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and "study shared" in lines[0], again.stderr
    assert "reload is 0" in lines[0] and "reload: 1" in lines[0]
    (project / "ho.yaml").write_text(HYPER_OPT.format(reload=1, n=3))
    more = hpreg_optimize(project, "ho.yaml", *worker)
    assert more.returncode == 0, more.stderr
    assert len(count(project)) == 3
    assert len(results(project, "runs/ho")) == 3


# -- the pieces, in process ----------------------------------------------------------


def _driver(tmp_path, study, n_trials=4, **kwargs):
    from hpreg.optimizer.space import parse_space
    from hpreg.optimizer.workers import WorkerDriver
    from hpreg.runner.store import RunStore

    store = RunStore(str(tmp_path / "w"))
    dims = parse_space({"x": {"low": 0.0, "high": 1.0}})
    return WorkerDriver(
        study,
        store,
        str(tmp_path / "w"),
        ["true"],
        dims,
        {},
        ["val_loss"],
        n_trials,
        name="w",
        **kwargs,
    )


def _journal_study(tmp_path):
    from hpreg.optimizer.study import make_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = make_storage("journal:" + str(tmp_path / "s.journal"))
    return optuna.create_study(study_name="s", storage=storage)


def test_a_trial_whose_heartbeat_stops_is_failed_and_asked_again(tmp_path):
    from hpreg.optimizer.study import counted
    from hpreg.optimizer.workers import BEAT, WORKER

    study = _journal_study(tmp_path)
    dist = {"x": optuna.distributions.FloatDistribution(0.0, 1.0)}
    silent, beating = study.ask(dist), study.ask(dist)
    for trial in (silent, beating):  # workers on another machine
        owner = {"store": "far-1", "host": "elsewhere", "pid": 1, "heartbeat": 1.0}
        trial.storage.set_trial_system_attr(trial._trial_id, WORKER, owner)
        trial.storage.set_trial_system_attr(trial._trial_id, BEAT, 0)
    driver = _driver(tmp_path, study, heartbeat=1.0)
    driver.reap(100.0)
    beating.storage.set_trial_system_attr(beating._trial_id, BEAT, 1)
    driver.reap(102.0)
    assert [t.state.name for t in study.trials] == ["RUNNING"] * 2  # within grace
    beating.storage.set_trial_system_attr(beating._trial_id, BEAT, 2)
    driver.reap(103.5)  # silent for 3.5 heartbeats of its worker
    trials = study.trials
    assert [t.state.name for t in trials] == ["FAIL", "RUNNING", "WAITING"]
    assert trials[2].system_attrs["retry_history"] == [0]  # Optuna's retry record
    assert trials[2].params == silent.params
    assert counted(study) == 0  # the stale trial does not count: it is asked again
    driver._fail_stale(trials[0])  # another worker saw it too: a no-op
    assert len(study.trials) == 3
    assert driver.ask().number == 2  # the retry is the next trial asked


def test_an_earlier_trial_wins_the_last_slot(tmp_path):
    study = _journal_study(tmp_path)
    driver = _driver(tmp_path, study, n_trials=2)  # no lock: a database's case
    dist = {"x": optuna.distributions.FloatDistribution(0.0, 1.0)}
    racing = [study.ask(dist) for _ in range(3)]  # three workers asked at once
    assert [driver._within_budget(t) for t in racing] == [True, True, False]
    assert driver.ask() is None and len(study.trials) == 3  # full: nothing asked
    racing[0].set_user_attr("hpreg_stale", True)
    study.tell(racing[0], state=optuna.trial.TrialState.FAIL)
    assert driver._within_budget(racing[2])  # a stale trial does not count


def test_asking_over_the_budget_fails_the_trial_as_unused(tmp_path, monkeypatch):
    from hpreg.optimizer import workers
    from hpreg.optimizer.study import counted

    study = _journal_study(tmp_path)
    driver = _driver(tmp_path, study, n_trials=1)
    dist = {"x": optuna.distributions.FloatDistribution(0.0, 1.0)}
    study.ask(dist)  # another worker's claim, not yet seen by the count
    monkeypatch.setattr(workers, "tally", lambda trials: [0, 0])
    assert driver.ask() is None
    last = study.trials[-1]
    assert last.state.name == "FAIL" and last.user_attrs["hpreg_unused"] is True
    study.tell(0, 1.0)
    assert counted(study) == 1 and driver.unused == 1


def test_creating_the_shared_study_retries_after_losing_the_race(monkeypatch):
    from hpreg.optimizer import study as study_module

    calls = []

    def racing_open(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise optuna.exceptions.DuplicatedStudyError("created meanwhile")
        if len(calls) == 2:
            raise KeyError("Record does not exist.")  # not committed yet
        return "study"

    monkeypatch.setattr(study_module, "open_study", racing_open)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    assert study_module.open_shared_study(None, "s", ["minimize"], None, None) == (
        "study"
    )
    assert len(calls) == 3

    def broken(*args, **kwargs):
        raise ValueError("not a race")

    monkeypatch.setattr(study_module, "open_study", broken)
    with pytest.raises(ValueError):
        study_module.open_shared_study(None, "s", ["minimize"], None, None)


def test_sqlite_is_a_warning_for_workers_who_claim_under_a_lock_file(tmp_path):
    from hpreg.optimizer.study import shared_storage_note
    from hpreg.optimizer.workers import lock_for

    db = tmp_path / "s.db"
    # SQLite has no row locks: two workers could pop one waiting trial
    assert lock_for("sqlite:///{}?timeout=5".format(db)).path == str(db) + ".hpreg"
    assert lock_for("sqlite://") is None and lock_for("postgresql://u@h/db") is None

    assert "this machine only" in shared_storage_note("sqlite:///x.db")
    assert shared_storage_note("journal:x.journal") is None
    assert shared_storage_note("postgresql://user@host/db") is None
