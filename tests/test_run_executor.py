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
    db.execute("ALTER TABLE jobs DROP COLUMN history")
    db.execute("ALTER TABLE runners DROP COLUMN identity")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with RunStore(directory, create=False) as store:
        job = store.claim("r")
        assert job.id == "a" and job.handle is None and job.history == []
        assert store.set_handle("a", "r", "slurm:12_0")
        assert not store.set_handle("a", "other", "slurm:13_0")
        assert store.get("a").handle == "slurm:12_0"
    db = sqlite3.connect(str(tmp_path / "s" / "hpreg.db"))
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()


class _CappedEngine:
    """An engine that takes at most ``cap`` jobs out at once and refuses the rest
    (as sbatch does past a per-user job cap); each job runs in a thread here."""

    def __new__(cls, *args, cap=2, **kwargs):
        import threading

        from hpreg.runner.node import execute
        from hpreg.runner.remote import Ended, RemoteExecutor

        class Engine(RemoteExecutor):
            def submit(self, tasks):
                handles = []
                for task in tasks:
                    if len(self.threads) >= cap:
                        self.refused += 1
                        handles.append(None)
                        continue
                    result = []
                    thread = threading.Thread(
                        target=lambda t=task, r=result: r.append(execute(t))
                    )
                    thread.start()
                    self.threads[task.job_id] = (thread, result)
                    handles.append("fake:" + task.job_id)
                return handles

            def poll(self, handles):
                ended = {}
                for job_id in handles:
                    thread, result = self.threads[job_id]
                    if not thread.is_alive():
                        del self.threads[job_id]
                        ended[job_id] = Ended(code=result[0])
                return ended

        engine = Engine(*args, **kwargs)
        engine.threads = {}
        engine.refused = 0
        engine.poll_interval = 0.05
        return engine


def test_jobs_an_engine_refuses_wait_uncounted_and_run_once(tmp_path):
    ledger = tmp_path / "ledger"
    with RunStore(str(tmp_path / "s")) as store:
        store.add_jobs(
            [
                (str(i), {"x": i}, ["sh", "-c", "echo {} >> {}".format(i, ledger)])
                for i in range(7)
            ]
        )
        engine = _CappedEngine(store, str(tmp_path / "s"), cap=2)
        engine.run()
        assert engine.refused > 0  # the cap was hit, and the run went on
        assert sorted(ledger.read_text().split()) == [str(i) for i in range(7)]
        jobs = store.jobs()
        assert {j.state for j in jobs} == {"done"}
        assert {j.attempts for j in jobs} == {1}  # a refusal is no attempt
