"""Hostile and malformed inputs (issue 8, parts 2 to 4): no input may hang hpreg,
exhaust its memory or end in a traceback, and no value may change silently.

Each input goes through every door it can take: sweep files, command-line overrides,
``$HPREG_CONFIG``, ``--hp-load`` and a bound script's options.
"""

import argparse
import json
import math

import pytest

import hpreg
from hpreg.scan import scanner
from hpreg.registry.checks import check_hints
from hpreg.io.files import load_values_file, load_yaml_text, parse_scalar
from hpreg.io.limits import MAX_DEPTH, text_size
from hpreg.registry.listing import plain_value as _plain
from hpreg.sweep.expressions import compile_expression
from hpreg.binder.binding import bind
from hpreg.cli import main
from hpreg.errors import (
    ExpressionError,
    HintViolationError,
    SweepFileError,
    UsageError,
    ValuesFileError,
)
from hpreg.sweep.file import load_sweep

SOURCE = '_("lr", 0.1, low=0.0, high=1.0)\n_("opts", [1, 2])\n'
DEEP = "[" * 2000 + "]" * 2000


def laughs(levels=9, width=10):
    """A small YAML file whose mappings alias the level below ``width`` times."""
    first = ", ".join("k{}: 1".format(j) for j in range(width))
    lines = ["a0: &a0 {{{}}}".format(first)]
    for i in range(1, levels + 1):
        keys = ", ".join("k{}: *a{}".format(j, i - 1) for j in range(width))
        lines.append("a{}: &a{} {{{}}}".format(i, i, keys))
    return "\n".join(lines) + "\n"


BAD_TAGS = [
    ("!!float x", "!!float"),
    ("!!bool maybe", "!!bool"),
    ("!!timestamp x", "!!timestamp"),
    ("!!int", "!!int"),
    ("1" * 5000, "over 4300 digits"),
]


