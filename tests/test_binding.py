"""The argparse binding: options, types, precedence, --hp-* actions, $HPREG_CONFIG."""

import argparse
import json
import os
import pickle
import runpy
import subprocess
import sys

import pytest
import yaml

import hpreg
import hpreg.argparse
from hpreg.binder import binding
from hpreg.binder.binding import LIST_FORMATS, bind, parse_args
from hpreg.registry.managers import get_manager
from hpreg.errors import (
    AmbiguousNameError,
    HintViolationError,
    OptionClashError,
    UnknownHyperparameterError,
    ValueTypeError,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")

SOURCE = """\
from hpreg.m import _

_("lr", 0.001, help="learning rate", low=0.0, high=1.0)
_("weight_decay", 1e-5)
_("batch_size", 32, low=1)
_("name", "run")
_("use_bn", True)
_("optimizer", "adam", choices=["adam", "sgd"])
_("sizes", [1, 2, 3])
_("shape", (3, 4))
_("extra", {"key": 1})
_("maybe", None)
_("model.width", 128)
_("model.depth", 4)
"""


@pytest.fixture(name="make")
def fixture_make():
    """``make(**bind_options)`` -> (parser, manager) bound over ``SOURCE``."""

    def make(source=SOURCE, parser=None, **options):
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source(source, filename="train.py")
        if parser is None:
            parser = argparse.ArgumentParser(prog="train")
        bind(parser, manager, **options)
        return parser, manager

    return make


@pytest.fixture(name="fails")
def fixture_fails(capsys):
    """``fails(parser, argv)`` -> stderr, asserting argparse exited with status 2."""

    def fails(parser, argv):
        with pytest.raises(SystemExit) as info:
            parser.parse_args(argv)
        assert info.value.code == 2
        return capsys.readouterr().err

    return fails


@pytest.fixture(name="exits")
def fixture_exits(capsys):
    """``exits(parser, argv)`` -> stdout, asserting the parse exited with status 0."""

    def exits(parser, argv):
        with pytest.raises(SystemExit) as info:
            parser.parse_args(argv)
        assert info.value.code in (0, None)
        return capsys.readouterr().out

    return exits


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


class TestModule:
    def test_hpreg_argparse_reexports_the_binding(self):
        assert hpreg.argparse.bind is bind
        assert hpreg.argparse.parse_args is parse_args

    def test_the_stdlib_argparse_is_still_importable(self):
        assert binding.argparse is argparse
        assert argparse.__file__ != hpreg.argparse.__file__


class TestOptions:
    def test_one_option_per_hyperparameter(self, make):
        parser, _ = make()
        options = set(parser._option_string_actions)
        for option in (
            "--lr",
            "--weight-decay",
            "--batch-size",
            "--use-bn",
            "--model.width",
            "--model.depth",
        ):
            assert option in options

    def test_underscore_spelling_is_an_alias(self, make):
        parser, manager = make()
        args = parser.parse_args(["--weight_decay", "0.5"])
        assert args.weight_decay == 0.5
        assert manager.get_value("weight_decay") == 0.5
        args = parser.parse_args(["--weight-decay", "0.25"])
        assert args.weight_decay == 0.25

    def test_help_shows_hint_and_default_and_hides_the_alias(self, make):
        parser, _ = make()
        text = " ".join(parser.format_help().split())
        assert "--lr FLOAT learning rate (default: 0.001) [0.0, 1.0]" in text
        assert "--weight-decay FLOAT a float hyperparameter (default: 1e-05)" in text
        assert "--optimizer {adam,sgd}" in text
        assert "--sizes LIST" in text and "(default: [1, 2, 3])" in text
        assert "--weight_decay" not in text

    def test_show_defaults_false_leaves_defaults_out(self, make):
        parser, _ = make(show_defaults=False)
        assert "(default: 0.001)" not in parser.format_help()

    def test_help_with_a_percent_sign_does_not_break_argparse(self, make):
        parser, _ = make('_("ratio", 0.5, help="share in %")\n')
        assert "share in %" in parser.format_help()

    def test_untyped_options_hold_current_values(self, make):
        parser, _ = make()
        args = parser.parse_args([])
        assert args.lr == 0.001
        assert args.batch_size == 32
        assert getattr(args, "model.width") == 128
        assert args.extra == {"key": 1}

    def test_dotted_names_keep_their_dots(self, make):
        parser, manager = make()
        args = parser.parse_args(["--model.width", "256"])
        assert getattr(args, "model.width") == 256
        assert manager.get_value("model.width") == 256
        assert manager.get_tree("model") == {"width": 256, "depth": 4}

    def test_prefix_puts_options_under_it(self, make):
        parser, manager = make(prefix="hp.")
        args = parser.parse_args(["--hp.lr", "0.5", "--hp.weight_decay", "0.1"])
        assert getattr(args, "hp.lr") == 0.5
        assert getattr(args, "hp.weight_decay") == 0.1
        assert manager.get_value("lr") == 0.5
        assert "--hp.weight-decay" in parser._option_string_actions
        assert "--lr" not in parser._option_string_actions

    def test_names_without_any_value_get_no_option(self, make):
        parser, _ = make('_("lr", 0.1)\n_("seed")\n')
        assert "--seed" not in parser._option_string_actions

    def test_user_arguments_still_work(self, make):
        parser = argparse.ArgumentParser(prog="train")
        parser.add_argument("data")
        parser.add_argument("--epochs", type=int, default=3)
        parser, manager = make(parser=parser)
        args = parser.parse_args(["d.csv", "--lr", "0.5"])
        assert (args.data, args.epochs, args.lr) == ("d.csv", 3, 0.5)

    def test_parse_known_args_is_bound_too(self, make):
        parser, manager = make()
        args, extras = parser.parse_known_args(["--lr", "0.5", "--unknown", "x"])
        assert args.lr == 0.5 and extras == ["--unknown", "x"]
        assert manager.get_value("lr") == 0.5

    def test_a_subparser_can_be_bound(self, make):
        parser = argparse.ArgumentParser(prog="tool")
        train = parser.add_subparsers(dest="command").add_parser("train")
        _, manager = make(parser=train)
        args = parser.parse_args(["train", "--lr", "0.5"])
        assert (args.command, args.lr) == ("train", 0.5)
        assert manager.get_value("lr") == 0.5

    def test_intermixed_parsing(self, make):
        parser = argparse.ArgumentParser(prog="train")
        parser.add_argument("files", nargs="*")
        parser, manager = make(parser=parser)
        args = parser.parse_intermixed_args(["a", "--lr", "0.5", "b"])
        assert (args.files, args.lr) == (["a", "b"], 0.5)

    def test_two_managers_on_one_parser(self, make):
        parser, first = make()
        second = hpreg.HyperParameterManager("hp")
        second.parse_source('hp("lr", 1.0)\n', filename="other.py")
        bind(parser, second, prefix="hp.", inject_actions=False)
        args = parser.parse_args(["--lr", "0.5", "--hp.lr", "2"])
        assert first.get_value("lr") == 0.5
        assert second.get_value("lr") == 2.0
        assert getattr(args, "hp.lr") == 2.0

    def test_hpargparse_keyword_names(self):
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source('_("lr", 0.1)\n')
        parser = argparse.ArgumentParser()
        bind(parser=parser, hp_mgr=manager, show_defaults=False)
        assert parser.parse_args(["--lr", "1"]).lr == 1.0

    def test_bad_bind_arguments(self, make):
        with pytest.raises(ValueError, match="unknown action 'print'"):
            make(inject_actions=["print"])
        with pytest.raises(ValueError, match="serial_format must be one of"):
            make(serial_format="xml")


class TestTypes:
    @pytest.mark.parametrize(
        "argv, name, expected",
        [
            (["--batch-size", "64"], "batch_size", 64),
            (["--batch-size", "010"], "batch_size", 10),
            (["--batch-size", "1_000"], "batch_size", 1000),
            (["--lr", "0.5"], "lr", 0.5),
            (["--lr", "1e-3"], "lr", 0.001),
            (["--name", "123"], "name", "123"),
            (["--name", ""], "name", ""),
            (["--name", "[1, 2]"], "name", "[1, 2]"),
            (["--sizes", "[4, 5]"], "sizes", [4, 5]),
            (["--sizes", "[]"], "sizes", []),
            (["--shape", "[1, 2]"], "shape", (1, 2)),
            (["--shape", "(1, 2)"], "shape", (1, 2)),
            (["--extra", '{"key": 3}'], "extra", {"key": 3}),
            (["--extra", "{key: 3, other: [1]}"], "extra", {"key": 3, "other": [1]}),
            (["--extra", "{'key': 3}"], "extra", {"key": 3}),
            (["--maybe", "None"], "maybe", None),
            (["--maybe", "null"], "maybe", None),
            (["--maybe", "3"], "maybe", 3),
            (["--maybe", "abc"], "maybe", "abc"),
            (["--maybe", "(1, 2)"], "maybe", (1, 2)),
            (["--maybe", "[1, 2]"], "maybe", [1, 2]),
            (["--optimizer", "sgd"], "optimizer", "sgd"),
        ],
    )
    def test_values_follow_the_default_type(self, make, argv, name, expected):
        parser, manager = make()
        args = parser.parse_args(argv)
        assert getattr(args, name) == expected
        assert type(getattr(args, name)) is type(expected)
        assert manager.get_value(name) == expected

    def test_an_int_string_is_a_float(self, make):
        parser, manager = make()
        parser.parse_args(["--lr", "1"])
        assert manager.get_value("lr") == 1.0
        assert isinstance(manager.get_value("lr"), float)

    @pytest.mark.parametrize(
        "text, expected",
        [
            ("true", True),
            ("True", True),
            ("YES", True),
            ("1", True),
            ("false", False),
            ("No", False),
            ("0", False),
            ("FALSE", False),
        ],
    )
    def test_bools(self, make, text, expected):
        parser, manager = make()
        assert parser.parse_args(["--use-bn", text]).use_bn is expected
        assert manager.get_value("use_bn") is expected

    @pytest.mark.parametrize(
        "argv, message",
        [
            (["--lr", "abc"], "argument --lr: expected a float, got 'abc'"),
            (["--lr", "true"], "argument --lr: expected a float, got 'true'"),
            (["--batch-size", "1.5"], "argument --batch-size: expected an int"),
            (["--batch-size", "true"], "argument --batch-size: expected an int"),
            (["--use-bn", "maybe"], "argument --use-bn: expected a bool"),
            (["--use_bn", "2"], "argument --use_bn: expected a bool"),
            (["--sizes", "abc"], "argument --sizes: expected a list, got 'abc'"),
            (["--sizes", "{a: 1}"], "argument --sizes: expected a list"),
            (["--sizes", "[1, 2"], "argument --sizes: expected a list"),
            (["--shape", "7"], "argument --shape: expected a tuple"),
            (["--extra", "1"], "argument --extra: expected a dict, got '1'"),
            (["--model.width", "wide"], "argument --model.width: expected an int"),
        ],
    )
    def test_wrong_types_exit_2_naming_option_and_type(
        self, make, fails, argv, message
    ):
        parser, manager = make()
        err = fails(parser, argv)
        assert message in err
        assert "the default is" in err
        assert err.startswith("usage: train")

    def test_literal_types_suggest_the_spelling(self, make, fails):
        parser, _ = make()
        err = fails(parser, ["--sizes", "abc"])
        assert "(a YAML or Python literal such as [1, 2, 3])" in err

    def test_a_failed_parse_sets_nothing(self, make, fails):
        parser, manager = make()
        fails(parser, ["--batch-size", "64", "--lr", "abc"])
        assert manager.get_value("batch_size") == 32

    def test_choices_become_argparse_choices(self, make, fails):
        parser, _ = make()
        err = fails(parser, ["--optimizer", "rmsprop"])
        assert "argument --optimizer: invalid choice: 'rmsprop'" in err

    @pytest.mark.parametrize(
        "argv, message",
        [
            (["--lr", "2"], "2.0 for 'lr' is above its high bound 1.0"),
            (["--lr", "-1"], "-1.0 for 'lr' is below its low bound 0.0"),
            (["--batch-size", "0"], "0 for 'batch_size' is below its low bound 1"),
        ],
    )
    def test_low_and_high_hints_are_checked(self, make, fails, argv, message):
        parser, _ = make()
        err = fails(parser, argv)
        assert "argument {}: {}".format(argv[0], message) in err

    def test_non_literal_default_takes_any_literal(self, make):
        parser, manager = make('import os\n_("workers", os.cpu_count())\n')
        assert parser.parse_args(["--workers", "3"]).workers == 3


class TestPrecedence:
    @pytest.fixture(name="setup")
    def fixture_setup(self, tmp_path, monkeypatch, make):
        env = write(tmp_path / "env.yaml", "lr: 0.1\nbatch_size: 8\nname: env\n")
        loaded = write(tmp_path / "load.yaml", "lr: 0.2\nbatch_size: 16\n")
        monkeypatch.setenv("HPREG_CONFIG", env)
        parser, manager = make()
        return parser, manager, env, loaded

    def test_defaults_without_anything(self, make):
        parser, manager = make()
        parser.parse_args([])
        assert manager.get_value("lr") == 0.001
        assert manager.provenance("lr").source == "default"

    def test_env_beats_defaults(self, setup):
        parser, manager, env, _ = setup
        args = parser.parse_args([])
        assert (args.lr, args.batch_size, args.name) == (0.1, 8, "env")
        assert manager.provenance("lr").source == "env"
        assert manager.provenance("lr").filename == env

    def test_load_beats_env(self, setup):
        parser, manager, env, loaded = setup
        args = parser.parse_args(["--hp-load", loaded])
        assert (args.lr, args.batch_size, args.name) == (0.2, 16, "env")
        assert manager.provenance("lr").source == "file"
        assert manager.provenance("name").source == "env"

    @pytest.mark.parametrize("typed_first", [True, False])
    def test_typed_beats_load_in_any_order(self, setup, typed_first):
        parser, manager, env, loaded = setup
        typed, load = ["--lr", "0.3"], ["--hp-load", loaded]
        argv = typed + load if typed_first else load + typed
        args = parser.parse_args(argv)
        assert (args.lr, args.batch_size, args.name) == (0.3, 16, "env")
        assert manager.provenance("lr").source == "cli"
        assert manager.provenance("batch_size").source == "file"

    def test_typed_beats_env(self, setup):
        parser, manager, _, _ = setup
        args = parser.parse_args(["--name", "typed"])
        assert (args.lr, args.name) == (0.1, "typed")
        assert manager.provenance("name").source == "cli"

    def test_an_option_not_typed_keeps_the_loaded_value(self, make, tmp_path):
        loaded = write(tmp_path / "load.yaml", "lr: 0.2\n")
        parser, manager = make()
        args = parser.parse_args(["--hp-load", loaded, "--batch-size", "7"])
        assert (args.lr, args.batch_size) == (0.2, 7)

    def test_later_typed_option_wins_over_an_earlier_one(self, make):
        parser, manager = make()
        assert parser.parse_args(["--lr", "0.3", "--lr", "0.4"]).lr == 0.4


class TestLoadAndSave:
    @pytest.mark.parametrize("ext", [".yaml", ".yml", ".json"])
    def test_round_trip(self, make, tmp_path, ext):
        path = str(tmp_path / ("hp" + ext))
        parser, first = make()
        argv = ["--lr", "0.5", "--model.width", "256", "--shape", "[5, 6]"]
        parser.parse_args(argv + ["--hp-save", path])
        parser, second = make()
        parser.parse_args(["--hp-load", path])
        assert second.get_values() == first.get_values()
        assert second.get_value("shape") == (5, 6)
        assert second.provenance("lr").source == "file"
        assert second.provenance("lr").filename == path

    @pytest.mark.parametrize("ext", [".yaml", ".json"])
    def test_set_default_round_trip(self, make, tmp_path, ext):
        # YAML and JSON have no set: it is saved as a list and comes back a set
        path = str(tmp_path / ("hp" + ext))
        source = "_('tags', {'a', 'b'})\n"
        parser, _ = make(source)
        parser.parse_args(["--tags", "['c', 'd']", "--hp-save", path])
        parser, manager = make(source)
        parser.parse_args(["--hp-load", path])
        assert manager.get_value("tags") == {"c", "d"}

    @pytest.mark.parametrize("ext", [".yaml", ".json"])
    def test_save_what_files_cannot_hold(self, make, fails, tmp_path, ext):
        path = tmp_path / ("hp" + ext)
        parser, _ = make("_('z', 1j)\n_('n', 1)\n")
        err = fails(parser, ["--hp-save", str(path)])
        assert "cannot save 'z': 1j is a complex, which YAML and JSON cannot" in err
        assert not path.exists()

    def test_saved_yaml_is_nested(self, make, tmp_path):
        path = str(tmp_path / "hp.yaml")
        parser, manager = make()
        parser.parse_args(["--hp-save", path])
        with open(path) as f:
            data = yaml.safe_load(f)
        assert data["model"] == {"width": 128, "depth": 4}
        assert data["lr"] == 0.001

    def test_saved_json(self, make, tmp_path):
        path = str(tmp_path / "hp.json")
        parser, _ = make()
        parser.parse_args(["--hp-save", path])
        with open(path) as f:
            data = json.load(f)
        assert data["shape"] == [3, 4] and data["model"]["depth"] == 4

    def test_save_applies_typed_values_first(self, make, tmp_path):
        path = str(tmp_path / "hp.yaml")
        parser, _ = make()
        parser.parse_args(["--hp-save", path, "--lr", "0.5"])
        with open(path) as f:
            assert yaml.safe_load(f)["lr"] == 0.5

    def test_flat_dotted_keys_load_too(self, make, tmp_path):
        path = write(tmp_path / "hp.yaml", "model.width: 5\n")
        parser, manager = make()
        parser.parse_args(["--hp-load", path])
        assert manager.get_value("model.width") == 5

    def test_serial_format_overrides_the_extension(self, make, tmp_path):
        path = write(tmp_path / "hp.txt", "lr: 0.5\n")
        parser, manager = make()
        parser.parse_args(["--hp-serial-format", "yaml", "--hp-load", path])
        assert manager.get_value("lr") == 0.5
        out = str(tmp_path / "out.conf")
        parser.parse_args(["--hp-serial-format", "json", "--hp-save", out])
        with open(out) as f:
            assert json.load(f)["lr"] == 0.5

    def test_pickle_is_refused_unless_asked_for(self, make, fails, tmp_path):
        path = str(tmp_path / "hp.pkl")
        with open(path, "wb") as f:
            pickle.dump({"lr": 0.5}, f)
        parser, manager = make()
        err = fails(parser, ["--hp-load", path])
        assert "refusing to load a pickle file" in err
        assert "unpickling runs code from the file" in err
        assert "--hp-serial-format pickle" in err
        assert manager.get_value("lr") == 0.001
        parser.parse_args(["--hp-serial-format", "pickle", "--hp-load", path])
        assert manager.get_value("lr") == 0.5

    def test_the_help_says_unpickling_runs_code(self, make):
        parser, _ = make()
        text = " ".join(parser.format_help().split())
        assert "a pickle is loaded only with --hp-serial-format pickle" in text
        assert "unpickling runs code from the file" in text

    def test_pickle_chosen_in_code_is_explicit(self, make, tmp_path):
        path = str(tmp_path / "hp.pkl")
        parser, _ = make(serial_format="pickle")
        parser.parse_args(["--lr", "0.5", "--hp-save", path])
        with open(path, "rb") as f:
            assert pickle.load(f)["lr"] == 0.5
        parser, manager = make(serial_format="pickle")
        parser.parse_args(["--hp-load", path])
        assert manager.get_value("lr") == 0.5

    def test_pickle_save_by_extension_is_flat(self, make, tmp_path):
        path = str(tmp_path / "hp.pickle")
        parser, _ = make()
        parser.parse_args(["--hp-save", path])
        with open(path, "rb") as f:
            assert pickle.load(f)["model.width"] == 128

    @pytest.mark.parametrize(
        "text, message",
        [
            ("lr: abc\n", "'abc' for 'lr' is a str, but its default 0.001 is a float"),
            ("extra: 1\n", "1 for 'extra' is an int, but its default"),
            ("lr: 5\n", "5.0 for 'lr' is above its high bound 1.0"),
            ("optimizer: rmsprop\n", "'rmsprop' is not a choice of 'optimizer'"),
            ("weight_decy: 0.1\n", "unknown hyperparameter 'weight_decy'"),
            ("- 1\n", "a values file must be a mapping of names to values, not list"),
            ("lr: [1\n", "invalid YAML"),
        ],
    )
    def test_bad_files_exit_2_naming_file_and_key(
        self, make, fails, tmp_path, text, message
    ):
        path = write(tmp_path / "bad.yaml", text)
        parser, manager = make()
        err = fails(parser, ["--hp-load", path])
        assert "train: error: {}".format(path) in err
        assert message in err
        assert manager.get_value("lr") == 0.001

    def test_unknown_name_in_a_file_suggests(self, make, fails, tmp_path):
        path = write(tmp_path / "bad.yaml", "weight_decy: 0.1\n")
        parser, _ = make()
        err = fails(parser, ["--hp-load", path])
        assert "weight_decy: unknown hyperparameter" in err
        assert "did you mean 'weight_decay'?" in err

    def test_bad_json(self, make, fails, tmp_path):
        path = write(tmp_path / "bad.json", '{"lr": }')
        parser, _ = make()
        assert "invalid JSON" in fails(parser, ["--hp-load", path])

    def test_missing_file(self, make, fails, tmp_path):
        parser, _ = make()
        err = fails(parser, ["--hp-load", str(tmp_path / "nope.yaml")])
        assert "nope.yaml: file not found" in err

    @pytest.mark.parametrize("action", ["--hp-load", "--hp-save"])
    def test_unsupported_extension(self, make, fails, tmp_path, action):
        path = write(tmp_path / "a.bcd", "lr: 1\n")
        parser, _ = make()
        err = fails(parser, [action, path])
        assert "unsupported file extension '.bcd'" in err
        assert "--hp-serial-format" in err

    def test_unwritable_save_path(self, make, fails, tmp_path):
        parser, _ = make()
        err = fails(parser, ["--hp-save", str(tmp_path / "no" / "dir" / "a.yaml")])
        assert "cannot write" in err

    def test_exit_after_processing(self, make, exits, tmp_path):
        path = str(tmp_path / "hp.yaml")
        parser, manager = make()
        assert exits(parser, ["--lr", "0.5", "--hp-save", path, "--hp-exit"]) == ""
        with open(path) as f:
            assert yaml.safe_load(f)["lr"] == 0.5


class TestListing:
    def test_bare_hp_list_prints_yaml(self, make, exits):
        parser, manager = make()
        out = exits(parser, ["--hp-list"])
        assert out == manager.listing("yaml")
        assert yaml.safe_load(out)["model"] == {"width": 128, "depth": 4}

    @pytest.mark.parametrize("fmt", [f for f in LIST_FORMATS if f != "json"])
    def test_formats_print_the_listing(self, make, exits, fmt):
        parser, manager = make()
        out = exits(parser, ["--hp-list", fmt])
        assert out.rstrip("\n") == manager.listing(fmt).rstrip("\n")

    def test_json_listing_is_hpargparse_values(self, make, exits):
        parser, manager = make()
        values = json.loads(exits(parser, ["--hp-list", "json"]))
        expected = {  # flat dotted names, as hpargparse; JSON has lists, not tuples
            k: list(v) if isinstance(v, tuple) else v
            for k, v in manager.get_values().items()
        }
        assert values == expected
        assert values["lr"] == 0.001

    def test_detail_shows_source_lines(self, make, exits):
        parser, manager = make()
        out = exits(parser, ["--hp-detail"])
        assert out.rstrip("\n") == manager.listing("detail").rstrip("\n")
        assert '==> 3: _("lr", 0.001' in out

    def test_the_listing_shows_typed_values(self, make, exits):
        parser, _ = make()
        out = exits(parser, ["--hp-list", "--lr", "0.5"])
        assert yaml.safe_load(out)["lr"] == 0.5

    def test_unknown_format(self, make, fails):
        parser, _ = make()
        assert "invalid choice: 'xml'" in fails(parser, ["--hp-list", "xml"])

    def test_yaml_listing_shows_what_yaml_cannot_hold(self, make, exits):
        parser, _ = make("_('z', 1j)\n_('b', b'x')\n")
        assert yaml.safe_load(exits(parser, ["--hp-list"])) == {"z": "1j", "b": "b'x'"}


class TestActions:
    def test_action_prefix(self, make, exits):
        parser, _ = make(action_prefix="cfg")
        assert "--cfg-list" in parser.format_help()
        assert "--hp-list" not in parser.format_help()
        assert "lr: 0.001" in exits(parser, ["--cfg-list"])

    def test_no_actions(self, make):
        parser, _ = make(inject_actions=False)
        assert "--hp-" not in parser.format_help()
        assert not hasattr(parser.parse_args([]), "hp_list")

    def test_namespace_keeps_hpargparse_action_attributes(self, make):
        parser, _ = make()
        args = parser.parse_args([])
        assert args.hp_load is None and args.hp_save is None
        assert args.hp_serial_format == "auto" and args.hp_exit is False


class TestClash:
    def test_existing_option_is_an_error_naming_both(self, make):
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", help="the script's own")
        with pytest.raises(OptionClashError) as info:
            make(parser=parser)
        message = str(info.value)
        assert "option --lr of hyperparameter 'lr'" in message
        assert "clashes with the parser's own --lr" in message
        assert 'bind(parser, _, prefix="hp.") puts hyperparameters under --hp.lr' in (
            message
        )
        assert (info.value.option, info.value.name) == ("--lr", "lr")
        assert "--batch-size" not in parser._option_string_actions  # nothing added

    def test_prefix_avoids_the_clash(self, make):
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr")
        parser, manager = make(parser=parser, prefix="hp.")
        args = parser.parse_args(["--lr", "x", "--hp.lr", "0.5"])
        assert args.lr == "x" and getattr(args, "hp.lr") == 0.5

    def test_the_underscore_alias_clashes_too(self, make):
        parser = argparse.ArgumentParser()
        parser.add_argument("--weight_decay")
        with pytest.raises(OptionClashError, match="option --weight_decay of"):
            make(parser=parser)

    def test_a_clash_on_the_namespace_attribute(self, make):
        parser = argparse.ArgumentParser()
        parser.add_argument("--learning-rate", dest="lr")
        with pytest.raises(OptionClashError) as info:
            make(parser=parser)
        assert "--learning-rate (stored as args.lr)" in str(info.value)

    def test_two_hyperparameters_wanting_one_option(self, make):
        with pytest.raises(OptionClashError, match="both want the option --a-b"):
            make('_("a_b", 1)\n_("a-b", 2)\n')

    def test_an_action_option_clash(self, make):
        parser = argparse.ArgumentParser()
        parser.add_argument("--hp-list")
        with pytest.raises(OptionClashError) as info:
            make(parser=parser)
        assert "option --hp-list of hpreg's action" in str(info.value)
        assert "inject_actions=False or another action_prefix" in str(info.value)


class TestEnvConfig:
    def test_unknown_name_with_did_you_mean(self, make, tmp_path, monkeypatch):
        env = write(tmp_path / "env.yaml", "weight_decy: 0.1\n")
        monkeypatch.setenv("HPREG_CONFIG", env)
        with pytest.raises(UnknownHyperparameterError) as info:
            make()
        message = str(info.value)
        assert message.startswith("{}: weight_decy: unknown hyperparameter".format(env))
        assert "no manager's scan found it; did you mean 'weight_decay'?" in message
        assert "scan the files that declare it" in message
        assert info.value.name == "weight_decy"
        assert info.value.suggestions == ["weight_decay"]

    def test_a_name_declared_by_two_managers(self, make, tmp_path, monkeypatch):
        env = write(tmp_path / "env.yaml", "lr: 0.1\n")
        monkeypatch.setenv("HPREG_CONFIG", env)
        get_manager("hp").parse_source('hp("lr", 0.5)\n', filename="other.py")
        with pytest.raises(AmbiguousNameError) as info:
            make()
        message = str(info.value)
        assert "lr: ambiguous hyperparameter" in message
        assert "'hp' at other.py:1" in message and "'_' at train.py:3" in message
        assert sorted(info.value.managers) == ["_", "hp"]

    def test_names_of_another_manager_are_left_to_it(self, make, tmp_path, monkeypatch):
        env = write(tmp_path / "env.yaml", "lr: 0.1\ndepth: 3\n")
        monkeypatch.setenv("HPREG_CONFIG", env)
        other = get_manager("hp").reset()  # created before the variable was set
        other.parse_source('hp("depth", 1)\n', filename="other.py")
        parser, manager = make()
        parser.parse_args([])
        assert "depth" not in manager.get_values()
        assert manager.get_value("lr") == 0.1
        assert other.get_value("depth") == 3

    @pytest.mark.parametrize(
        "text, error, message",
        [
            ("lr: abc\n", ValueTypeError, "'abc' for 'lr' is a str"),
            ("use_bn: 1\n", ValueTypeError, "1 for 'use_bn' is an int"),
            ("lr: 5\n", HintViolationError, "above its high bound"),
            ("optimizer: rms\n", HintViolationError, "not a choice of 'optimizer'"),
        ],
    )
    def test_values_are_checked_against_the_scan(
        self, make, tmp_path, monkeypatch, text, error, message
    ):
        env = write(tmp_path / "env.yaml", text)
        monkeypatch.setenv("HPREG_CONFIG", env)
        with pytest.raises(error) as info:
            make()
        assert str(info.value).startswith(env + ": ")
        assert message in str(info.value)

    def test_an_int_becomes_a_float(self, make, tmp_path, monkeypatch):
        monkeypatch.setenv("HPREG_CONFIG", write(tmp_path / "env.yaml", "lr: 1\n"))
        parser, manager = make()
        assert isinstance(manager.get_value("lr"), float)

    def test_a_dict_default_is_kept_whole(self, make, tmp_path, monkeypatch):
        env = write(tmp_path / "env.yaml", "extra:\n  key: 7\nmodel:\n  width: 3\n")
        monkeypatch.setenv("HPREG_CONFIG", env)
        parser, manager = make()
        args = parser.parse_args([])
        assert args.extra == {"key": 7}
        assert getattr(args, "model.width") == 3
        assert "extra.key" not in manager.get_values()
        assert manager.provenance("extra").source == "env"

    def test_set_in_code_beats_env(self, tmp_path, monkeypatch):
        monkeypatch.setenv("HPREG_CONFIG", write(tmp_path / "e.yaml", "lr: 0.1\n"))
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source(SOURCE, filename="train.py")
        manager.set_value("lr", 0.9)
        parser = argparse.ArgumentParser()
        bind(parser, manager)
        assert parser.parse_args([]).lr == 0.9

    def test_applied_at_bind_when_set_after_the_manager(self, tmp_path, monkeypatch):
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source(SOURCE, filename="train.py")
        monkeypatch.setenv("HPREG_CONFIG", write(tmp_path / "e.yaml", "lr: 0.1\n"))
        parser = argparse.ArgumentParser()
        bind(parser, manager)
        assert parser.parse_args([]).lr == 0.1
        assert manager.provenance("lr").source == "env"


class TestParseArgs:
    @pytest.fixture(name="script")
    def fixture_script(self, tmp_path):
        return write(
            tmp_path / "train.py",
            'from hpreg.m import _\n\n\ndef f():\n    return _("lr", 0.1)\n',
        )

    def test_scans_binds_and_parses(self, script):
        manager = hpreg.HyperParameterManager("_")
        args = parse_args(manager, paths=[script], argv=["--lr", "0.5"])
        assert isinstance(args, argparse.Namespace)
        assert args.lr == 0.5
        assert manager.get_value("lr") == 0.5
        assert manager.provenance("lr").source == "cli"

    def test_a_single_path_and_bind_options(self, script):
        manager = hpreg.HyperParameterManager("_")
        args = parse_args(manager, paths=script, argv=["--hp.lr", "2"], prefix="hp.")
        assert getattr(args, "hp.lr") == 2.0

    def test_with_the_scripts_own_parser(self, script):
        parser = argparse.ArgumentParser()
        parser.add_argument("--seed", type=int, default=0)
        manager = hpreg.HyperParameterManager("_")
        args = parse_args(manager, [script], parser, ["--seed", "3"])
        assert (args.seed, args.lr) == (3, 0.1)

    def test_paths_default_to_the_calling_script(self, tmp_path):
        path = write(
            tmp_path / "main.py",
            "from hpreg.binder.binding import parse_args\n"
            "from hpreg.m import _\n\n"
            'width = lambda: _("width", 8)\n'
            'args = parse_args(_, argv=["--width", "16"])\n',
        )
        namespace = runpy.run_path(path)
        assert namespace["args"].width == 16
        assert get_manager("_").get_value("width") == 16

    def test_bad_value_exits_2(self, script, capsys):
        manager = hpreg.HyperParameterManager("_")
        with pytest.raises(SystemExit) as info:
            parse_args(manager, [script], argv=["--lr", "x"])
        assert info.value.code == 2
        assert "argument --lr: expected a float" in capsys.readouterr().err


class TestExample:
    """``examples/basic/main.py`` run as a user would."""

    MAIN = os.path.join(EXAMPLES, "basic", "main.py")

    def run(self, *args, env=None):
        full_env = dict(os.environ)
        full_env.pop("HPREG_CONFIG", None)
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, self.MAIN, *args],
            cwd=ROOT,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def test_typed_values(self):
        result = self.run("--lr", "0.1", "--net.width", "256", "--use_bn", "no")
        assert result.returncode == 0, result.stderr
        assert "lr = 0.1  (set on the command line)" in result.stdout
        assert "net: width 256 -> [64, 64] (no norm)" in result.stdout
        assert "optimizer: sgd (lr=0.1, weight_decay=1e-05)" in result.stdout

    def test_hp_list(self):
        result = self.run("--hp-list")
        assert result.returncode == 0, result.stderr
        assert yaml.safe_load(result.stdout) == {
            "optimizer": "sgd",
            "lr": 0.01,
            "weight_decay": 1e-05,
            "layer_sizes": [64, 64],
            "net": {"width": 128},
            "use_bn": True,
        }

    def test_bad_value_exits_2_without_traceback(self):
        result = self.run("--lr", "fast")
        assert result.returncode == 2
        assert "main.py: error: argument --lr: expected a float, got 'fast'" in (
            result.stderr
        )
        assert "Traceback" not in result.stderr
        assert result.stdout == ""

    def test_hpreg_config(self, tmp_path):
        env = write(tmp_path / "env.yaml", "lr: 0.2\n")
        result = self.run("--net.width", "64", env={"HPREG_CONFIG": env})
        assert result.returncode == 0, result.stderr
        assert "lr = 0.2  (loaded from {} ($HPREG_CONFIG))".format(env) in (
            result.stdout
        )
        assert "net.width = 64  (set on the command line)" in result.stdout


