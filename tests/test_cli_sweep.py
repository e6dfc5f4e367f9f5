"""``hpreg sweep``: count, list, sample, shard and write sweeps; validation with --scan."""

import csv
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
import yaml

import hpreg
from conftest import EXAMPLES, ROOT
from hpreg.cli import main
from hpreg.errors import HpregError, UnknownHyperparameterError
from cli_support import *  # noqa: F401,F403


def grid_file(tmp_path, name="grid.yaml"):
    path = tmp_path / name
    path.write_text("a: [1, 2]\nb: [x, y]\n", encoding="utf-8")
    return path


CONFIGURE = """\
def configure():
    for n in [1, 2, 3]:
        yield {"model.hidden": n, "optim.lr": 0.01 * n}


def as_pairs():
    return [{"a": 1}.items(), [("a", 2), ("b", "x")]]


def not_points():
    return 3
"""


class TestSweepOutput:
    @pytest.mark.parametrize(
        "path, count",
        [
            ("examples/transformer/sweep.yaml", 168),
            ("examples/optimizers/sweep.yaml", 45),
            ("examples/train/sweep.yaml", 8),
        ],
    )
    def test_count_alone(self, cli, path, count):
        assert cli("sweep", path, "--count") == (0, "{}\n".format(count), "")

    def test_count_of_a_filtered_sweep(self, cli, tmp_path):
        path = tmp_path / "s.yaml"
        path.write_text("a: [1, 2, 3, 4]\nwhere: 'a % 2 == 0'\n", encoding="utf-8")
        assert cli("sweep", path, "--count") == (0, "2\n", "")

    def test_list_one_json_point_per_line(self, cli):
        code, out, err = cli("sweep", "examples/optimizers/sweep.yaml", "--list")
        assert (code, err) == (0, "")
        points = json_lines(out)
        assert len(points) == 45
        assert points[0] == {
            "x0": [-0.5, -0.5],
            "method.name": "nelder-mead",
            "method.options.maxfev": 10,
            "output_path": "results/nelder-mead-10.pickle",
        }
        assert points[-1]["output_path"] == "results/lbfgsb-150.pickle"

    def test_list_is_the_default(self, cli, tmp_path):
        path = grid_file(tmp_path)
        assert cli("sweep", path) == cli("sweep", path, "--list")

    def test_overrides_only_first_slowest(self, cli):
        code, out, _err = cli("sweep", "a=1,2", "b=x,y", "c=range(0,2)")
        assert code == 0
        assert [tuple(p.values()) for p in json_lines(out)] == [
            (1, "x", 0),
            (1, "x", 1),
            (1, "y", 0),
            (1, "y", 1),
            (2, "x", 0),
            (2, "x", 1),
            (2, "y", 0),
            (2, "y", 1),
        ]

    def test_overrides_over_a_file(self, cli, tmp_path):
        code, out, _err = cli("sweep", grid_file(tmp_path), "a=3,4", "--list")
        assert code == 0
        assert out.splitlines() == [
            '{"a": 3, "b": "x"}',
            '{"a": 3, "b": "y"}',
            '{"a": 4, "b": "x"}',
            '{"a": 4, "b": "y"}',
        ]
        code, out, _err = cli("sweep", grid_file(tmp_path), "a=3,4", "--count")
        assert out == "4\n"

    def test_an_override_adds_a_new_name_as_the_outer_loop(self, cli, tmp_path):
        code, out, _err = cli("sweep", grid_file(tmp_path), "c=0,1", "--count")
        assert out == "8\n"
        points = json_lines(cli("sweep", grid_file(tmp_path), "c=0,1")[1])
        assert [p["c"] for p in points] == [0] * 4 + [1] * 4

    @pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
    def test_shards_partition(self, cli, n):
        everything = json_lines(cli("sweep", "a=range(0,5)", "b=x,y")[1])
        shards = [
            json_lines(cli("sweep", "a=range(0,5)", "b=x,y", "--shard", f"{k}/{n}")[1])
            for k in range(n)
        ]
        for k, shard in enumerate(shards):
            assert shard == everything[k::n]
        assert sum(len(s) for s in shards) == len(everything)
        counts = [
            cli("sweep", "a=range(0,5)", "b=x,y", "--shard", f"{k}/{n}", "--count")[1]
            for k in range(n)
        ]
        assert [int(c) for c in counts] == [len(s) for s in shards]

    def test_sample_distinct_and_reproducible(self, cli):
        argv = ["sweep", "a=range(0,10)", "b=range(0,10)", "--sample", "20"]
        first = json_lines(cli(*argv, "--seed", "3")[1])
        assert len(first) == 20
        assert len({(p["a"], p["b"]) for p in first}) == 20
        assert all(0 <= p["a"] < 10 and 0 <= p["b"] < 10 for p in first)
        assert json_lines(cli(*argv, "--seed", "3")[1]) == first
        assert json_lines(cli(*argv, "--seed", "4")[1]) != first
        assert cli(*argv, "--seed", "3", "--count")[1] == "20\n"

    def test_sample_of_a_filtered_sweep(self, cli):
        path = "examples/transformer/sweep.yaml"  # has a where: no cheap length
        everything = json_lines(cli("sweep", path)[1])
        code, out, err = cli("sweep", path, "--sample", "5", "--seed", "2")
        assert (code, err) == (0, "")
        drawn = json_lines(out)
        assert len(drawn) == 5
        assert all(point in everything for point in drawn)
        assert len({json.dumps(p, sort_keys=True) for p in drawn}) == 5
        assert (
            json_lines(cli("sweep", path, "--sample", "5", "--seed", "2")[1]) == drawn
        )
        unique = ["sweep", "a=1,1,2,2,3", "--unique", "--sample", "3", "--seed", "0"]
        assert sorted(p["a"] for p in json_lines(cli(*unique)[1])) == [1, 2, 3]

    def test_sample_of_a_huge_grid(self, cli):
        axes = ["x{}=range(0,100)".format(i) for i in range(6)]
        code, out, _err = cli("sweep", *axes, "--sample", "5", "--seed", "0")
        assert code == 0
        assert len({tuple(p.values()) for p in json_lines(out)}) == 5

    def test_unique(self, cli):
        assert json_lines(cli("sweep", "a=1,1,2", "b=x")[1]) == [
            {"a": 1, "b": "x"},
            {"a": 1, "b": "x"},
            {"a": 2, "b": "x"},
        ]
        assert json_lines(cli("sweep", "a=1,1,2", "b=x", "--unique")[1]) == [
            {"a": 1, "b": "x"},
            {"a": 2, "b": "x"},
        ]
        assert cli("sweep", "a=1,1,2", "--unique", "--count")[1] == "2\n"

    def test_list_values_and_plus(self, cli):
        assert json_lines(cli("sweep", "sizes=[1,2]", "+lr=0.1")[1]) == [
            {"sizes": [1, 2], "lr": 0.1}
        ]


