"""``hpreg run`` end to end, in subprocesses: a sweep runs and its results are
collected; a runner killed with SIGKILL, two runners at once and Ctrl-C lose
nothing and run every job exactly once; a failing job is recorded; a store that is
not hpreg's is refused and left as it was."""

import collections
import json
import os
import signal
import sqlite3
import sys

import pytest

from run_support import (
    counted,
    env,
    project,
    run,
    run_argv,
    start,
    states,
    wait_for,
)


@pytest.fixture(name="job")
def fixture_job(tmp_path):
    return project(tmp_path)


class TestRunAndResults:
    def test_a_sweep_runs_and_results_are_collected(self, job):
        folder, count = job
        result = run(run_argv("x=1,2,3", "tag=a,b"), folder, env(count))
        assert result.returncode == 0, result.stderr
        assert "6 of 6 jobs done in runs/s" in result.stdout
        assert sorted(collections.Counter(counted(count)).values()) == [1] * 6
        out = run(
            [sys.executable, "-m", "hpreg", "results", "runs/s", "--format", "json"],
            folder,
            env(count),
        )
        rows = json.loads(out.stdout)
        assert [(r["x"], r["tag"], r["y"], r["state"]) for r in rows] == [
            (x, t, 2 * x, "done") for x in (1, 2, 3) for t in ("a", "b")
        ]
        assert set(rows[0]) == {"id", "state", "exit_code", "x", "tag", "y"}

        again = run(run_argv("x=1,2,3", "tag=a,b"), folder, env(count))
        assert again.returncode == 0
        assert "nothing to run: all 6 jobs are done" in again.stdout
        assert len(counted(count)) == 6  # nothing ran again
        resumed = run(run_argv("x=1,2,3", "tag=a,b", "--resume"), folder, env(count))
        assert resumed.returncode == 0, resumed.stderr
        assert len(counted(count)) == 6

    def test_resume_needs_a_run_to_resume(self, job):
        folder, count = job
        result = run(run_argv("x=1", "--resume"), folder, env(count))
        assert result.returncode == 2
        assert result.stderr.startswith("hpreg: error: --resume: there is no run")
        assert len(result.stderr.splitlines()) == 1 and counted(count) == []

    def test_run_directory_holds_the_job_record(self, job):
        folder, count = job
        argv = [
            sys.executable,
            "-m",
            "hpreg",
            "run",
            "x=5",
            "--store",
            "runs/s",
            "--",
            sys.executable,
            "-c",
            "import os, sys; print(os.getcwd(), os.environ['HPREG_RUN_ID'], "
            "os.environ['HPREG_RUN_DIR'] == sys.argv[2], "
            "open(os.environ['HPREG_CONFIG']).read() == open(sys.argv[1]).read(), "
            "sys.argv[3])",
            "{config}",
            "{run_dir}",
            "{id}",
        ]
        result = run(argv, folder, env(count))
        assert result.returncode == 0, result.stderr
        (job_id,) = [d for d in os.listdir(folder / "runs" / "s") if d != "hpreg.db"]
        run_dir = folder / "runs" / "s" / job_id
        assert (run_dir / "config.yaml").read_text() == "x: 5\n"
        cwd, seen_id, same_dir, same_config, placeholder = (
            (run_dir / "stdout.log").read_text().split()
        )
        assert cwd == str(folder) and seen_id == job_id == placeholder
        assert same_dir == same_config == "True"
        assert (run_dir / "cmd").read_text().startswith(sys.executable)
        assert (run_dir / "metrics.jsonl").exists()
        assert (run_dir / "stderr.log").read_text() == ""
        meta = json.loads((run_dir / "meta.json").read_text())
        assert list(meta) == [
            "start",
            "end",
            "exit_code",
            "host",
            "pid",
            "attempt",
            "git_commit",
            "git_dirty",
        ]
        assert meta["exit_code"] == 0 and meta["attempt"] == 1
        assert meta["end"] >= meta["start"]

    def test_validation_stops_the_run_before_any_job(self, job):
        folder, count = job
        unknown = run(run_argv("y=1,2"), folder, env(count))
        assert unknown.returncode == 1
        assert "unknown hyperparameter 'y'" in unknown.stderr
        assert "Traceback" not in unknown.stderr
        wrong = run(run_argv("x=1,oops"), folder, env(count))
        assert wrong.returncode == 1
        assert "'x'" in wrong.stderr
        assert not (folder / "runs").exists() and counted(count) == []

    def test_usage_errors_exit_2(self, job):
        folder, count = job
        no_command = run(
            [sys.executable, "-m", "hpreg", "run", "x=1"], folder, env(count)
        )
        assert no_command.returncode == 2
        assert "no command to run" in no_command.stderr
        bad = run(run_argv("x=1", extra=["--max-attempts", "0"]), folder, env(count))
        assert bad.returncode == 2
        assert not (folder / "runs").exists()


