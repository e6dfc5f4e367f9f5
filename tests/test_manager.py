import json
import os
import warnings

import pytest
import yaml

import hpreg
from hpreg import (
    DoubleAssignmentException,
    EmptyValue,
    HyperParameterManager,
    HyperParameterOccurrence,
    ImpossibleTree,
    MissingValueError,
    NotLiteralEvaluable,
    NotLiteralNameException,
    P,
)
from hpreg.hpm_db import L


@pytest.fixture(name="hpm")
def fixture_hpm():
    return HyperParameterManager("_")


class TestManagersFromM:
    def test_same_name_same_object(self):
        from hpreg.m import _ as first
        from hpreg.m import _ as second
        from hpreg.m import hp

        assert first is second
        assert hp is not first
        assert hp.placeholder == "hp"

    def test_managers_are_independent(self):
        from hpreg.m import _, other_hp

        _.set_value("a", 1)
        assert not other_hp.exists("a")

    def test_dunder_names_refused(self):
        import hpreg.m

        with pytest.raises(AttributeError):
            hpreg.m.__wrapped__
        assert hpreg.m.__all__ == []

    def test_managers_lists_them(self):
        from hpreg.m import listed_manager

        assert "listed_manager" in hpreg.managers()
        assert listed_manager in hpreg.managers()
        assert "listed_manager" in hpreg.managers().names()

    def test_explicit_manager_is_separate(self):
        from hpreg.m import _

        explicit = HyperParameterManager("_")
        explicit.set_value("x", 1)
        assert not _.exists("x")


class TestRuntime:
    def test_call_with_default_then_get(self, hpm):
        assert hpm("a", 1) == 1
        assert hpm("a") == 1
        assert hpm.get_value("a") == 1

    def test_call_default_changes(self, hpm):
        assert hpm("a", 2) == 2
        assert hpm("a", 2) == 2
        assert hpm("a", 3) == 3

    def test_set_beats_call_default(self, hpm):
        hpm.set_value("a", 11)
        assert hpm("a", 22) == 11
        assert hpm("a") == 11

    def test_call_beats_parsed_default(self, hpm):
        hpm.parse_source("_('a', 1)")
        assert hpm.get_value("a") == 1
        assert hpm("a", 5) == 5
        hpm.set_value("a", 7)
        assert hpm("a", 5) == 7

    def test_mutable_default_each_call(self, hpm):
        assert hpm("sizes", [1, 2]) == [1, 2]
        assert hpm("sizes", [1, 2]) == [1, 2]
        assert hpm("sizes", [3]) == [3]

    def test_missing_value_is_keyerror_naming_it(self, hpm):
        with pytest.raises(KeyError) as info:
            hpm("no_value")
        assert isinstance(info.value, MissingValueError)
        assert "'no_value'" in str(info.value)
        assert "give it a default" in str(info.value)
        assert not str(info.value).startswith('"')

    def test_missing_value_names_the_occurrences(self, hpm):
        hpm.parse_source("x = _('lr')\n", "train.py")
        with pytest.raises(MissingValueError) as info:
            hpm("lr")
        assert "train.py:1" in str(info.value)

    def test_get_value_without_raising(self, hpm):
        assert isinstance(hpm.get_value("nothing", raise_exception=False), EmptyValue)

    def test_exists(self, hpm):
        hpm.parse_source("_('a', 2, type={1: 2})\n_('b', 4, sth='good')\n_('n')\n")
        hpm.set_values({"b": 1, "c": 2})
        assert hpm.exists("a") and hpm.exists("b") and hpm.exists("c")
        assert not hpm.exists("d")
        assert not hpm.exists("n")

    def test_set_values_any_objects(self, hpm):
        data = {"a": 1, "b": 0.3, "c": [1, 2], "d": {"x": 1}, "f": print}
        hpm.set_values(data)
        for name, value in data.items():
            assert hpm.get_value(name) == value

    def test_double_set_allowed(self, hpm):
        for name, value in [("a", 1), ("a", 2), ("b", 3.0), ("b", "str")]:
            hpm.set_value(name, value)
            assert hpm.get_value(name) == value


