"""Sweep files (YAML and file.py:function) and the one YAML/JSON loader they use."""

import json
import math
import os
import sys
import textwrap

import pytest
import yaml

import hpreg

from hpreg.io.files import (
    HpregLoader,
    dump_values_file,
    dump_yaml,
    load_values_file,
    load_yaml_file,
    load_yaml_text,
)
from hpreg.errors import (
    ExpressionError,
    SweepError,
    SweepFileError,
    UnknownHyperparameterError,
    ValuesFileError,
)
from hpreg.sweep.file import flatten_values, load_sweep, parse_sweep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def sweep_of(text, source="sweep.yaml", base_dir=None):
    return parse_sweep(load_yaml_text(textwrap.dedent(text)), source, base_dir)


def points_of(text, **kwargs):
    return list(sweep_of(text, **kwargs))


def error_of(text, error=SweepFileError, **kwargs):
    with pytest.raises(error) as info:
        list(sweep_of(text, **kwargs))
    return info.value


# -- the YAML loader ---------------------------------------------------------------------
YAML_1_2_SCALARS = [
    ("1e-3", 1e-3),
    ("1E3", 1000.0),
    ("1e3", 1000.0),
    (".5", 0.5),
    ("-2.5e-4", -2.5e-4),
    ("+1.5", 1.5),
    ("1.", 1.0),
    ("3", 3),
    ("-3", -3),
    ("010", 10),
    ("0o17", 15),
    ("0x1F", 31),
    ("true", True),
    ("True", True),
    ("TRUE", True),
    ("false", False),
    ("False", False),
    ("yes", "yes"),
    ("no", "no"),
    ("on", "on"),
    ("off", "off"),
    ("y", "y"),
    ("n", "n"),
    ("Yes", "Yes"),
    ("null", None),
    ("~", None),
    ("", None),
    ("1_000", "1_000"),
    ("1:30", "1:30"),
    ("0b101", "0b101"),
    ("2024-01-01", "2024-01-01"),
    ("=", "="),
    ("abc", "abc"),
    ("'010'", "010"),
    ('"1e3"', "1e3"),
    ("[1, 2]", [1, 2]),
    ("{a: 1}", {"a": 1}),
]


class TestYamlLoader:
    @pytest.mark.parametrize("text, expected", YAML_1_2_SCALARS)
    def test_yaml_1_2_scalars(self, text, expected):
        value = load_yaml_text("v: " + text)["v"]
        assert value == expected
        assert type(value) is type(expected)

    def test_special_floats(self):
        data = load_yaml_text("a: .inf\nb: -.Inf\nc: .NaN")
        assert data["a"] == math.inf and data["b"] == -math.inf
        assert math.isnan(data["c"])

    def test_is_a_safe_loader(self):
        assert issubclass(HpregLoader, yaml.SafeLoader)
        with pytest.raises(ValuesFileError) as info:
            load_yaml_text("a: !!python/object/apply:os.system ['true']", "x.yaml")
        assert "could not determine a constructor" in str(info.value)
        assert str(info.value).startswith("x.yaml:1:4: invalid YAML: ")

    def test_the_base_loader_is_untouched(self):
        assert yaml.safe_load("a: no")["a"] is False

    def test_syntax_error_names_file_line_and_column(self, tmp_path):
        path = tmp_path / "bad.yaml"
        path.write_text("a: 1\nb: [1, 2\n")
        with pytest.raises(ValuesFileError) as info:
            load_yaml_file(path)
        error = info.value
        assert str(error).startswith("{}:3:1: invalid YAML: ".format(path))
        assert str(error).endswith("; fix the file's syntax")
        assert (error.path, error.line, error.column) == (str(path), 3, 1)
        assert error.__cause__ is None and error.__suppress_context__

    def test_mapping_values_error(self):
        with pytest.raises(ValuesFileError) as info:
            load_yaml_text("a: b: c\n", "x.yaml")
        assert str(info.value) == (
            "x.yaml:1:5: invalid YAML: mapping values are not allowed here; "
            "fix the file's syntax"
        )

    def test_duplicate_keys_are_refused(self):
        with pytest.raises(ValuesFileError) as info:
            load_yaml_text("lr: 1\nn: 2\nlr: 3\n", "hp.yaml")
        assert str(info.value) == (
            "hp.yaml:3:1: invalid YAML: found duplicate key 'lr' (first at line 1); "
            "keep one of them"
        )

    def test_the_error_class_is_chosen_by_the_caller(self):
        with pytest.raises(SweepFileError):
            load_yaml_text("a: [", "sweep.yaml", error=SweepFileError)

    def test_missing_file(self, tmp_path):
        with pytest.raises(ValuesFileError, match="nope.yaml: file not found"):
            load_yaml_file(tmp_path / "nope.yaml")


class TestDumpYaml:
    def test_block_style_insertion_order_tuples_as_lists(self):
        text = dump_yaml({"z": 1, "a": (1, 2), "m": {"y": [3], "b": None}})
        assert text == "z: 1\na:\n- 1\n- 2\nm:\n  y:\n  - 3\n  b: null\n"

    @pytest.mark.parametrize(
        "value", ["1e3", "010", "yes", "no", "on", "true", "null", "1_000", "=", ""]
    )
    def test_strings_that_look_like_other_types_are_quoted(self, value):
        text = dump_yaml({"v": value})
        assert load_yaml_text(text)["v"] == value  # YAML 1.2 readers
        assert yaml.safe_load(text)["v"] == value  # and YAML 1.1 readers

    def test_numbers_round_trip(self):
        data = {"a": 1e-5, "b": 3, "c": -0.5, "d": 1e20, "e": True, "f": math.inf}
        assert load_yaml_text(dump_yaml(data)) == data

    def test_unicode_is_kept(self):
        assert dump_yaml({"name": "café"}) == "name: café\n"


