"""One values pipeline: ``_.load``, ``--hp-load``, ``$HPREG_CONFIG`` and the runner's
point files read -> flatten -> coerce -> check types and hints -> set with provenance,
and they refuse the same values with the same message."""

import argparse
import os
import subprocess
import sys
import textwrap

import pytest

import hpreg
from hpreg.errors import HintViolationError, ValuesFileError, ValueTypeError
from hpreg.registry import env as _env

SOURCE = """\
from hpreg.m import _

_("lr", 0.1, low=0.0, high=1.0)
_("opt", "adam", choices=["adam", "sgd"])
_("epochs", 3)
"""


def _declared():
    manager = hpreg.HyperParameterManager("_")
    manager.parse_source(SOURCE, "train.py")
    return manager


def _via_load(path):
    _declared().load(str(path))


def _via_hp_load(path):
    manager = _declared()
    parser = argparse.ArgumentParser(prog="train.py")
    hpreg.bind(parser, manager)
    try:
        parser.parse_args(["--hp-load", str(path)])
    except SystemExit as stop:  # argparse printed it; the error is the context
        raise stop.__context__ or stop


def _via_env(path, monkeypatch):
    monkeypatch.setenv("HPREG_CONFIG", str(path))
    _env.clear_cache()
    manager = _declared()
    try:
        hpreg.bind(argparse.ArgumentParser(prog="train.py"), manager)
    except SystemExit as stop:
        raise stop


BAD = [
    ("lr: 5.0\n", HintViolationError, "above its high bound 1.0"),
    ("opt: rmsprop\n", HintViolationError, "rmsprop"),
    ("epochs: many\n", ValueTypeError, "'many' for 'epochs' is a str"),
]


@pytest.mark.parametrize("text, error, fragment", BAD)
def test_every_path_refuses_the_same_values_with_the_same_message(
    tmp_path, monkeypatch, capsys, text, error, fragment
):
    path = tmp_path / "values.yaml"
    path.write_text(text)
    messages = []
    for route in (_via_load, _via_hp_load):
        with pytest.raises(error) as info:
            route(path)
        messages.append(str(info.value))
    with pytest.raises(error) as info:
        _via_env(path, monkeypatch)
    messages.append(str(info.value))
    assert fragment in messages[0]
    assert len(set(messages)) == 1, messages


def test_a_wrong_type_is_both_a_values_file_error_and_a_type_error(tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text("epochs: many\n")
    with pytest.raises(ValuesFileError) as info:
        _via_load(path)
    assert isinstance(info.value, ValueTypeError) and isinstance(info.value, TypeError)


def test_load_sets_with_provenance_and_coerces_to_the_default_type(tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text("lr: 1\nopt: sgd\n")
    manager = _declared()
    manager.load(str(path))
    assert manager.get_value("lr") == 1.0 and isinstance(manager.get_value("lr"), float)
    assert manager.provenance("opt").source == "file"


def test_hpreg_config_is_flattened_per_separator(tmp_path, monkeypatch):
    path = tmp_path / "values.yaml"
    path.write_text("model: {width: 3}\n")
    monkeypatch.setenv("HPREG_CONFIG", str(path))
    _env.clear_cache()
    dotted = hpreg.HyperParameterManager("_", separator=".")
    slashed = hpreg.HyperParameterManager("_", separator="/")
    slashed.parse_source('_("model/width", 1)\n', "m.py")
    dotted.parse_source('_("model.width", 1)\n', "d.py")
    assert slashed.get_value("model/width") == 3
    assert dotted.get_value("model.width") == 3


class TestMissingHpregConfig:
    def test_importing_the_manager_does_not_fail_reading_a_value_does(
        self, tmp_path, monkeypatch
    ):
        monkeypatch.setenv("HPREG_CONFIG", str(tmp_path / "missing.yaml"))
        _env.clear_cache()
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source('_("lr", 0.1)\n', "train.py")
        with pytest.raises(ValuesFileError, match=r"\$HPREG_CONFIG"):
            manager("lr", 0.1)
        with pytest.raises(ValuesFileError, match="missing.yaml: file not found"):
            manager.get_value("lr")

    def test_script_import_is_clean_and_bind_exits_2_naming_the_file(self, tmp_path):
        script = tmp_path / "train.py"
        script.write_text(
            textwrap.dedent(
                """\
                from hpreg.m import _
                import hpreg

                print("imported")
                hpreg.parse_args(_, paths=[__file__])
                print("lr", _("lr", 0.1))
                """
            )
        )
        env = dict(os.environ, HPREG_CONFIG=str(tmp_path / "missing.yaml"))
        result = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, env=env
        )
        assert result.returncode == 2
        assert result.stdout == "imported\n"
        assert "Traceback" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert "missing.yaml" in last and "$HPREG_CONFIG" in last
        assert last.startswith("train.py: error: ")


@pytest.mark.parametrize("text", ["1" + "0" * 400, "1e400", "-2e999"])
def test_a_float_option_too_large_is_refused_not_made_infinite(text, capsys):
    manager = _declared()
    parser = argparse.ArgumentParser(prog="train.py")
    hpreg.bind(parser, manager)
    with pytest.raises(SystemExit) as stop:
        parser.parse_args(["--lr=" + text])
    assert stop.value.code == 2
    assert "too large for a float" in capsys.readouterr().err
    assert manager.get_value("lr") == 0.1


def test_inf_typed_as_inf_is_kept(tmp_path):
    manager = hpreg.HyperParameterManager("_")
    manager.parse_source('_("clip", 1.0)\n', "train.py")
    parser = argparse.ArgumentParser(prog="train.py")
    hpreg.bind(parser, manager)
    parser.parse_args(["--clip", "inf"])
    assert manager.get_value("clip") == float("inf")
