"""``hpreg list``: listings of every manager's hyperparameters."""

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


class TestList:
    def test_default_is_a_table_of_every_name(self, cli):
        code, out, err = cli("list", TRAIN)
        assert (code, err) == (0, "")
        header, rows = table(out)
        assert header == ["manager", "name", "type", "value", "where defined", "hints"]
        assert [row[1] for row in rows] == TRAIN_NAMES
        by_name = {row[1]: row for row in rows}
        assert by_name["optim.lr"] == [
            "_",
            "optim.lr",
            "float",
            "0.05",
            "examples/train/optim.py:43",
            "help='learning rate', low=0.0",
        ]
        assert by_name["train.batch_size"][2:5] == [
            "int",
            "32",
            "examples/train/train.py:27",
        ]
        assert by_name["train.batch_size"][5] == "choices=[8, 16, 32, 64]"

    def test_same_as_format_table(self, cli):
        assert cli("list", TRAIN) == cli("list", TRAIN, "--format", "table")

    def test_json(self, cli):
        code, out, err = cli("list", TRAIN, "--format", "json")
        assert (code, err) == (0, "")
        records = json.loads(out)
        assert [r["name"] for r in records] == TRAIN_NAMES
        assert records[6] == {
            "manager": "_",
            "name": "optim.lr",
            "value": 0.05,
            "type": "float",
            "file": os.path.join("examples", "train", "optim.py"),
            "line": 43,
            "hints": {"help": "learning rate", "low": 0.0},
        }

    def test_yaml(self, cli):
        code, out, err = cli("list", TRAIN, "--format", "yaml")
        assert out.endswith(": 3\n")  # no blank line after the listing
        assert (code, err) == (0, "")
        assert yaml.safe_load(out) == {
            "data": {"seed": 0, "n_features": 4, "n_samples": 256, "noise": 0.1},
            "model": {"hidden": 0, "init_scale": 0.1},
            "optim": {"lr": 0.05, "momentum": 0.0},
            "train": {"batch_size": 32, "epochs": 3},
        }

    def test_detail_shows_the_code_around_each_occurrence(self, cli):
        code, out, err = cli("list", TRAIN, "--format", "detail")
        assert (code, err) == (0, "")
        assert "optim.lr = 0.05  (float)" in out
        assert "  hints: help='learning rate', low=0.0" in out
        assert "occurrence[0]: examples/train/optim.py:43:10" in out
        assert re.search(r"==> 43:\s+lr = _\(\"optim.lr\", 0.05", out)

    def test_several_managers_get_a_manager_column(self, cli, src):
        root = src(MULTI)
        code, out, err = cli("list", ".", cwd=root)
        assert (code, err) == (0, "")
        header, rows = table(out)
        assert header[0] == "manager"
        assert sorted((row[0], row[1], row[3]) for row in rows) == [
            ("_", "lr", "0.1"),
            ("cfg", "seed", "0"),
            ("hp", "width", "64"),
        ]

    def test_several_managers_as_json_and_yaml(self, cli, src):
        root = src(MULTI)
        code, out, _err = cli("list", ".", "--format", "json", cwd=root)
        assert sorted((r["manager"], r["name"]) for r in json.loads(out)) == [
            ("_", "lr"),
            ("cfg", "seed"),
            ("hp", "width"),
        ]
        code, out, _err = cli("list", ".", "--format", "yaml", cwd=root)
        assert yaml.safe_load(out) == {
            "_": {"lr": 0.1},
            "cfg": {"seed": 0},
            "hp": {"width": 64},
        }

    @pytest.mark.parametrize("fmt", ["table", "json"])
    def test_manager_keeps_one(self, cli, src, fmt):
        root = src(MULTI)
        code, out, err = cli("list", ".", "--manager", "hp", "--format", fmt, cwd=root)
        assert (code, err) == (0, "")
        if fmt == "json":
            assert [(r["manager"], r["name"]) for r in json.loads(out)] == [
                ("hp", "width")
            ]
        else:
            _header, rows = table(out)
            assert [row[-5:-3] for row in rows] == [["width", "int"]]
            assert "lr" not in out and "seed" not in out

    def test_unknown_manager(self, cli, src):
        root = src(MULTI)
        code, out, err = cli("list", ".", "--manager", "hpp", cwd=root)
        assert (code, out) == (1, "")
        assert one_error_line(err) == (
            "unknown manager 'hpp'; did you mean 'hp'?; the scanned code uses: "
            "_, cfg, hp"
        )

    def test_a_tree_with_problems_still_lists(self, cli, src):
        root = src(
            {
                "a.py": """\
                    from hpreg.m import _
                    lr = _("lr", 0.1)
                    depth = _("depth", 4)
                    """,
                "b.py": """\
                    from hpreg.m import _
                    lr = _("lr", 0.2)
                    """,
                "broken.py": """\
                    from hpreg.m import _
                    width = _("width", 3)
                    def f(:
                        pass
                    """,
            }
        )
        code, out, err = cli("list", ".", cwd=root)
        assert code == 0
        _header, rows = table(out)
        assert [(row[1], row[3], row[4]) for row in rows] == [
            ("lr", "0.1", "a.py:2"),
            ("depth", "4", "a.py:3"),
        ]
        lines = err.splitlines()
        assert len(lines) == 2, err
        assert all(line.startswith("hpreg: warning: ") for line in lines)
        assert "conflicting defaults for 'lr': 0.1 at a.py:2 and 0.2 at b.py:2" in err
        assert "broken.py:3:7: skipped, invalid syntax" in err
        assert err.rstrip().endswith("; fix it ('hpreg lint' is the strict check)")
        assert "strict=True" not in err
        assert "Traceback" not in err

    def test_non_literal_names_are_reported_not_fatal(self, cli, src):
        root = src({"a.py": 'from hpreg.m import _\nk = "x"\n_(k, 1)\n_("n", 2)\n'})
        code, out, err = cli("list", ".", cwd=root)
        assert code == 0
        assert [row[1] for row in table(out)[1]] == ["n"]
        assert err.startswith("hpreg: warning: a.py:3:3: the name of a hyperparameter")

    def test_several_paths(self, cli):
        code, out, _err = cli(
            "list", TRAIN, os.path.join("examples", "basic"), "--format", "json"
        )
        names = [r["name"] for r in json.loads(out)]
        assert set(TRAIN_NAMES) | {"lr", "optimizer", "net.width"} <= set(names)

    def test_values_from_hpreg_config(self, cli, tmp_path, hpreg_config):
        config = tmp_path / "values.yaml"
        config.write_text("optim:\n  lr: 0.2\n", encoding="utf-8")
        hpreg_config(config)
        code, out, err = cli("list", TRAIN, "--format", "json")
        assert (code, err) == (0, "")
        assert {r["name"]: r["value"] for r in json.loads(out)}["optim.lr"] == 0.2


# -- lint --------------------------------------------------------------------------------


class TestListReportsEveryBrokenFile:
    def test_a_broken_file_without_any_call_is_reported(self, cli, src):
        root = src(
            {"ok.py": 'from hpreg.m import _\n_("a", 1)\n', "bad.py": "def f(:\n"}
        )
        code, out, err = cli("list", ".", cwd=root)
        assert code == 0 and "| a " in out
        assert err.startswith("hpreg: warning: bad.py:1:")