class TestValuesFiles:
    @pytest.mark.parametrize("ext", [".yaml", ".yml", ".json"])
    def test_round_trip(self, tmp_path, ext):
        path = tmp_path / ("hp" + ext)
        data = {"lr": 1e-3, "sizes": (1, 2), "model": {"act": "no", "width": 64}}
        dump_values_file(path, data)
        assert load_values_file(path) == {
            "lr": 1e-3,
            "sizes": [1, 2],
            "model": {"act": "no", "width": 64},
        }
        assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]

    def test_json_is_json(self, tmp_path):
        path = tmp_path / "hp.json"
        dump_values_file(path, {"b": 1, "a": [1, 2]})
        assert json.loads(path.read_text()) == {"b": 1, "a": [1, 2]}
        assert list(json.loads(path.read_text())) == ["b", "a"]

    def test_overwrites(self, tmp_path):
        path = tmp_path / "hp.yaml"
        dump_values_file(path, {"a": 1})
        dump_values_file(path, {"a": 2})
        assert load_values_file(path) == {"a": 2}

    def test_empty_yaml_is_an_empty_mapping(self, tmp_path):
        path = tmp_path / "hp.yaml"
        path.write_text("# nothing yet\n")
        assert load_values_file(path) == {}

    @pytest.mark.parametrize("name", ["hp.toml", "hp"])
    def test_unknown_extension(self, tmp_path, name):
        with pytest.raises(ValuesFileError) as info:
            load_values_file(tmp_path / name)
        ext = ".toml" if name.endswith(".toml") else "(none)"
        assert str(info.value) == (
            "{}: unsupported extension {!r}; use .yaml, .yml or .json".format(
                tmp_path / name, ext
            )
        )
        with pytest.raises(ValuesFileError, match="unsupported extension"):
            dump_values_file(tmp_path / name, {})

    def test_invalid_json(self, tmp_path):
        path = tmp_path / "hp.json"
        path.write_text('{"a": 1,\n "b": }')
        with pytest.raises(ValuesFileError) as info:
            load_values_file(path)
        assert str(info.value) == (
            "{}:2:7: invalid JSON: Expecting value; fix the file's syntax".format(path)
        )
        assert (info.value.line, info.value.column) == (2, 7)

    def test_not_a_mapping(self, tmp_path):
        path = tmp_path / "hp.yaml"
        path.write_text("- 1\n- 2\n")
        with pytest.raises(ValuesFileError) as info:
            load_values_file(path)
        assert str(info.value) == (
            "{}: a values file must be a mapping of names to values, not list; "
            "write one 'name: value' per line".format(path)
        )

    def test_missing(self, tmp_path):
        with pytest.raises(ValuesFileError) as info:
            load_values_file(tmp_path / "hp.json")
        assert str(info.value) == "{}: file not found; check the path".format(
            tmp_path / "hp.json"
        )

    def test_flatten_values(self):
        assert flatten_values({"a": 1, "model": {"width": 64, "opt": {"lr": 0.1}}}) == {
            "a": 1,
            "model.width": 64,
            "model.opt.lr": 0.1,
        }
        assert flatten_values({"m": {}}) == {"m": {}}


