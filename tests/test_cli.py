"""The ``hpreg`` command: list, lint, show and sweep, run in-process through
``hpreg.cli.main`` (stdout, stderr, exit code) and a few times as a real process."""

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

TRAIN = os.path.join("examples", "train")
TRAIN_ABS = os.path.join(EXAMPLES, "train")
TRAIN_NAMES = [
    "data.seed",
    "data.n_features",
    "data.n_samples",
    "data.noise",
    "model.hidden",
    "model.init_scale",
    "optim.lr",
    "optim.momentum",
    "train.batch_size",
    "train.epochs",
]
LINT_LINE = re.compile(r"^[^:\s]+:\d+(:\d+)?: \S.*$")


@pytest.fixture(name="cli")
def fixture_cli(capsys, monkeypatch):
    """``cli(*argv, cwd=ROOT)`` -> (exit code, stdout, stderr) of ``main(argv)``."""
    monkeypatch.delenv("HPREG_DEBUG", raising=False)

    def run(*argv, cwd=ROOT):
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(name="hpreg_config")
def fixture_hpreg_config():
    """``hpreg_config(path)`` sets ``$HPREG_CONFIG`` (None unsets it) for this test;
    it is unset again before the managers are reset after the test."""

    def set_config(path):
        if path is None:
            os.environ.pop("HPREG_CONFIG", None)
        else:
            os.environ["HPREG_CONFIG"] = str(path)

    yield set_config
    os.environ.pop("HPREG_CONFIG", None)


@pytest.fixture(name="src")
def fixture_src(tree):
    """``src({"a.py": text})``: a tree of dedented files; returns its folder."""

    def write(files):
        return tree({name: textwrap.dedent(text) for name, text in files.items()})

    return write


def one_error_line(err):
    """The single ``hpreg: error: ...`` line on stderr, without a traceback."""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hpreg: error: "), err
    return lines[0][len("hpreg: error: ") :]


def table(text):
    """(header, rows) of a PrettyTable listing."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return cells[0], cells[1:]


def json_lines(text):
    return [json.loads(line) for line in text.splitlines()]


MULTI = {
    "a.py": """\
        from hpreg.m import _, hp
        lr = _("lr", 0.1, low=0.0)
        width = hp("width", 64, low=1)
        """,
    "sub/b.py": """\
        from hpreg.m import cfg
        seed = cfg("seed", 0)
        """,
}


# -- list --------------------------------------------------------------------------------
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


# -- errors --------------------------------------------------------------------------------
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


# -- sweep --------------------------------------------------------------------------------
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


class TestListReportsEveryBrokenFile:
    def test_a_broken_file_without_any_call_is_reported(self, cli, src):
        root = src(
            {"ok.py": 'from hpreg.m import _\n_("a", 1)\n', "bad.py": "def f(:\n"}
        )
        code, out, err = cli("list", ".", cwd=root)
        assert code == 0 and "| a " in out
        assert err.startswith("hpreg: warning: bad.py:1:")


def test_show_a_group_lists_its_members(cli):
    code, out, err = cli("show", "optim", TRAIN)
    assert (code, err) == (0, "")
    assert out == (
        "optim is a group of 2 hyperparameters: optim.lr, optim.momentum; "
        "'hpreg show NAME' shows one\n"
    )
