"""hpreg.optimize in process: convergence, pruning through hpreg.report, failures,
continuing a stored study, the package's lazy names and the missing extra."""

import subprocess
import sys

import pytest

import hpreg

import optuna  # noqa: E402 (a dev requirement: CI tests the extra)

optuna.logging.set_verbosity(optuna.logging.WARNING)

SQUARE = {"x": {"low": -5.0, "high": 5.0}, "y": {"low": -5.0, "high": 5.0}}


def test_quadratic_reaches_its_minimum_in_60_seeded_tpe_trials():
    study = hpreg.optimize(
        lambda p: (p["x"] - 2) ** 2 + (p["y"] + 1) ** 2, SQUARE, n_trials=60, seed=0
    )
    assert isinstance(study, optuna.Study)
    assert len(study.trials) == 60
    assert study.best_value < 0.3


def test_dict_results_metric_fixed_values_and_maximize():
    seen = []

    def objective(point):
        seen.append(point)
        return {"acc": -abs(point["n"] - 3), "loss": 1.0}

    study = hpreg.optimize(
        objective,
        {"n": {"low": 0, "high": 6}},
        n_trials=12,
        metric="acc",
        direction="maximize",
        sampler="random",
        seed=1,
        fixed={"epochs": 2},
    )
    assert all(p["epochs"] == 2 and isinstance(p["n"], int) for p in seen)
    assert study.best_value == 0


def test_report_prunes_a_bad_curve_in_process():
    def objective(point):
        for step in range(20):
            value = point["x"] * 10 + 1.0 / (step + 1)
            hpreg.report(step=step, value=value)
        return value

    study = hpreg.optimize(
        objective, {"x": {"low": 0.0, "high": 1.0}}, n_trials=30, seed=2
    )
    states = [t.state for t in study.trials]
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert states[:5] == [optuna.trial.TrialState.COMPLETE] * 5  # median waits for 5
    assert pruned
    # a pruned trial stopped at the step it was told to: it reported fewer than 20
    assert all(len(t.intermediate_values) < 20 for t in pruned)


def test_a_failing_objective_is_recorded_and_a_broken_one_raises():
    def sometimes(point):
        if point["x"] > 0.5:
            raise RuntimeError("diverged")
        return point["x"]

    study = hpreg.optimize(
        sometimes,
        {"x": {"low": 0.0, "high": 1.0}},
        n_trials=10,
        seed=0,
        sampler="random",
    )
    states = {t.state for t in study.trials}
    assert optuna.trial.TrialState.FAIL in states
    assert len(study.trials) == 10
    with pytest.raises(RuntimeError, match="always"):
        hpreg.optimize(
            lambda p: (_ for _ in ()).throw(RuntimeError("always")),
            {"x": {"low": 0.0, "high": 1.0}},
            n_trials=3,
        )


def test_a_stored_study_continues_up_to_n_trials(tmp_path):
    storage = "journal:" + str(tmp_path / "s.journal")
    calls = []

    def objective(point):
        calls.append(point)
        return point["x"] ** 2

    kwargs = dict(storage=storage, study_name="s", seed=0)
    hpreg.optimize(objective, {"x": {"low": -1.0, "high": 1.0}}, n_trials=4, **kwargs)
    study = hpreg.optimize(
        objective, {"x": {"low": -1.0, "high": 1.0}}, n_trials=6, **kwargs
    )
    assert len(calls) == 6 and len(study.trials) == 6
    # reseeded on resume: the continuation does not repeat the first points
    assert calls[4]["x"] != calls[0]["x"]


def test_conditional_space_as_a_function_and_two_threads():
    def space(trial):
        kind = trial.suggest_categorical("kind", ["a", "b"])
        if kind == "a":
            return {"kind": kind, "u": trial.suggest_float("u", 0, 1)}
        return {"kind": kind}

    study = hpreg.optimize(lambda p: p.get("u", 0.5), space, n_trials=8, jobs=2, seed=0)
    assert len(study.trials) == 8


def test_multi_objective():
    study = hpreg.optimize(
        lambda p: {"a": p["x"], "b": 1 - p["x"]},
        {"x": {"low": 0.0, "high": 1.0}},
        n_trials=5,
        metric=["a", "b"],
        direction=["minimize", "minimize"],
    )
    assert len(study.directions) == 2 and len(study.trials) == 5


def test_bad_arguments():
    with pytest.raises(hpreg.SearchSpaceError, match="log space needs low > 0"):
        hpreg.optimize(lambda p: 0, {"lr": {"low": 0, "high": 1, "log": True}})
    with pytest.raises(hpreg.SearchSpaceError, match="did you mean 'tpe'"):
        hpreg.optimize(lambda p: 0, SQUARE, sampler="tep")


def test_optimize_and_pruned_are_package_names():
    import hpreg.optimizer.api  # loading the subpackage keeps the function

    assert hpreg.optimize is hpreg.optimizer.api.optimize
    assert issubclass(hpreg.Pruned, SystemExit)
    assert "optimize" in dir(hpreg) and "Pruned" in hpreg.__all__


def _loaded(code):
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out


def test_import_hpreg_and_the_registry_never_import_optuna():
    assert "'optuna'" not in _loaded("import hpreg; hpreg.report")
    assert "'optuna'" not in _loaded("from hpreg.m import _; _('lr', 0.1)")
    assert "'optuna'" not in _loaded("import hpreg.optimizer.api, hpreg.cli.optimize")


def test_a_missing_optuna_names_the_extra():
    code = (
        "import sys; sys.modules['optuna'] = None\n"
        "import hpreg\n"
        "try:\n"
        "    hpreg.optimize(lambda p: 0, {'x': {'low': 0, 'high': 1}})\n"
        "except hpreg.OptionalDependencyError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "pip install hpreg[optuna]" in out