class TestEnvConfigMistakesExitCleanly:
    """A bad $HPREG_CONFIG is the user's mistake: argparse-style message, exit 2, and
    still the HpregError subclass for code that catches it."""

    def test_in_process(self, tmp_path, monkeypatch, capsys):
        path = tmp_path / "cfg.yaml"
        path.write_text("lerning_rate: 0.1\n")
        monkeypatch.setenv("HPREG_CONFIG", str(path))
        manager = hpreg.HyperParameterManager("_")
        manager.parse_source("_('learning_rate', 0.01)\n", "train.py")
        with pytest.raises(hpreg.UnknownHyperparameterError) as info:
            hpreg.bind(argparse.ArgumentParser(prog="train.py"), manager)
        assert isinstance(info.value, SystemExit) and info.value.code == 2
        assert info.value.name == "lerning_rate"
        err = capsys.readouterr().err
        assert "train.py: error: " in err and "did you mean 'learning_rate'?" in err

    def test_script_has_no_traceback(self, tmp_path):
        path = tmp_path / "cfg.yaml"
        path.write_text("lerning_rate: 0.1\n")
        script = os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            "examples",
            "basic",
            "main.py",
        )
        result = subprocess.run(
            [sys.executable, script],
            env=dict(os.environ, HPREG_CONFIG=str(path)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert "lerning_rate" in result.stderr and "cfg.yaml" in result.stderr
