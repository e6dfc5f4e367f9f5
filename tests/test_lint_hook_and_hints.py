"""Issue 8: lint as a pre-commit hook (problems that involve a changed file, blame of
near-duplicates, ``# hpreg: ignore`` on either side of a pair), ``choices`` hints
that are not collections, runtime calls with a bad name, function sweeps that parse
arguments at import, and Hydra's ``{a:1,b:2}`` dicts on command lines."""

import argparse
import json
import sys

import pytest

import hpreg
from hpreg.binder.binding import bind
from hpreg.errors import (
    BadCallError,
    BadHintError,
    BadNameError,
    HintViolationError,
    HpregError,
    UsageError,
)
from hpreg.io.files import parse_scalar
from hpreg.lint import lint_paths
from hpreg.registry.checks import check_hints
from hpreg.sweep.overrides import parse_override

HEAD = "from hpreg.m import _\n"


def located(problems):
    return [(p.kind, p.filename.split("/")[-1], p.lineno) for p in problems]


def one_error_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hpreg: error: "), err
    assert "Traceback" not in err
    return lines[0]


# -- §6 lint as a pre-commit hook ---------------------------------------------------
class TestHookReportsProblemsOfChangedFiles:
    @pytest.fixture(name="conflict")
    def fixture_conflict(self, src, monkeypatch):
        root = src(
            {"a.py": HEAD + 'x = _("lr", 0.2)\n', "b.py": HEAD + 'y = _("lr", 0.1)\n'}
        )
        monkeypatch.chdir(root)
        return root

    def test_a_conflict_is_reported_at_the_changed_file(self, conflict):
        problems = lint_paths(["a.py"], project=".")
        assert located(problems) == [("second_default", "a.py", 2)]
        assert str(problems[0]) == (
            "a.py:2:5: conflicting defaults for 'lr': 0.2 at a.py:2 and 0.1 at b.py:2; "
            'keep one default and write _("lr") elsewhere'
        )

    def test_the_later_file_changed(self, conflict):
        assert located(lint_paths(["b.py"], project=".")) == [
            ("second_default", "b.py", 2)
        ]

    def test_hpreg_lint_project_exits_1(self, conflict, cli):
        code, out, err = cli("lint", "--project", ".", "a.py", cwd=conflict)
        assert code == 1
        assert out.startswith("a.py:2:5: conflicting defaults for 'lr'")

    def test_a_file_outside_the_problem_reports_nothing(self, src, monkeypatch):
        root = src(
            {
                "a.py": HEAD + 'x = _("lr", 0.2)\n',
                "b.py": HEAD + 'y = _("lr", 0.1)\n',
                "c.py": HEAD + 'z = _("width", 3)\n',
            }
        )
        monkeypatch.chdir(root)
        assert lint_paths(["c.py"], project=".") == []

    def test_a_use_without_default_in_the_changed_file(self, src, monkeypatch):
        root = src(
            {"a.py": HEAD + 'x = _("depth")\n', "b.py": HEAD + 'y = _("depth")\n'}
        )
        monkeypatch.chdir(root)
        assert located(lint_paths(["b.py"], project=".")) == [("no_default", "b.py", 2)]

    def test_a_changed_default_that_breaks_hints_elsewhere(self, src, monkeypatch):
        root = src(
            {
                "a.py": HEAD + 'x = _("opt", "rmsprop")\n',
                "b.py": HEAD + 'y = _("opt", choices=["adam", "sgd"])\n',
            }
        )
        monkeypatch.chdir(root)
        problems = lint_paths(["a.py"], project=".")
        assert located(problems) == [("hint", "a.py", 2)]
        assert "contradicts the hints at b.py:2" in problems[0].message


