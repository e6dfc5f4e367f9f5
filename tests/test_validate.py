"""``hpreg.validate`` / ``_.sweep``: names, types and hints checked against the
registry (up front where values are known, as drawn where derived), and
``_.override(point)`` as a scoped override."""

import re
import textwrap

import pytest

import hpreg
from hpreg.errors import (
    HintViolationError,
    UnknownHyperparameterError,
    ValueTypeError,
)
from hpreg.registry.occurrences import EmptyValue
from hpreg.sweep.file import load_sweep
from hpreg.sweep.validate import ValidatedSweep, check_point, validate

SOURCE = """\
_("lr", 0.1, low=0.0, high=1.0)
_("n_layers", 4, low=1)
_("optimizer", "sgd", choices=["sgd", "adam"])
_("use_bn", True)
_("sizes", [64, 64])
_("anything", None)
_("model.width", 128, low=1)
_("model.act", "relu")
"""


@pytest.fixture(name="hp")
def fixture_hp():
    manager = hpreg.HyperParameterManager("_")
    manager.parse_source(SOURCE, "model.py")
    return manager


def message_of(error_type, sweep, hp, **kwargs):
    with pytest.raises(error_type) as info:
        list(validate(sweep, hp, **kwargs))
    return info.value


class TestNames:
    def test_known_names_pass_and_points_are_unchanged(self, hp):
        sweep = hpreg.product(
            lr=[0.1, 0.01], **{"model.width": [64, 128]}, optimizer="adam"
        )
        checked = validate(sweep, hp)
        assert isinstance(checked, ValidatedSweep)
        assert list(checked) == list(sweep)
        assert len(checked) == 4
        assert checked[-1] == sweep[-1]

    def test_unknown_name_with_did_you_mean(self, hp):
        error = message_of(UnknownHyperparameterError, hpreg.product(lrr=[0.1]), hp)
        assert str(error) == (
            "sweep: lrr: unknown hyperparameter 'lrr'; did you mean 'lr'? "
            "('hpreg list' shows all names)"
        )
        assert error.name == "lrr"
        assert error.suggestions == ["lr"]
        assert isinstance(error, LookupError)

    def test_unknown_name_without_a_close_match(self, hp):
        error = message_of(UnknownHyperparameterError, hpreg.product(zzz=1), hp)
        assert str(error) == (
            "sweep: zzz: unknown hyperparameter 'zzz' ('hpreg list' shows all names)"
        )
        assert error.suggestions == []

    def test_a_group_is_not_a_name(self, hp):
        error = message_of(UnknownHyperparameterError, hpreg.product(model=[1]), hp)
        assert error.suggestions[0].startswith("model.")

    def test_source_names_the_file(self, hp):
        error = message_of(
            UnknownHyperparameterError,
            hpreg.product(n_layer=[1]),
            hp,
            source="sweep.yaml",
        )
        assert str(error).startswith(
            "sweep.yaml: n_layer: unknown hyperparameter 'n_layer'; "
            "did you mean 'n_layers'?"
        )
        assert error.path == "sweep.yaml"

    @pytest.mark.parametrize(
        "sweep",
        [
            hpreg.table(("lr", "n_layer"), [(0.1, 2)]),
            hpreg.zip(lr=[0.1], n_layer=[2]),
            hpreg.product(lr=[0.1]).derive(n_layer=lambda p: 2),
            hpreg.from_function(lambda: [{"lr": 0.1}, {"n_layer": 2}]),
            hpreg.union(hpreg.product(lr=0.1), hpreg.product(n_layer=[2, 3])),
        ],
        ids=["table", "zip", "derive", "function", "union"],
    )
    def test_every_node_kind_is_checked_up_front(self, hp, sweep):
        with pytest.raises(UnknownHyperparameterError) as info:
            validate(sweep, hp)  # before any point is drawn
        assert info.value.name == "n_layer"
        assert info.value.suggestions == ["n_layers"]

    def test_let_variables_are_not_hyperparameters(self, hp):
        sweep = hpreg.product(hpreg.let(k=[1, 2]), lr=0.1).derive(
            n_layers=lambda p: 2 * p["k"]
        )
        assert list(validate(sweep, hp)) == [
            {"lr": 0.1, "n_layers": 2},
            {"lr": 0.1, "n_layers": 4},
        ]

    def test_sweep_file_errors_name_the_file_and_key(self, hp, tmp_path):
        path = tmp_path / "sweep.yaml"
        path.write_text(
            textwrap.dedent(
                """\
                product:
                  - lr: [0.1]
                  - union:
                      - {n_layers: [2]}
                      - {model: {widht: [64]}}
                """
            ),
            encoding="utf-8",
        )
        with pytest.raises(UnknownHyperparameterError) as info:
            validate(load_sweep(str(path)), hp, source="sweep.yaml")
        assert str(info.value).startswith(
            "sweep.yaml: product[1].union[1].model.widht: unknown hyperparameter "
            "'model.widht'; did you mean 'model.width'"
        )
        assert info.value.suggestions[0] == "model.width"


