"""``hpreg show``: one hyperparameter, or a group's members."""

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


class TestShow:
    def test_everything_about_one_name(self, cli):
        code, out, err = cli("show", "optim.lr", TRAIN)
        assert (code, err) == (0, "")
        lines = out.splitlines()
        assert lines[:8] == [
            "name: optim.lr",
            "manager: _",
            "value: 0.05",
            "provenance: default at examples/train/optim.py:43",
            "default: 0.05",
            "hints: help='learning rate', low=0.0",
            "occurrences: 1",
            "  [0] examples/train/optim.py:43:10 (default)",
        ]
        assert lines[8:] == [
            "          40: ",
            "          41: ",
            "          42: def sgd_step(params, batch, velocity):",
            '      ==> 43:     lr = _("optim.lr", 0.05, help="learning rate", low=0.0)',
            '          44:     momentum = _("optim.momentum", 0.0, low=0.0, high=1.0)',
            "          45:     eps = 1e-4",
            "          46:     base = loss(params, batch)",
        ]

    def test_every_occurrence_with_its_code(self, cli):
        code, out, _err = cli("show", "data.seed", TRAIN)
        assert code == 0
        assert "occurrences: 2" in out
        assert "  [0] examples/train/data.py:9:25 (default)" in out
        assert "  [1] examples/train/model.py:10:25" in out
        assert re.search(r"==>  9:\s+rng = random.Random\(_\(\"data.seed\", 0\)\)", out)
        assert re.search(r"==> 10:\s+rng = random.Random\(_\(\"data.seed\"\)\)", out)

    def test_provenance_of_a_value_from_hpreg_config(self, cli, tmp_path, hpreg_config):
        config = tmp_path / "values.yaml"
        config.write_text("optim:\n  lr: 0.2\n", encoding="utf-8")
        hpreg_config(config)
        code, out, _err = cli("show", "optim.lr", TRAIN)
        assert code == 0
        assert "value: 0.2" in out.splitlines()
        assert "default: 0.05" in out.splitlines()
        assert "provenance: loaded from {} ($HPREG_CONFIG)".format(config) in out

    def test_a_name_without_a_default(self, cli, src):
        root = src({"a.py": 'from hpreg.m import _\nx = _("depth")\n'})
        code, out, _err = cli("show", "depth", ".", cwd=root)
        assert code == 0
        assert out.splitlines()[2:5] == [
            "value: (no default)",
            "provenance: none (no default, never set)",
            "default: (no default)",
        ]
        assert "  [0] a.py:2:5" in out.splitlines()

    def test_a_conflicting_default_is_an_occurrence_too(self, cli, src):
        root = src(
            {
                "a.py": 'from hpreg.m import _\nlr = _("lr", 0.1)\n',
                "b.py": 'from hpreg.m import _\nlr = _("lr", 0.2)\n',
            }
        )
        code, out, err = cli("show", "lr", ".", cwd=root)
        assert code == 0
        assert "occurrences: 2" in out
        assert "  [0] a.py:2:6 (default)" in out.splitlines()
        assert "  [1] b.py:2:6 (conflicting default, not used)" in out.splitlines()
        assert err.startswith("hpreg: warning: conflicting defaults for 'lr'")

    def test_a_name_in_several_managers(self, cli, src):
        root = src({"a.py": 'from hpreg.m import _, hp\n_("n", 1)\nhp("n", 2)\n'})
        code, out, _err = cli("show", "n", ".", cwd=root)
        assert code == 0
        assert "manager: _" in out.splitlines() and "manager: hp" in out.splitlines()
        assert "value: 1" in out.splitlines() and "value: 2" in out.splitlines()

    def test_unknown_name(self, cli):
        code, out, err = cli("show", "optim.lrr", TRAIN)
        assert (code, out) == (1, "")
        assert one_error_line(err) == (
            "unknown hyperparameter 'optim.lrr'; did you mean 'optim.lr'?; "
            "'hpreg list examples/train' shows all names"
        )


def test_show_a_group_lists_its_members(cli):
    code, out, err = cli("show", "optim", TRAIN)
    assert (code, err) == (0, "")
    assert out == (
        "optim is a group of 2 hyperparameters: optim.lr, optim.momentum; "
        "'hpreg show NAME' shows one\n"
    )