class TestParseSource:
    def test_literals(self, hpm):
        hpm.parse_source(
            "_('i', 123)\n_('h', 0x18)\n_('f', 1e-5)\n_('s', 'x')\n"
            "_('l', [1, 'a', [2]])\n_('d', {'a': 1, 'c': {1: 'a'}})\n_('t', (1, 2))\n"
            "_('neg', -3)\n_('none', None)\n"
        )
        assert hpm.get_values() == {
            "i": 123,
            "h": 24,
            "f": 1e-5,
            "s": "x",
            "l": [1, "a", [2]],
            "d": {"a": 1, "c": {1: "a"}},
            "t": (1, 2),
            "neg": -3,
            "none": None,
        }

    def test_hints(self, hpm):
        hpm.parse_source("_('hp0', 1, a=[1, 3], b=2, c={'d': 3})")
        assert hpm.get_occurrence("hp0")["hints"] == {
            "a": [1, 3],
            "b": 2,
            "c": {"d": 3},
        }

    def test_non_literal_default_kept_as_text(self, hpm):
        hpm.parse_source("_('fn', print)\n_('call', bytes('abc'))\n")
        value = hpm.get_value("fn")
        assert isinstance(value, NotLiteralEvaluable)
        assert value.source == "print"
        assert hpm.get_value("call").source == "bytes('abc')"

    def test_ast_node_rebuilt_on_demand(self, hpm):
        import ast

        hpm.parse_source("_('a', [1, 2])\n")
        assert isinstance(hpm.get_occurrence_of_value("a")["ast_node"], ast.List)

    def test_non_literal_name(self, hpm):
        with pytest.raises(NotLiteralNameException) as info:
            hpm.parse_source("name = 'x'\n_(name, 1)\n", "f.py")
        assert "f.py:2" in str(info.value)

    def test_non_literal_hint(self, hpm):
        with pytest.raises(NotLiteralEvaluable) as info:
            hpm.parse_source("a = _('a', 1, type=dict)", "f.py")
        assert "f.py:1" in str(info.value)
        assert "type" in str(info.value)

    def test_too_many_args(self, hpm):
        with pytest.raises(hpreg.BadCallError):
            hpm.parse_source("_('hp', 1, 2)")

    def test_default_once_and_uses_without(self, hpm):
        hpm.parse_source("_('hp2')\n_('hp2', 2)\n")
        assert hpm.get_value("hp2") == 2
        assert len(hpm.db.select(L.of_name("hp2"))) == 2

    @pytest.mark.parametrize("second", ["1", "2"])
    def test_double_assignment(self, hpm, second):
        with pytest.raises(DoubleAssignmentException) as info:
            hpm.parse_source("_('hp1', 1)\n_('hp1', {})\n".format(second), "a.py")
        message = str(info.value)
        assert "'hp1'" in message and "a.py:1" in message and "a.py:2" in message
        assert "1 at a.py:1" in message and "{} at a.py:2".format(second) in message
        assert info.value.first.lineno == 1 and info.value.second.lineno == 2

    def test_double_assignment_across_files(self, hpm):
        hpm.parse_source("_('lr', 0.001)\n", "model/opt.py")
        with pytest.raises(DoubleAssignmentException) as info:
            hpm.parse_source("\n_('lr', 0.01)\n", "train.py")
        assert "model/opt.py:1" in str(info.value) and "train.py:2" in str(info.value)

    def test_rescan_same_filename_replaces(self, hpm):
        hpm.parse_source("_('z', 1)\n_('y', 2)\n", "f.py")
        hpm.parse_source("_('z', 3)\n", "f.py")
        assert hpm.get_values() == {"z": 3}
        assert len(hpm.db) == 1

    def test_spaces_and_double_underscore(self, hpm):
        hpm.parse_source("_  ('hp' , 1) \n__('other', 2)\n")
        assert hpm.get_values() == {"hp": 1}

    def test_no_calls(self, hpm):
        assert hpm.parse_source("abc").db.empty()