@pytest.fixture(name="cli")
def fixture_cli(capsys, monkeypatch, tmp_path):
    """``cli(*argv)`` -> (exit code, stdout, stderr), run in ``tmp_path``."""
    monkeypatch.delenv("HPREG_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)

    def run(*argv):
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(name="script")
def fixture_script(tmp_path):
    """A script's source declaring ``lr`` (bounded) and ``opts``, for ``--scan``."""
    path = tmp_path / "train.py"
    path.write_text("from hpreg.m import _\n" + SOURCE, encoding="utf-8")
    return path


@pytest.fixture(name="make")
def fixture_make():
    """``make()`` -> (parser, manager) bound over ``SOURCE``."""

    def make():
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source(SOURCE, filename="train.py")
        parser = argparse.ArgumentParser(prog="train")
        bind(parser, manager)
        return parser, manager

    return make


@pytest.fixture(name="fails")
def fixture_fails(capsys):
    """``fails(parser, argv)`` -> stderr, asserting argparse exited with status 2."""

    def fails(parser, argv):
        with pytest.raises(SystemExit) as info:
            parser.parse_args(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        return err

    return fails


def one_error_line(err):
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hpreg: error: "), err
    return lines[0][len("hpreg: error: ") :]


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def env_fails(make, monkeypatch, path):
    """The error ``bind`` raises for ``$HPREG_CONFIG=path``."""
    monkeypatch.setenv("HPREG_CONFIG", str(path))
    try:
        with pytest.raises(ValuesFileError) as info:
            make()
    finally:  # unset before the managers are reset after the test
        monkeypatch.delenv("HPREG_CONFIG")
    return str(info.value)


# -- YAML aliases that multiply (billion laughs) -------------------------------------------
class TestAliasExpansion:
    def test_refused_when_loading(self, tmp_path):
        path = write(tmp_path / "laughs.yaml", laughs())
        assert len(laughs()) < 1000
        with pytest.raises(ValuesFileError) as info:
            load_values_file(path)
        message = str(info.value)
        assert message.startswith(path + ":")
        assert "expands to more than 100000 values through its aliases" in message

    def test_sweep_include(self, cli, tmp_path):
        write(tmp_path / "laughs.yaml", laughs())
        write(tmp_path / "sweep.yaml", "include: laughs.yaml\nproduct:\n  x: [1]\n")
        code, out, err = cli("sweep", "sweep.yaml", "--list")
        assert code == 1 and out == ""
        assert "laughs.yaml" in one_error_line(err)
        assert "expands to more than" in err

    def test_sweep_file_itself(self, cli, tmp_path):
        write(tmp_path / "sweep.yaml", laughs() + "product:\n  x: [1]\n")
        code, _out, err = cli("sweep", "sweep.yaml", "--count")
        assert code == 1
        assert "expands to more than" in one_error_line(err)

    def test_hpreg_config(self, make, monkeypatch, tmp_path):
        path = write(tmp_path / "laughs.yaml", laughs())
        message = env_fails(make, monkeypatch, path)
        assert "expands to more than" in message and "$HPREG_CONFIG" in message

    def test_hp_load(self, make, fails, tmp_path):
        path = write(tmp_path / "laughs.yaml", laughs())
        parser, _ = make()
        err = fails(parser, ["--hp-load", path])
        assert "laughs.yaml" in err and "expands to more than" in err

    def test_a_recursive_alias_is_refused(self):
        with pytest.raises(ValuesFileError, match="inside its own anchor"):
            load_yaml_text("a: &x [1, *x]\n", source="v.yaml")

    def test_aliases_that_do_not_multiply_still_work(self):
        data = load_yaml_text("a: &x {w: [1, 2]}\nb: *x\nc: {<<: *x, d: 3}\n")
        assert data == {
            "a": {"w": [1, 2]},
            "b": {"w": [1, 2]},
            "c": {"w": [1, 2], "d": 3},
        }


# -- deep nesting --------------------------------------------------------------------------
class TestDeepNesting:
    def test_limit_is_not_too_tight(self):
        depth = MAX_DEPTH - 2
        text = "[" * depth + "1" + "]" * depth
        value = load_yaml_text("lr: {}\n".format(text))["lr"]
        for _ in range(depth - 1):
            value = value[0]
        assert value == [1]
        assert parse_scalar(text) == load_yaml_text(text)

    def test_sweep_file(self, cli, tmp_path):
        write(tmp_path / "sweep.yaml", "product:\n  lr: [{}]\n".format(DEEP))
        code, _out, err = cli("sweep", "sweep.yaml", "--list")
        assert code == 1
        line = one_error_line(err)
        assert line.startswith("sweep.yaml:2:")
        assert "nested deeper than 100 levels" in line

    def test_deep_through_aliases(self):
        level = "[" * 60 + "1" + "]" * 60
        text = "a: &a {}\nb: &b {}*a{}\n".format(level, "[" * 60, "]" * 60)
        with pytest.raises(ValuesFileError, match="nested deeper than 100 levels"):
            load_yaml_text(text, source="v.yaml")

    @pytest.mark.parametrize("suffix", [".yaml", ".json"])
    def test_hpreg_config(self, make, monkeypatch, tmp_path, suffix):
        text = '{"lr": %s}\n' % DEEP
        path = write(tmp_path / ("deep" + suffix), text)
        message = env_fails(make, monkeypatch, path)
        assert "nested deeper than 100 levels" in message

    @pytest.mark.parametrize("suffix", [".yaml", ".json"])
    def test_hp_load(self, make, fails, tmp_path, suffix):
        path = write(tmp_path / ("deep" + suffix), '{"lr": %s}\n' % DEEP)
        parser, _ = make()
        err = fails(parser, ["--hp-load", path])
        assert "nested deeper than 100 levels" in err

    def test_command_line_override(self, cli):
        code, _out, err = cli("sweep", "lr=" + DEEP, "--list")
        assert code == 2
        assert "nested deeper than 100 levels" in one_error_line(err)

    @pytest.mark.parametrize("option", ["--opts", "--lr"])
    def test_bound_option(self, make, fails, option):
        parser, _ = make()
        err = fails(parser, [option, DEEP])
        assert "argument {}".format(option) in err

    def test_parse_scalar(self):
        with pytest.raises(UsageError, match="nested deeper than 100 levels"):
            parse_scalar(DEEP, where="--lr")

    def test_listing_plain(self):
        value = []
        for _ in range(2000):
            value = [value]
        with pytest.raises(UsageError, match="nested deeper than 100 levels"):
            _plain(value)
        assert _plain(((1, 2), {"a": (3,)})) == [[1, 2], {"a": [3]}]


# -- YAML tags with content the tag cannot read ---------------------------------------------
class TestBadTags:
    @pytest.mark.parametrize("text, named", BAD_TAGS)
    def test_override(self, cli, text, named):
        code, out, err = cli("sweep", "lr=" + text, "--list")
        assert code == 2 and out == ""
        line = one_error_line(err)
        assert "cannot parse value" in line and named in line

    @pytest.mark.parametrize("text, named", BAD_TAGS)
    def test_sweep_file(self, cli, tmp_path, text, named):
        text = "product:\n  lr:\n    - 0.1\n    - {}\n".format(text)
        write(tmp_path / "sweep.yaml", text)
        code, _out, err = cli("sweep", "sweep.yaml", "--list")
        assert code == 1
        line = one_error_line(err)
        assert line.startswith("sweep.yaml:4:7: invalid YAML: cannot read")
        assert named in line

    @pytest.mark.parametrize("text, named", BAD_TAGS)
    def test_hp_load(self, make, fails, tmp_path, text, named):
        path = write(tmp_path / "v.yaml", "lr: {}\n".format(text))
        parser, _ = make()
        err = fails(parser, ["--hp-load", path])
        assert "v.yaml:1:5: invalid YAML: cannot read" in err and named in err

    @pytest.mark.parametrize("text, named", BAD_TAGS)
    def test_hpreg_config(self, make, monkeypatch, tmp_path, text, named):
        path = write(tmp_path / "v.yaml", "lr: {}\n".format(text))
        message = env_fails(make, monkeypatch, path)
        assert message.startswith(path + ":1:5: invalid YAML: cannot read")
        assert named in message

    def test_bound_option_stays_a_usage_error(self, make, fails):
        parser, _ = make()
        assert "argument --lr" in fails(parser, ["--lr", "!!float x"])

    def test_good_tags_still_work(self):
        assert load_yaml_text("a: !!float 1\nb: !!str 3\nc: !!int '7'\n") == {
            "a": 1.0,
            "b": "3",
            "c": 7,
        }


# -- JSON values files refuse duplicate keys as YAML ones do ---------------------------------
class TestJsonDuplicateKeys:
    def test_values_file(self, tmp_path):
        path = write(tmp_path / "v.json", '{"lr": 0.1, "m": {"a": 1, "a": 2}}')
        with pytest.raises(ValuesFileError) as info:
            load_values_file(path)
        assert str(info.value) == (
            "{}: invalid JSON: duplicate key 'a'; keep one of them".format(path)
        )

    def test_hp_load(self, make, fails, tmp_path):
        path = write(tmp_path / "v.json", '{"lr": 0.1, "lr": 0.2}')
        parser, _ = make()
        err = fails(parser, ["--hp-load", path])
        assert "v.json: invalid JSON: duplicate key 'lr'; keep one of them" in err

    def test_hpreg_config(self, make, monkeypatch, tmp_path):
        path = write(tmp_path / "v.json", '{"lr": 0.1, "lr": 0.2}')
        assert "duplicate key 'lr'" in env_fails(make, monkeypatch, path)

    def test_sweep_include(self, cli, tmp_path):
        write(tmp_path / "base.json", '{"lr": 0.1, "lr": 0.2}')
        write(tmp_path / "sweep.yaml", "include: base.json\nproduct:\n  x: [1]\n")
        code, _out, err = cli("sweep", "sweep.yaml", "--list")
        assert code == 1
        assert "duplicate key 'lr'" in one_error_line(err)


# -- NaN against low/high -------------------------------------------------------------------
class TestNanBounds:
    @pytest.mark.parametrize("hints", [{"low": 0.0}, {"high": 1.0}])
    def test_check_hints(self, hints):
        with pytest.raises(HintViolationError, match="nan for 'lr' is not a number"):
            check_hints("lr", float("nan"), hints)
        check_hints("lr", float("nan"), {})  # no bound, nothing to break

    def test_command_line(self, make, fails):
        parser, _ = make()
        err = fails(parser, ["--lr", "nan"])
        assert "argument --lr: nan for 'lr' is not a number" in err

    def test_hpreg_config(self, make, monkeypatch, tmp_path):
        path = write(tmp_path / "v.yaml", "lr: .nan\n")
        monkeypatch.setenv("HPREG_CONFIG", path)
        try:
            with pytest.raises(HintViolationError, match="nan for 'lr' is not"):
                make()
        finally:
            monkeypatch.delenv("HPREG_CONFIG")

    def test_sweep(self, cli, script):
        code, out, err = cli("sweep", "lr=0.5,.nan", "--scan", script, "--list")
        assert code == 1 and out == ""
        assert "nan for 'lr' is not a number" in one_error_line(err)


# -- non-finite floats in JSON output ---------------------------------------------------------
def strict_json(text):
    def refuse(constant):
        raise AssertionError("not strict JSON: " + constant)

    return json.loads(text, parse_constant=refuse)


class TestNonFiniteJson:
    def test_sweep_list(self, cli):
        code, out, _err = cli("sweep", "lr=.nan,.inf,-.inf,0.5", "x=[.nan]", "--list")
        assert code == 0
        points = [strict_json(line) for line in out.splitlines()]
        assert [p["lr"] for p in points] == ["nan", "inf", "-inf", 0.5]
        assert points[0]["x"] == ["nan"]

    def test_hp_list_json(self, make, capsys):
        parser, _ = make()
        with pytest.raises(SystemExit):
            parser.parse_args(["--opts", "[.inf, -.inf, .nan]", "--hp-list", "json"])
        assert strict_json(capsys.readouterr().out)["opts"] == ["inf", "-inf", "nan"]

    def test_list_format_json(self, cli, tmp_path):
        write(tmp_path / "a.py", 'from hpreg.m import _\n_("x", 1e999)\n')
        code, out, _err = cli("list", "--format", "json", "a.py")
        assert code == 0
        assert strict_json(out)[0]["value"] == "inf"


# -- blank reasons --------------------------------------------------------------------------
class TestReasons:
    def test_memory_error_while_evaluating(self, monkeypatch):
        from hpreg.sweep import bounded

        def exhausted(*args):
            raise MemoryError()

        monkeypatch.setitem(bounded.FUNCTIONS, "abs", exhausted)
        with pytest.raises(ExpressionError) as info:
            compile_expression("abs(x)", where="s.yaml: derive.y")({"x": 1})
        assert ": out of memory; check the values it reads (x=1)" in str(info.value)

    def test_memory_error_while_parsing_an_expression(self, monkeypatch):
        def exhausted(*args, **kwargs):
            raise MemoryError()

        monkeypatch.setattr("ast.parse", exhausted)
        with pytest.raises(ExpressionError) as info:
            compile_expression("x + 1", where="w")
        assert str(info.value) == "w: invalid expression 'x + 1': out of memory"

    @pytest.mark.parametrize(
        "error, reason",
        [
            (MemoryError(), "cannot be parsed: out of memory"),
            (RecursionError(), "cannot be parsed: the code is nested too deeply"),
        ],
    )
    def test_scanner(self, monkeypatch, error, reason):
        def fail(*args, **kwargs):
            raise error

        monkeypatch.setattr(scanner.ast, "parse", fail)
        problems = scanner.scan_source("x = 1\n", "a.py").problems
        assert len(problems) == 1
        assert problems[0].message.startswith(reason)
        assert "()" not in problems[0].message

    def test_syntax_errors_keep_their_message(self):
        problems = scanner.scan_source("x = (\n", "a.py").problems
        assert problems[0].message.startswith("invalid syntax (")
        assert "()" not in problems[0].message


# -- the safe evaluator sizes results before building them ------------------------------------
class TestEvaluatorSizes:
    def test_derive_chain_of_squarings(self, cli, tmp_path):
        lines = ["product:", "  x: [1]", "derive:", '  a0: "2**99999"']
        lines += ['  a{}: "a{}*a{}"'.format(i, i - 1, i - 1) for i in range(1, 17)]
        write(tmp_path / "sweep.yaml", "\n".join(lines) + "\n")
        code, out, err = cli("sweep", "sweep.yaml", "--list")
        assert code == 1 and out == ""
        line = one_error_line(err)
        assert "derive.a1: cannot evaluate 'a0*a0': product too large" in line
        assert "a0=<an int of about 30103 digits>" in line

    def test_str_of_a_repeated_list(self, cli, tmp_path):
        text = "product:\n  x: [1]\nderive:\n  s: \"str(['a'*100000]*100000)\"\n"
        write(tmp_path / "sweep.yaml", text)
        code, _out, err = cli("sweep", "sweep.yaml", "--list")
        assert code == 1
        line = one_error_line(err)
        assert "cannot evaluate \"str(['a'*100000]*100000)\"" in line
        assert "too large" in line

    def test_lazy_range_axis_stays_unbounded(self, tmp_path):
        path = write(tmp_path / "sweep.yaml", 'product:\n  i: "range(10**15)"\n')
        sweep = load_sweep(path)
        assert sweep.count() == 10**15
        assert sweep[10**15 - 1] == {"i": 10**15 - 1}

    def test_text_size_is_an_upper_bound(self):
        for value in [
            "abc",
            "",
            [1, "ab", (2.5, None)],
            {"a": [True, -12345]},
            (),
            [float("nan")],
            10**40,
            -(10**40),
        ]:
            assert text_size(value) >= len(repr(value)), value

    def test_text_size_stops_early(self):
        shared = ["a" * 1000] * 1000
        value = [shared] * 1000  # 10**9 characters written out
        assert text_size(value, limit=10_000) > 10_000
        assert math.isfinite(text_size(value, limit=10_000))
