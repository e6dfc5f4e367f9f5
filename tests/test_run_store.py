"""The run store, run directories, re-attaching a dead runner's jobs, ``report``,
results and the Python API ``hpreg.run``, in process."""

import json
import os
import subprocess
import sys
import time

import pytest

import hpreg
from hpreg.errors import RunStoreError, UsageError
from hpreg.runner import local, results, rundir
from hpreg.runner.store import RunStore


@pytest.fixture(name="store")
def fixture_store(tmp_path):
    with RunStore(str(tmp_path / "runs" / "s")) as store:
        yield store


def _add(store, n, command=("true",)):
    jobs = [("job{}".format(i), {"x": i}, list(command)) for i in range(n)]
    store.add_jobs(jobs)
    return [j[0] for j in jobs]


class TestRunStore:
    def test_claim_hands_each_job_to_one_runner(self, store, tmp_path):
        _add(store, 5)
        with RunStore(store.directory) as other:
            claimed = []
            for i in range(6):
                job = (store if i % 2 else other).claim("r{}".format(i % 2))
                claimed.append(job.id if job else None)
        assert sorted(c for c in claimed if c) == ["job{}".format(i) for i in range(5)]
        assert claimed[-1] is None
        assert store.counts()["running"] == 5

    def test_added_again_a_done_job_stays_done(self, store):
        _add(store, 2)
        job = store.claim("r")
        assert store.finish(job.id, "r", "done", exit_code=0, metrics={"y": 1})
        assert store.add_jobs([("job0", {"x": 0}, ["true"]), ("new", {}, ["t"])]) == 1
        assert store.get("job0").state == "done"
        assert store.get("job0").metrics == {"y": 1}

    def test_finish_is_guarded_by_the_runner(self, store):
        _add(store, 1)
        job = store.claim("r1")
        assert not store.finish(job.id, "r2", "done")
        assert store.finish(job.id, "r1", "failed", exit_code=2, error="boom")
        assert not store.finish(job.id, "r1", "done")  # never counted twice
        assert store.get(job.id).state == "failed"

    def test_retry_failed_and_choose(self, store):
        ids = _add(store, 3)
        for _ in ids:
            job = store.claim("r")
            store.finish(job.id, "r", "failed", exit_code=1)
        store.choose(ids[:1])
        assert store.requeue_failed() == 1
        assert store.counts() == dict(store.counts(), queued=1, failed=0)
        store.choose(None)
        assert store.counts()["failed"] == 2

    def test_stale_runner_by_process_here_and_by_heartbeat_elsewhere(self, store):
        from hpreg.runner import liveness, states

        me = os.getpid()
        store.register("alive", local.HOST, me, liveness.process_identity(me))
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        store.register("dead", local.HOST, dead.pid, "x:1")
        # a live process with the pid of a dead runner is not that runner
        store.register("recycled", local.HOST, me, "another-boot:1")
        store.register("remote", "another-host", 1, None)
        runners = {r["id"]: r for r in store.runners()}
        assert not local.runner_dead(runners["alive"])
        assert local.runner_dead(runners["dead"])
        assert local.runner_dead(runners["recycled"])
        # here, a silent heartbeat never makes a live process dead (a blocking
        # call in its main loop); elsewhere, only the heartbeat tells
        later = time.time() + 10 * states.STALE_AFTER
        assert not local.runner_dead(runners["alive"], now=later)
        assert not local.runner_dead(runners["remote"])
        assert local.runner_dead(runners["remote"], now=later)
        slowest = max(
            states.BUSY_TIMEOUT,
            states.HEARTBEAT_BUSY_TIMEOUT + states.HEARTBEAT,
            states.GIT_TIMEOUT,
            states.ENGINE_COMMAND_TIMEOUT,
            states.CONNECT_TIMEOUT,
        )
        assert slowest < states.STALE_AFTER

    def test_foreign_database_untouched(self, tmp_path):
        import sqlite3

        folder = tmp_path / "other"
        folder.mkdir()
        path = folder / "hpreg.db"
        db = sqlite3.connect(str(path))
        db.execute("PRAGMA application_id = 42")
        db.execute("CREATE TABLE t (a)")
        db.commit()
        db.close()
        before = path.read_bytes()
        with pytest.raises(RunStoreError, match="another program") as info:
            RunStore(str(folder))
        assert info.value.path == str(path)
        assert path.read_bytes() == before
        assert sorted(os.listdir(folder)) == ["hpreg.db"]

    def test_missing_store(self, tmp_path):
        with pytest.raises(RunStoreError, match="no run store here"):
            RunStore(str(tmp_path), create=False)