class TestTree:
    def test_leaf_and_prefix_in_source(self, hpm):
        with pytest.raises(ImpossibleTree) as info:
            hpm.parse_source("_('a.b', 1)\n_('a', {'c': 2})\n", "t.py")
        assert "t.py:1" in str(info.value) and "t.py:2" in str(info.value)

    def test_leaf_then_child(self, hpm):
        with pytest.raises(ImpossibleTree):
            hpm.parse_source("_('c', {'d': 2})\n_('c.d')\n")

    # setting a group over a scanned dict leaf: see test_hpman_compat.TestNestedParams

    def test_get_tree_and_prefix(self, hpm):
        hpm.set_values({"a.a": 1, "a.ab": [0.4, 5], "b.c": "abc", "a.b.c": "x"})
        assert hpm.get_tree() == {
            "a": {"a": 1, "ab": [0.4, 5], "b": {"c": "x"}},
            "b": {"c": "abc"},
        }
        assert hpm.get_tree("a.b") == {"c": "x"}
        assert hpm.get_value("a.b") == {"c": "x"}
        hpm.set_value("a.d", 123)
        with pytest.raises(ValueError):
            hpm.set_value("a", 0.5)
        with pytest.raises(ValueError):
            hpm.set_tree({"a": 2})

    def test_confusion(self):
        outs = []
        for data in [{"a": {"b": {"c": 1}}}, {"a.b": {"c": 1}}, {"a.b.c": 1}]:
            hpm = HyperParameterManager("_")
            hpm.set_values(data)
            outs.append((hpm.get_values(), hpm.get_tree()))
        assert outs[0][1] == outs[1][1] == outs[2][1]
        assert outs[0][0] != outs[1][0] != outs[2][0]


class TestDB:
    def test_select_as_in_hpman_readme(self, hpm):
        hpm.parse_source("_('optimizer', 'adam', choices=['adam', 'sgd'])\n")
        rows = hpm.db.select(lambda row: row.name == "optimizer")
        row = [r for r in rows if r["hints"] is not None][0]
        assert row["hints"]["choices"] == ["adam", "sgd"]
        assert row.value == "adam" and row["value"] == "adam"
        assert (
            row.has_default_value and row.priority == P.PRIORITY_PARSED_FROM_SOURCE_CODE
        )

    def test_queries(self, hpm):
        hpm.parse_source("_('v10', 0)\n_('v11', 1)\n_('v11')\n_('v12', 2)\n_('v13')\n")
        hpm("v20", 0)
        hpm.set_value("v30", 3)
        db = hpm.db
        assert len(db) == 7
        assert len(db.select(L.has_default_value)) == 5
        assert db.count(L.of_priority(P.PRIORITY_SET_FROM_CALLABLE)) == 1
        assert len(db.group_by("value")) == 5  # 0, 1, 2, 3 and "no default"
        assert db.find_first(L.of_value(2))["name"] == "v12"
        assert db.find_first(L.of_value(9)) is None
        assert (
            db.find_first(L.land(L.has_default_value, L.of_name_suffix("2")))["value"]
            == 2
        )
        assert db.count(L.lnot(L.exist_attr("filename"))) == 1
        assert [r.name for r in db.sorted(key=L.order_by("name"), reverse=True)][0] == (
            "v30"
        )
        assert db.indexing([0, 1]).extract_column("name") == ["v10", "v11"]
        assert db.choose_columns("name")[0] == {"name": "v10"}


