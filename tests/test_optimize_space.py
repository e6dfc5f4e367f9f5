"""Search spaces: specs, hints, hyper_opt's section, sweep axes, and each bad-space
error naming file and key, checked before any trial."""

import textwrap

import pytest

from hpreg.errors import SearchSpaceError, UnknownHyperparameterError, ValueTypeError
from hpreg.optimizer.config import read_file
from hpreg.optimizer.space import (
    Dimension,
    check_space,
    dimension,
    parse_space,
    space_from_hints,
)
from hpreg.registry.manager import HyperParameterManager

TRAIN = textwrap.dedent(
    """\
    from hpreg.m import _
    lr = _("lr", 1e-3, low=1e-5, high=1e-1, log=True)
    layers = _("num_layers", 4, low=1, high=12)
    opt = _("optimizer", "adam", choices=["adam", "sgd", "rmsprop"])
    dropout = _("dropout", 0.1)
    epochs = _("epochs", 10)
    """
)


@pytest.fixture(name="registry")
def fixture_registry():
    manager = HyperParameterManager("_")
    manager.parse_source(TRAIN)
    return manager


def test_spec_kinds():
    assert dimension("lr", {"low": 1e-5, "high": 0.1, "log": True}).kind == "float"
    assert dimension("n", {"low": 1, "high": 12}).kind == "int"
    assert dimension(
        "n", {"low": 1, "high": 12}, default=0.5, has_default=True
    ).kind == ("float")
    assert dimension(
        "x", {"low": 1.0, "high": 3.0}, default=2, has_default=True
    ).kind == ("int")
    assert dimension("o", {"choices": ["a", "b"]}).choices == ["a", "b"]
    assert dimension("d", {"low": 0.0, "high": 0.5, "step": 0.1}).grid() == [
        0.0,
        0.1,
        0.2,
        0.3,
        0.4,
        0.5,
    ]


def test_space_from_hints_int_when_the_default_is_int(registry):
    dims = parse_space(space_from_hints(registry), registry=registry)
    assert set(dims) == {"lr", "num_layers", "optimizer"}
    assert dims["num_layers"].kind == "int"
    assert dims["lr"].log and dims["lr"].kind == "float"
    assert dims["optimizer"].choices == ["adam", "sgd", "rmsprop"]
    picked = space_from_hints(registry, ["lr"])
    assert list(picked) == ["lr"]


def test_picked_name_without_bounds_is_an_error(registry):
    with pytest.raises(SearchSpaceError, match="'dropout' has no bounds or choices"):
        space_from_hints(registry, ["dropout"])
    with pytest.raises(UnknownHyperparameterError, match="did you mean 'lr'"):
        space_from_hints(registry, ["lr_"])


@pytest.mark.parametrize(
    "spec, where, problem",
    [
        (
            {"low": 0.0, "high": 1.0, "log": True},
            "s.yaml: optimize.space.lr.low",
            "log space needs low > 0",
        ),
        ({"choices": []}, "s.yaml: optimize.space.lr.choices", "empty choices"),
        ({"low": 1.0}, "s.yaml: optimize.space.lr", "no high"),
        ({"low": 2.0, "high": 1.0}, "s.yaml: optimize.space.lr", "above high"),
        (
            {"low": 1.0, "hgih": 2.0},
            "s.yaml: optimize.space.lr.hgih",
            "did you mean 'high'",
        ),
        (
            {"low": 1e-3, "high": 1.0, "log": True, "step": 0.1},
            "s.yaml: optimize.space.lr",
            "both log and step",
        ),
    ],
)
def test_each_bad_space_names_file_and_key(tmp_path, spec, where, problem):
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump({"optimize": {"metric": "loss", "space": {"lr": spec}}})
    )
    settings = read_file(str(path))
    settings.source = "s.yaml"
    with pytest.raises(SearchSpaceError) as caught:
        dimension("lr", settings.space["lr"], settings.where("space", "lr"))
    assert str(caught.value).startswith(where + ":"), str(caught.value)
    assert problem in str(caught.value)


def test_unknown_names_and_types_against_the_registry(registry):
    dims = parse_space(
        {"lrr": {"low": 1e-4, "high": 1e-2}}, where="o.yaml: optimize.space"
    )
    with pytest.raises(UnknownHyperparameterError) as caught:
        check_space(dims, {}, registry)
    assert "o.yaml: optimize.space.lrr" in str(caught.value)
    assert "did you mean 'lr'" in str(caught.value)
    dims = parse_space({"optimizer": {"choices": ["adam", "lion"]}}, registry=registry)
    with pytest.raises(Exception, match="lion"):
        check_space(dims, {}, registry)
    dims = parse_space({"num_layers": {"choices": ["many"]}}, registry=registry)
    with pytest.raises(ValueTypeError):
        check_space(dims, {}, registry)
    with pytest.raises(UnknownHyperparameterError, match="epochs"):
        check_space({}, {"epoch": 3}, registry)