class TestTypes:
    @pytest.mark.parametrize(
        "name, value",
        [
            ("lr", 1),  # an int may stand for a float
            ("lr", 0.5),
            ("n_layers", 3),
            ("use_bn", False),
            ("optimizer", "adam"),
            ("sizes", [1, 2, 3]),
            ("sizes", (1, 2)),
            ("anything", "x"),
            ("anything", [1]),
        ],
    )
    def test_matching_types(self, hp, name, value):
        sweep = hpreg.product({name: hpreg.value(value)})
        assert len(list(validate(sweep, hp))) == 1

    @pytest.mark.parametrize(
        "name, value, message",
        [
            (
                "n_layers",
                2.0,
                "2.0 for 'n_layers' is a float, but its default 4 is an int",
            ),
            (
                "n_layers",
                True,
                "True for 'n_layers' is a bool, but its default 4 is an int",
            ),
            ("lr", False, "False for 'lr' is a bool, but its default 0.1 is a float"),
            ("use_bn", 1, "1 for 'use_bn' is an int, but its default True is a bool"),
            ("lr", "0.1", "'0.1' for 'lr' is a str, but its default 0.1 is a float"),
            ("optimizer", 1, "1 for 'optimizer' is an int, but its default 'sgd' is"),
            ("sizes", 64, "64 for 'sizes' is an int, but its default [64, 64] is a"),
            ("n_layers", None, "None for 'n_layers' is a NoneType"),
        ],
    )
    def test_wrong_types(self, hp, name, value, message):
        error = message_of(ValueTypeError, hpreg.product({name: [value]}), hp)
        assert re.match(re.escape("sweep: {}: {}".format(name, message)), str(error))
        assert error.name == name
        assert error.value == value
        assert isinstance(error, TypeError)

    def test_int_takes_an(self, hp):
        error = message_of(ValueTypeError, hpreg.product(n_layers=[2.5]), hp)
        assert str(error) == (
            "sweep: n_layers: 2.5 for 'n_layers' is a float, but its default 4 is an "
            "int; give an int value"
        )

    def test_a_name_without_a_default_takes_any_type(self):
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source('_("free")\n', "a.py")
        assert list(validate(hpreg.product(free=[1, "x", None]), manager)) == [
            {"free": 1},
            {"free": "x"},
            {"free": None},
        ]