class TestHpmanTree:
    """hpman's ``manager.tree`` and ``HyperParamTree``, for code written against them."""

    def test_empty_and_count(self, hpm):
        assert hpm.tree.empty and hpm.tree.count() == 0
        hpm.parse_source("abc\n__('hp', 1)\n")
        assert hpm.tree.empty
        hpm.parse_source("_('a.b', 1)\n_('a.c', 2)\n_('d', {'x': 1})\n_('e')\n")
        assert not hpm.tree.empty and hpm.tree.count() == 3

    def test_nodes_by_dotted_name(self, hpm):
        hpm.parse_source("_('a.b', 1)\n_('a.c', 2)\n_('d', {'x': 1})\n")
        hpm.set_value("a.c", 5)
        tree = hpm.tree
        assert tree.get("a").is_branch() and not tree.get("a").is_leaf()
        assert tree.get("a.c").is_leaf() and tree.get("a.c").node.value == 5
        assert tree.get("nope") is None
        assert tree.tree_values(annotate_dict=True) == {
            "a": {"b": 1, "c": 5},
            "d": {"x": 1, tree.DICT_ANNOTATION: True},
        }
        assert [node.name for node in tree.flatten()] == ["a.b", "a.c", "d"]

    def test_standalone_tree_checks(self):
        from hpreg.registry.occurrences import HyperParamTree

        tree = HyperParamTree()
        tree["x.y"] = 1
        with pytest.raises(ImpossibleTree):
            tree["x"] = 2
        tree = HyperParamTree()
        parsed = P.PRIORITY_PARSED_FROM_SOURCE_CODE
        tree.push_occurrence(
            HyperParameterOccurrence(name="q", value=1, priority=parsed)
        )
        with pytest.raises(DoubleAssignmentException):
            tree.push_occurrence(
                HyperParameterOccurrence(name="q", value=2, priority=parsed)
            )
        assert tree.validate()


class TestValuesFiles:
    def test_yaml_round_trip_nested(self, hpm, tmp_path):
        hpm.parse_source(
            "_('model.width', 128)\n_('t', (1, 2))\n_('lr', 0.001)\n_('d', {'k': 1})\n"
        )
        path = tmp_path / "hp.yaml"
        hpm.save(str(path))
        saved = yaml.safe_load(path.read_text())
        assert saved["model"] == {"width": 128}
        fresh = HyperParameterManager("_")
        fresh.parse_source(
            "_('model.width', 1)\n_('t', (0, 0))\n_('lr', 1.0)\n_('d', {})\n"
        )
        fresh.load(str(path))
        assert fresh.get_values() == {
            "model.width": 128,
            "t": (1, 2),
            "lr": 0.001,
            "d": {"k": 1},
        }
        assert isinstance(fresh.get_value("t"), tuple)

    def test_json_by_extension(self, hpm, tmp_path):
        hpm.parse_source("_('a', 1)\n")
        path = tmp_path / "hp.json"
        hpm.set_value("a", 5).save(str(path))
        assert json.loads(path.read_text()) == {"a": 5}
        hpm.set_value("a", 1).load(str(path))
        assert hpm("a") == 5

    def test_flat_keys_and_yaml12(self, hpm, tmp_path):
        hpm.parse_source("_('model.lr', 1.0)\n_('flag', 'x')\n_('n', 1)\n")
        path = tmp_path / "v.yaml"
        path.write_text("model.lr: 1e-3\nflag: no\nn: 010\n")
        hpm.load(str(path))
        assert hpm.get_values() == {"model.lr": 0.001, "flag": "no", "n": 10}

    def test_int_into_float_and_anything_into_none(self, hpm, tmp_path):
        hpm.parse_source("_('lr', 0.5)\n_('opt', None)\n")
        path = tmp_path / "v.yaml"
        path.write_text("lr: 1\nopt: [1, 2]\n")
        hpm.load(str(path))
        assert hpm("lr") == 1.0 and isinstance(hpm("lr"), float)
        assert hpm("opt") == [1, 2]

    @pytest.mark.parametrize(
        "text, fragment",
        [
            ("n: true\n", "'n'"),
            ("n: 1.5\n", "'n'"),
            ("flag: 3\n", "'flag'"),
        ],
    )
    def test_wrong_type(self, hpm, tmp_path, text, fragment):
        hpm.parse_source("_('n', 1)\n_('flag', True)\n")
        path = tmp_path / "bad.yaml"
        path.write_text(text)
        with pytest.raises(hpreg.ValuesFileError) as info:
            hpm.load(str(path))
        assert "bad.yaml" in str(info.value) and fragment in str(info.value)

    def test_non_literal_defaults_are_not_saved(self, hpm, tmp_path):
        # saving code as its text and loading it back would replace the code
        hpm.parse_source(
            "_('lr', 0.1)\n_('act', math.pi)\n_('head.fn', make())\n"
            "_('head.n', 2)\n_('only.code', f())\n"
        )
        path = tmp_path / "hp.yaml"
        hpm.save(str(path))
        assert yaml.safe_load(path.read_text()) == {"lr": 0.1, "head": {"n": 2}}
        hpm.load(str(path))
        assert isinstance(hpm.get_value("act"), NotLiteralEvaluable)
        assert hpm.provenance("act").source == "default"

    @pytest.mark.parametrize("ext", [".yaml", ".json"])
    def test_set_defaults_round_trip(self, hpm, tmp_path, ext):
        hpm.parse_source("_('tags', {'a', 'b'})\n_('none', set())\n")
        path = str(tmp_path / ("hp" + ext))
        hpm.save(path)
        hpm.set_value("tags", {"z"}).load(path)
        assert hpm.get_values() == {"tags": {"a", "b"}, "none": set()}

    def test_save_refuses_what_files_cannot_hold(self, hpm, tmp_path):
        hpm.parse_source("_('lr', 0.1)\n_('model.z', 1j)\n")
        path = tmp_path / "hp.yaml"
        with pytest.raises(hpreg.ValuesFileError) as info:
            hpm.save(str(path))
        assert str(info.value) == (
            "{}: cannot save 'model.z': 1j is a complex, which YAML and JSON cannot "
            "hold; give it a number, string, bool, None, list or dict value".format(
                path
            )
        )
        assert info.value.key == "model.z" and not path.exists()

    def test_unknown_name_did_you_mean(self, hpm, tmp_path):
        hpm.parse_source("_('learning_rate', 0.1)\n")
        path = tmp_path / "hp.yaml"
        path.write_text("lerning_rate: 0.2\n")
        with pytest.raises(hpreg.UnknownHyperparameterError) as info:
            hpm.load(str(path))
        assert "hp.yaml" in str(info.value)
        assert "did you mean 'learning_rate'?" in str(info.value)


