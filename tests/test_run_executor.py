"""The store's job handle (where a remote executor sent a job) and the upgrade of a
store written before it existed."""

import sqlite3

from hpreg.runner.store import SCHEMA_VERSION, RunStore


def test_a_version_1_store_is_upgraded_and_keeps_its_jobs(tmp_path):
    directory = str(tmp_path / "s")
    with RunStore(directory) as store:
        store.add_jobs([("a", {"x": 1}, ["true"])])
    db = sqlite3.connect(str(tmp_path / "s" / "hpreg.db"))
    db.execute("ALTER TABLE jobs DROP COLUMN handle")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with RunStore(directory, create=False) as store:
        job = store.claim("r")
        assert job.id == "a" and job.handle is None
        assert store.set_handle("a", "r", "slurm:12_0")
        assert not store.set_handle("a", "other", "slurm:13_0")
        assert store.get("a").handle == "slurm:12_0"
    db = sqlite3.connect(str(tmp_path / "s" / "hpreg.db"))
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()
