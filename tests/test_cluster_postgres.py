"""The real PostgreSQL server (tests/cluster/postgres.sh up, as root; ``.ci/run``
starts it): an Optuna RDB study that several processes share. The fixture
(``postgres_url``, tests/cluster_support.py) gives each test a fresh database."""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.postgres

WORKER = textwrap.dedent(
    """\
    import sys
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="shared", storage=sys.argv[1])
    study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=5)
    """
)


def test_two_processes_add_trials_to_one_study(postgres_url, tmp_path):
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(postgres_url)
    assert optuna.get_all_study_names(storage) == []  # a fresh database
    optuna.create_study(study_name="shared", storage=storage)
    (tmp_path / "worker.py").write_text(WORKER)
    workers = [
        subprocess.Popen(
            [sys.executable, "worker.py", postgres_url],
            cwd=str(tmp_path),
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    study = optuna.load_study(study_name="shared", storage=storage)
    trials = study.get_trials(deepcopy=False)
    assert sorted(t.number for t in trials) == list(range(10))
    assert {t.state for t in trials} == {optuna.trial.TrialState.COMPLETE}
    storage.engine.dispose()  # the fixture drops the database after the test