# -- the examples ---------------------------------------------------------------
class TestTransformerExample:
    @pytest.fixture(name="sweep")
    def fixture_sweep(self):
        return load_sweep(os.path.join(EXAMPLES, "transformer", "sweep.yaml"))

    def test_count(self, sweep):
        # lr 2 x union (4*3 + 3*3) x table 2 x dropout 2; the where keeps them all
        assert len(list(sweep)) == 2 * 21 * 2 * 2 == 168

    def test_len_is_refused_because_of_where(self, sweep):
        with pytest.raises(TypeError):
            len(sweep)

    def test_first_points(self, sweep):
        points = list(sweep)
        assert points[0] == {
            "batch_size": 64,
            "n_heads": 8,
            "n_steps": 100000,
            "model.dropout": 0.0,
            "model.act": "relu",
            "lr": 0.001,
            "d_ff": 2048,
            "d_model": 512,
            "n_layers": 4,
            "warmup": 1000,
            "decay": "cosine",
            "d_head": 64,
        }
        # the with-scope varies fastest, then the table, then the union
        assert [(p["warmup"], p["model.dropout"]) for p in points[:4]] == [
            (1000, 0.0),
            (1000, 0.1),
            (4000, 0.0),
            (4000, 0.1),
        ]
        assert points[4]["n_layers"] == 6

    def test_last_point(self, sweep):
        assert list(sweep)[-1] == {
            "batch_size": 64,
            "n_heads": 8,
            "n_steps": 100000,
            "model.dropout": 0.1,
            "model.act": "relu",
            "lr": 0.0003,
            "d_ff": 4096,
            "d_model": 2048,
            "n_layers": 8,
            "warmup": 4000,
            "decay": "linear",
            "d_head": 256,
        }

    def test_include_values_lose_to_the_sweep(self, sweep):
        points = list(sweep)
        assert {p["model.act"] for p in points} == {"relu"}  # base.yaml says gelu
        assert {p["model.dropout"] for p in points} == {0.0, 0.1}
        assert all(p["n_heads"] == 8 for p in points)

    def test_derive_and_where(self, sweep):
        points = list(sweep)
        assert all(p["d_head"] == p["d_model"] // 8 for p in points)
        assert all(p["d_model"] <= p["d_ff"] for p in points)


class TestOptimizersExample:
    @pytest.fixture(name="sweep")
    def fixture_sweep(self):
        return load_sweep(os.path.join(EXAMPLES, "optimizers", "sweep.yaml"))

    def test_45_points_cheaply(self, sweep):
        assert len(sweep) == 45
        assert len(list(sweep)) == 45

    def test_points(self, sweep):
        points = list(sweep)
        assert points[0] == {
            "x0": [-0.5, -0.5],
            "method.name": "nelder-mead",
            "method.options.maxfev": 10,
            "output_path": "results/nelder-mead-10.pickle",
        }
        assert points[1] == {
            "x0": [-0.5, -0.5],
            "method.name": "tnc",
            "method.options.eta": 0.5,
            "method.options.maxfun": 10,
            "output_path": "results/tnc-10.pickle",
        }
        assert points[2] == {
            "x0": [-0.5, -0.5],
            "method.name": "lbfgsb",
            "jac": "2-point",
            "method.options.maxfun": 10,
            "output_path": "results/lbfgsb-10.pickle",
        }
        assert points[3]["output_path"] == "results/nelder-mead-20.pickle"
        assert points[-1]["output_path"] == "results/lbfgsb-150.pickle"
        assert sweep[-1] == points[-1]

    def test_sweep_variable_is_not_in_points(self, sweep):
        assert all("maxfun" not in p for p in sweep)

    def test_every_budget_for_every_method(self, sweep):
        paths = [p["output_path"] for p in sweep]
        assert len(set(paths)) == 45
        for method in ("nelder-mead", "tnc", "lbfgsb"):
            budgets = [
                int(p[len("results/" + method) + 1 : -7])
                for p in paths
                if p.startswith("results/" + method + "-")
            ]
            assert budgets == list(range(10, 151, 10))


# -- the format --------------------------------------------------------------------------
class TestFormat:
    def test_names_form_an_implicit_product_in_written_order(self):
        assert points_of("a: [1, 2]\nb: [x, y]\nc: 0") == [
            {"a": 1, "b": "x", "c": 0},
            {"a": 1, "b": "y", "c": 0},
            {"a": 2, "b": "x", "c": 0},
            {"a": 2, "b": "y", "c": 0},
        ]

    def test_names_beside_nodes_keep_their_place(self):
        points = points_of(
            """
            a: [1, 2]
            union: [{b: 1}, {b: 2}]
            c: [3, 4]
            """
        )
        assert [(p["a"], p["b"], p["c"]) for p in points][:3] == [
            (1, 1, 3),
            (1, 1, 4),
            (1, 2, 3),
        ]
        assert len(points) == 8

    def test_a_mapping_under_a_name_nests_dotted_names(self):
        assert points_of("model: {width: [64, 128], depth: 2}\nlr: 0.1") == [
            {"model.width": 64, "model.depth": 2, "lr": 0.1},
            {"model.width": 128, "model.depth": 2, "lr": 0.1},
        ]

    @pytest.mark.parametrize(
        "text, first",
        [
            ("net: {width: [64, 128]}", {"net.width": 64}),
            ("label: {smoothing: [0.0, 0.1]}", {"label.smoothing": 0.0}),
            ("uniform: {low: [0, 1]}", {"uniform.low": 0}),
            ("unit: {size: [1, 2]}", {"unit.size": 1}),
            ("production: {a: [1, 2]}", {"production.a": 1}),
            ("tables: {n: [1, 2]}", {"tables.n": 1}),
            ("unet: [true, false]", {"unet": True}),
        ],
    )
    def test_names_close_to_reserved_keys_are_names(self, text, first):
        points = points_of(text)
        assert len(points) == 2 and points[0] == first

    def test_nested_mapping_may_hold_nodes(self):
        points = points_of(
            """
            model:
              union: [{width: 1}, {depth: 2}]
              derive: {tag: "'m'"}
            """
        )
        assert points == [
            {"model.width": 1, "model.tag": "m"},
            {"model.depth": 2, "model.tag": "m"},
        ]

    def test_value_fixes_a_list_or_a_mapping(self):
        assert points_of("x0: {value: [-0.5, -0.5]}\nopts: {value: {eta: 0.5}}") == [
            {"x0": [-0.5, -0.5], "opts": {"eta": 0.5}}
        ]

    def test_an_axis_of_lists(self):
        assert points_of("sizes: [[1, 2], [3]]") == [{"sizes": [1, 2]}, {"sizes": [3]}]

    def test_range_strings_are_axes(self):
        assert [p["n"] for p in points_of("n: 'range(10, 151, 10)'")] == list(
            range(10, 151, 10)
        )
        assert [p["lr"] for p in points_of("lr: range(0.1, 0.5, 0.1)")] == [
            0.1,
            0.2,
            0.3,
            0.4,
        ]
        assert [p["k"] for p in points_of("k: range(3)")] == [0, 1, 2]

    def test_big_int_ranges_stay_lazy(self):
        sweep = sweep_of("a: range(1000000)\nb: range(1000000)")
        assert len(sweep) == 10**12
        assert sweep[-1] == {"a": 999999, "b": 999999}

    def test_other_strings_are_values(self):
        assert points_of("act: relu\nname: ranger(1)") == [
            {"act": "relu", "name": "ranger(1)"}
        ]

    def test_explicit_product_with_a_mapping(self):
        assert points_of("product: {a: [1, 2], b: 3}") == [
            {"a": 1, "b": 3},
            {"a": 2, "b": 3},
        ]

    def test_union_keeps_order_and_repeats(self):
        assert points_of("union: [{a: 1}, {a: [1, 2]}]") == [
            {"a": 1},
            {"a": 1},
            {"a": 2},
        ]

    def test_union_of_a_mapping_takes_each_entry_alone(self):
        # Hyperion's "union: d_model: [...] d_ff: [...]"
        points = points_of(
            """
            n_layers: [4, 6]
            union:
              d_model: [512, 1024]
              d_ff: [2048]
            """
        )
        assert points == [
            {"n_layers": 4, "d_model": 512},
            {"n_layers": 4, "d_model": 1024},
            {"n_layers": 4, "d_ff": 2048},
            {"n_layers": 6, "d_model": 512},
            {"n_layers": 6, "d_model": 1024},
            {"n_layers": 6, "d_ff": 2048},
        ]

    def test_table(self):
        points = points_of(
            """
            product:
              - table:
                  columns: [d_model, d_ff, n_layers]
                  rows: [[512, 2048, 4], [1024, 4096, 6]]
              - n_heads: [2, 4, 8]
            """
        )
        assert len(points) == 6
        assert points[0] == {"d_model": 512, "d_ff": 2048, "n_layers": 4, "n_heads": 2}
        assert points[3] == {"d_model": 1024, "d_ff": 4096, "n_layers": 6, "n_heads": 2}

    def test_table_values_are_values(self):
        assert points_of("table: {columns: [a], rows: [[[1, 2]]]}") == [{"a": [1, 2]}]

    def test_with_prefixes_every_name(self):
        points = points_of(
            """
            with model:
              union:
                - table: {columns: [d_model, d_ff], rows: [[512, 2048]]}
                - n_heads: [2, 4]
              with encoder:
                depth: 3
            """
        )
        assert points == [
            {"model.d_model": 512, "model.d_ff": 2048, "model.encoder.depth": 3},
            {"model.n_heads": 2, "model.encoder.depth": 3},
            {"model.n_heads": 4, "model.encoder.depth": 3},
        ]

    def test_with_a_list_is_a_product(self):
        assert points_of("with m: [{x: [1, 2]}, {y: 3}]") == [
            {"m.x": 1, "m.y": 3},
            {"m.x": 2, "m.y": 3},
        ]

    def test_derive_in_a_scope_reads_scoped_names_first(self):
        points = points_of(
            """
            width: 1000
            scale: 3
            with model:
              width: [1, 2]
              derive: {depth: "width * scale"}
            """
        )
        assert [p["model.depth"] for p in points] == [3, 6]

    def test_let_in_a_scope(self):
        points = points_of(
            """
            with model:
              let: {k: [1, 2]}
              derive: {width: "k * 64"}
            """
        )
        assert points == [{"model.width": 64}, {"model.width": 128}]

    def test_derive_literals_nested_names_and_order(self):
        points = points_of(
            """
            a: [1, 2]
            derive:
              b: 3
              c: {value: relu}
              d: {e: "a * 10"}
              f: "d.e + b"
            """
        )
        assert points == [
            {"a": 1, "b": 3, "c": "relu", "d.e": 10, "f": 13},
            {"a": 2, "b": 3, "c": "relu", "d.e": 20, "f": 23},
        ]

    def test_derive_and_where_on_inner_nodes(self):
        points = points_of(
            """
            union:
              - {d: [1, 2, 3], where: "d != 2"}
              - {e: [1], derive: {f: "e + 1"}}
            """
        )
        assert points == [{"d": 1}, {"d": 3}, {"e": 1, "f": 2}]

    def test_where_reads_earlier_factors(self):
        points = points_of(
            """
            product:
              - a: [1, 2, 3]
              - b: [1, 2, 3]
                where: "a < b"
            """
        )
        assert points == [{"a": 1, "b": 2}, {"a": 1, "b": 3}, {"a": 2, "b": 3}]

    def test_unique(self):
        assert points_of("union: [{a: [1, 2]}, {a: [2, 3]}]\nunique: true") == [
            {"a": 1},
            {"a": 2},
            {"a": 3},
        ]
        assert len(points_of("union: [{a: 1}, {a: 1}]\nunique: false")) == 2

    def test_let_with_a_list_and_a_fixed_value(self):
        points = points_of(
            """
            let: {k: [1, 2], base: 10}
            derive: {n: "k * base"}
            """
        )
        assert points == [{"n": 10}, {"n": 20}]

    def test_include_values_are_visible_to_derive_and_where(self, tmp_path):
        (tmp_path / "base.yaml").write_text("model:\n  width: 64\nlr: 0.1\n")
        (tmp_path / "sweep.yaml").write_text(
            "include: base.yaml\nlr: [0.1, 0.2]\n"
            "derive: {depth: 'model.width // 8'}\nwhere: 'lr > 0.1'\n"
        )
        assert list(load_sweep(tmp_path / "sweep.yaml")) == [
            {"model.width": 64, "lr": 0.2, "depth": 8}
        ]

    def test_include_a_list_and_json(self, tmp_path):
        (tmp_path / "a.yaml").write_text("x: 1\ny: 1\n")
        (tmp_path / "b.json").write_text('{"y": 2}')
        points = points_of("include: [a.yaml, b.json]\nz: 3", base_dir=str(tmp_path))
        assert points == [{"x": 1, "y": 2, "z": 3}]

    def test_include_values_have_key_paths_for_validation(self, tmp_path):
        (tmp_path / "a.yaml").write_text("x: 1\nmodel: {width: 2}\n")
        (tmp_path / "b.yaml").write_text("y: 2\n")
        sweep = sweep_of("include: a.yaml\nz: 3", base_dir=str(tmp_path))
        assert sweep.origin == {"x": "include.x", "model.width": "include.model.width"}
        sweep = sweep_of("include: [a.yaml, b.yaml]\nz: 3", base_dir=str(tmp_path))
        assert sweep.origin["y"] == "include[1].y"
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source('_("x", 0)\n_("y", 0)\n_("z", 0)\n', "train.py")
        with pytest.raises(UnknownHyperparameterError) as info:
            hpreg.validate(sweep, manager, source="sweep.yaml")
        assert str(info.value).startswith(
            "sweep.yaml: include[0].model.width: unknown hyperparameter 'model.width'"
        )

    def test_include_only(self, tmp_path):
        (tmp_path / "base.yaml").write_text("x: 1\n")
        assert points_of("include: base.yaml", base_dir=str(tmp_path)) == [{"x": 1}]

    def test_json_sweep_file(self, tmp_path):
        path = tmp_path / "sweep.json"
        path.write_text('{"a": [1, 2], "derive": {"b": "a * 2"}}')
        assert list(load_sweep(str(path))) == [{"a": 1, "b": 2}, {"a": 2, "b": 4}]

    def test_yaml_1_2_in_sweep_files(self):
        assert points_of("lr: [1e-3, 1E-4]\nflag: no\nn: 010") == [
            {"lr": 0.001, "flag": "no", "n": 10},
            {"lr": 0.0001, "flag": "no", "n": 10},
        ]

    def test_repr_shows_the_expressions(self):
        text = repr(sweep_of("a: [1]\nderive: {b: 'a + 1'}\nwhere: 'b > 0'"))
        assert "expr('a + 1')" in text and "expr('b > 0')" in text


MULTILAYER = """
import itertools

def configure():
    sweep = []
    for num_layers in range(1, 4):
        for num_hidden in itertools.product((32, 64), repeat=num_layers):
            sweep.append({
                "num_layers": num_layers,
                "num_hidden": list(num_hidden),
            }.items())
    return sweep

def not_points():
    return 3

def bad_point():
    return [3]

def uses_neighbour():
    import neighbour
    return [{"n": neighbour.N}]

CONSTANT = 3

def fails():
    raise RuntimeError("no GPU here")

def fails_half_way():
    yield {"a": 1}
    raise KeyError("b")

def takes_an_argument(n):
    return [{"n": n}]

def has_a_default(n=2):
    return [{"n": n}]
"""


class TestFunctionSweeps:
    @pytest.fixture(name="config")
    def fixture_config(self, tmp_path):
        folder = tmp_path / "config"
        folder.mkdir()
        (folder / "multilayer.py").write_text(MULTILAYER)
        (folder / "neighbour.py").write_text("N = 7\n")
        return folder

    def test_the_python_sweeper_example(self, config):
        sweep = load_sweep("{}:configure".format(config / "multilayer.py"))
        points = list(sweep)
        assert len(sweep) == len(points) == 14
        assert points[0] == {"num_layers": 1, "num_hidden": [32]}
        assert points[2] == {"num_layers": 2, "num_hidden": [32, 32]}
        assert points[-1] == {"num_layers": 3, "num_hidden": [64, 64, 64]}

    def test_the_file_may_import_its_neighbours(self, config):
        path = "{}:uses_neighbour".format(config / "multilayer.py")
        try:
            assert list(load_sweep(path)) == [{"n": 7}]
        finally:
            sys.modules.pop("neighbour", None)
        assert str(config) not in sys.path

    def test_missing_function_with_did_you_mean(self, config):
        path = config / "multilayer.py"
        with pytest.raises(SweepFileError) as info:
            load_sweep("{}:confgure".format(path))
        assert str(info.value) == (
            "{0}:confgure: no function 'confgure' in {0}; did you mean "
            "'configure'?".format(path)
        )
        assert info.value.suggestions == ["configure"]
        assert (info.value.path, info.value.key) == (str(path), "confgure")

    def test_missing_function_without_close_match(self, config):
        with pytest.raises(SweepFileError, match="; define def zzz\\(\\): returning"):
            load_sweep("{}:zzz".format(config / "multilayer.py"))

    def test_not_a_function(self, config):
        path = config / "multilayer.py"
        with pytest.raises(SweepFileError) as info:
            load_sweep("{}:CONSTANT".format(path))
        assert str(info.value) == (
            "{}:CONSTANT: 'CONSTANT' is int 3, not a function; name a function "
            "returning points".format(path)
        )

    def test_bad_return_values_name_the_function(self, config):
        path = config / "multilayer.py"
        with pytest.raises(SweepFileError) as info:
            load_sweep("{}:not_points".format(path))
        assert str(info.value).startswith("{}:not_points: returned 3; ".format(path))
        with pytest.raises(SweepFileError) as info:
            load_sweep("{}:bad_point".format(path))
        assert str(info.value).startswith("{}:bad_point: point 0 is 3".format(path))

    def test_an_error_in_the_function_names_it(self, config):
        path = config / "multilayer.py"
        with pytest.raises(SweepFileError) as info:
            load_sweep("{}:fails".format(path))
        assert str(info.value) == (
            "{}:fails: raised RuntimeError: no GPU here; fix the sweep function's "
            "file (HPREG_DEBUG=1 shows the traceback)".format(path)
        )
        assert isinstance(info.value.__cause__, RuntimeError)
        assert (info.value.path, info.value.key) == (str(path), "fails")
        with pytest.raises(SweepFileError, match=r":fails_half_way: raised KeyError"):
            load_sweep("{}:fails_half_way".format(path))

    def test_an_error_when_the_file_runs_names_the_file(self, tmp_path):
        path = tmp_path / "imports.py"
        path.write_text("import no_such_module_here\ndef f():\n    return []\n")
        with pytest.raises(SweepFileError) as info:
            load_sweep("{}:f".format(path))
        assert str(info.value).startswith(
            "{}: raised ModuleNotFoundError: No module named "
            "'no_such_module_here'; ".format(path)
        )

    def test_a_function_taking_arguments(self, config):
        path = config / "multilayer.py"
        with pytest.raises(SweepFileError) as info:
            load_sweep("{}:takes_an_argument".format(path))
        assert str(info.value) == (
            "{}:takes_an_argument: 'takes_an_argument' takes arguments; a sweep "
            "function takes none and returns points".format(path)
        )
        assert list(load_sweep("{}:has_a_default".format(path))) == [{"n": 2}]

    def test_py_file_without_function(self, config):
        path = config / "multilayer.py"
        with pytest.raises(SweepFileError) as info:
            load_sweep(str(path))
        assert str(info.value) == (
            "{0}: a Python sweep names its function; write {0}:FUNCTION".format(path)
        )

    def test_missing_py_file(self, tmp_path):
        with pytest.raises(SweepFileError) as info:
            load_sweep("{}:f".format(tmp_path / "nope.py"))
        assert str(info.value) == "{}: file not found; check the path".format(
            tmp_path / "nope.py"
        )

    def test_syntax_error_in_the_py_file(self, tmp_path):
        path = tmp_path / "broken.py"
        path.write_text("x = 1\ndef f(:\n")
        with pytest.raises(SweepFileError) as info:
            load_sweep("{}:f".format(path))
        assert str(info.value).startswith("{}:2:7: ".format(path))
        assert str(info.value).endswith("; fix the sweep function's file")
        assert info.value.line == 2


# -- errors ------------------------------------------------------------------------------
SWEEP_FILE_ERRORS = [
    # (sweep text, key, message after "sweep.yaml: ")
    (
        "product:\n  - lr: [1]\n  - union:\n      - {d_model: []}\n",
        "product[1].union[0].d_model",
        "product[1].union[0].d_model: empty list of values; give at least one "
        "value, or write {value: []} for an empty list",
    ),
    (
        "prodcut: [{a: 1}]",
        "prodcut",
        "prodcut: unknown key 'prodcut'; did you mean 'product'? (reserved keys: "
        "product, union, table, let, derive, where, unique, include, with NAME)",
    ),
    (
        "Union: [{a: 1}]",
        "Union",
        "Union: unknown key 'Union'; reserved keys are lower case: did you mean "
        "'union'?",
    ),
    (
        "a: 1\ndrive: {b: a}",
        "drive",
        "drive: unknown key 'drive'; did you mean 'derive'?",
    ),
    (
        "a: [1]\nwher: 'a > 1'",
        "wher",
        "wher: unknown key 'wher'; did you mean 'where'?",
    ),
    (
        "uniqe: true\na: 1",
        "uniqe",
        "uniqe: unknown key 'uniqe'; did you mean 'unique'?",
    ),
    (
        "includ: base.yaml",
        "includ",
        "includ: unknown key 'includ'; did you mean 'include'?",
    ),
    (
        "with: {a: 1}",
        "with",
        "with: 'with' needs exactly one name after 'with'; write 'with model:' to "
        "prefix the names inside with 'model.'",
    ),
    ("with a b: {a: 1}", "with a b", "with a b: 'with a b' needs exactly one name"),
    (
        "tabel: {columns: [a], rows: [[1]]}",
        "tabel",
        "tabel: unknown key 'tabel'; did you mean 'table'?",
    ),
    ("unoin: {a: [1], b: [2]}", "unoin", "unoin: unknown key 'unoin'; did you mean"),
    ("lets: {k: [1, 2]}", "lets", "lets: unknown key 'lets'; did you mean 'let'?"),
    (
        "With model: {a: 1}",
        "With model",
        "With model: unknown key 'With model'; reserved keys are lower case: write "
        "'with model'",
    ),
    (
        "wiht model: {a: 1}",
        "wiht model",
        "wiht model: unknown key 'wiht model' (names cannot contain spaces); write "
        "a hyperparameter name, or 'with NAME' for a prefix",
    ),
    (
        "product: [{1: 2}]",
        "product[0]",
        "product[0]: key 1 is not a name; hyperparameter names are strings "
        "(quote it: '1')",
    ),
    (
        "x: {value: 1, b: 2}",
        "x",
        "x: 'value' must be the only key of its mapping (also found 'b'); write "
        "{value: X} to fix a list or mapping value, or move the other names out",
    ),
    (
        "x: {}",
        "x",
        "x: empty mapping; write {value: {}} for an empty mapping value, or give "
        "nested names",
    ),
    (
        "lr: range(0.1, 0.1, 0.1)",
        "lr",
        "lr: range(0.1, 0.1, 0.1) is empty (the end is excluded); check the bounds "
        "and the step's sign",
    ),
    (
        "product: 3",
        "product",
        "product: expected a list of sweep nodes, got int 3; write a YAML list: "
        "'- name: [values]' per item",
    ),
    ("product: [3]", "product[0]", "product[0]: expected a mapping, got int 3; "),
    (
        "union: [{a: 1}, [1, 2]]",
        "union[1]",
        "union[1]: a list cannot stand here; write 'product: [...]' or "
        "'union: [...]' to combine the items",
    ),
    (
        "product:\n  - a: [1, 2]\n  - a: [3]",
        "product",
        "product: 'a' is set by two factors",
    ),
    (
        "a: [1]\nderive: {a: '1'}",
        "derive.a",
        "derive.a: 'a' is already set by the sweep it derives from; derive a new "
        "name, or drop 'a' from that sweep",
    ),
    (
        "table: {columns: [a, b], rows: [[1, 2], [3]]}",
        "table.rows[1]",
        "table.rows[1]: row has 1 values for 2 columns (a, b); give one value per "
        "column",
    ),
    (
        "table: {columns: [a, b], rows: [[1, 2], 3]}",
        "table.rows[1]",
        "table.rows[1]: expected a row (a list of 2 values), got int 3; write "
        "[v1, v2, ...] in the order of columns",
    ),
    (
        "table: {columns: [a, a], rows: [[1, 2]]}",
        "table.columns",
        "table.columns: column 'a' appears twice; keep one of them",
    ),
    (
        "table: {columns: [a, 3], rows: [[1, 2]]}",
        "table.columns[1]",
        "table.columns[1]: column 3 is not a name; write names as strings",
    ),
    (
        "table: {columns: [a, b]}",
        "table",
        "table: table without rows; write table: {columns: [a, b], rows: "
        "[[1, 2], [3, 4]]}",
    ),
    (
        "table: {columns: a, rows: []}",
        "table.columns",
        "table.columns: expected a list of names, got str 'a'",
    ),
    ("table: {columns: [a], rows: 3}", "table.rows", "table.rows: expected a list"),
    (
        "table: {columns: [a], rows: [[1]], extra: 1}",
        "table.extra",
        "table.extra: unknown key 'extra' in a table; a table takes columns, rows "
        "(and derive, where, unique)",
    ),
    (
        "table: [1, 2]",
        "table",
        "table: expected a mapping with columns and rows, got a list",
    ),
    (
        "let: [1]",
        "let",
        "let: expected a mapping of variables, got a list; write let: "
        "{maxfun: 'range(10, 151, 10)'} or let: {k: [1, 2]}",
    ),
    (
        "let: {k: {a: 1}}",
        "let.k",
        "let.k: a sweep variable takes a list, a 'range(...)' string or one "
        "value, not a mapping; write k: [v1, v2]",
    ),
    (
        "let: {k: [1]}\nk: 2",
        "",
        "'k' is set by two factors",
    ),
    (
        "a: [1]\nderive: [1]",
        "derive",
        "derive: expected a mapping of names to expressions, got a list; write "
        "derive: {d_head: 'd_model // 8'}",
    ),
    (
        "a: [1]\nwhere: 3",
        "where",
        "where: expected an expression string, got int 3; write where: "
        "'d_model <= d_ff'",
    ),
    (
        "a: [1]\nunique: yes",
        "unique",
        "unique: expected true or false, got str 'yes'; write unique: true",
    ),
    (
        "product: [{include: x.yaml}]",
        "product[0].include",
        "product[0].include: include is only allowed at the top level of a sweep "
        "file; move it to the top of the file",
    ),
    ("include: 3", "include", "include: expected the path of a values file"),
]


class TestSweepFileErrors:
    @pytest.mark.parametrize("text, key, message", SWEEP_FILE_ERRORS)
    def test_error_names_file_and_key(self, text, key, message):
        error = error_of(text, base_dir="/nonexistent")
        assert str(error).startswith(
            "sweep.yaml: " + message if key else "sweep.yaml: "
        )
        assert message in str(error)
        assert error.path == "sweep.yaml"
        assert error.key == key
        assert isinstance(error, SweepError) and isinstance(error, ValueError)

    def test_empty_file(self):
        with pytest.raises(SweepFileError) as info:
            parse_sweep(None, "sweep.yaml")
        assert str(info.value) == (
            "sweep.yaml: the sweep file is empty; write at least one "
            "'name: [values]' line"
        )

    @pytest.mark.parametrize("data, what", [([1, 2], "a list"), (3, "int 3")])
    def test_top_level_must_be_a_mapping(self, data, what):
        with pytest.raises(SweepFileError) as info:
            parse_sweep(data, "sweep.yaml")
        assert str(info.value) == (
            "sweep.yaml: a sweep file is a mapping, not {}; write name: [values] "
            "lines, or 'union:' with a list of alternatives".format(what)
        )

    def test_yaml_syntax_error(self, tmp_path):
        path = tmp_path / "sweep.yaml"
        path.write_text("a: [1, 2\nb: 3\n")
        with pytest.raises(SweepFileError) as info:
            load_sweep(path)
        assert str(info.value) == (
            "{}:2:2: invalid YAML: expected ',' or ']', but got ':' (while parsing a "
            "flow sequence); fix the file's syntax".format(path)
        )
        assert (info.value.line, info.value.column) == (2, 2)

    def test_duplicate_key(self, tmp_path):
        path = tmp_path / "sweep.yaml"
        path.write_text("a: [1, 2]\nderive: {b: a}\na: 3\n")
        with pytest.raises(SweepFileError) as info:
            load_sweep(path)
        assert str(info.value) == (
            "{}:3:1: invalid YAML: found duplicate key 'a' (first at line 1); keep "
            "one of them".format(path)
        )

    def test_missing_sweep_file(self, tmp_path):
        with pytest.raises(SweepFileError) as info:
            load_sweep(tmp_path / "nope.yaml")
        assert str(info.value) == "{}: file not found; check the path".format(
            tmp_path / "nope.yaml"
        )

    def test_missing_include(self, tmp_path):
        (tmp_path / "sweep.yaml").write_text("include: base.yaml\na: 1\n")
        path = str(tmp_path / "sweep.yaml")
        with pytest.raises(SweepFileError) as info:
            load_sweep(path)
        assert str(info.value) == (
            "{}: include: values file 'base.yaml' not found (looked for {}); the "
            "path is relative to the sweep file's folder".format(
                path, tmp_path / "base.yaml"
            )
        )
        assert (info.value.path, info.value.key) == (path, "include")

    def test_broken_include(self, tmp_path):
        (tmp_path / "base.yaml").write_text("a: [1\n")
        (tmp_path / "sweep.yaml").write_text("include: [base.yaml]\nb: 1\n")
        path = str(tmp_path / "sweep.yaml")
        with pytest.raises(SweepFileError) as info:
            load_sweep(path)
        assert str(info.value).startswith(
            "{}: include[0]: {}:2:1: invalid YAML: ".format(
                path, tmp_path / "base.yaml"
            )
        )


EXPRESSION_ERRORS = [
    (
        "a: [1]\nderive: {d_head: 'a.__class__'}",
        "derive.d_head",
        "unsupported in expression 'a.__class__': the dunder name 'a.__class__'; "
        "expressions allow",
    ),
    (
        "a: [1]\nderive: {d_head: \"open('x')\"}",
        "derive.d_head",
        "unsupported in expression \"open('x')\": calling 'open'",
    ),
    (
        "a: [1]\nderive: {d_head: \"'x'.upper()\"}",
        "derive.d_head",
        "unsupported in expression \"'x'.upper()\": method calls",
    ),
    (
        "a: [1]\nderive: {d_head: '__import__(\"os\")'}",
        "derive.d_head",
        "calling '__import__'",
    ),
    (
        "a: [1]\nwhere: 'a >'",
        "where",
        "invalid expression 'a >': invalid syntax",
    ),
    (
        "product:\n  - a: [1]\n    derive: {b: '[x for x in a]'}",
        "product[0].derive.b",
        "unsupported in expression '[x for x in a]': comprehensions",
    ),
    (
        "lr: range(a)",
        "lr",
        "'range(a)' reads 'a'; a fixed value cannot read names (use derive)",
    ),
    (
        "lr: range(0, 1, 0)",
        "lr",
        "cannot evaluate 'range(0, 1, 0)': range() arg 3 must not be zero",
    ),
]


class TestExpressionErrors:
    @pytest.mark.parametrize("text, key, message", EXPRESSION_ERRORS)
    def test_refused_when_the_file_is_read(self, text, key, message):
        with pytest.raises(ExpressionError) as info:
            sweep_of(text)
        assert str(info.value).startswith("sweep.yaml: {}: ".format(key))
        assert message in str(info.value)
        assert (info.value.path, info.value.key) == ("sweep.yaml", key)

    def test_unknown_name_when_evaluated(self):
        sweep = sweep_of("d_model: [512]\nderive: {d_head: 'd_modle // 8'}")
        with pytest.raises(ExpressionError) as info:
            list(sweep)
        assert str(info.value) == (
            "sweep.yaml: derive.d_head: unknown name 'd_modle' in 'd_modle // 8'; "
            "did you mean 'd_model'? (names available here: d_model)"
        )
        assert (info.value.path, info.value.key) == ("sweep.yaml", "derive.d_head")
        assert info.value.name == "d_modle"

    def test_failure_when_evaluated_in_a_nested_where(self):
        sweep = sweep_of("union:\n  - {a: [0], where: '1 / a'}")
        with pytest.raises(ExpressionError) as info:
            list(sweep)
        assert str(info.value).startswith(
            "sweep.yaml: union[0].where: cannot evaluate '1 / a': division by zero"
        )
        assert info.value.key == "union[0].where"

    def test_a_let_variable_is_not_visible_outside_its_product(self):
        sweep = sweep_of(
            """
            union:
              - {let: {k: [1]}, a: 1}
              - {b: 2, derive: {c: k}}
            """
        )
        with pytest.raises(ExpressionError, match="unknown name 'k'"):
            list(sweep)


def test_let_after_the_union_it_feeds(tmp_path):
    path = tmp_path / "late.yaml"
    path.write_text(
        "union:\n"
        "  - {m: a, derive: {a.budget: maxfun}}\n"
        "  - {m: b, derive: {b.budget: maxfun}}\n"
        'let: {maxfun: "range(10, 31, 10)"}\n'
    )
    points = list(hpreg.load_sweep(str(path)))
    assert points[:3] == [
        {"m": "a", "a.budget": 10},
        {"m": "a", "a.budget": 20},
        {"m": "a", "a.budget": 30},
    ]
    assert len(points) == 6