def test_bounds_excluding_the_default_are_a_warning(registry):
    dims = parse_space(
        {"lr": {"low": 1e-2, "high": 1e-1, "log": True}}, registry=registry
    )
    notes = check_space(dims, {"epochs": 3}, registry)
    assert len(notes) == 1 and "excludes its default 0.001" in notes[0]


def test_optimize_section(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            optimize:
              metric: val_loss
              direction: maximize
              n_trials: 100
              sampler: random
              seed: 3
              pruner: hyperband
              space:
                lr: {low: 1.0e-5, high: 1.0e-1, log: true}
                optimizer: {choices: [adam, sgd]}
                dropout: {low: 0.0, high: 0.5, step: 0.1}
              fixed: {epochs: 20}
            batch_size: [32, 64]
            """
        )
    )
    s = read_file(str(path))
    assert (s.metrics, s.directions, s.n_trials) == (["val_loss"], ["maximize"], 100)
    assert (s.sampler, s.seed, s.pruner, s.fixed) == (
        "random",
        3,
        "hyperband",
        {"epochs": 20},
    )
    assert set(s.space) == {"lr", "optimizer", "dropout", "batch_size"}
    assert s.space["batch_size"] == Dimension(
        "batch_size", "categorical", choices=[32, 64]
    )


@pytest.mark.parametrize(
    "section, where, problem",
    [
        ({"metrc": "x"}, "optimize.metrc", "did you mean 'metric'"),
        ({"sampler": "tpee"}, "optimize.sampler", "did you mean 'tpe'"),
        ({"pruner": "mean"}, "optimize.pruner", "unknown pruner"),
        ({"direction": "minimise"}, "optimize.direction", "did you mean 'minimize'"),
        ({"n_trials": 0}, "optimize.n_trials", "positive"),
    ],
)
def test_bad_optimize_section(tmp_path, section, where, problem):
    import yaml

    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump({"optimize": section}))
    with pytest.raises(SearchSpaceError) as caught:
        read_file(str(path))
    assert "q.yaml: " + where in str(caught.value)
    assert problem in str(caught.value)


def test_hyper_opt_section_maps(tmp_path):
    path = tmp_path / "hyper.yml"
    path.write_text(
        textwrap.dedent(
            """\
            log: {save_path: "log.txt"}
            slurm: {jobs: 20, batch: {account: "NAML0001"}}
            optuna:
              name: "holodec_optimization.db"
              reload: 1
              objective: "examples/torch/objective.py"
              metric: "val_loss"
              direction: "minimize"
              n_trials: 500
              gpu: True
              save_path: 'test'
              sampler: {type: "TPESampler"}
              parameters:
                num_dense: {type: "int", settings: {name: "num_dense", low: 0, high: 10}}
                dropout: {type: "float", settings: {name: "dr", low: 0.0, high: 0.5}}
                optimizer:learning_rate:
                  type: "loguniform"
                  settings: {name: "lr", low: 0.0000001, high: 0.01}
                width: {type: discrete_uniform, settings: {name: w, low: 0, high: 1, q: 0.25}}
                act: {type: categorical, settings: {name: a, choices: [relu, tanh]}}
            """
        )
    )
    s = read_file(str(path))
    assert (s.study_name, s.store, s.reload, s.n_trials) == (
        "holodec_optimization.db",
        "test",
        True,
        500,
    )
    assert s.sampler == "tpe" and s.metrics == ["val_loss"]
    dims = {n: dimension(n, spec, where) for n, (spec, where) in s.space.items()}
    assert dims["num_dense"] == Dimension("num_dense", "int", 0, 10)
    assert dims["optimizer.learning_rate"].log
    assert dims["width"].step == 0.25 and dims["width"].kind == "float"
    assert dims["act"].choices == ["relu", "tanh"]
    # the Slurm executor's settings (tests/test_optimize_executors.py runs them)
    assert s.slurm == {"jobs": 20, "options": {"options": {"account": "NAML0001"}}}


def test_a_union_has_no_space_meaning(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text("optimize: {metric: m}\nunion: [{a: 1}, {a: 2}]\n")
    with pytest.raises(SearchSpaceError, match="no meaning in a search space"):
        read_file(str(path))
