"""Workers' heartbeats: on an RDB storage Optuna's own (``heartbeat_interval``, a
retry callback), failing a silent trial and asking it again at most MAX_RETRY
times; on a journal hpreg's, beating from a thread while the main loop blocks."""

import sqlite3
import time

import pytest

optuna = pytest.importorskip("optuna")


def _wait_for(predicate, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def _driver(tmp_path, study, n_trials=2, heartbeat=1.0):
    from hpreg.optimizer.space import parse_space
    from hpreg.optimizer.workers import WorkerDriver
    from hpreg.runner.store import RunStore

    dims = parse_space({"x": {"low": 0.0, "high": 1.0}})
    return WorkerDriver(
        study,
        RunStore(str(tmp_path / "w")),
        str(tmp_path / "w"),
        ["true"],
        dims,
        {},
        ["val_loss"],
        n_trials,
        name="w",
        heartbeat=heartbeat,
    )


def _study(storage):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(study_name="s", storage=storage)


def test_an_rdb_storage_of_workers_is_optunas_own_heartbeat(tmp_path):
    from hpreg.optimizer.study import GRACE_BEATS, MAX_RETRY, make_storage

    url = "sqlite:///{}".format(tmp_path / "s.db")
    assert make_storage(url) == url  # a coordinator's: no heartbeat
    storage = make_storage(url, heartbeat=2)
    assert isinstance(storage, optuna.storages.RDBStorage)
    assert storage.get_heartbeat_interval() == 2
    assert storage.grace_period == GRACE_BEATS * 2 + 1
    retry = storage.get_heartbeat_stale_trial_callback()
    assert isinstance(retry, optuna.storages.RetryHeartbeatStaleTrialCallback)
    assert retry._max_retry == MAX_RETRY


def test_optunas_heartbeat_retries_a_silent_trial_then_counts_its_failure(tmp_path):
    from hpreg.optimizer.study import MAX_RETRY, counted, make_storage
    from hpreg.optimizer.workers import tally

    db = tmp_path / "s.db"
    study = _study(make_storage("sqlite:///{}".format(db), heartbeat=1))
    driver = _driver(tmp_path, study)

    def age_heartbeats():  # as if the worker had been dead for an hour
        with sqlite3.connect(str(db)) as connection:
            connection.execute(
                "UPDATE trial_heartbeats SET heartbeat = '2000-01-01 00:00:00.000000'"
            )

    trial = driver.ask()
    with sqlite3.connect(str(db)) as connection:  # beaten as soon as asked
        rows = connection.execute("SELECT trial_id FROM trial_heartbeats").fetchall()
    assert rows == [(trial._trial_id,)]
    driver.watch()
    assert study.trials[0].state.name == "RUNNING"  # beating: not stale
    driver.heart.discard(trial._trial_id)  # the worker dies
    for attempt in range(MAX_RETRY + 1):
        age_heartbeats()
        driver.next_look = 0.0
        driver.watch()  # Optuna's fail_stale_trials
        trials = study.trials
        assert trials[attempt].state.name == "FAIL"
        if attempt < MAX_RETRY:
            assert trials[-1].state.name == "WAITING"
            assert trials[-1].system_attrs["retry_history"] == list(range(attempt + 1))
            assert trials[-1].params == trial.params
            assert counted(study) == 0 and tally(trials) == [0, 0]
            again = driver.ask()  # the retry, with the same parameters
            assert again.number == attempt + 1 and again.params == trial.params
            driver.heart.discard(again._trial_id)  # and its worker dies too
    assert len(study.trials) == MAX_RETRY + 1  # no retry after MAX_RETRY
    assert counted(study) == 1  # its failure counts now


def test_journal_beats_come_from_a_thread_while_the_main_loop_blocks(tmp_path):
    from hpreg.optimizer.study import make_storage
    from hpreg.optimizer.workers import BEAT

    study = _study(make_storage("journal:{}".format(tmp_path / "s.journal")))
    driver = _driver(tmp_path, study, heartbeat=0.05)
    assert not driver.optuna_heartbeat
    trial = driver.ask()
    first = study.trials[0].system_attrs[BEAT]  # beaten as soon as asked
    driver.heart.start()
    try:
        # the driver's loop is not called meanwhile (as when it blocks on a job)
        _wait_for(lambda: study.trials[0].system_attrs[BEAT] >= first + 3)
        study.tell(trial, 0.5)  # finished here: the thread stops beating it
        _wait_for(lambda: trial._trial_id not in driver.heart.trials)
    finally:
        driver.heart.stop()
    assert not driver.heart.thread.is_alive()


def test_a_worker_whose_pid_was_reused_is_gone(tmp_path):
    import os

    from hpreg.optimizer.study import make_storage
    from hpreg.optimizer.workers import HOST, started

    study = _study(make_storage("journal:{}".format(tmp_path / "s.journal")))
    driver = _driver(tmp_path, study)
    me = {"host": HOST, "pid": os.getpid(), "started": started(os.getpid())}
    assert not driver._owner_gone(me)
    assert driver._owner_gone(dict(me, started=me["started"] - 1))  # not that one
    assert not driver._owner_gone(dict(me, host="elsewhere", started=0))