class TestSweepFunction:
    def test_function_sweep(self, cli, src):
        root = src({"cfg/multilayer.py": CONFIGURE})
        code, out, err = cli("sweep", "cfg/multilayer.py:configure", cwd=root)
        assert (code, err) == (0, "")
        assert json_lines(out) == [
            {"model.hidden": 1, "optim.lr": 0.01},
            {"model.hidden": 2, "optim.lr": 0.02},
            {"model.hidden": 3, "optim.lr": 0.03},
        ]
        assert cli("sweep", "cfg/multilayer.py:configure", "--count", cwd=root)[1] == (
            "3\n"
        )

    def test_points_as_pairs(self, cli, src):
        root = src({"cfg/multilayer.py": CONFIGURE})
        code, out, _err = cli("sweep", "cfg/multilayer.py:as_pairs", cwd=root)
        assert json_lines(out) == [{"a": 1}, {"a": 2, "b": "x"}]

    def test_function_with_overrides(self, cli, src):
        root = src({"cfg/multilayer.py": CONFIGURE})
        code, out, _err = cli(
            "sweep", "cfg/multilayer.py:configure", "model.hidden=8", cwd=root
        )
        assert json_lines(out) == [
            {"model.hidden": 8, "optim.lr": 0.01},
            {"model.hidden": 8, "optim.lr": 0.02},
            {"model.hidden": 8, "optim.lr": 0.03},
        ]

    def test_function_checked_against_the_code(self, cli, src):
        root = src({"cfg/multilayer.py": CONFIGURE})
        code, out, err = cli(
            "sweep",
            "cfg/multilayer.py:configure",
            "--scan",
            os.path.join(EXAMPLES, "train"),
            cwd=root,
        )
        assert (code, err) == (0, "")
        assert len(json_lines(out)) == 3

    @pytest.mark.parametrize(
        "target, message",
        [
            ("not_points", r"cfg/multilayer.py:not_points: returned 3; return a list"),
            ("nope", r"no function 'nope' in cfg/multilayer.py"),
        ],
    )
    def test_bad_functions(self, cli, src, target, message):
        root = src({"cfg/multilayer.py": CONFIGURE})
        code, out, err = cli("sweep", "cfg/multilayer.py:" + target, cwd=root)
        assert (code, out) == (1, "")
        assert re.search(message, one_error_line(err))