class TestNearDuplicateBlame:
    FILES = {
        "a_new.py": HEAD + 'x = _("optim.lrr")\n',
        "b.py": HEAD + 'y = _("optim.lr", 0.1)\n',
        "c.py": HEAD + 'z = _("optim.lr")\n',
        "d.py": HEAD + 'w = _("optim.lr")\n',
    }

    def test_the_rarer_name_is_blamed(self, src, monkeypatch):
        monkeypatch.chdir(src(self.FILES))
        near = [p for p in lint_paths(["."]) if p.kind == "near_duplicate"]
        assert [str(p) for p in near] == [
            "a_new.py:2:5: 'optim.lrr' looks like a typo of 'optim.lr' (b.py:2); use "
            "one name, or add '# hpreg: ignore' if both are meant"
        ]

    def test_a_tie_keeps_the_scan_order(self, src, monkeypatch):
        monkeypatch.chdir(
            src(
                {
                    "a.py": HEAD + 'x = _("learning_rate", 0.1)\n',
                    "b.py": HEAD + 'y = _("learning_rte")\n',
                }
            )
        )
        near = [p for p in lint_paths(["."]) if p.kind == "near_duplicate"]
        assert located(near) == [("near_duplicate", "b.py", 2)]
        assert "'learning_rte' looks like a typo of 'learning_rate'" in str(near[0])

    def test_the_hook_reports_a_new_typo(self, src, monkeypatch):
        monkeypatch.chdir(src(self.FILES))
        near = [
            p
            for p in lint_paths(["a_new.py"], project=".")
            if p.kind == "near_duplicate"
        ]
        assert located(near) == [("near_duplicate", "a_new.py", 2)]


class TestIgnoreEitherSide:
    @pytest.mark.parametrize("side", ["a.py", "b.py"])
    def test_near_duplicate(self, src, monkeypatch, side):
        files = {
            "a.py": HEAD + 'x = _("learning_rate", 0.1)\n',
            "b.py": HEAD + 'y = _("learning_rte", 0.2)\n',
        }
        files[side] = files[side].rstrip("\n") + "  # hpreg: ignore\n"
        monkeypatch.chdir(src(files))
        assert lint_paths(["."]) == []

    def test_near_duplicate_unmarked_is_reported(self, src, monkeypatch):
        monkeypatch.chdir(
            src(
                {
                    "a.py": HEAD + 'x = _("learning_rate", 0.1)\n',
                    "b.py": HEAD + 'y = _("learning_rte", 0.2)\n',
                }
            )
        )
        assert [p.kind for p in lint_paths(["."])] == ["near_duplicate"]

    @pytest.mark.parametrize("side", ["a.py", "b.py"])
    def test_conflicting_defaults(self, src, monkeypatch, side):
        files = {
            "a.py": HEAD + 'x = _("lr", 0.2)\n',
            "b.py": HEAD + 'y = _("lr", 0.1)\n',
        }
        files[side] = files[side].rstrip("\n") + "  # hpreg: ignore\n"
        monkeypatch.chdir(src(files))
        assert lint_paths(["."]) == []
        assert lint_paths(["a.py"], project=".") == []

    def test_the_mark_on_a_call_over_several_lines(self, src, monkeypatch):
        files = {
            "a.py": HEAD + 'x = _(\n    "lr",\n    0.2,\n)  # hpreg: ignore\n',
            "b.py": HEAD + 'y = _("lr", 0.1)\n',
        }
        monkeypatch.chdir(src(files))
        assert lint_paths(["."]) == []


# -- §3/§4 choices hints ----------------------------------------------------------------
BAD_CHOICES = (
    HEAD + 'lr = _("lr", 0.1, choices=5)\nopt = _("opt", "ab", choices="abc")\n'
)


