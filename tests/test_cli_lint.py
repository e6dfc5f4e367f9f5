"""``hpreg lint``: compiler-style problem lines and the pre-commit hook."""

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


class TestLint:
    def test_examples_lint_clean(self, cli):
        assert cli("lint", "examples") == (0, "", "")

    def test_a_closed_pipe_keeps_exit_1(self, src, monkeypatch, tmp_path):
        """`hpreg lint . | head -1`: the reader left, the problems did not."""
        root = src({"a.py": 'from hpreg.m import _\n_("x")\n_("y")\n'})
        sink = open(tmp_path / "sink", "w")

        class ClosedPipe:
            def write(self, text):
                raise BrokenPipeError(32, "Broken pipe")

            def flush(self):
                pass

            def fileno(self):
                return sink.fileno()

        monkeypatch.chdir(root)
        monkeypatch.setattr(sys, "stdout", ClosedPipe())
        try:
            assert main(["lint", "."]) == 1
        finally:
            sink.close()

    def test_one_line_per_problem_and_exit_1(self, cli, src):
        root = src(
            {
                "a.py": """\
                    from hpreg.m import _

                    lr = _("learning_rate", 0.1, low=0.0)
                    lr2 = _("learning_rte", 0.2)
                    lo = _("lr_min", 0.0)
                    hi = _("lr_max", 1.0)
                    width = _("width", 3, low=5)
                    opt = _("opt", "sgd", choices=["adam", "rms"])
                    depth = _("depth")
                    key = "x"
                    x = _(key, 1)
                    y = _("y", 1, low=LOW)
                    """,
                "b.py": """\
                    from hpreg.m import _
                    lr = _("learning_rate", 0.5)

                    def f(_):
                        return _("z", 1)
                    """,
                "c.py": "def broken(:\n    pass\n",
            }
        )
        code, out, err = cli("lint", ".", cwd=root)
        assert (code, err) == (1, "")
        lines = out.splitlines()
        for line in lines:
            assert LINT_LINE.match(line), line
        places = [line.split(": ", 1)[0] for line in lines]
        assert places == [
            "a.py:4:7",  # near-duplicate learning_rte
            "a.py:7:9",  # default below low
            "a.py:8:7",  # default not in choices
            "a.py:9:9",  # no default
            "a.py:11:7",  # non-literal name
            "a.py:12:19",  # non-literal hint
            "b.py:2:6",  # second default
            "b.py:4:7",  # shadowed manager name
            "c.py:1:12",  # does not parse
        ]
        assert lines[0].endswith(
            "'learning_rte' looks like a typo of 'learning_rate' "
            "(a.py:3); use one name, or add '# hpreg: ignore' if "
            "both are meant"
        )
        assert "lr_min" not in out and "lr_max" not in out
        assert "the default contradicts its hints: 3 for 'width' is below" in lines[1]
        assert "'sgd' is not a choice of 'opt'" in lines[2]
        assert "'depth' is used without a default anywhere" in lines[3]
        assert "must be a literal string" in lines[4]
        assert "hint 'low' of 'y' is not a literal: LOW" in lines[5]
        assert "conflicting defaults for 'learning_rate'" in lines[6]
        assert "'_' is bound to something else here" in lines[7]
        assert "file does not parse" in lines[8]

    def test_pre_commit_hook_with_one_changed_file(self, cli):
        with open(os.path.join(ROOT, ".pre-commit-hooks.yaml"), encoding="utf-8") as f:
            hook = next(h for h in yaml.safe_load(f) if h["id"] == "hpreg-lint")
        argv = hook["entry"].split()[1:] + hook.get("args", [])
        if hook.get("pass_filenames", True):
            argv.append(os.path.join(TRAIN, "model.py"))  # reads data.seed
        assert cli(*argv) == (0, "", "")

    def test_ignore_comment(self, cli, src):
        root = src(
            {
                "a.py": """\
                    from hpreg.m import _
                    a = _("learning_rate", 0.1)
                    b = _("learning_rte", 0.2)  # hpreg: ignore
                    c = _("depth")  # hpreg: ignore
                    """
            }
        )
        assert cli("lint", ".", cwd=root) == (0, "", "")

    def test_clean_tree(self, cli, src):
        root = src({"a.py": 'from hpreg.m import _\n_("n", 1, low=0)\n_("n")\n'})
        assert cli("lint", ".", cwd=root) == (0, "", "")


# -- show --------------------------------------------------------------------------------