class TestSweepScan:
    def test_a_valid_sweep(self, cli):
        code, out, err = cli("sweep", "examples/train/sweep.yaml", "--scan", TRAIN)
        assert (code, err) == (0, "")
        points = json_lines(out)
        assert len(points) == 8
        assert points[0] == {
            "optim.lr": 0.02,
            "model.hidden": 0,
            "train.batch_size": 16,
            "optim.momentum": 0.9,
        }

    @pytest.mark.parametrize(
        "override, message",
        [
            (
                "optim.lrr=0.1",
                "command line: optim.lrr=0.1: unknown hyperparameter 'optim.lrr'; "
                "did you mean 'optim.lr'? ('hpreg list' shows all names)",
            ),
            (
                "optim.lr=abc",
                "command line: optim.lr=abc: 'abc' for 'optim.lr' is a str, but its "
                "default 0.05 is a float; give a float value",
            ),
            (
                "train.epochs=true",
                "command line: train.epochs=true: True for 'train.epochs' is a bool, "
                "but its default 3 is an int; give an int value",
            ),
            (
                "train.batch_size=8,12",
                "command line: train.batch_size=8,12: 12 is not a choice of "
                "'train.batch_size'; choose one of 8, 16, 32, 64",
            ),
            (
                "optim.momentum=0.5,1.5",
                "command line: optim.momentum=0.5,1.5: 1.5 for 'optim.momentum' is "
                "above its high bound 1.0; give a value in [0.0, 1.0]",
            ),
            (
                "optim.lr=-0.1",
                "command line: optim.lr=-0.1: -0.1 for 'optim.lr' is below its low "
                "bound 0.0; give a value in [0.0, inf]",
            ),
        ],
    )
    def test_nothing_is_printed_or_written_before_validation(
        self, cli, tmp_path, override, message
    ):
        out_dir = tmp_path / "points"
        for mode in (["--list"], ["--count"], ["--out", out_dir]):
            code, out, err = cli(
                "sweep", "examples/train/sweep.yaml", override, "--scan", TRAIN, *mode
            )
            assert (code, out) == (1, "")
            pattern = re.escape(message)
            assert re.fullmatch(pattern, one_error_line(err)), err
            assert not out_dir.exists()

    def test_file_errors_name_the_file_and_key(self, cli, tmp_path):
        path = tmp_path / "s.yaml"
        path.write_text(
            "product:\n  - optim: {lr: [0.1]}\n  - model: {hiden: [1]}\n",
            encoding="utf-8",
        )
        code, out, err = cli("sweep", "s.yaml", "--scan", TRAIN_ABS, cwd=tmp_path)
        assert (code, out) == (1, "")
        assert one_error_line(err).startswith(
            "s.yaml: product[1].model.hiden: unknown hyperparameter 'model.hiden'; "
            "did you mean 'model.hidden'?"
        )

    def test_derived_values_are_checked_before_anything_is_listed(self, cli, tmp_path):
        path = tmp_path / "s.yaml"
        path.write_text(
            "optim.lr: [0.02, 0.1]\nderive:\n  optim.momentum: 'optim.lr * 20'\n",
            encoding="utf-8",
        )
        out_dir = tmp_path / "points"
        for mode in (["--list"], ["--out", out_dir]):
            code, out, err = cli(
                "sweep", "s.yaml", "--scan", TRAIN_ABS, *mode, cwd=tmp_path
            )
            assert (code, out) == (1, "")
            assert one_error_line(err) == (
                "s.yaml: derive.optim.momentum: 2.0 for 'optim.momentum' is above its "
                "high bound 1.0; give a value in [0.0, 1.0]"
            )
            assert not out_dir.exists()

    def test_a_file_value_the_command_line_replaces_is_not_checked(self, cli, tmp_path):
        path = tmp_path / "s.yaml"
        path.write_text("model.hidden: [-1, 2]\noptim.lr: [0.1]\n", encoding="utf-8")
        code, out, err = cli("sweep", path, "model.hidden=4", "--scan", TRAIN)
        assert (code, err) == (0, "")
        assert json_lines(out) == [{"model.hidden": 4, "optim.lr": 0.1}]
        code, out, err = cli("sweep", path, "--scan", TRAIN)
        assert code == 1
        assert "-1 for 'model.hidden' is below its low bound 0" in err

    def test_several_scanned_managers(self, cli, src):
        root = src(MULTI)
        code, out, err = cli(
            "sweep", "lr=0.5", "width=8,16", "seed=1", "--scan", ".", cwd=root
        )
        assert (code, err) == (0, "")
        assert len(json_lines(out)) == 2
        code, out, err = cli("sweep", "width=0", "--scan", ".", cwd=root)
        assert code == 1
        assert "0 for 'width' is below its low bound 1" in err