class TestHints:
    @pytest.mark.parametrize(
        "sweep, hint, message",
        [
            (
                hpreg.product(optimizer=["sgd", "rmsprop"]),
                "choices",
                "sweep: optimizer: 'rmsprop' is not a choice of 'optimizer'; "
                "choose one of 'sgd', 'adam'",
            ),
            (
                hpreg.product(lr=[0.5, 2.0]),
                "high",
                "sweep: lr: 2.0 for 'lr' is above its high bound 1.0; give a value "
                "in [0.0, 1.0]",
            ),
            (
                hpreg.product(n_layers=range(0, 4)),
                "low",
                "sweep: n_layers: 0 for 'n_layers' is below its low bound 1; give a "
                "value in [1, inf]",
            ),
            (
                hpreg.table(("lr", "n_layers"), [(0.1, 2), (0.2, 0)]),
                "low",
                "sweep: n_layers: 0 for 'n_layers' is below its low bound 1",
            ),
            (
                hpreg.zip(lr=[0.1, -0.1], n_layers=[1, 2]),
                "low",
                "sweep: lr: -0.1 for 'lr' is below its low bound 0.0",
            ),
            (
                hpreg.product(**{"model.width": 0}),
                "low",
                "sweep: model.width: 0 for 'model.width' is below its low bound 1",
            ),
        ],
        ids=["choices", "high", "low-range", "table", "zip", "fixed"],
    )
    def test_hint_violations_up_front(self, hp, sweep, hint, message):
        with pytest.raises(HintViolationError) as info:
            validate(sweep, hp)
        assert str(info.value).startswith(message)
        assert info.value.hint == hint

    def test_include_values_are_checked(self, hp, tmp_path):
        (tmp_path / "base.yaml").write_text("n_layers: 0\n", encoding="utf-8")
        (tmp_path / "sweep.yaml").write_text(
            "include: base.yaml\nlr: [0.1]\n", encoding="utf-8"
        )
        sweep = load_sweep(str(tmp_path / "sweep.yaml"))
        with pytest.raises(HintViolationError) as info:
            validate(sweep, hp)
        assert info.value.name == "n_layers"

    def test_a_huge_range_is_checked_by_its_bounds(self, hp):
        checked = validate(hpreg.product(n_layers=range(1, 10**12)), hp)
        assert len(checked) == 10**12 - 1
        assert checked[-1] == {"n_layers": 10**12 - 1}
        with pytest.raises(HintViolationError) as info:
            validate(hpreg.product(n_layers=range(10**12, -1, -1)), hp)
        assert info.value.value == 0

    def test_a_huge_range_over_choices(self):
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source('_("k", 1, choices=[1, 2, 999999])\n', "a.py")
        with pytest.raises(HintViolationError) as info:
            validate(hpreg.product(k=range(10**6)), manager)
        assert str(info.value) == (
            "sweep: k: 0 is not a choice of 'k'; choose one of 1, 2, 999999"
        )
        with pytest.raises(HintViolationError) as info:
            validate(hpreg.product(k=range(1, 10**6)), manager)
        assert str(info.value) == (
            "sweep: k: 'k' has 3 choices but the axis has 999999 values; sweep over "
            "its choices instead"
        )


class _CountingRegistry:
    """A registry that counts how often a value is looked at."""

    def __init__(self, names):
        self.names = set(names)
        self.lookups = 0

    def known_names(self):
        return set(self.names)

    def get_default(self, name):
        self.lookups += 1
        return 0

    def get_hints(self, name):
        return {"low": 0, "high": 9}


class TestUpFront:
    def test_a_10_axis_grid_of_10_values_validates_without_enumerating(self):
        names = ["axis%d" % i for i in range(10)]
        grid = hpreg.product(**{name: list(range(10)) for name in names})
        registry = _CountingRegistry(names)
        checked = validate(grid, registry)
        assert registry.lookups == 100  # each axis value once, not 10**10 points
        assert len(checked) == 10**10
        assert checked[-1] == {name: 9 for name in names}
        assert checked[12345] == grid[12345]
        assert registry.lookups == 100  # drawing points checks no static value again

    def test_a_bad_value_deep_in_a_huge_grid_is_found_at_once(self):
        names = ["axis%d" % i for i in range(10)]
        axes = {name: list(range(10)) for name in names}
        axes["axis9"] = list(range(9)) + [10]
        with pytest.raises(HintViolationError) as info:
            validate(hpreg.product(**axes), _CountingRegistry(names))
        assert info.value.name == "axis9"
        assert info.value.value == 10

    def test_the_managers_sweep_method(self, hp):
        sweep = hpreg.product(lr=[0.1, 0.2], n_layers=[2, 4])
        checked = hp.sweep(sweep)
        assert isinstance(checked, ValidatedSweep)
        assert list(checked) == list(sweep)
        with pytest.raises(UnknownHyperparameterError):
            hp.sweep(hpreg.product(depth=[1]))
        assert hpreg.validate is validate