class TestUnknownAndProvenance:
    def test_unknown(self, hpm):
        hpm.parse_source("_('learning_rate', 0.1)\n")
        hpm.set_value("lerning_rate", 0.2)
        assert hpm.unknown() == {"lerning_rate": ["learning_rate"]}

    def test_provenance(self, hpm, tmp_path):
        hpm.parse_source("\n_('a', 1)\n_('b', 2)\n_('c', 3)\n", "model/net.py")
        assert hpm.provenance("a").source == "default"
        assert str(hpm.provenance("a")) == "default at model/net.py:2"
        hpm.set_value("b", 5)
        assert hpm.provenance("b").source == "set"
        path = tmp_path / "hp.yaml"
        path.write_text("c: 4\n")
        os.chdir(tmp_path)
        hpm.load("hp.yaml")
        assert str(hpm.provenance("c")) == "loaded from hp.yaml"
        hpm("d", 1)
        assert hpm.provenance("d").source == "call"
        assert hpm.provenance("d").lineno is not None

    def test_override_restores(self, hpm):
        hpm.parse_source("_('a', 1)\n_('b', 2)\n")
        hpm.set_value("b", 3)
        with pytest.raises(RuntimeError):
            with hpm.override({"a": 10, "b": 20}):
                assert hpm("a") == 10 and hpm("b") == 20
                assert hpm.provenance("a").source == "sweep"
                raise RuntimeError
        assert hpm("a") == 1 and hpm("b") == 3