class TestSweepOut:
    def test_transformer_point_files_and_index(self, cli, tmp_path):
        out_dir = tmp_path / "points"
        code, out, err = cli(
            "sweep", "examples/transformer/sweep.yaml", "--out", out_dir
        )
        assert (code, err) == (0, "")
        assert out == "wrote 168 point files and index.csv to {}\n".format(out_dir)
        files = sorted(os.listdir(out_dir))
        assert files == [".hpreg-sweep", "index.csv"] + [
            "sweep_{:03d}.yaml".format(i) for i in range(168)
        ]
        first = yaml.safe_load((out_dir / "sweep_000.yaml").read_text())
        assert first == {
            "batch_size": 64,
            "n_heads": 8,
            "n_steps": 100000,
            "model": {"dropout": 0.0, "act": "relu"},
            "lr": 0.001,
            "d_ff": 2048,
            "d_model": 512,
            "n_layers": 4,
            "warmup": 1000,
            "decay": "cosine",
            "d_head": 64,
        }
        with open(out_dir / "index.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        assert rows[0] == [
            "index",
            "file",
            "batch_size",
            "n_heads",
            "n_steps",
            "model.dropout",
            "model.act",
            "lr",
            "d_ff",
            "d_model",
            "n_layers",
            "warmup",
            "decay",
            "d_head",
        ]
        assert len(rows) == 169
        assert rows[1][:2] == ["0", "sweep_000.yaml"]
        assert rows[-1][:2] == ["167", "sweep_167.yaml"]
        listed = json_lines(cli("sweep", "examples/transformer/sweep.yaml")[1])
        for i in (0, 77, 167):
            assert rows[i + 1][2:] == [str(v) for v in listed[i].values()]

    @pytest.mark.parametrize(
        "values, names",
        [
            ("1", ["s_0.yaml"]),
            ("0,1,2,3,4,5,6,7,8,9", ["s_{}.yaml".format(i) for i in range(10)]),
            ("range(0,11)", ["s_{:02d}.yaml".format(i) for i in range(11)]),
            ("range(0,101)", ["s_{:03d}.yaml".format(i) for i in range(101)]),
        ],
    )
    def test_zero_padded_to_the_last_index(self, cli, tmp_path, values, names):
        path = tmp_path / "s.yaml"
        path.write_text("b: 1\n", encoding="utf-8")
        code, _out, _err = cli("sweep", path, "a=" + values, "--out", tmp_path / "o")
        assert code == 0
        assert (
            sorted(os.listdir(tmp_path / "o")) == [".hpreg-sweep", "index.csv"] + names
        )

    def test_stems(self, cli, src):
        root = src({"cfg/multilayer.py": CONFIGURE, "grid.yaml": "a: [1, 2]\n"})
        cli("sweep", "grid.yaml", "--out", "o1", cwd=root)
        cli("sweep", "cfg/multilayer.py:configure", "--out", "o2", cwd=root)
        cli("sweep", "a=1,2", "--out", "o3", cwd=root)
        assert sorted(os.listdir(root / "o1")) == [
            ".hpreg-sweep",
            "grid_0.yaml",
            "grid_1.yaml",
            "index.csv",
        ]
        assert sorted(os.listdir(root / "o2")) == [
            ".hpreg-sweep",
            "configure_0.yaml",
            "configure_1.yaml",
            "configure_2.yaml",
            "index.csv",
        ]
        assert sorted(os.listdir(root / "o3")) == [
            ".hpreg-sweep",
            "index.csv",
            "sweep_0.yaml",
            "sweep_1.yaml",
        ]

    def test_index_csv(self, cli, tmp_path):
        cli("sweep", "a=1,2", "b=x", "c=[1,2]", "--out", tmp_path / "o")
        assert (tmp_path / "o" / "index.csv").read_text(encoding="utf-8") == (
            "index,file,a,b,c\n"
            '0,sweep_0.yaml,1,x,"[1, 2]"\n'
            '1,sweep_1.yaml,2,x,"[1, 2]"\n'
        )

    def test_same_sweep_again_different_refused_force_replaces(self, cli, tmp_path):
        out_dir = tmp_path / "o"
        assert cli("sweep", "a=1,2,3", "--out", out_dir)[0] == 0
        before = {n: (out_dir / n).read_text() for n in os.listdir(out_dir)}
        assert cli("sweep", "a=1,2,3", "--out", out_dir)[0] == 0
        assert {n: (out_dir / n).read_text() for n in os.listdir(out_dir)} == before

        code, out, err = cli("sweep", "a=1,2", "--out", out_dir)
        assert (code, out) == (1, "")
        assert one_error_line(err) == (
            "{}: already holds a different sweep (its index.csv differs); use --force "
            "to replace it, or choose another --out folder".format(out_dir)
        )
        assert {n: (out_dir / n).read_text() for n in os.listdir(out_dir)} == before

        code, out, err = cli("sweep", "a=5,6", "--out", out_dir, "--force")
        assert (code, err) == (0, "")
        assert sorted(os.listdir(out_dir)) == [
            ".hpreg-sweep",
            "index.csv",
            "sweep_0.yaml",
            "sweep_1.yaml",
        ]
        assert yaml.safe_load((out_dir / "sweep_1.yaml").read_text()) == {"a": 6}

    def test_same_sweep_again_restores_a_missing_point_file(self, cli, tmp_path):
        out_dir = tmp_path / "o"
        cli("sweep", "a=1,2,3", "--out", out_dir)
        (out_dir / "sweep_1.yaml").unlink()
        code, _out, err = cli("sweep", "a=1,2,3", "--out", out_dir)
        assert (code, err) == (0, "")
        assert yaml.safe_load((out_dir / "sweep_1.yaml").read_text()) == {"a": 2}

    def test_an_edited_point_file_is_a_different_sweep(self, cli, tmp_path):
        out_dir = tmp_path / "o"
        cli("sweep", "a=1,2,3", "--out", out_dir)
        (out_dir / "sweep_1.yaml").write_text("a: 7\n", encoding="utf-8")
        code, out, err = cli("sweep", "a=1,2,3", "--out", out_dir)
        assert (code, out) == (1, "")
        assert one_error_line(err) == (
            "{}: already holds a different sweep (sweep_1.yaml differs); use --force "
            "to replace it, or choose another --out folder".format(out_dir)
        )
        assert (out_dir / "sweep_1.yaml").read_text() == "a: 7\n"
        assert cli("sweep", "a=1,2,3", "--out", out_dir, "--force")[0] == 0
        assert yaml.safe_load((out_dir / "sweep_1.yaml").read_text()) == {"a": 2}

    def test_point_files_load_with_load_hp_load_and_hpreg_config(
        self, cli, tmp_path, hpreg_config
    ):
        out_dir = tmp_path / "o"
        code, _out, err = cli(
            "sweep", "examples/train/sweep.yaml", "--scan", TRAIN, "--out", out_dir
        )
        assert (code, err) == (0, "")
        points = json_lines(cli("sweep", "examples/train/sweep.yaml")[1])
        assert len(points) == 8
        train = os.path.join(EXAMPLES, "train")
        for i, point in enumerate(points):
            path = str(out_dir / "sweep_{}.yaml".format(i))

            loaded = hpreg.HyperParameterManager("_")
            loaded.parse_file(train)
            loaded.load(path)
            assert {n: loaded.get_value(n) for n in point} == point

            bound = hpreg.HyperParameterManager("_")
            hpreg.parse_args(bound, paths=[train], argv=["--hp-load", path])
            assert {n: bound.get_value(n) for n in point} == point

            hpreg_config(path)
            from_env = hpreg.HyperParameterManager("_")
            from_env.parse_file(train)
            assert {n: from_env.get_value(n) for n in point} == point
            assert from_env.unknown() == {}
            hpreg_config(None)

    def test_include_values_are_in_every_file(self, cli, tmp_path):
        out_dir = tmp_path / "o"
        cli("sweep", "examples/transformer/sweep.yaml", "lr=0.5", "--out", out_dir)
        for name in os.listdir(out_dir):
            if name.endswith(".yaml"):
                values = yaml.safe_load((out_dir / name).read_text())
                assert values["n_steps"] == 100000 and values["lr"] == 0.5

    def test_out_with_shard(self, cli, tmp_path):
        cli("sweep", "a=range(0,10)", "--shard", "1/3", "--out", tmp_path / "o")
        rows = list(csv.reader(open(tmp_path / "o" / "index.csv", encoding="utf-8")))
        assert [row[2] for row in rows[1:]] == ["1", "4", "7"]


