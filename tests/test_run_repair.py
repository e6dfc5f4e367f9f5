"""A missing, empty or damaged ``hpreg.db`` beside run directories is refused with
an offer of ``hpreg repair``, which rebuilds the store from the run directories so
that nothing finished runs again; reading commands never write."""

import os
import subprocess
import sys

import pytest
from run_support import env

from hpreg.runner.store import RunStore


def _hpreg(folder, *args, **extra):
    return subprocess.run(
        [sys.executable, "-m", "hpreg", *map(str, args)],
        cwd=str(folder),
        env=env(folder / "count", **extra),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _sweep(folder, points=4):
    # x=2 fails, the others are done; each run appends to the ledger
    command = 'echo "$HPREG_RUN_ID" >> "$LEDGER"; [ "$(cat {config})" != "x: 2" ]'
    return _hpreg(
        folder,
        "run",
        "x=range(0,{})".format(points),
        "--store",
        "runs/s",
        "--",
        "sh",
        "-c",
        command,
        LEDGER=folder / "ledger",
    )


def _ledger(folder):
    path = folder / "ledger"
    return path.read_text().split() if path.exists() else []


@pytest.mark.parametrize("damage", ["missing", "empty", "garbage-pages"])
def test_a_damaged_store_is_refused_then_repaired_and_nothing_runs_again(
    tmp_path, damage
):
    first = _sweep(tmp_path)
    assert first.returncode == 1  # x=2 failed
    ran = _ledger(tmp_path)
    assert len(ran) == 4
    store = tmp_path / "runs" / "s"
    db = store / "hpreg.db"
    for suffix in ("-wal", "-shm"):
        if os.path.exists(str(db) + suffix):
            os.remove(str(db) + suffix)
    if damage == "missing":
        db.unlink()
    elif damage == "empty":
        db.write_bytes(b"")
    else:  # the header stays, the pages after it are garbage
        data = bytearray(db.read_bytes())
        data[4096:] = b"\xff" * (len(data) - 4096)
        db.write_bytes(bytes(data))
    before = db.read_bytes() if db.exists() else None

    refused = _sweep(tmp_path)
    assert refused.returncode == 1
    assert "hpreg repair runs/s" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert len(_ledger(tmp_path)) == 4  # nothing ran again
    if damage != "garbage-pages":
        assert "4 run directories are here" in refused.stderr
    # reading commands refuse too, and write nothing
    status = _hpreg(tmp_path, "status", "runs/s")
    assert status.returncode == 1 and "Traceback" not in status.stderr
    assert (db.read_bytes() if db.exists() else None) == before

    repaired = _hpreg(tmp_path, "repair", "runs/s")
    assert repaired.returncode == 0, repaired.stderr
    assert "3 done, 1 failed" in repaired.stdout
    if damage != "missing":
        kept = [n for n in os.listdir(str(store)) if n.startswith("hpreg.db.damaged-")]
        assert kept and "is kept as" in repaired.stdout

    again = _sweep(tmp_path)
    assert again.returncode == 1  # the failed job stays failed
    assert len(_ledger(tmp_path)) == 4  # nothing finished ran again
    with RunStore(str(store), create=False) as opened:
        states = {j.point["x"]: j.state for j in opened.jobs()}
        assert states == {0: "done", 1: "done", 2: "failed", 3: "done"}


def test_a_job_still_running_when_the_store_is_rebuilt_is_re_attached(tmp_path):
    go = tmp_path / "go"
    command = (
        'echo "$HPREG_RUN_ID" >> "$LEDGER"; while [ ! -e "$GO" ]; do sleep 0.05; done'
    )
    argv = [sys.executable, "-m", "hpreg", "run", "x=1", "--store", "runs/s"]
    argv += ["--", "sh", "-c", command]
    environ = env(tmp_path / "count", LEDGER=tmp_path / "ledger", GO=go)
    coordinator = subprocess.Popen(argv, cwd=str(tmp_path), env=environ)
    import time

    deadline = time.time() + 60
    while not _ledger(tmp_path):
        assert time.time() < deadline
        time.sleep(0.02)
    coordinator.kill()
    coordinator.wait()
    store = tmp_path / "runs" / "s"
    for name in ("hpreg.db", "hpreg.db-wal", "hpreg.db-shm"):
        if (store / name).exists():
            (store / name).unlink()
    repaired = _hpreg(tmp_path, "repair", "runs/s")
    assert repaired.returncode == 0, repaired.stderr
    assert "1 running" in repaired.stdout
    go.write_text("")
    resumed = subprocess.run(
        argv, cwd=str(tmp_path), env=environ, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert len(_ledger(tmp_path)) == 1  # re-attached, not started again
    with RunStore(str(store), create=False) as opened:
        assert [j.state for j in opened.jobs()] == ["done"]


def test_status_and_results_read_an_older_store_without_writing_it(tmp_path):
    import hashlib
    import sqlite3

    assert _sweep(tmp_path).returncode == 1
    db = tmp_path / "runs" / "s" / "hpreg.db"
    conn = sqlite3.connect(str(db))
    conn.execute("ALTER TABLE jobs DROP COLUMN history")  # as a version 2 store
    conn.execute("ALTER TABLE runners DROP COLUMN identity")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    status = _hpreg(tmp_path, "status", "runs/s")
    assert status.returncode == 0 and "3 done, 1 failed" in status.stdout
    results = _hpreg(tmp_path, "results", "runs/s", "--format", "json")
    assert results.returncode == 0, results.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    conn = sqlite3.connect(str(db))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2  # not upgraded
    conn.close()


def test_hostile_metrics_never_stop_a_job_being_recorded(tmp_path):
    # each job writes its metrics.jsonl itself, damaged in its own way
    script = (
        "import os\n"
        "from hpreg.m import _\n"
        "d = os.environ['HPREG_RUN_DIR']; x = _('x', 0)\n"
        "lines = [\n"
        "    b'{\"loss\": 1.0}\\n',\n"
        "    b'\\xff\\xfe not utf-8\\n',\n"
        "    b'[' * 100000 + b']' * 100000 + b'\\n',\n"
        "    b'{\"big\": ' + b'9' * 5000 + b'}\\n',\n"
        "    b'{\"huge\": \"' + b'a' * (3 << 20) + b'\"}\\n',\n"
        "    b'{\"acc\": 0.5}\\n',\n"
        "]\n"
        "open(os.path.join(d, 'metrics.jsonl'), 'wb').write(b''.join(lines[: x + 3]))\n"
    )
    (tmp_path / "job.py").write_text(script)
    result = _hpreg(
        tmp_path,
        "run",
        "x=range(0,4)",
        "--store",
        "runs/s",
        "--",
        sys.executable,
        "job.py",
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "unreadable line" in result.stderr and "over 1 MB skipped" in result.stderr
    with RunStore(str(tmp_path / "runs" / "s"), create=False) as store:
        jobs = {j.point["x"]: j for j in store.jobs()}
    assert {j.state for j in jobs.values()} == {"done"}
    assert jobs[0].metrics == {"loss": 1.0}
    assert jobs[1].metrics["big"] == "9" * 5000  # kept, as text
    assert jobs[3].metrics == {"loss": 1.0, "big": "9" * 5000, "acc": 0.5}
