"""Every user-facing error of the registry layer, in one table (omegaconf's style).

Each row: what triggers it, the exception type, the built-in it also is (so old
``except`` clauses keep working), a regex its message must match from the start,
and the facts it keeps as attributes. The working directory is a temporary folder
holding ``src/``; files are scanned by their absolute path, so every position must
come out relative (``src/a.py:3:7``), with 1-based line and column.
"""

import json
import os
import re
import warnings

import pytest

import hpreg
from hpreg import (
    BadCallError,
    DoubleAssignmentException,
    HpregError,
    ImpossibleTree,
    MissingValueError,
    NotLiteralEvaluable,
    NotLiteralNameException,
    ScanError,
    ScanWarning,
    UnknownHyperparameterError,
    ValuesFileError,
)

HEADER = "from hpreg.m import _\n\n"  # declarations start on line 3


@pytest.fixture(name="workdir", autouse=True)
def fixture_workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    return tmp_path


def write(relative, text):
    path = os.path.abspath(relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def scan(**files):
    """Write ``src/<name>.py`` for each keyword (HEADER first) and scan ``src`` by its
    absolute path with a fresh manager."""
    for name, body in files.items():
        write(os.path.join("src", name + ".py"), HEADER + body)
    return hpreg.HyperParameterManager("_").parse_file(os.path.abspath("src"))


def declared():
    """A manager that scanned ``lr = 0.1``, ``model.width = 128``, ``use_bn = True``
    and ``names = ("a", "b")``."""
    return scan(
        a='lr = _("lr", 0.1)\n'
        'width = _("model.width", 128)\n'
        'bn = _("use_bn", True)\n'
        'names = _("names", ("a", "b"))\n'
    )


def load(filename, text, by_absolute_path=False):
    write(filename, text)
    declared().load(os.path.abspath(filename) if by_absolute_path else filename)


def missing_declared():
    m = scan(a='depth = _("depth")\n')
    m("depth")


def missing_typo():
    m = scan(a='depth = _("depth", 3)\n')
    m.get_value("dept")


def set_group_as_value():
    m = hpreg.HyperParameterManager("_")
    m.set_value("model.width", 1)
    m.set_value("model", 2)


def set_tree_int_key():
    hpreg.HyperParameterManager("_").set_tree({"model": {5: 1}})


def save_bad_extension():
    declared().save("values.toml")


def bad_serial_format():
    declared().load("values.yaml", serial_format="toml")


def strict_scan():
    write("src/ok.py", HEADER + 'lr = _("lr", 0.1)\n')
    write("src/broken.py", HEADER + 'x = _("broken", 1))\n')
    hpreg.HyperParameterManager("_").parse_file(os.path.abspath("src"), strict=True)


def registry_strict_scan():
    write("src/broken.py", HEADER + 'x = _("broken", 1))\n')
    hpreg.parse_file(os.path.abspath("src"), strict=True)


def env_config_missing():
    os.environ["HPREG_CONFIG"] = "missing.yaml"
    try:
        manager = hpreg.HyperParameterManager("_")  # creating it does not fail
        manager("lr", 0.1)  # reading a value does
    finally:
        del os.environ["HPREG_CONFIG"]


def attr(obj, dotted):
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def absolute(relative):
    """A field check: the absolute path of ``relative`` (under the working dir)."""
    return lambda value: os.path.realpath(value) == os.path.realpath(relative)


# (trigger, exception, built-ins, message regex from the start, fields)
ERRORS = [
    pytest.param(
        lambda: scan(a='lr = _("lr", 0.1)\n', b='\n\nlr = _("lr", 0.01)\n'),
        DoubleAssignmentException,
        (ValueError,),
        r"conflicting defaults for 'lr': 0\.1 at src/a\.py:3\b.* and 0\.01 at "
        r"src/b\.py:5\b.*; keep one default and write _\(\"lr\"\) elsewhere$",
        {
            "name": "lr",
            "first.value": 0.1,
            "first.lineno": 3,
            "first.filename": absolute("src/a.py"),
            "second.value": 0.01,
            "second.lineno": 5,
            "second.filename": absolute("src/b.py"),
        },
        id="double-default",
    ),
    pytest.param(
        lambda: scan(a='lr = _("lr", 0.1)\nagain = _("lr", 0.1)\n'),
        DoubleAssignmentException,
        (ValueError,),
        r"conflicting defaults for 'lr': 0\.1 at src/a\.py:3\b.* and 0\.1 at "
        r"src/a\.py:4\b",
        {"name": "lr", "first.lineno": 3, "second.lineno": 4},
        id="double-default-equal",
    ),
    pytest.param(
        lambda: scan(a='m = _("model", 1)\n', b='w = _("model.width", 2)\n'),
        ImpossibleTree,
        (ValueError,),
        r"'model' is a value at src/a\.py:3\b.* and a group of 'model\.width' at "
        r"src/b\.py:3\b.*; rename one of them$",
        {"name": "model", "first.name": "model", "second.name": "model.width"},
        id="tree-leaf-then-group",
    ),
    pytest.param(
        lambda: scan(a='w = _("model.width", 2)\n', b='\nm = _("model", 1)\n'),
        ImpossibleTree,
        (ValueError,),
        r"'model' is a value at src/b\.py:4\b.* and a group of 'model\.width' at "
        r"src/a\.py:3\b",
        {"name": "model", "first.lineno": 4, "second.lineno": 3},
        id="tree-group-then-leaf",
    ),
    pytest.param(
        set_group_as_value,
        ImpossibleTree,
        (ValueError,),
        r"cannot set 'model' to a value: it is a group of other hyperparameters "
        r"\(model\.width\); set those names instead$",
        {"name": "model"},
        id="tree-set-group-as-value",
    ),
    pytest.param(
        set_tree_int_key,
        ImpossibleTree,
        (ValueError,),
        r"tree keys must be strings, but 5 under 'model' is an int$",
        {},
        id="tree-key-not-a-string",
    ),
    pytest.param(
        lambda: scan(a="name = 'lr'\nlr = _(name, 0.1)\n"),
        NotLiteralNameException,
        (ValueError,),
        r"src/a\.py:4:8: the name of a hyperparameter must be a literal string, "
        r"not name; write it as _\(\"name\", \.\.\.\)$",
        {"lineno": 4, "code": "name", "filename": absolute("src/a.py")},
        id="name-not-literal",
    ),
    pytest.param(
        lambda: scan(a='lr = _(f"lr", 0.1)\n'),
        NotLiteralNameException,
        (ValueError,),
        r"src/a\.py:3:8: the name of a hyperparameter must be a literal string, "
        r"not f\"lr\"",
        {"lineno": 3, "code": 'f"lr"'},
        id="name-f-string",
    ),
    pytest.param(
        lambda: scan(a='opt = _("opt", "adam", choices=make())\n'),
        NotLiteralEvaluable,
        (ValueError,),
        r"src/a\.py:3:32: hint 'choices' of 'opt' is not a literal: make\(\); "
        r"hints must be literals",
        {"lineno": 3, "code": "make()", "filename": absolute("src/a.py")},
        id="hint-not-literal",
    ),
    pytest.param(
        lambda: scan(a='opt = _("opt", "adam", **extra)\n'),
        NotLiteralEvaluable,
        (ValueError,),
        r"src/a\.py:3:26: hints of 'opt' include \*\*extra, which is not a literal; "
        r"write each hint as keyword=literal$",
        {"lineno": 3, "code": "extra"},
        id="hint-double-star",
    ),
    pytest.param(
        lambda: scan(a='x = _("x", 1, 2)\n'),
        BadCallError,
        (ValueError,),
        r"src/a\.py:3:5: _\(\) takes the hyperparameter's name and an optional "
        r"default \(1 or 2 positional arguments\), got 3; pass hints as keywords$",
        {"lineno": 3, "code": '_("x", 1, 2)'},
        id="call-three-args",
    ),
    pytest.param(
        lambda: scan(a="x = _()\n"),
        BadCallError,
        (ValueError,),
        r"src/a\.py:3:5: _\(\) takes .*, got 0; ",
        {"lineno": 3},
        id="call-no-args",
    ),
    pytest.param(
        missing_declared,
        MissingValueError,
        (KeyError, LookupError),
        # not quoted (a plain KeyError would quote the whole message)
        r"hyperparameter 'depth' has no value: it is used at src/a\.py:3\b.* without "
        r"a default and was never set; give it a default once, e\.g\. "
        r"_\(\"depth\", <default>\)$",
        {"name": "depth"},
        id="missing-no-default",
    ),
    pytest.param(
        missing_typo,
        MissingValueError,
        (KeyError, LookupError),
        r"hyperparameter 'dept' has no value: no default was found and it was never "
        r"set; did you mean 'depth'\?; give it a default",
        {"name": "dept"},
        id="missing-typo",
    ),
    pytest.param(
        missing_typo,
        MissingValueError,
        (KeyError,),
        r"hyperparameter 'dept'",
        {"suggestions": ["depth"]},
        id="missing-typo-suggestions-field",
    ),
    pytest.param(
        strict_scan,
        ScanError,
        (SyntaxError,),
        r"src/broken\.py:3\b.*: skipped, invalid syntax \(unmatched '\)'\)",
        {"lineno": 3, "offset": 19, "filename": absolute("src/broken.py")},
        id="scan-strict",
    ),
    pytest.param(
        strict_scan,
        ScanError,
        (SyntaxError,),
        r"src/broken\.py:3:19: skipped, invalid syntax \(unmatched '\)'\); " r".*fix",
        {},
        id="scan-strict-column-and-fix",
    ),
    pytest.param(
        registry_strict_scan,
        ScanError,
        (SyntaxError,),
        r"src/broken\.py:3\b.*: skipped, invalid syntax \(unmatched '\)'\); "
        r"fix it, or scan without this file$",
        {"lineno": 3, "offset": 19},
        id="scan-strict-all-managers",
    ),
    pytest.param(
        lambda: load("values.yaml", "lrr: 0.2\n", by_absolute_path=True),
        UnknownHyperparameterError,
        (LookupError,),
        r"values\.yaml: lrr: unknown hyperparameter 'lrr'; did you mean 'lr'\? "
        r"\('hpreg list' shows all names\)$",
        {"name": "lrr", "suggestions": ["lr"], "path": "values.yaml"},
        id="load-unknown-name",
    ),
    pytest.param(
        lambda: load("values.yaml", "model:\n  widht: 3\n"),
        UnknownHyperparameterError,
        (LookupError,),
        r"values\.yaml: model\.widht: unknown hyperparameter 'model\.widht'; did you "
        r"mean 'model\.width'\?",
        {"name": "model.widht", "suggestions": ["model.width"]},
        id="load-unknown-nested-name",
    ),
    pytest.param(
        lambda: load("values.yaml", "lr: abc\n", by_absolute_path=True),
        ValuesFileError,
        (ValueError,),
        r"values\.yaml: 'abc' for 'lr' is a str, but its default 0\.1 is a float; "
        r"give a float value$",
        {"name": "lr", "path": "values.yaml"},
        id="load-wrong-type",
    ),
    pytest.param(
        lambda: load("values.yaml", "model:\n  width: 1.5\n"),
        ValuesFileError,
        (ValueError,),
        r"values\.yaml: 1\.5 for 'model\.width' is a float, but its default 128 is "
        r"an int",
        {"name": "model.width"},
        id="load-wrong-type-nested",
    ),
    pytest.param(
        lambda: load("values.yaml", "model:\n  width: true\n"),
        ValuesFileError,
        (ValueError,),
        r"values\.yaml: True for 'model\.width' is a bool, but its default 128 is "
        r"an int",
        {"name": "model.width"},
        id="load-bool-is-not-int",
    ),
    pytest.param(
        lambda: load("values.json", json.dumps({"use_bn": 1})),
        ValuesFileError,
        (ValueError,),
        r"values\.json: 1 for 'use_bn' is an int, but its default True is a bool",
        {"name": "use_bn", "path": "values.json"},
        id="load-json-int-is-not-bool",
    ),
    pytest.param(
        lambda: load("values.yaml", "lr: 0.1\nmodel: [\n"),
        ValuesFileError,
        (ValueError,),
        r"values\.yaml:3:1: invalid YAML: .*; fix the file's syntax$",
        {"line": 3, "column": 1},
        id="load-invalid-yaml",
    ),
    pytest.param(
        lambda: load("values.yaml", "lr: 0.1\nlr: 0.2\n"),
        ValuesFileError,
        (ValueError,),
        r"values\.yaml:2:1: invalid YAML: found duplicate key 'lr' \(first at line "
        r"1\); keep one of them$",
        {"line": 2, "column": 1},
        id="load-duplicate-key",
    ),
    pytest.param(
        lambda: load("values.json", '{"lr": }'),
        ValuesFileError,
        (ValueError,),
        r"values\.json:1:8: invalid JSON: Expecting value; fix the file's syntax$",
        {"line": 1, "column": 8},
        id="load-invalid-json",
    ),
    pytest.param(
        lambda: load("values.yaml", "- 0.1\n"),
        ValuesFileError,
        (ValueError,),
        r"values\.yaml: a values file must be a mapping of names to values, not "
        r"list; write one 'name: value' per line$",
        {},
        id="load-not-a-mapping",
    ),
    pytest.param(
        lambda: load("values.toml", "lr = 0.1\n"),
        ValuesFileError,
        (ValueError,),
        r"values\.toml: unsupported extension '\.toml'; use \.yaml, \.yml or \.json$",
        {},
        id="load-unsupported-extension",
    ),
    pytest.param(
        save_bad_extension,
        ValuesFileError,
        (ValueError,),
        r"values\.toml: unsupported extension '\.toml'",
        {},
        id="save-unsupported-extension",
    ),
    pytest.param(
        bad_serial_format,
        ValuesFileError,
        (ValueError,),
        r"unsupported values format 'toml'; use auto, yaml or json$",
        {},
        id="unsupported-serial-format",
    ),
    pytest.param(
        lambda: declared().load("missing.yaml"),
        ValuesFileError,
        (ValueError,),
        r"missing\.yaml: file not found; check the path$",
        {},
        id="load-missing-file",
    ),
    pytest.param(
        env_config_missing,
        ValuesFileError,
        (ValueError,),
        r"missing\.yaml: file not found; check the path "
        r"\(the file \$HPREG_CONFIG names\)$",
        {"path": "missing.yaml"},
        id="env-config-missing-file",
    ),
]


@pytest.mark.parametrize("trigger, exception, builtins, message, fields", ERRORS)
def test_error(trigger, exception, builtins, message, fields):
    with pytest.raises(exception) as info:
        trigger()
    error = info.value
    assert isinstance(error, HpregError)
    for builtin in builtins:
        assert isinstance(error, builtin)
    text = str(error)
    assert re.match(message, text), text
    for name, expected in fields.items():
        value = attr(error, name)
        if callable(expected):
            assert expected(value), (name, value)
        else:
            assert value == expected, name


def test_every_error_class_has_a_row():
    covered = {param.values[1] for param in ERRORS}
    assert covered == {
        BadCallError,
        DoubleAssignmentException,
        ImpossibleTree,
        MissingValueError,
        NotLiteralEvaluable,
        NotLiteralNameException,
        ScanError,
        UnknownHyperparameterError,
        ValuesFileError,
    }


# Values files loaded by an absolute path under the working directory: the path in
# the message must still be relative (as it is for unknown names and wrong types).
@pytest.mark.parametrize(
    "filename, text",
    [
        pytest.param("values.yaml", "model: [\n", id="invalid-yaml"),
        pytest.param("values.json", "{", id="invalid-json"),
        pytest.param("values.yaml", "- 1\n", id="not-a-mapping"),
        pytest.param("values.toml", "lr = 1\n", id="unsupported-extension"),
    ],
)
def test_values_file_path_is_relative(filename, text):
    with pytest.raises(ValuesFileError) as info:
        load(filename, text, by_absolute_path=True)
    assert str(info.value).startswith(filename), str(info.value)


def test_wrong_type_path_is_relative():
    with pytest.raises(ValuesFileError) as info:
        load("conf/values.yaml", "lr: abc\n", by_absolute_path=True)
    assert str(info.value).startswith("conf/values.yaml: ")


class TestScanWarning:
    def scan_tree(self):
        write("src/ok.py", HEADER + 'lr = _("lr", 0.1)\n')
        write("src/broken.py", HEADER + 'x = _("broken", 1))\n')
        write("src/zz_after.py", HEADER + 'depth = _("depth", 3)\n')
        manager = hpreg.HyperParameterManager("_")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            manager.parse_file(os.path.abspath("src"))
        return manager, caught

    def test_warns_and_scans_the_rest(self):
        manager, caught = self.scan_tree()
        assert [w.category for w in caught] == [ScanWarning]
        assert issubclass(ScanWarning, UserWarning)
        assert re.match(
            r"src/broken\.py:3\b.*: skipped, invalid syntax \(unmatched '\)'\)",
            str(caught[0].message),
        )
        assert caught[0].filename == __file__  # points at the caller's parse_file
        assert manager.get_values() == {"lr": 0.1, "depth": 3}

    def test_scan_errors_lists_the_skipped_file(self):
        manager, _caught = self.scan_tree()
        assert len(manager.scan_errors) == 1
        problem = manager.scan_errors[0]
        assert (problem.lineno, problem.col) == (3, 19)

    def test_scan_errors_names_the_file(self):
        manager, _caught = self.scan_tree()
        assert os.path.realpath(manager.scan_errors[0].filename) == os.path.realpath(
            "src/broken.py"
        )

    def test_rescan_does_not_repeat_scan_errors(self):
        manager, _caught = self.scan_tree()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            manager.parse_file(os.path.abspath("src"))
        assert len(manager.scan_errors) == 1

    def test_warning_has_column_and_fix(self):
        _manager, caught = self.scan_tree()
        assert re.match(
            r"src/broken\.py:3:19: skipped, invalid syntax .*; .*fix",
            str(caught[0].message),
        )

    def test_all_managers_scan_warns_and_scans_the_rest(self):
        write("src/ok.py", HEADER + 'lr = _("lr", 0.1)\n')
        write("src/broken.py", HEADER + 'x = _("broken", 1))\n')
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            managers = hpreg.parse_file(os.path.abspath("src"))
        assert [w.category for w in caught] == [ScanWarning]
        assert re.match(r"src/broken\.py:3\b", str(caught[0].message))
        assert [m.get_values() for m in managers] == [{"lr": 0.1}]

    def test_all_managers_warning_points_at_caller(self):
        write("src/broken.py", HEADER + 'x = _("broken", 1))\n')
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hpreg.parse_file(os.path.abspath("src"))
        assert caught[0].filename == __file__

    @pytest.mark.parametrize("parse_source", [hpreg.parse_source, None])
    def test_parse_source_warning_points_at_caller(self, parse_source):
        parse_source = parse_source or hpreg.HyperParameterManager("_").parse_source
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parse_source('x = _("broken", 1))\n', "broken.py")
        assert [w.filename for w in caught] == [__file__]

    def test_all_managers_scan_errors(self):
        write("src/ok.py", HEADER + 'lr = _("lr", 0.1)\n')
        write("src/broken.py", HEADER + 'x = _("broken", 1))\n')
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hpreg.parse_file(os.path.abspath("src"))
        from hpreg.m import _

        assert len(_.scan_errors) == 1


# -- structured errors: where, problem and fix are fields, formatted in one place ------
def sweep_product_clash():
    from hpreg.io.files import load_yaml_text
    from hpreg.sweep.file import parse_sweep

    parse_sweep(load_yaml_text("product:\n  - {lr: [1, 2]}\n  - {lr: [3]}\n"), "s.yaml")


def function_sweep_returns_a_dict():
    write("points.py", "def points():\n    return {'lr': 1}\n")
    from hpreg.sweep.file import load_sweep

    load_sweep("points.py:points")


# (trigger, exception, where, problem, fix)
FIELDS = [
    pytest.param(
        lambda: load("values.yaml", "lrr: 0.2\n"),
        UnknownHyperparameterError,
        "values.yaml: lrr",
        "unknown hyperparameter 'lrr'",
        "did you mean 'lr'? ('hpreg list' shows all names)",
        id="load-unknown-name",
    ),
    pytest.param(
        lambda: load("values.yaml", "lr: abc\n"),
        ValuesFileError,
        "values.yaml",
        "'abc' for 'lr' is a str, but its default 0.1 is a float",
        "give a float value",
        id="load-wrong-type",
    ),
    pytest.param(
        lambda: load("values.yaml", "lr: 0.1\nlr: 0.2\n"),
        ValuesFileError,
        "values.yaml:2:1",
        "invalid YAML: found duplicate key 'lr' (first at line 1)",
        "keep one of them",
        id="load-duplicate-key",
    ),
    pytest.param(
        lambda: scan(a='x = _("x", 1, 2)\n'),
        BadCallError,
        "src/a.py:3:5",
        "_() takes the hyperparameter's name and an optional default (1 or 2 "
        "positional arguments), got 3; pass hints as keywords",
        "",
        id="call-three-args",
    ),
    pytest.param(
        strict_scan,
        ScanError,
        "src/broken.py:3:19",
        "skipped, invalid syntax (unmatched ')')",
        "fix it, or scan without this file",
        id="scan-strict",
    ),
    pytest.param(
        lambda: scan(a='lr = _("lr", 0.1)\n', b='lr = _("lr", 0.01)\n'),
        DoubleAssignmentException,
        "",
        "conflicting defaults for 'lr': 0.1 at src/a.py:3 and 0.01 at src/b.py:3",
        'keep one default and write _("lr") elsewhere',
        id="double-default",
    ),
    pytest.param(
        env_config_missing,
        ValuesFileError,
        "missing.yaml",
        "file not found",
        "check the path (the file $HPREG_CONFIG names)",
        id="env-config-missing-file",
    ),
    pytest.param(
        sweep_product_clash,
        hpreg.SweepFileError,
        "s.yaml: product",  # the file's key path, not the algebra's product()
        "'lr' is set by two factors (product(lr=[1, 2]) and product(lr=[3]))",
        "give each name to one factor, or use union() for alternatives and "
        "override() to replace values",
        id="sweep-file-algebra-error",
    ),
    pytest.param(
        function_sweep_returns_a_dict,
        hpreg.SweepFileError,
        "points.py:points",  # not from_function(points)
        "returned {'lr': 1}",
        "return a list of points (dicts, or (name, value) pairs)",
        id="function-sweep-algebra-error",
    ),
]


@pytest.mark.parametrize("trigger, exception, where, problem, fix", FIELDS)
def test_error_fields(trigger, exception, where, problem, fix):
    with pytest.raises(exception) as info:
        trigger()
    error = info.value
    assert (error.where, error.problem, error.fix) == (where, problem, fix)
    from hpreg.errors import format_message

    assert str(error) == error.message == format_message(where, problem, fix)


class TestStructuredError:
    def error(self):
        return UnknownHyperparameterError(
            where="values.yaml: lrr",
            problem="unknown hyperparameter 'lrr'",
            fix="did you mean 'lr'?",
            name="lrr",
            suggestions=["lr"],
        )

    def test_formats_where_problem_fix(self):
        error = self.error()
        assert str(error) == (
            "values.yaml: lrr: unknown hyperparameter 'lrr'; did you mean 'lr'?"
        )
        assert error.args == (str(error),)
        assert (error.name, error.suggestions) == ("lrr", ["lr"])

    def test_empty_parts_are_left_out(self):
        assert str(HpregError(problem="p")) == "p"
        assert str(HpregError(where="w", problem="p")) == "w: p"
        assert str(HpregError(problem="p", fix="f")) == "p; f"

    def test_a_fix_in_parentheses_is_a_note(self):
        assert str(HpregError(problem="p", fix="(a note)")) == "p (a note)"

    def test_whole_message_still_works(self):
        error = HpregError("something went wrong; do this", name="x")
        assert str(error) == "something went wrong; do this"
        assert (error.where, error.problem, error.fix) == (
            "",
            "something went wrong; do this",
            "",
        )
        assert error.name == "x"
        assert str(error.with_fix("try that")) == (
            "something went wrong; do this; try that"
        )

    def test_replacing_the_fix_reformats_a_copy(self):
        error = self.error()
        other = error.with_fix("check the spelling")
        assert str(other) == (
            "values.yaml: lrr: unknown hyperparameter 'lrr'; check the spelling"
        )
        assert other.args == (str(other),)
        assert type(other) is UnknownHyperparameterError
        assert (other.name, other.suggestions) == ("lrr", ["lr"])
        assert str(error).endswith("did you mean 'lr'?")  # the original is unchanged

    def test_replacing_the_where(self):
        error = self.error()
        assert str(error.with_where("")) == (
            "unknown hyperparameter 'lrr'; did you mean 'lr'?"
        )
        moved = error.replace(where="other.yaml: lrr", name="lrr2")
        assert str(moved).startswith("other.yaml: lrr: ") and moved.name == "lrr2"

    def test_scan_error_copy_keeps_its_syntax_error_facts(self):
        with pytest.raises(ScanError) as info:
            strict_scan()
        other = info.value.with_fix("fix it ('hpreg lint' is the strict check)")
        assert str(other) == (
            "src/broken.py:3:19: skipped, invalid syntax (unmatched ')'); fix it "
            "('hpreg lint' is the strict check)"
        )
        assert (other.lineno, other.offset) == (3, 19)
        assert other.filename == info.value.filename
        assert other.msg == str(other)

    def test_pickles(self):
        import pickle

        error = pickle.loads(pickle.dumps(self.error()))
        assert str(error) == str(self.error()) and error.fix == "did you mean 'lr'?"

    def test_old_style_message_with_a_problem_fact_keeps_its_text(self):
        # code that passes the formatted text and its problem as a fact, as sweep
        # files once did, keeps its text
        error = hpreg.SweepFileError("s.yaml: lr: bad; fix", problem="bad", key="lr")
        assert str(error) == "s.yaml: lr: bad; fix" and error.problem == "bad"
        assert str(error.with_where("t.yaml: lr")) == "t.yaml: lr: bad"


class TestLintLocationFromFields:
    def test_location_comes_from_the_facts_not_the_text(self):
        from hpreg.lint.linter import _from_error

        error = ValuesFileError(
            where="values.yaml: lr",
            problem="'abc' for 'lr' is a str",
            fix="give a float value",
            filename="values.yaml",
            lineno=2,
            col=3,
        )
        problem = _from_error(error)
        assert str(problem) == (
            "values.yaml:2:3: 'abc' for 'lr' is a str; give a float value"
        )

    def test_scanned_problem_keeps_its_column(self):
        from hpreg.lint.linter import _from_error

        manager = hpreg.HyperParameterManager("_")
        from hpreg.scan.scanner import scan_source

        scanned = scan_source(HEADER + "name = 'lr'\nlr = _(name, 0.1)\n", "a.py")
        (error,) = manager.ingest(scanned, collect=True)
        assert (error.where, error.col) == ("a.py:4:8", 8)
        assert str(_from_error(error)).startswith(
            "a.py:4:8: the name of a hyperparameter must be a literal string"
        )


class TestCommandLineAdvice:
    def test_skipped_file_advice_is_the_commands_own(self, capsys):
        write("src/broken.py", HEADER + 'x = _("broken", 1))\n')
        from hpreg.cli.app import main

        assert main(["list", "--no-cache", "src"]) == 0
        err = capsys.readouterr().err
        assert err.startswith(
            "hpreg: warning: src/broken.py:3:19: skipped, invalid syntax (unmatched "
            "')'); fix it ('hpreg lint' is the strict check)"
        ), err


class TestBindExit:
    def exit_of(self, name):
        import argparse

        from hpreg.binder.binding import _exit_for

        error = UnknownHyperparameterError(
            where="cfg.yaml: " + name, problem="unknown", name=name
        )
        return _exit_for(argparse.ArgumentParser(prog="train.py"), error)

    def test_is_the_error_and_an_exit_with_status_2(self, capsys):
        exit_error = self.exit_of("lrr")
        assert isinstance(exit_error, UnknownHyperparameterError)
        assert isinstance(exit_error, SystemExit) and exit_error.code == 2
        assert exit_error.name == "lrr" and str(exit_error) == "cfg.yaml: lrr: unknown"
        assert "train.py: error: cfg.yaml: lrr: unknown" in capsys.readouterr().err

    def test_one_exit_class_per_error_class(self):
        from hpreg.binder.binding import BindExit

        first, second = self.exit_of("a"), self.exit_of("b")
        assert type(first) is type(second)
        assert isinstance(first, BindExit)
        assert type(first).__name__ == "UnknownHyperparameterError"


class TestTextHelpersExistOnce:
    def test_one_home(self):
        from importlib import import_module

        text = import_module("hpreg._text")
        binding = import_module("hpreg.binder.binding")
        errors = import_module("hpreg.errors")
        checks = import_module("hpreg.registry.checks")
        base = import_module("hpreg.sweep.base")

        assert errors.did_you_mean is text.did_you_mean
        assert errors.suggestion_text is text.suggestion_text
        assert checks.with_article is text.with_article
        assert base.shorten is text.shorten
        assert not hasattr(binding, "_article")

    def test_helpers(self):
        from hpreg._text import (
            article,
            join_fix,
            shorten,
            suggestion,
            suggestion_text,
            with_article,
        )

        assert (article("int"), with_article("float")) == ("an", "a float")
        assert suggestion(["a", "b"]) == "did you mean 'a' or 'b'?"
        assert suggestion_text(["a"]) == "; did you mean 'a'?" and suggestion([]) == ""
        assert shorten("x" * 10, 5) == "xx..." and shorten("abc", 5) == "abc"
        assert join_fix("", "a", "", "b", "(c)") == "a; b (c)"