class TestAsDrawn:
    def test_derived_values_are_checked_point_by_point(self, hp):
        sweep = hpreg.product(n_layers=[1, 2, 3]).derive(
            **{"model.width": lambda p: 64 * (p["n_layers"] - 1)}
        )
        checked = validate(sweep, hp)  # nothing drawn yet: no error
        assert checked[1] == {"n_layers": 2, "model.width": 64}
        with pytest.raises(HintViolationError) as info:
            checked[0]
        assert str(info.value).startswith(
            "sweep: model.width: 0 for 'model.width' is below its low bound 1"
        )
        drawn = iter(checked)
        with pytest.raises(HintViolationError):
            next(drawn)

    def test_derived_types_are_checked_and_converted(self, hp):
        sweep = hpreg.product(n_layers=[1, 2]).derive(lr=lambda p: p["n_layers"] - 1)
        assert list(validate(sweep, hp)) == [
            {"n_layers": 1, "lr": 0.0},
            {"n_layers": 2, "lr": 1.0},
        ]
        assert all(type(p["lr"]) is float for p in validate(sweep, hp))
        bad = hpreg.product(n_layers=[1]).derive(optimizer=lambda p: 3)
        with pytest.raises(ValueTypeError):
            list(validate(bad, hp))

    def test_filtered_points_are_not_checked(self, hp):
        sweep = (
            hpreg.product(n_layers=[1, 2, 3])
            .derive(**{"model.width": lambda p: p["n_layers"] - 1})
            .where(lambda p: p["model.width"] >= 1)
        )
        assert list(validate(sweep, hp)) == [
            {"n_layers": 2, "model.width": 1},
            {"n_layers": 3, "model.width": 2},
        ]

    def test_function_sweeps_are_checked_as_drawn(self, hp):
        calls = []

        def configure():
            calls.append(1)
            return [{"n_layers": 2}, {"n_layers": 0}]

        checked = validate(hpreg.from_function(configure), hp)
        assert checked[0] == {"n_layers": 2}
        with pytest.raises(HintViolationError):
            list(checked)
        assert calls == [1]

    def test_function_points_as_pairs(self, hp):
        sweep = hpreg.from_function(lambda: [[("lr", 0.5)], {"lr": 0.2}.items()])
        assert list(validate(sweep, hp)) == [{"lr": 0.5}, {"lr": 0.2}]

    def test_shards_and_samples_of_a_checked_sweep(self, hp):
        checked = validate(hpreg.product(n_layers=range(1, 101)), hp)
        shards = [list(checked.shard(k, 3)) for k in range(3)]
        assert sorted(p["n_layers"] for s in shards for p in s) == list(range(1, 101))
        drawn = list(checked.sample(10, seed=4))
        assert drawn == list(checked.sample(10, seed=4))
        assert len({p["n_layers"] for p in drawn}) == 10


