"""The real ``hpreg`` command in a subprocess, end to end."""

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


class TestEndToEnd:
    def test_list(self, run_hpreg):
        result = run_hpreg("list", TRAIN, cwd=ROOT)
        assert result.returncode == 0, result.stderr
        _header, rows = table(result.stdout)
        assert [row[1] for row in rows] == TRAIN_NAMES
        assert result.stderr == ""

    def test_lint_examples_clean_and_a_bad_tree(self, run_hpreg, src):
        result = run_hpreg("lint", "examples", cwd=ROOT)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
        root = src({"a.py": 'from hpreg.m import _\n_("depth")\n'})
        result = run_hpreg("lint", ".", cwd=root)
        assert result.returncode == 1
        assert result.stdout.startswith("a.py:2:1: 'depth' is used without a default")

    def test_show(self, run_hpreg):
        result = run_hpreg("show", "optim.lr", TRAIN, cwd=ROOT)
        assert result.returncode == 0
        assert "provenance: default at examples/train/optim.py:43" in result.stdout

    def test_sweep(self, run_hpreg):
        result = run_hpreg(
            "sweep", "examples/optimizers/sweep.yaml", "--count", cwd=ROOT
        )
        assert (result.returncode, result.stdout) == (0, "45\n")

    def test_errors_without_and_with_hpreg_debug(self, run_hpreg, tmp_path):
        missing = tmp_path / "missing"
        result = run_hpreg("list", missing)
        assert result.returncode == 1
        assert result.stderr == (
            "hpreg: error: no such file or directory: '{}'; check the path\n".format(
                missing
            )
        )
        result = run_hpreg("list", missing, env={"HPREG_DEBUG": "1"})
        assert result.returncode == 1
        assert result.stderr.startswith("Traceback")
        result = run_hpreg("sweep", "a=1", "--shard", "9/2")
        assert result.returncode == 2
        assert one_error_line(result.stderr).startswith("--shard 9/2")
        result = run_hpreg("list")
        assert result.returncode == 2
        assert one_error_line(result.stderr).startswith(
            "the following arguments are required: PATH"
        )

    def test_a_point_file_runs_the_training_example(self, run_hpreg, tmp_path):
        out_dir = tmp_path / "points"
        result = run_hpreg(
            "sweep",
            "examples/train/sweep.yaml",
            "--scan",
            TRAIN,
            "--out",
            out_dir,
            cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr
        env = dict(os.environ, HPREG_CONFIG=str(out_dir / "sweep_7.yaml"))
        env.pop("HPREG_DEBUG", None)
        shown = subprocess.run(
            [
                sys.executable,
                os.path.join(TRAIN, "train.py"),
                "--hp-list",
                "json",
                "--hp-exit",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert shown.returncode == 0, shown.stderr
        values = json.loads(shown.stdout)  # hpargparse's --hp-list json: flat values
        point = yaml.safe_load((out_dir / "sweep_7.yaml").read_text())
        assert point == {
            "optim": {"lr": 0.1, "momentum": 0.0},
            "model": {"hidden": 2},
            "train": {"batch_size": 32},
        }
        assert (values["optim.lr"], values["model.hidden"]) == (0.1, 2)
        assert values["train.batch_size"] == 32