# -- a real process ----------------------------------------------------------------------


class TestSweepEdges:
    def test_sample_of_a_huge_clashing_override_is_instant(self, cli, tmp_path):
        path = tmp_path / "big.yaml"
        path.write_text(
            'a: "range(1000000)"\nb: "range(1000000)"\nc: "range(10000000)"\n'
        )
        code, out, err = cli("sweep", path, "a=5", "--sample", 3, "--seed", 1)
        assert (code, err) == (0, "")
        points = [json.loads(line) for line in out.splitlines()]
        assert len(points) == 3 and all(p["a"] == 5 for p in points)
        assert len({(p["b"], p["c"]) for p in points}) == 3

    @pytest.mark.parametrize("n", [0, -1])
    def test_sample_needs_a_positive_count(self, cli, n):
        code, out, err = cli("sweep", "a=1,2", "--sample", n)
        assert (code, out) == (2, "")
        assert err.startswith("hpreg: error: --sample {}:".format(n))

    def test_count_with_scan_checks_derived_values(self, cli, tmp_path):
        path = tmp_path / "s.yaml"
        path.write_text(
            'optim.lr: [0.01, 0.1]\nderive:\n  optim.momentum: "optim.lr * 20"\n'
        )
        code, out, err = cli("sweep", path, "--scan", TRAIN, "--count")
        assert (code, out) == (1, "")
        assert "derive.optim.momentum" in err and "high bound" in err


class TestScanIsGreedy:
    def test_file_and_overrides_after_scan_belong_to_the_sweep(self, cli):
        code, out, err = cli(
            "sweep",
            "--scan",
            TRAIN,
            "examples/train/sweep.yaml",
            "optim.lr=0.5",
            "--count",
        )
        assert (code, out, err) == (0, "4\n", "")
        code, out, err = cli("sweep", "--scan", TRAIN, "optim.lr=0.5,0.1")
        assert code == 0 and out.splitlines() == [
            '{"optim.lr": 0.5}',
            '{"optim.lr": 0.1}',
        ]