class TestListing:
    def test_formats(self, hpm):
        hpm.parse_source(
            "\n_('model.width', 128, help='units', low=16)\n_('lr', 0.001)\n",
            "net.py",
        )
        table = hpm.listing("table")
        assert "model.width" in table and "net.py:2" in table and "low=16" in table
        detail = hpm.listing("detail")
        assert "==> 2: _('model.width', 128, help='units', low=16)" in detail
        assert yaml.safe_load(hpm.listing("yaml")) == {
            "model": {"width": 128},
            "lr": 0.001,
        }
        records = json.loads(hpm.listing("json"))
        assert records[0]["name"] == "model.width"
        assert records[0]["line"] == 2 and records[0]["type"] == "int"
        assert records[0]["hints"] == {"help": "units", "low": 16}


class TestParseFile:
    def test_directory_and_warning_for_broken_file(self, hpm, tree):
        root = tree(
            {
                "a.py": "from hpreg.m import _\n_('a', 1)\n",
                "pkg/b.py": "from hpreg.m import _\ndef f():\n    return _('b', 2)\n",
                "broken.py": "from hpreg.m import _\n_('c', (\n",
                ".venv/x.py": "_('hidden', 1)\n",
            }
        )
        with pytest.warns(hpreg.ScanWarning, match="broken.py"):
            hpm.parse_file(str(root))
        assert hpm.get_values() == {"a": 1, "b": 2}
        assert len(hpm.scan_errors) == 1
        with pytest.raises(hpreg.ScanError):
            HyperParameterManager("_").parse_file(str(root), strict=True)

    def test_rescan_is_idempotent(self, hpm, tree):
        root = tree({"a.py": "_('a', 1)\n"})
        hpm.parse_file(str(root))
        hpm.parse_file(str(root / "a.py"))
        assert hpm.get_values() == {"a": 1}
        assert len(hpm.db) == 1

    def test_list_of_paths_and_missing_path(self, hpm, tree):
        root = tree({"a.py": "_('a', 1)\n", "b.py": "_('b', 1)\n"})
        hpm.parse_file([str(root / "a.py"), str(root / "b.py")])
        assert set(hpm.get_values()) == {"a", "b"}
        with pytest.raises(FileNotFoundError):
            hpm.parse_file(str(root / "nope.py"))

    def test_all_managers(self, tree):
        from hpreg.m import _, hp

        root = tree(
            {
                "a.py": "from hpreg.m import _\n_('a', 1)\n",
                "b.py": "from hpreg.m import hp\nhp('b', 2)\n",
            }
        )
        hpreg.parse_file(str(root))
        assert _.get_values() == {"a": 1}
        assert hp.get_values() == {"b": 2}

    def test_rescan_forgets_deleted_files(self, tree):
        # a file renamed between two scans of its folder must not declare twice
        from hpreg.m import _, hp

        root = tree(
            {
                "a.py": "from hpreg.m import _\n_('a', 1)\n",
                "b.py": "from hpreg.m import hp\nhp('b', 2)\n",
                "broken.py": "_('c', 1\n",
            }
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _.parse_file(str(root))
            hpreg.parse_file(str(root))
        assert len(_.scan_errors) == 1
        os.rename(str(root / "a.py"), str(root / "c.py"))
        os.rename(str(root / "b.py"), str(root / "d.py"))
        os.remove(str(root / "broken.py"))
        _.parse_file(str(root))
        assert [o.location for o in _.get_occurrences("a")] == [str(root / "c.py:2:1")]
        assert _.scan_errors == []
        hpreg.parse_file(str(root))
        assert [o.location for o in hp.get_occurrences("b")] == [str(root / "d.py:2:1")]

    def test_all_managers_follow_a_project_re_export(self, tree):
        # the process imported _ and hp from hpreg.m: their bare calls count in
        # files that import them from the project, as _.parse_file counts them
        from hpreg.m import _, hp

        root = tree(
            {
                "model.py": "from .hp import _, hp\n_('a', 1)\nhp('b', 2)\n",
                "i18n.py": "from gettext import gettext as _\n_('hello')\n",
            }
        )
        found = hpreg.parse_file(str(root / "model.py"))
        assert [m.placeholder for m in found] == ["_", "hp"]
        assert _.get_values() == {"a": 1} and hp.get_values() == {"b": 2}
        hpreg.parse_file(str(root))
        assert _.names() == ["a"]
        hpreg.parse_source("from .hp import hp\nhp('c', 3)\n", "c.py")
        assert hp.get_values() == {"b": 2, "c": 3}


class TestFittingToDefaults:
    def test_env_value_fits_a_default_found_later(self, tmp_path, monkeypatch):
        path = tmp_path / "env.yaml"
        path.write_text("lr: 1\nsizes: [1, 2]\n")
        monkeypatch.setenv("HPREG_CONFIG", str(path))
        manager = HyperParameterManager("_")
        assert manager.get_value("lr") == 1 and manager.provenance("lr").source == "env"
        manager.parse_source("_('lr', 0.5)\n_('sizes', (3, 4))\n")
        assert isinstance(manager("lr"), float) and manager("lr") == 1.0
        assert manager("sizes") == (1, 2)

    def test_env_dict_value_is_one_value_once_its_default_is_found(
        self, tmp_path, monkeypatch
    ):
        # read before any scan, opts: {a: 5} could only be set as opts.a
        path = tmp_path / "env.yaml"
        path.write_text("opts:\n  a: 5\n  deep: {b: 1}\nlr: 1\n")
        monkeypatch.setenv("HPREG_CONFIG", str(path))
        manager = HyperParameterManager("_")
        manager.parse_source("_('opts', {'a': 1})\n_('lr', 0.5)\n")
        assert manager.get_values() == {"lr": 1.0, "opts": {"a": 5, "deep": {"b": 1}}}
        assert manager.unknown() == {}
        assert manager.provenance("opts") == hpreg.Provenance("env", str(path))
        assert manager("opts", {"a": 1}) == {"a": 5, "deep": {"b": 1}}

    def test_override_fits_sweep_values(self, hpm):
        hpm.parse_source("_('lr', 0.5)\n_('name', 'x')\n")
        with hpm.override({"lr": 2, "name": 3}):
            assert isinstance(hpm("lr"), float) and hpm("lr") == 2.0
            assert hpm("name") == 3  # does not fit: kept, validation reports it
        assert hpm("lr") == 0.5


class TestCallPathSeesEveryChange:
    """``_(name, default)`` answers from a per-name cache of (default, value): every
    change of the name's value must reach it."""

    def test_set_after_calls_is_seen_at_once(self, hpm):
        default = 0.1
        assert [hpm("lr", default) for _ in range(3)] == [0.1] * 3
        hpm.set_value("lr", 0.5)
        assert hpm("lr", default) == 0.5
        hpm.set_values({"lr": 0.7})
        assert hpm("lr", default) == 0.7 and hpm("lr") == 0.7

    def test_another_default_at_another_call_site(self, hpm):
        assert hpm("lr", 0.1) == 0.1
        assert hpm("lr", 0.2) == 0.2  # no value set: the call's default
        assert hpm("lr", 0.2) == 0.2
        hpm.set_value("lr", 0.3)
        assert hpm("lr", 0.1) == 0.3 and hpm("lr", 0.2) == 0.3

    def test_reset_forgets_the_cached_value(self, hpm):
        default = 1
        assert hpm("layers", default) == 1
        hpm.set_value("layers", 4)
        assert hpm("layers", default) == 4
        hpm.reset()
        assert hpm("layers", default) == 1

    def test_a_set_name_under_a_called_one(self, hpm):
        tree = {"depth": 2}
        assert hpm("model", tree) == {"depth": 2}
        hpm.set_value("model.depth", 8)
        assert hpm("model", tree) == {"depth": 8}

    def test_a_values_file_reaches_the_call_path(self, hpm, tmp_path):
        default = "adam"
        assert hpm("optimizer", default) == "adam"
        path = tmp_path / "values.yaml"
        path.write_text("optimizer: sgd\n")
        hpm.load(str(path))
        assert hpm("optimizer", default) == "sgd"