class TestChoicesMustBeACollection:
    def test_lint_reports_them_as_hint_problems(self, src, monkeypatch):
        monkeypatch.chdir(src({"a.py": BAD_CHOICES}))
        problems = lint_paths(["."])
        assert located(problems) == [("hint", "a.py", 2), ("hint", "a.py", 3)]
        for problem in problems:
            assert "choices must be a list, tuple or set of values" in problem.message
        assert "not an int (5)" in problems[0].message
        assert "not a string ('abc')" in problems[1].message

    def test_hpreg_lint_exits_1_without_a_traceback(self, src, cli):
        code, out, err = cli("lint", "a.py", cwd=src({"a.py": BAD_CHOICES}))
        assert (code, err) == (1, "")
        assert out.count("choices must be a list, tuple or set of values") == 2

    def test_a_non_literal_default_still_gets_its_hint_checked(self, src, monkeypatch):
        monkeypatch.chdir(
            src({"a.py": HEAD + 'import os\nn = _("n", os.cpu_count(), choices=3)\n'})
        )
        assert located(lint_paths(["."])) == [("hint", "a.py", 3)]

    @pytest.mark.parametrize("choices", [5, "abc", {"a": 1}, 1.5, b"ab"])
    def test_check_hints_is_a_clean_error(self, choices):
        with pytest.raises(BadHintError) as info:
            check_hints("x", "ab", {"choices": choices})
        assert isinstance(info.value, HintViolationError)
        assert "choices must be a list, tuple or set of values" in str(info.value)

    def test_no_substring_test(self):
        with pytest.raises(HintViolationError):
            check_hints("opt", "ab", {"choices": ["abc"]})
        check_hints("opt", "abc", {"choices": ("abc", "d")})
        check_hints("opt", "abc", {"choices": {"abc"}})

    @pytest.mark.parametrize("override", ["lr=1,2", "opt=ab"])
    def test_sweep_scan_is_one_clean_error(self, src, cli, override):
        root = src({"a.py": BAD_CHOICES})
        code, out, err = cli("sweep", override, "--scan", "a.py", "--count", cwd=root)
        assert code == 1
        line = one_error_line(err)
        assert "choices must be a list, tuple or set of values" in line

    def test_sweep_file_with_a_long_range(self, src, cli):
        root = src({"a.py": BAD_CHOICES, "s.yaml": "lr: range(0, 100000)\n"})
        code, out, err = cli("sweep", "s.yaml", "--scan", "a.py", "--count", cwd=root)
        assert code == 1
        assert "choices must be a list" in one_error_line(err)

    @pytest.mark.parametrize("argv", [["--lr", "3"], ["--opt", "ab"]])
    def test_binding_is_a_clean_argparse_error(self, capsys, argv):
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source(BAD_CHOICES, filename="train.py")
        parser = argparse.ArgumentParser(prog="train")
        bind(parser, manager)
        with pytest.raises(SystemExit) as info:
            parser.parse_args(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "choices must be a list, tuple or set of values" in err

    def test_values_file_is_a_clean_error(self, tmp_path):
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source(BAD_CHOICES, filename="train.py")
        path = tmp_path / "v.yaml"
        path.write_text("lr: 3\n", encoding="utf-8")
        parser = argparse.ArgumentParser(prog="train")
        bind(parser, manager)
        with pytest.raises(SystemExit) as info:
            parser.parse_args(["--hp-load", str(path)])
        assert info.value.code == 2

    def test_valid_choices_still_work_in_binding(self, capsys):
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source(
            HEAD + 'opt = _("opt", "adam", choices=["adam", "sgd"])\n', "train.py"
        )
        parser = argparse.ArgumentParser(prog="train")
        bind(parser, manager)
        assert parser.parse_args(["--opt", "sgd"]).opt == "sgd"
        with pytest.raises(SystemExit):
            parser.parse_args(["--opt", "ad"])


# -- §3 runtime calls with a bad name --------------------------------------------------
class TestBadNamesAtRuntime:
    @pytest.mark.parametrize("name", [None, 123, "", ["a"], 1.5])
    @pytest.mark.parametrize("with_default", [False, True])
    def test_a_clear_error(self, name, with_default):
        manager = hpreg.HyperParameterManager("_")
        args = (name, 1) if with_default else (name,)
        with pytest.raises(BadNameError) as info:
            manager(*args)
        error = info.value
        assert isinstance(error, (BadCallError, TypeError, HpregError))
        assert str(error).startswith(
            "the name of a hyperparameter must be a non-empty string, not {!r}".format(
                name
            )
        )
        assert error.name == name
        assert manager.get_values() == {}

    def test_get_value_too(self):
        manager = hpreg.HyperParameterManager("_")
        with pytest.raises(BadNameError):
            manager.get_value(None)

    def test_good_names_still_work(self):
        manager = hpreg.HyperParameterManager("_")
        assert manager("lr", 0.1) == 0.1
        assert manager("lr") == 0.1


# -- §3 function sweeps that parse arguments at import --------------------------------
SWEEP_MODULE = """\
import sys

import hpreg
from hpreg.m import _

lr = _("lr", 0.1)
args = hpreg.parse_args(_)
SEEN = list(sys.argv)


def points():
    return [{"lr": 0.1, "argv": " ".join(SEEN + sys.argv)}, {"lr": 0.2}]
"""


class TestFunctionSweepArgv:
    def test_the_module_does_not_see_hpregs_argv(self, src, cli):
        root = src({"sweeps.py": SWEEP_MODULE})
        argv = list(sys.argv)
        code, out, err = cli("sweep", "sweeps.py:points", "--list", cwd=root)
        assert (code, err) == (0, "")
        points = [json.loads(line) for line in out.splitlines()]
        assert [p["lr"] for p in points] == [0.1, 0.2]
        assert points[0]["argv"] == "sweeps.py sweeps.py"
        assert sys.argv == argv

    def test_through_the_real_command(self, src, run_hpreg):
        root = src({"sweeps.py": SWEEP_MODULE})
        result = run_hpreg("sweep", "sweeps.py:points", "--count", cwd=root)
        assert (result.returncode, result.stdout, result.stderr) == (0, "2\n", "")


# -- §4 Hydra's dict syntax ------------------------------------------------------------
class TestHydraDicts:
    @pytest.mark.parametrize(
        "text, expected",
        [
            ("{a:1,b:2}", {"a": 1, "b": 2}),
            ("{a: 1, b: 2}", {"a": 1, "b": 2}),
            ("{a:{b:1}}", {"a": {"b": 1}}),
            ("{a:[1,2],b:x}", {"a": [1, 2], "b": "x"}),
            ("{a:x}", {"a": "x"}),
            ("{a:http://x/y}", {"a": "http://x/y"}),
            ("{'a:b':'c,d'}", {"a:b": "c,d"}),
            ('{"a":1}', {"a": 1}),
            ("[{a:1},{b:2}]", [{"a": 1}, {"b": 2}]),
            ("[1,2]", [1, 2]),
            ("[a:1]", ["a:1"]),
            ("{}", {}),
        ],
    )
    def test_parse_scalar(self, text, expected):
        assert parse_scalar(text) == expected

    @pytest.mark.parametrize("text", ["{a}", "{a,b}", "{a:1,b}", "{a:1,b:{c}}", "{a:1"])
    def test_a_dict_that_does_not_parse_is_an_error(self, text):
        with pytest.raises(UsageError):
            parse_scalar(text)

    def test_override(self):
        assert parse_override("name={a:1,b:2}") == ("name", {"a": 1, "b": 2}, False)
        assert parse_override("name={a:1},{a:2}") == (
            "name",
            [{"a": 1}, {"a": 2}],
            True,
        )

    def test_hpreg_sweep(self, cli, tmp_path):
        code, out, err = cli("sweep", "name={a:1,b:{c:x}}", "--list", cwd=tmp_path)
        assert (code, err) == (0, "")
        assert json.loads(out) == {"name": {"a": 1, "b": {"c": "x"}}}

    def test_hpreg_sweep_refuses_an_entry_without_colon(self, cli, tmp_path):
        code, out, err = cli("sweep", "name={a,b}", "--list", cwd=tmp_path)
        assert code == 2
        assert "the dict entry 'a' has no ':'" in one_error_line(err)

    @pytest.mark.parametrize("name", ["extra", "maybe"])
    def test_a_bound_option(self, name):
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source(
            HEAD + '_("extra", {"key": 1})\n_("maybe", None)\n', "train.py"
        )
        parser = argparse.ArgumentParser(prog="train")
        bind(parser, manager)
        args = parser.parse_args(["--" + name, "{a:1,b:{c:2}}"])
        assert getattr(args, name) == {"a": 1, "b": {"c": 2}}

    @pytest.mark.parametrize("name", ["extra", "maybe"])
    def test_a_bound_option_that_does_not_parse(self, capsys, name):
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source(
            HEAD + '_("extra", {"key": 1})\n_("maybe", None)\n', "train.py"
        )
        parser = argparse.ArgumentParser(prog="train")
        bind(parser, manager)
        with pytest.raises(SystemExit) as info:
            parser.parse_args(["--" + name, "{a,b}"])
        assert info.value.code == 2
        assert "argument --{}".format(name) in capsys.readouterr().err