class TestRunDirectory:
    def test_job_id_is_stable_and_depends_on_values_and_command(self):
        a = rundir.job_id({"lr": 0.1, "n": (1, 2)}, ["python", "t.py"])
        assert a == rundir.job_id({"n": [1, 2], "lr": 0.1}, ["python", "t.py"])
        assert a != rundir.job_id({"lr": 0.2, "n": [1, 2]}, ["python", "t.py"])
        assert a != rundir.job_id({"lr": 0.1, "n": [1, 2]}, ["python", "u.py"])
        assert len(a) == 12

    def test_placeholders(self):
        assert rundir.fill("--cfg={config}", "c.yaml", "d", "i") == "--cfg=c.yaml"
        assert rundir.fill("{run_dir}/{id}.pt", "c", "d", "i") == "d/i.pt"

    def test_metrics_keep_the_last_value_and_skip_a_cut_line(self, tmp_path):
        (tmp_path / "metrics.jsonl").write_text(
            '{"loss": 2, "time": 1, "step": 0}\n{"loss": 1, "acc": 0.5, "time": 2}\n'
            '{"loss": 0'
        )
        assert rundir.read_metrics(str(tmp_path)) == {"loss": 1, "acc": 0.5}


class TestReattach:
    def _dead_runner(self, store):
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        store.register("dead", local.HOST, dead.pid)
        return "dead"

    def test_a_job_that_ended_unwatched_is_recorded_not_rerun(self, store):
        _add(store, 1, command=["sh", "-c", "echo ran >> {run_dir}/../ran"])
        runner = self._dead_runner(store)
        job = store.claim(runner)
        run_dir = os.path.join(store.directory, job.id)
        os.makedirs(run_dir)
        with open(os.path.join(run_dir, "metrics.jsonl"), "w") as f:
            f.write('{"y": 7, "time": 0}\n')
        with open(os.path.join(run_dir, "exit_code"), "w") as f:
            f.write("0\n")
        summary = local.LocalExecutor(store, store.directory, jobs=1).run()
        assert summary.launched == 0
        assert store.get(job.id).state == "done"
        assert store.get(job.id).metrics == {"y": 7}
        assert not os.path.exists(os.path.join(store.directory, "ran"))

    def test_a_job_still_running_is_watched_not_restarted(self, store, tmp_path):
        _add(store, 1)
        runner = self._dead_runner(store)
        job = store.claim(runner)
        run_dir = os.path.join(store.directory, job.id)
        os.makedirs(run_dir)
        orphan = subprocess.Popen(
            ["sh", "-c", rundir.WRAPPER, "hpreg-job", run_dir, "sleep", "0.5"],
            start_new_session=True,
        )
        summary = local.LocalExecutor(store, store.directory, jobs=1).run()
        orphan.wait()
        assert summary.launched == 0
        assert store.get(job.id).state == "done"

    def test_a_claimed_job_that_never_started_runs_again(self, store):
        _add(store, 1, command=["true"])
        runner = self._dead_runner(store)
        job = store.claim(runner)
        store._db.execute("UPDATE jobs SET claimed = claimed - 60")
        summary = local.LocalExecutor(store, store.directory, jobs=1).run()
        assert summary.launched == 1
        assert store.get(job.id).state == "done"
        assert store.get(job.id).attempts == 1  # the claim that never started is none