class TestOverride:
    def test_command_line_over_a_file(self, hp):
        base = hpreg.product(n_layers=[1, 2], optimizer=["sgd", "adam"])
        top = hpreg.product(n_layers=[3, 4])
        assert list(validate(hpreg.override(base, top), hp)) == [
            {"n_layers": 3, "optimizer": "sgd"},
            {"n_layers": 3, "optimizer": "adam"},
            {"n_layers": 4, "optimizer": "sgd"},
            {"n_layers": 4, "optimizer": "adam"},
        ]

    def test_top_values_are_checked(self, hp):
        base = hpreg.product(n_layers=[1, 2])
        with pytest.raises(HintViolationError):
            validate(hpreg.override(base, hpreg.product(n_layers=[0])), hp)

    def test_base_values_the_top_replaces_are_not_checked(self, hp):
        # the file's n_layers=0 never reaches a point: the command line sets it
        base = hpreg.product(n_layers=[0, 2], lr=[0.1])
        checked = validate(hpreg.override(base, hpreg.product(n_layers=[3])), hp)
        assert list(checked) == [{"n_layers": 3, "lr": 0.1}]
        table = hpreg.table(("n_layers", "lr"), [(0, 0.1), (2, 0.2)])
        checked = validate(hpreg.override(table, hpreg.product(n_layers=3)), hp)
        assert list(checked) == [
            {"n_layers": 3, "lr": 0.1},
            {"n_layers": 3, "lr": 0.2},
        ]

    def test_base_values_the_top_does_not_always_replace_are_checked(self, hp):
        base = hpreg.product(n_layers=[0, 2])
        top = hpreg.union(hpreg.product(n_layers=3), hpreg.product(lr=0.5))
        with pytest.raises(HintViolationError) as info:
            validate(hpreg.override(base, top), hp)
        assert info.value.value == 0


class TestCheckPoint:
    def test_a_good_point_comes_back_converted(self, hp):
        assert check_point({"lr": 1, "n_layers": 2}, hp) == {"lr": 1.0, "n_layers": 2}

    @pytest.mark.parametrize(
        "point, error_type",
        [
            ({"lr": 2.0}, HintViolationError),
            ({"n_layers": True}, ValueTypeError),
            ({"n_layer": 2}, UnknownHyperparameterError),
        ],
    )
    def test_bad_points(self, hp, point, error_type):
        with pytest.raises(error_type):
            check_point(point, hp)

    def test_source(self, hp):
        with pytest.raises(UnknownHyperparameterError) as info:
            check_point({"lrr": 1.0}, hp, source="point.yaml")
        assert str(info.value).startswith("point.yaml: lrr: unknown hyperparameter")


class TestScopedOverride:
    def test_values_apply_inside_and_are_restored_after(self, hp):
        with hp.override({"lr": 0.5, "n_layers": 8}) as manager:
            assert manager is hp
            assert hp.get_value("lr") == 0.5
            assert hp.get_value("n_layers") == 8
            assert hp.provenance("lr").source == "sweep"
        assert hp.get_value("lr") == 0.1
        assert hp.get_value("n_layers") == 4
        assert hp.provenance("lr").source == "default"

    def test_restored_when_the_body_raises(self, hp):
        with pytest.raises(RuntimeError):
            with hp.override({"lr": 0.5}):
                raise RuntimeError("training failed")
        assert hp.get_value("lr") == 0.1
        assert hp.provenance("lr").source == "default"

    def test_a_value_set_before_comes_back(self, hp):
        hp.set_value("lr", 0.3)
        with hp.override({"lr": 0.5, "optimizer": "adam"}):
            assert hp.get_values()["lr"] == 0.5
        assert hp.get_value("lr") == 0.3
        assert hp.provenance("lr").source != "sweep"
        assert hp.get_value("optimizer") == "sgd"

    def test_nested_overrides(self, hp):
        with hp.override({"lr": 0.5}):
            with hp.override({"lr": 0.7}):
                assert hp.get_value("lr") == 0.7
            assert hp.get_value("lr") == 0.5
        assert hp.get_value("lr") == 0.1

    def test_every_point_of_a_checked_sweep(self, hp):
        seen = []
        for point in hp.sweep(hpreg.product(lr=[0.2, 0.4], n_layers=[2])):
            with hp.override(point):
                seen.append((hp.get_value("lr"), hp.get_value("n_layers")))
        assert seen == [(0.2, 2), (0.4, 2)]
        assert hp.get_value("lr") == 0.1

    def test_a_name_without_a_default_is_unset_after(self):
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source('_("free")\n', "a.py")
        with manager.override({"free": 3}):
            assert manager.get_value("free") == 3
        assert isinstance(manager.get_value("free", raise_exception=False), EmptyValue)