class TestFailures:
    def test_a_failing_job_is_recorded_and_the_rest_finish(self, job):
        folder, count = job
        result = run(run_argv("x=1,2,3,4"), folder, env(count, JOB_FAIL=2))
        assert result.returncode == 1
        assert "1 of 4 jobs failed" in result.stderr and "exit 3: x=2" in result.stderr
        assert sorted(states(folder / "runs" / "s").values()) == [
            "done",
            "done",
            "done",
            "failed",
        ]
        status = run(
            [sys.executable, "-m", "hpreg", "status", "runs/s"], folder, env(count)
        )
        assert status.returncode == 0
        assert "3 done, 1 failed, 0 running, 0 left" in status.stdout
        assert "job failed on purpose" in status.stdout

        again = run(run_argv("x=1,2,3,4"), folder, env(count, JOB_FAIL=2))
        assert again.returncode == 1 and len(counted(count)) == 4  # not retried
        retried = run(
            run_argv("x=1,2,3,4", extra=["--retry-failed"]), folder, env(count)
        )
        assert retried.returncode == 0, retried.stderr
        assert len(counted(count)) == 5
        assert set(states(folder / "runs" / "s").values()) == {"done"}

    def test_max_attempts_retries_in_the_same_run(self, job):
        folder, count = job
        result = run(
            run_argv("x=1,2", extra=["--max-attempts", "3"]),
            folder,
            env(count, JOB_FAIL=2),
        )
        assert result.returncode == 1
        assert collections.Counter(counted(count)).most_common(1)[0][1] == 3
        failed = [
            d
            for d in os.listdir(folder / "runs" / "s")
            if (folder / "runs" / "s" / d / "attempt2").is_dir()
        ]
        assert len(failed) == 1  # earlier attempts kept aside

    def test_timeout_fails_the_job(self, job):
        folder, count = job
        result = run(
            run_argv("x=1", extra=["--timeout", "0.5"]),
            folder,
            env(count, JOB_SLEEP=30),
        )
        assert result.returncode == 1
        status = run(
            [sys.executable, "-m", "hpreg", "status", "runs/s"], folder, env(count)
        )
        assert "timed out after 0.5 s" in status.stdout


class TestCrashes:
    def test_sigkill_half_way_then_a_second_run_finishes_exactly_once(self, job):
        folder, count = job
        argv = run_argv("x=range(10)")
        runner = start(argv, folder, env(count, JOB_SLEEP=0.3))
        assert wait_for(lambda: len(counted(count)) >= 3)
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        second = run(argv, folder, env(count, JOB_SLEEP=0.3))
        assert second.returncode == 0, second.stderr
        ids = counted(count)
        assert len(ids) == 10 and len(set(ids)) == 10
        assert set(states(folder / "runs" / "s").values()) == {"done"}

    def test_two_runners_together_run_each_job_once(self, job):
        folder, count = job
        argv = run_argv("x=range(12)")
        runners = [start(argv, folder, env(count, JOB_SLEEP=0.05)) for _ in range(2)]
        for runner in runners:
            out, err = runner.communicate(timeout=60)
            assert runner.returncode == 0, err
        ids = counted(count)
        assert len(ids) == 12 and len(set(ids)) == 12
        assert set(states(folder / "runs" / "s").values()) == {"done"}

    def test_ctrl_c_leaves_a_resumable_store(self, job):
        folder, count = job
        argv = run_argv("x=range(4)")
        runner = start(argv, folder, env(count, JOB_SLEEP=30))
        store = folder / "runs" / "s"
        assert wait_for(
            lambda: store.exists()
            and sum(os.path.exists(store / d / "pid") for d in os.listdir(store)) == 2
        )
        runner.send_signal(signal.SIGINT)
        out, err = runner.communicate(timeout=30)
        assert runner.returncode == 130
        assert "queued again" in err
        assert sorted(states(store).values()) == [
            "interrupted",
            "interrupted",
            "queued",
            "queued",
        ]
        assert counted(count) == []
        resumed = run(argv, folder, env(count))
        assert resumed.returncode == 0, resumed.stderr
        assert sorted(collections.Counter(counted(count)).values()) == [1] * 4


class TestForeignStore:
    @pytest.mark.parametrize("kind", ["garbage", "foreign"])
    def test_refused_and_left_byte_for_byte(self, job, kind):
        folder, count = job
        store = folder / "runs" / "s"
        store.mkdir(parents=True)
        db = store / "hpreg.db"
        if kind == "garbage":
            db.write_bytes(b"not a database\x00" * 100)
        else:
            connection = sqlite3.connect(str(db))
            connection.execute("CREATE TABLE users (name TEXT)")
            connection.execute("INSERT INTO users VALUES ('ada')")
            connection.commit()
            connection.close()
        before = db.read_bytes()
        for argv in (
            run_argv("x=1,2"),
            [sys.executable, "-m", "hpreg", "status", "runs/s"],
            [sys.executable, "-m", "hpreg", "results", "runs/s"],
        ):
            result = run(argv, folder, env(count))
            assert result.returncode == 1
            line = result.stderr.strip()
            assert line.startswith("hpreg: error: ") and "\n" not in line
            assert "hpreg.db" in line and "left it as it was" in line
        assert db.read_bytes() == before
        assert sorted(os.listdir(store)) == ["hpreg.db"]
        assert counted(count) == []