class TestReport:
    def test_outside_a_run_it_does_nothing(self, tmp_path, monkeypatch):
        monkeypatch.delenv("HPREG_RUN_DIR", raising=False)
        monkeypatch.chdir(tmp_path)
        hpreg.report(step=1, loss=0.5)
        assert os.listdir(tmp_path) == []

    def test_inside_a_run_it_appends(self, tmp_path, monkeypatch):
        monkeypatch.setenv("HPREG_RUN_DIR", str(tmp_path))
        hpreg.report(step=3, loss=0.5)
        hpreg.report(loss=float("nan"))
        lines = [
            json.loads(x)
            for x in (tmp_path / "metrics.jsonl").read_text().split("\n")
            if x
        ]
        assert lines[0]["loss"] == 0.5 and lines[0]["step"] == 3 and "time" in lines[0]
        assert lines[1]["loss"] == "nan" and "step" not in lines[1]
        with pytest.raises(TypeError, match="written by hpreg"):
            hpreg.report(time=3)

    def test_import_hpreg_does_not_load_the_runner(self):
        code = (
            "import sys, hpreg\n"
            "from hpreg.m import _\n"
            "assert not [m for m in sys.modules if m.startswith('hpreg.runner')]\n"
            "hpreg.report(loss=1)\n"
            "assert 'sqlite3' not in sys.modules and 'hpreg.runner.local' not in sys.modules\n"
            "import hpreg.runner.store\n"
            "assert callable(hpreg.run) and hpreg.run.__module__ == 'hpreg.runner.api' and hpreg.runner.store.RunStore\n"
        )
        env = dict(os.environ)
        env.pop("HPREG_RUN_DIR", None)
        subprocess.run([sys.executable, "-c", code], check=True, env=env)


class TestResults:
    TABLE = [
        {"id": "a", "state": "done", "exit_code": 0, "lr": 0.1, "loss": 0.3},
        {"id": "b", "state": "done", "exit_code": 0, "lr": 0.2, "loss": 0.1},
        {"id": "c", "state": "failed", "exit_code": 1, "lr": 0.3},
    ]

    def test_sort_where_and_formats(self):
        assert [r["id"] for r in results.sort(self.TABLE, "loss")] == ["b", "a", "c"]
        assert [r["id"] for r in results.sort(self.TABLE, "-loss")] == ["a", "b", "c"]
        kept = results.where(self.TABLE, "loss < 0.2 or lr > 0.25")
        assert [r["id"] for r in kept] == ["b"]
        assert results.render(self.TABLE, "csv").splitlines()[0] == (
            "id,state,exit_code,lr,loss"
        )
        assert json.loads(results.render(self.TABLE, "json")) == self.TABLE
        assert "| b " in results.render(self.TABLE)

    def test_unknown_column_suggests(self):
        with pytest.raises(UsageError, match="did you mean 'loss'"):
            results.sort(self.TABLE, "-los")
        with pytest.raises(UsageError, match="unknown column 'los'"):
            results.where(self.TABLE, "los < 1")


def _square(point):
    hpreg.report(step=0, seen=point["x"])
    if point["x"] == 3:
        raise ValueError("three")
    return point["x"] ** 2


class TestPythonApi:
    def test_function_target(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        rows = hpreg.run(hpreg.product(x=[1, 2, 3]), _square, jobs=2, store="runs/f")
        assert [(r["x"], r["state"], r.get("result")) for r in rows] == [
            (1, "done", 1),
            (2, "done", 4),
            (3, "failed", None),
        ]
        assert rows[0]["seen"] == 1
        failed = rows[2]["id"]
        assert (
            "ValueError: three"
            in (tmp_path / "runs/f" / failed / "stderr.log").read_text()
        )

    def test_command_target_and_gpus(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        rows = hpreg.run(
            [{"x": 1}, {"x": 2}, {"x": 3}],
            "sh -c 'echo $CUDA_VISIBLE_DEVICES > {run_dir}/gpu'",
            jobs=4,
            store="runs/c",
            gpus=["0", "1"],
        )
        assert [r["state"] for r in rows] == ["done"] * 3
        seen = [
            (tmp_path / "runs/c" / r["id"] / "gpu").read_text().strip() for r in rows
        ]
        assert set(seen) <= {"0", "1"}
