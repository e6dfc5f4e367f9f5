"""Exactly once under damage, on the local executor: the coordinator killed -9 at
random moments, then run to the end (every job done once, by a ledger the jobs
append to); a live runner whose heartbeat is old (its main loop blocked) keeps
its jobs."""

import random
import sqlite3
import subprocess
import sys
import time

from run_support import env

from hpreg.runner.store import RunStore

LEDGER_JOB = 'echo "$HPREG_RUN_ID" >> "$LEDGER"'


def _start(folder, environ, points, jobs=2):
    argv = [sys.executable, "-m", "hpreg", "run", "x=range(0,{})".format(points)]
    argv += ["--store", "runs/s", "-j", str(jobs), "--", "sh", "-c", LEDGER_JOB]
    return subprocess.Popen(
        argv,
        cwd=str(folder),
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ledger(path):
    return path.read_text().split() if path.exists() else []


def test_coordinator_killed_at_30_random_moments_then_each_job_runs_once(tmp_path):
    ledger = tmp_path / "ledger"
    environ = env(tmp_path / "count", LEDGER=ledger)
    rng = random.Random(13)
    points = 200
    kills = 0
    while kills < 30:
        coordinator = _start(tmp_path, environ, points)
        before = len(_ledger(ledger))
        # a random moment after the coordinator has started launching jobs
        deadline = time.time() + 60
        target = before + rng.randint(0, 6)
        while len(_ledger(ledger)) < target and coordinator.poll() is None:
            if time.time() > deadline:
                raise AssertionError("the coordinator launched nothing")
            time.sleep(0.005)
        coordinator.kill()
        coordinator.wait()
        kills += 1
    final = _start(tmp_path, environ, points)
    _, stderr = final.communicate(timeout=300)
    assert final.returncode == 0, stderr
    runs = _ledger(ledger)
    assert len(runs) == points and len(set(runs)) == points  # each exactly once
    with RunStore(str(tmp_path / "runs" / "s")) as store:
        counts = store.counts()
        assert counts["done"] == points
        assert counts["running"] == counts["queued"] == counts["lost"] == 0
        assert all(job.attempts == 1 for job in store.jobs())


def test_a_live_runner_with_an_old_heartbeat_keeps_its_job(tmp_path):
    # a runner whose main loop blocks (git, a busy store, a sampler) stops
    # writing heartbeats from that loop; on one machine its process says it lives
    ledger = tmp_path / "ledger"
    go = tmp_path / "go"
    environ = env(tmp_path / "count", LEDGER=ledger, GO=go)
    command = (
        'echo "$HPREG_RUN_ID" >> "$LEDGER"; '
        'while [ ! -e "$GO" ]; do sleep 0.05; done'
    )
    argv = [sys.executable, "-m", "hpreg", "run", "x=1", "--store", "runs/s"]
    argv += ["--", "sh", "-c", command]
    first = subprocess.Popen(
        argv, cwd=str(tmp_path), env=environ, stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 60
    while not _ledger(ledger):
        assert time.time() < deadline and first.poll() is None
        time.sleep(0.02)
    db = sqlite3.connect(str(tmp_path / "runs" / "s" / "hpreg.db"), timeout=30)
    with db:
        db.execute("UPDATE runners SET heartbeat = heartbeat - 100000")
    db.close()
    second = subprocess.run(
        argv, cwd=str(tmp_path), env=environ, capture_output=True, text=True
    )
    assert second.returncode == 0, second.stderr
    assert "1 still running in another 'hpreg run'" in second.stdout
    with RunStore(str(tmp_path / "runs" / "s")) as store:
        (job,) = store.jobs()
        assert job.state == "running" and job.attempts == 1  # not adopted
    go.write_text("")
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    assert len(_ledger(ledger)) == 1
    with RunStore(str(tmp_path / "runs" / "s")) as store:
        assert [j.state for j in store.jobs()] == ["done"]


def test_timeout_holds_for_a_job_re_attached_after_kill_9(tmp_path):
    ledger = tmp_path / "ledger"
    environ = env(tmp_path / "count", LEDGER=ledger)
    command = 'echo "$HPREG_RUN_ID" >> "$LEDGER"; exec sleep 600'
    argv = [sys.executable, "-m", "hpreg", "run", "x=1", "--store", "runs/s"]
    argv += ["--timeout", "3", "--", "sh", "-c", command]
    first = subprocess.Popen(argv, cwd=str(tmp_path), env=environ)
    deadline = time.time() + 60
    while not _ledger(ledger):
        assert time.time() < deadline and first.poll() is None
        time.sleep(0.02)
    first.kill()
    first.wait()
    second = subprocess.run(
        argv, cwd=str(tmp_path), env=environ, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert second.returncode == 1, second.stderr
    with RunStore(str(tmp_path / "runs" / "s")) as store:
        (job,) = store.jobs()
        assert job.state == "failed" and "timed out after 3 s" in job.error
    assert len(_ledger(ledger)) == 1  # re-attached, then stopped; never run again
