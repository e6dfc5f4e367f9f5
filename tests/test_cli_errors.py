"""Every user mistake through ``hpreg`` is one ``hpreg: error:`` line, no traceback."""

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


def _bad_yaml(tmp):
    path = tmp / "bad.yaml"
    path.write_text("a: [1, 2\n", encoding="utf-8")
    return path


def _bad_sweep(tmp):
    path = tmp / "sweep.yaml"
    path.write_text("product: 3\n", encoding="utf-8")
    return path


def _a_file(tmp):
    path = tmp / "afile"
    path.write_text("x\n", encoding="utf-8")
    return path


ERRORS = [
    # (argv builder, exit code, message regex)
    (lambda t: ["list", t / "missing"], 1, r"no such file or directory: '.*missing'"),
    (lambda t: ["lint", t / "missing"], 1, r"no such file or directory: '.*missing'"),
    (lambda t: ["show", "x", t / "missing"], 1, r"no such file or directory"),
    (
        lambda t: ["list", TRAIN, "--manager", "hq"],
        1,
        r"^unknown manager 'hq'; the scanned code uses: _$",
    ),
    (lambda t: [], 2, r"^choose a command: list, lint, show, sweep"),
    (lambda t: ["frob"], 2, r"invalid choice: 'frob'"),
    (lambda t: ["list"], 2, r"the following arguments are required: PATH"),
    (lambda t: ["list", TRAIN, "--format", "xml"], 2, r"argument --format"),
    (lambda t: ["sweep"], 2, r"^nothing to sweep; give a sweep file and/or overrides"),
    (lambda t: ["sweep", t / "missing.yaml"], 1, r"missing.yaml: file not found"),
    (lambda t: ["sweep", _bad_yaml(t)], 1, r"bad.yaml:2:1: invalid YAML: "),
    (
        lambda t: ["sweep", _bad_sweep(t)],
        1,
        r"sweep.yaml: product: expected a list of sweep nodes, got int 3",
    ),
    (lambda t: ["sweep", "a=1", "--shard", "2/2"], 2, r"^--shard 2/2: K must be"),
    (lambda t: ["sweep", "a=1", "--shard", "x"], 2, r"^--shard x: expected K/N"),
    (lambda t: ["sweep", "a=1", "--seed", "3"], 2, r"^--seed goes with --sample N$"),
    (lambda t: ["sweep", "a=1", "--sample", "x"], 2, r"argument --sample"),
    (lambda t: ["sweep", "lr=range(1"], 2, r"^lr=range\(1: unclosed '\)'"),
    (lambda t: ["sweep", "a=1", "b"], 2, r"^'b': a sweep file must come first"),
    (lambda t: ["sweep", "a=1", "--count", "--list"], 2, r"not allowed with"),
    (
        lambda t: ["sweep", "a=1", "--out", _a_file(t)],
        1,
        r"afile: cannot create the --out folder \(File exists\)",
    ),
    (
        lambda t: ["sweep", "a=1,2", "--sample", "3"],
        1,
        r"the sweep has only 2 points, so 3 distinct ones cannot be drawn",
    ),
    (
        lambda t: ["sweep", "optim.lrr=0.1", "--scan", TRAIN],
        1,
        r"^command line: optim.lrr=0.1: unknown hyperparameter 'optim.lrr'; "
        r"did you mean 'optim.lr'\?",
    ),
]


ERROR_IDS = [
    "list-missing-path",
    "lint-missing-path",
    "show-missing-path",
    "unknown-manager",
    "no-command",
    "unknown-command",
    "list-without-path",
    "bad-format",
    "nothing-to-sweep",
    "missing-sweep-file",
    "bad-yaml",
    "bad-sweep-file",
    "shard-out-of-range",
    "shard-malformed",
    "seed-without-sample",
    "sample-not-int",
    "bad-override",
    "file-after-overrides",
    "count-and-list",
    "out-is-a-file",
    "sample-too-many",
    "scan-unknown-name",
]
assert len(ERROR_IDS) == len(ERRORS)


class TestErrors:
    @pytest.mark.parametrize("argv, code, message", ERRORS, ids=ERROR_IDS)
    def test_one_line_on_stderr(self, cli, tmp_path, argv, code, message):
        got, out, err = cli(*argv(tmp_path))
        assert got == code, err
        assert out == ""
        assert re.search(message, one_error_line(err)), err

    def test_a_bad_hpreg_config(self, cli, tmp_path, hpreg_config):
        hpreg_config(_bad_yaml(tmp_path))
        code, out, err = cli("list", TRAIN)
        assert (code, out) == (1, "")
        assert "bad.yaml:2:1: invalid YAML" in one_error_line(err)

    def test_help_exits_0(self, cli):
        code, out, _err = cli("list", "--help")
        assert code == 0
        assert out.startswith("usage: hpreg list")

    def test_hpreg_debug_raises(self, cli, monkeypatch):
        monkeypatch.setenv("HPREG_DEBUG", "1")
        with pytest.raises(HpregError):
            main(["list", TRAIN, "--manager", "hq"])
        with pytest.raises(UnknownHyperparameterError):
            main(["show", "optim.lrr", TRAIN])
        with pytest.raises(FileNotFoundError):
            main(["list", os.path.join(EXAMPLES, "missing")])
