"""The static scanner: call forms, scopes, problems, files, cache, and a property
test over random generated modules."""

import ast
import os
import time
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings

from hpreg.scan import cache as _scan_cache, scanner
from hpreg.scan.scanner import (
    Call,
    FileScan,
    Problem,
    find_manager_imports,
    iter_python_files,
    scan_paths,
    scan_source,
)
from strategies import same_literal, scanner_modules


def scan(source, managers=("_",), **kwargs):
    return scan_source(textwrap.dedent(source), "mod.py", managers=managers, **kwargs)


def found(source, managers=("_",)):
    """(manager, name, lineno) of every call the scan records."""
    return [(c.manager, c.name, c.lineno) for c in scan(source, managers).calls]


def kinds(result):
    return [p.kind for p in result.problems]


class TestCallForms:
    def test_bare_call_counts_without_import(self):
        assert found('_("a", 1)\n') == [("_", "a", 1)]

    def test_bare_call_of_other_name_ignored(self):
        assert found('hp("a", 1)\n') == []

    def test_alias_import(self):
        source = """\
        from hpreg.m import _ as hp
        hp("a", 1)
        _("b", 2)
        """
        # the file takes manager ``_`` as ``hp``: an unbound ``_`` here is something
        # else (gettext's builtin), not the manager (issue 8, section 5)
        assert found(source) == [("_", "a", 2)]

    def test_alias_of_another_manager_is_not_ours(self):
        source = """\
        from hpreg.m import hp as _
        _("a", 1)
        """
        assert found(source) == []
        assert found(source, managers=None) == [("hp", "a", 2)]

    @pytest.mark.parametrize(
        "imports, call",
        [
            ("import hpreg.m as m", "m._"),
            ("from hpreg import m", "m._"),
            ("from hpreg import m as mm", "mm._"),
            ("import hpreg.m", "hpreg.m._"),
            ("import hpreg as h", "h.m._"),
        ],
    )
    def test_attribute_forms(self, imports, call):
        source = '{}\nv = {}("a", 1)\n'.format(imports, call)
        assert found(source) == [("_", "a", 2)]
        assert found(source, managers=None) == [("_", "a", 2)]

    def test_attribute_of_other_object_ignored(self):
        assert found('import other as m\nm._("a", 1)\nobj._("b")\n') == []

    def test_attribute_form_other_manager_filtered(self):
        source = 'import hpreg.m as m\nm.hp("a", 1)\n'
        assert found(source) == []
        assert found(source, managers=["hp"]) == [("hp", "a", 2)]

    def test_managers_none_counts_only_imported_names(self):
        source = """\
        from hpreg.m import hp
        hp("a", 1)
        _("b", 2)
        """
        assert found(source, managers=None) == [("hp", "a", 2)]

    def test_managers_none_extra_names(self):
        result = scan_source('_("b", 2)\n', managers=None, extra=["_"])
        assert [c.name for c in result.calls] == ["b"]

    def test_imports_field(self):
        source = """\
        from hpreg.m import _, hp as model_hp
        def f():
            from hpreg.m import other
        """
        assert scan(source).imports == {"_": "_", "model_hp": "hp", "other": "other"}

    def test_star_and_dunder_imports_ignored(self):
        source = "from hpreg.m import *\nfrom hpreg.m import __all__\n"
        assert scan(source, managers=None).imports == {}

    def test_parenthesized_name_and_spaces(self):
        source = '(_)("a", 1)\n_ ("b")\n_\\\n("c")\n'
        assert [n for _m, n, _l in found(source)] == ["a", "b", "c"]

    def test_several_managers(self):
        source = '_("a", 1)\nhp("b", 2)\n'
        assert found(source, managers=["_", "hp"]) == [("_", "a", 1), ("hp", "b", 2)]

    def test_explicit_manager_assignment_keeps_counting(self):
        # hpman's own style: the manager is made and bound to ``_`` in the module
        source = """\
        from hpreg import HyperParameterManager
        _ = HyperParameterManager("_")
        _("a", 1)
        """
        assert found(source) == [("_", "a", 3)]
        assert kinds(scan(source)) == []

    def test_calls_in_order_with_positions(self):
        source = 'x = [_("a"), _("b")]\ny = f(\n    _("c"))\n'
        calls = scan(source).calls
        assert [(c.name, c.lineno, c.col) for c in calls] == [
            ("a", 1, 6),
            ("b", 1, 14),
            ("c", 3, 5),
        ]

    def test_column_counts_characters_not_bytes(self):
        calls = scan('x = "éé"; _("a", "ü")\n').calls
        assert (calls[0].lineno, calls[0].col, calls[0].value) == (1, 11, "ü")

    def test_find_manager_imports(self):
        source = "from hpreg.m import _ as a, hp\nimport hpreg.m as m\nm.zz('x')\n"
        assert find_manager_imports(source) == {"_", "hp", "zz"}
        assert find_manager_imports("import os\n_('x', 1)\n") == set()
        assert find_manager_imports("hpreg = (\n") == set()


class TestDefaultsAndHints:
    @pytest.mark.parametrize(
        "text, value",
        [
            ("-3", -3),
            ("1e-3", 1e-3),
            ("(1, 2)", (1, 2)),
            ("{1, 2}", {1, 2}),
            ("set()", set()),
            ("[{'a': (None, True)}]", [{"a": (None, True)}]),
            ("None", None),
            ("b'x'", b"x"),
            ("1+2j", 1 + 2j),
            ("'a' 'b'", "ab"),
        ],
    )
    def test_literal_defaults(self, text, value):
        call = scan('_("a", {})\n'.format(text)).calls[0]
        assert call.has_default and call.value_source is None
        assert same_literal(call.value, value)

    def test_no_default(self):
        call = scan('_("a")\n').calls[0]
        assert (call.has_default, call.value, call.value_source) == (False, None, None)

    @pytest.mark.parametrize(
        "text", ["os.getcwd()", "lambda x: x + 1", "2 ** 10", "[i for i in range(3)]"]
    )
    def test_non_literal_default_kept_as_text(self, text):
        result = scan('_("a", {})\n'.format(text))
        call = result.calls[0]
        assert (call.has_default, call.value, call.value_source) == (True, None, text)
        assert result.problems == []

    def test_non_literal_default_is_never_run(self, tmp_path):
        marker = tmp_path / "ran"
        source = '_("a", open({!r}, "w"))\n'.format(str(marker))
        assert scan(source).calls[0].value_source.startswith("open(")
        assert not marker.exists()

    def test_multiline_non_literal_default(self):
        call = scan('_("a", f(\n    1,\n    2))\n').calls[0]
        assert call.value_source == "f(\n    1,\n    2)"

    def test_literal_hints(self):
        call = scan(
            '_("a", 1, help="h", low=-1, choices=(1, 2), d={"x": [1]})\n'
        ).calls[0]
        assert call.hints == {
            "help": "h",
            "low": -1,
            "choices": (1, 2),
            "d": {"x": [1]},
        }

    def test_non_literal_hint(self):
        result = scan('_("lr", 1, low=0, high=math.inf)\n')
        assert result.calls[0].hints == {"low": 0}  # the call is still recorded
        [problem] = result.problems
        assert (problem.kind, problem.manager, problem.lineno, problem.col) == (
            "non_literal_hint",
            "_",
            1,
            24,
        )
        assert problem.code == "math.inf"
        assert problem.message == (
            "hint 'high' of 'lr' is not a literal: math.inf; hints must be literals "
            "(numbers, strings, None, tuples, lists, dicts, sets)"
        )

    def test_double_star_hints(self):
        result = scan('_("lr", 1, low=0, **extra)\n')
        assert result.calls[0].hints == {"low": 0}
        [problem] = result.problems
        assert (problem.kind, problem.code, problem.col) == (
            "non_literal_hint",
            "extra",
            21,
        )
        assert problem.message == (
            "hints of 'lr' include **extra, which is not a literal; write each hint "
            "as keyword=literal"
        )


class TestProblems:
    @pytest.mark.parametrize(
        "args, got", [("", "0"), ('"a", 1, 2', "3"), ("*names", "*args")]
    )
    def test_arg_count(self, args, got):
        result = scan("x = 1\ny = _({})\n".format(args))
        assert result.calls == []
        [problem] = result.problems
        assert (problem.kind, problem.lineno, problem.col) == ("arg_count", 2, 5)
        assert problem.code == "_({})".format(args)
        assert problem.message == (
            "_() takes the hyperparameter's name and an optional default (1 or 2 "
            "positional arguments), got {}; pass hints as keywords".format(got)
        )

    @pytest.mark.parametrize("name", ['f"lr{i}"', "name", "b'lr'", "'a' + 'b'"])
    def test_non_literal_name(self, name):
        result = scan("def f(i):\n    return hp({}, 1)\n".format(name), ["hp"])
        assert result.calls == []
        [problem] = result.problems
        assert (problem.kind, problem.manager, problem.lineno, problem.col) == (
            "non_literal_name",
            "hp",
            2,
            15,
        )
        assert problem.code == name
        assert problem.message == (
            "the name of a hyperparameter must be a literal string, not {}; write "
            'it as hp("name", ...)'.format(name)
        )

    def test_problems_and_calls_of_other_managers_left_out(self):
        assert scan('hp(f"x")\nhp("a", 1, 2)\n').problems == []


class TestScopes:
    def test_loop_variable_hides_only_its_function(self):
        source = """\
        def f():
            for _ in range(3):
                _("hidden", 1)
            return _("also_hidden")

        def g():
            return _("seen", 2)

        top = _("top", 3)
        """
        assert found(source) == [("_", "seen", 7), ("_", "top", 9)]
        [problem] = scan(source).problems
        assert (problem.kind, problem.manager, problem.lineno, problem.col) == (
            "shadowed",
            "_",
            2,
            9,
        )
        assert problem.code == "for _ in range(3):"
        assert problem.message == (
            "'_' is bound to something else here (for loop target), so 2 calls of _() "
            "in this scope (first at line 3) will not be scanned as hyperparameters "
            "of manager '_'; rename that binding, or import the manager under another "
            "name (from hpreg.m import _ as hp)"
        )

    @pytest.mark.parametrize(
        "binding",
        [
            "x, _ = f()",
            "_ = 1",
            "_ += 1",
            "_: int = 1",
            "_: int",
            "with f() as _: pass",
            "import gettext as _",
            "def _(): pass",
            "class _: pass",
            "del _",
            "(_ := 3)",
            "[(_ := i) for i in range(3)]",
        ],
    )
    def test_local_bindings_hide_the_whole_function(self, binding):
        source = "def f():\n    v = _('a', 1)\n    {}\n\nw = _('b', 2)\n".format(
            binding
        )
        assert found(source) == [("_", "b", 5)]

    def test_function_import_from_elsewhere_is_a_reexport(self):
        source = "def f():\n    from config import _\n    return _('a', 1)\n"
        assert found(source) == [("_", "a", 3)]

    def test_except_and_parameter_bindings(self):
        source = """\
        def f(_):
            return _("a")
        try:
            pass
        except E as _:
            pass
        """
        assert found(source) == []
        assert found(
            "def f(a):\n    try: pass\n    except E as _: _('x')\n_('y')\n"
        ) == [("_", "y", 4)]

    def test_nested_function_resolves_to_enclosing_binding(self):
        source = """\
        def outer():
            _ = "text"
            def inner():
                return _("hidden")
            return inner

        def clean():
            def inner():
                return _("seen")
        """
        assert found(source) == [("_", "seen", 9)]
        [problem] = scan(source).problems
        assert problem.lineno == 2 and "first at line 4" in problem.message

    def test_class_body_does_not_enclose_methods(self):
        source = """\
        class C:
            _ = "text"
            x = _("hidden")
            def method(self):
                return _("seen")
            items = [_("comprehension_skips_class") for i in range(2)]
        """
        assert found(source) == [
            ("_", "seen", 5),
            ("_", "comprehension_skips_class", 6),
        ]

    def test_comprehension_target_is_local_to_it(self):
        source = """\
        a = [_("hidden", i) for _ in range(3)]
        b = [x for _ in range(3) for x in _("first_iter_of_inner", [])]
        c = [x for x in _("outer_iter", [])  for _ in range(3)]
        d = _("after", 1)
        """
        assert found(source) == [("_", "outer_iter", 3), ("_", "after", 4)]

    def test_lambda_parameters(self):
        assert found("f = lambda _: _('hidden')\ng = lambda a=_('d', 1): a\n") == [
            ("_", "d", 2)
        ]

    def test_global_declaration_binds_the_module(self):
        source = """\
        def setup():
            global _
            _ = gettext.gettext
        x = _("hidden")
        """
        assert found(source) == []

    def test_nonlocal_binds_the_enclosing_function(self):
        source = """\
        def outer():
            def inner():
                nonlocal _
                _ = 1
            _ = 0
            return _("hidden")
        y = _("seen")
        """
        assert found(source) == [("_", "seen", 7)]

    @pytest.mark.parametrize(
        "binding",
        [
            "def _(s): return s",
            "class _: pass",
            "_ = str",
            "for _ in range(3): pass",
            "from gettext import gettext as _",
            "from django.utils.translation import gettext_lazy as _",
            "from babel.support import Translations as _",
            "from flask_babel import gettext as _",
            "import gettext as _",
        ],
    )
    def test_module_binding_hides_module_and_nested_calls(self, binding):
        source = """\
        {}
        a = _("module")
        def f():
            return _("nested")
        def g(_):
            return _("own_parameter")
        """.format(
            binding
        )
        result = scan(source)
        assert result.calls == []
        # one report: g's parameter hides nothing the module binding did not
        [problem] = result.problems
        assert (problem.kind, problem.lineno, problem.manager) == ("shadowed", 1, "_")
        assert "so 2 calls of _() in this scope (first at line 2)" in problem.message

    def test_non_i18n_import_is_a_reexport(self):
        source = "from myproject.hparams import _\nx = _('a', 1)\n"
        assert found(source) == [("_", "a", 2)]

    def test_module_del_is_cleanup_not_shadowing(self):
        assert found("from hpreg.m import _\nx = _('a', 1)\ndel _\n") == [("_", "a", 2)]

    def test_import_from_hpreg_wins_and_rebinding_is_reported(self):
        source = """\
        from hpreg.m import _
        x = _("a", 1)
        for _ in range(3):
            pass
        """
        result = scan(source)
        assert [c.name for c in result.calls] == ["a"]
        [problem] = result.problems
        assert (problem.kind, problem.manager, problem.lineno, problem.col) == (
            "shadowed",
            "_",
            3,
            5,
        )
        assert problem.message == (
            "'_' is imported from hpreg.m (manager '_', line 1) and rebound here "
            "(for loop target); calls may no longer reach the manager; use another "
            "name for this binding"
        )

    def test_local_hide_under_hpreg_import_names_the_imported_manager(self):
        source = """\
        from hpreg.m import hp as _
        def f():
            for _ in range(2):
                _("hidden")
        """
        [problem] = scan(source, managers=None).problems
        assert (problem.manager, problem.lineno) == ("hp", 3)

    def test_shadowing_without_hidden_calls_is_quiet(self):
        source = "from hpreg.m import _\ndef f():\n    for _ in range(3): pass\n"
        assert scan(source).problems == []
        assert scan("from gettext import gettext as _\nx = 1\n").problems == []

    def test_unwatched_names_are_not_reported(self):
        assert scan("for hp in x:\n    hp('a')\n").problems == []


class TestSyntaxAndEncoding:
    def test_syntax_error(self):
        result = scan_source("x = 1\ny = _('a', (\n", "broken.py")
        assert result.calls == []
        [problem] = result.problems
        if sys.version_info >= (3, 10):
            col, what = 12, "'(' was never closed"
        else:  # the old parser's words
            col, what = 13, "unexpected EOF while parsing"
        assert (problem.kind, problem.manager, problem.lineno, problem.col) == (
            "syntax",
            None,
            2,
            col,
        )
        assert problem.message == "invalid syntax ({})".format(what)
        assert problem.code == "y = _('a', ("

    def test_plain_invalid_syntax_and_null_byte(self):
        assert scan_source("x = = 1\n").problems[0].message == "invalid syntax"
        problem = scan_source("x = 1\n_('a')\0\n").problems[0]
        assert (problem.kind, problem.lineno) == ("syntax", 2)

    def test_tree_scan_goes_on_after_a_broken_file(self, tree):
        root = tree({"a.py": "_('a', (\n", "b.py": "_('b', 1)\n"})
        scans = scan_paths(root, managers=["_"])
        assert [kinds(s) for s in scans] == [["syntax"], []]
        assert [c.name for c in scans[1].calls] == ["b"]

    def test_coding_cookie(self, tmp_path):
        path = tmp_path / "latin.py"
        path.write_bytes("# -*- coding: latin-1 -*-\n_('a', 'é')\n".encode("latin-1"))
        [result] = scan_paths(path, managers=["_"])
        assert result.calls[0].value == "é" and result.problems == []

    def test_utf8_bom(self, tmp_path):
        path = tmp_path / "bom.py"
        path.write_bytes(b"\xef\xbb\xbf_('a', 1)\n")
        [result] = scan_paths(path, managers=["_"])
        assert [(c.name, c.col) for c in result.calls] == [("a", 1)]

    def test_undecodable_file_is_a_problem(self, tmp_path):
        path = tmp_path / "bad.py"
        path.write_bytes(b"x = 1\n_('a', '\xff')\n")
        [result] = scan_paths(path, managers=["_"])
        [problem] = result.problems
        assert (problem.kind, problem.lineno) == ("syntax", 2)
        assert problem.message.startswith("cannot be decoded as utf-8 (")
        assert problem.message.endswith(
            "save it as UTF-8 or declare its encoding (# -*- coding: ... -*-)"
        )

    def test_unknown_encoding_cookie(self, tmp_path):
        path = tmp_path / "odd.py"
        path.write_bytes(b"# -*- coding: no-such-codec -*-\n_('a')\n")
        [result] = scan_paths(path, managers=["_"])
        [problem] = result.problems
        assert problem.kind == "syntax" and "no-such-codec" in problem.message

    def test_crlf_and_lone_cr(self):
        assert found("x = 1\r\n_('a')\r\n") == [("_", "a", 2)]
        assert found("x = 1\r_('a')\r") == [("_", "a", 2)]

    def test_deep_nesting_does_not_recurse(self):
        # deeper than the recursion limit, not too deep for the parser
        source = "x = " + " + ".join(["1"] * 2000) + " + _('a', 1)\n"
        assert [c.name for c in scan(source).calls] == ["a"]


class TestFiles:
    def test_walk_skips_and_sorts(self, tree):
        root = tree(
            {
                "b.py": "",
                "a.py": "",
                "notes.txt": "",
                "pkg/c.py": "",
                ".git/x.py": "",
                ".venv/x.py": "",
                "venv/x.py": "",
                "__pycache__/x.py": "",
                "build/x.py": "",
                "dist/x.py": "",
                "node_modules/x.py": "",
                "lib/site-packages/x.py": "",
                "pkg/.hidden/x.py": "",
            }
        )
        files = [os.path.relpath(p, root) for p in iter_python_files(root)]
        assert files == ["a.py", "b.py", os.path.join("pkg", "c.py")]

    def test_display_path_as_given(self, tree, monkeypatch):
        root = tree({"pkg/a.py": ""})
        monkeypatch.chdir(root)
        assert list(iter_python_files("pkg")) == [os.path.join("pkg", "a.py")]
        assert list(iter_python_files(["pkg/a.py"])) == ["pkg/a.py"]

    def test_exclude_globs(self, tree):
        root = tree(
            {
                "a.py": "",
                "test_a.py": "",
                "gen/b.py": "",
                "pkg/migrations/c.py": "",
                "pkg/d.py": "",
            }
        )
        files = iter_python_files(root, exclude=["test_*.py", "gen", "*/migrations/*"])
        assert [os.path.relpath(p, root) for p in files] == [
            "a.py",
            os.path.join("pkg", "d.py"),
        ]

    @pytest.mark.parametrize(
        "glob",
        ["gen/", "./gen/*", "src/gen", "src/gen/*", "{root}/gen", "{root}/gen/*"],
    )
    def test_exclude_globs_spelled_as_paths(self, tree, monkeypatch, glob):
        # a folder with a trailing slash, or a path as the user sees it (from the
        # working directory, or absolute), excludes as the folder's own name does
        root = tree({"a.py": "", "gen/b.py": "", "pkg/gen.py": ""})
        monkeypatch.chdir(root.parent)
        pattern = glob.format(root=root)
        for scanned in ("src", str(root)):
            files = iter_python_files(scanned, exclude=[pattern])
            assert [os.path.relpath(p, scanned) for p in files] == [
                "a.py",
                os.path.join("pkg", "gen.py"),
            ], (scanned, pattern)

    def test_exclude_star_globs_stay_below_the_scanned_folder(self, tree, monkeypatch):
        # "*src*" must not match the folders above the one scanned
        root = tree({"a.py": "", "src_gen.py": ""})
        monkeypatch.chdir(root.parent)
        files = iter_python_files(str(root), exclude=["*src*"])
        assert [os.path.relpath(p, root) for p in files] == ["a.py"]

    def test_list_of_paths_each_file_once(self, tree):
        root = tree({"a.py": "", "sub/b.py": ""})
        paths = [root / "sub", root, root / "a.py"]
        files = [os.path.relpath(p, root) for p in iter_python_files(paths)]
        assert files == [os.path.join("sub", "b.py"), "a.py"]

    def test_explicit_file_of_any_name(self, tree):
        root = tree({"script": "_('a', 1)\n"})
        [result] = scan_paths(root / "script", managers=["_"])
        assert [c.name for c in result.calls] == ["a"]

    def test_missing_path(self, tmp_path):
        missing = str(tmp_path / "nope")
        with pytest.raises(FileNotFoundError) as info:
            list(iter_python_files([tmp_path, missing]))
        assert str(info.value) == (
            "{}: no such file or directory; check the path to scan".format(missing)
        )
        assert info.value.filename == missing

    def test_realpath_and_symlinks(self, tree):
        root = tree({"real.py": "_('a', 1)\n"})
        os.symlink(root / "real.py", root / "link.py")
        scans = scan_paths(root, managers=["_"])
        assert len(scans) == 1  # the same file once
        assert scans[0].realpath == os.path.realpath(root / "real.py")


class TestScanPaths:
    def test_all_managers_reexport_across_files(self, tree):
        root = tree(
            {
                "config.py": "from hpreg.m import hp\nhp('a', 1)\n",
                "model.py": "from config import hp\nhp('b', 2)\n",
                "train.py": "hp('c', 3)\n_('not_a_manager', 4)\n",
            }
        )
        scans = scan_paths(root)
        # train.py never binds hp: its bare hp() is not the manager (issue 8, 5)
        assert [[(c.manager, c.name) for c in s.calls] for s in scans] == [
            [("hp", "a")],
            [("hp", "b")],
            [],
        ]
        assert [s.imports for s in scans] == [{"hp": "hp"}, {"hp": "hp"}, {}]

    def test_all_managers_rescans_importers_for_other_names(self, tree):
        root = tree(
            {
                "a.py": "from hpreg.m import _\nfrom elsewhere import hp\n"
                "_('a', 1)\nhp('x', 1)\n",
                "b.py": "from hpreg.m import hp\nhp('b', 2)\n",
            }
        )
        scans = scan_paths(root)
        assert [c.name for c in scans[0].calls] == ["a", "x"]

    def test_files_without_the_manager_are_not_parsed(self, tree, monkeypatch):
        root = tree({"plain.py": "x = (\n", "uses.py": "_('a', 1)\n"})
        parsed = []
        real_parse = ast.parse
        monkeypatch.setattr(
            scanner.ast,
            "parse",
            lambda text, *a: parsed.append(text) or real_parse(text),
        )
        scans = scan_paths(root, managers=["_"], cache=False)
        assert parsed == ["_('a', 1)\n"]
        assert scans[0].problems == []  # not parsed, so its syntax is not checked

    @pytest.mark.parametrize(
        "text, candidate",
        [
            ("_('a')", True),
            ("x = _ ('a')", True),
            ("_  # comment\n('a')", True),
            ("(_)('a')", True),
            ("_\\\n('a')", True),
            ("import hpreg", True),
            ("foo_('a')", False),
            ("obj._('a')", False),
            ("for _ in x: pass", False),
            ("_x('a')", False),
        ],
    )
    def test_prefilter(self, text, candidate):
        assert scanner._is_candidate(text, frozenset({"_"})) is candidate

    def test_records_are_small_and_plain(self):
        call = scan('_("a", [1, 2], help="x")\n').calls[0]
        assert not hasattr(call, "__dict__")
        for slot in Call.__slots__:
            assert not isinstance(getattr(call, slot), ast.AST)
        assert not hasattr(Problem("syntax", None, "m", 1), "__dict__")


def cache_files():
    folder = _scan_cache.cache_dir()
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.fixture(name="cached_tree")
def fixture_cached_tree(tree, tmp_path, monkeypatch):
    monkeypatch.setenv("HPREG_CACHE_DIR", str(tmp_path / "cache"))
    return tree(
        {"a.py": "_('a', 1)\n", "b.py": "x = 1\n", "c.py": "_('c', (1, {2}))\n"}
    )


def no_scanning(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("scanned although cached")

    monkeypatch.setattr(scanner, "_scan_data", fail)


class TestCache:
    def test_hit_serves_same_records(self, cached_tree, monkeypatch):
        first = scan_paths(cached_tree, managers=["_"])
        assert len(cache_files()) == 1
        no_scanning(monkeypatch)
        again = scan_paths(cached_tree, managers=["_"])
        assert again == first
        assert same_literal(again[2].calls[0].value, (1, {2}))

    def test_changed_file_is_rescanned(self, cached_tree):
        scan_paths(cached_tree, managers=["_"])
        (cached_tree / "a.py").write_text("_('z', 2)\n")  # same size, new content
        scans = scan_paths(cached_tree, managers=["_"])
        assert [(c.name, c.value) for c in scans[0].calls] == [("z", 2)]

    def test_new_and_deleted_files(self, cached_tree):
        scan_paths(cached_tree, managers=["_"])
        (cached_tree / "c.py").unlink()
        (cached_tree / "d.py").write_text("_('d', 4)\n")
        scans = scan_paths(cached_tree, managers=["_"])
        assert [c.name for s in scans for c in s.calls] == ["a", "d"]

    def test_key_includes_managers(self, cached_tree):
        scan_paths(cached_tree, managers=["_"])
        scans = scan_paths(cached_tree, managers=["hp"])
        assert [c.name for s in scans for c in s.calls] == []
        assert len(cache_files()) == 2

    def test_all_managers_mode_follows_new_imports(self, cached_tree):
        (cached_tree / "c.py").write_text("from elsewhere import _\n_('c', 1)\n")
        assert [c.name for s in scan_paths(cached_tree) for c in s.calls] == []
        (cached_tree / "b.py").write_text("from hpreg.m import _\n")
        names = [c.name for s in scan_paths(cached_tree) for c in s.calls]
        assert names == ["c"]  # a.py never binds _: not the manager there

    def test_all_managers_mode_hit_with_module_form(self, tree, monkeypatch):
        root = tree({"a.py": "import hpreg.m as m\nm.hp('a', 1)\n", "b.py": "x = 1\n"})
        first = scan_paths(root)
        assert first[0].module_managers == {"hp"}
        no_scanning(monkeypatch)
        assert scan_paths(root) == first

    def test_no_write_when_nothing_changed(self, cached_tree):
        scan_paths(cached_tree, managers=["_"])
        [name] = cache_files()
        path = os.path.join(_scan_cache.cache_dir(), name)
        before = os.stat(path)
        an_hour_ago = time.time() - 3600  # older than a day would be touched
        os.utime(path, (an_hour_ago, an_hour_ago))
        scan_paths(cached_tree, managers=["_"])
        after = os.stat(path)
        assert (after.st_mtime, after.st_ino) == (an_hour_ago, before.st_ino)

    @pytest.mark.parametrize("damage", [b"", b"garbage", None])
    def test_corrupt_cache_is_empty(self, cached_tree, damage):
        first = scan_paths(cached_tree, managers=["_"])
        [name] = cache_files()
        path = os.path.join(_scan_cache.cache_dir(), name)
        if damage is None:  # flip a byte inside the payload
            blob = bytearray(open(path, "rb").read())
            blob[-5] ^= 0xFF
            damage = bytes(blob)
        with open(path, "wb") as f:
            f.write(damage)
        assert scan_paths(cached_tree, managers=["_"]) == first
        assert _scan_cache.ScanCache.__name__  # and it was rewritten valid:
        store = _scan_cache.ScanCache(
            ((os.path.realpath(cached_tree),), ("_",)), scanner.SCANNER_VERSION
        )
        assert store.names == ("_",)

    def test_unwritable_cache_dir_is_ignored(self, cached_tree, tmp_path, monkeypatch):
        blocker = tmp_path / "file"
        blocker.write_text("")
        monkeypatch.setenv("HPREG_CACHE_DIR", str(blocker / "sub"))
        scans = scan_paths(cached_tree, managers=["_"])
        assert [c.name for s in scans for c in s.calls] == ["a", "c"]

    def test_cache_false_writes_nothing(self, cached_tree):
        scan_paths(cached_tree, managers=["_"], cache=False)
        assert cache_files() == []

    def test_cache_dir_defaults(self, monkeypatch, tmp_path):
        monkeypatch.delenv("HPREG_CACHE_DIR")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert _scan_cache.cache_dir() == str(tmp_path / "xdg" / "hpreg")
        monkeypatch.delenv("XDG_CACHE_HOME")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        assert _scan_cache.cache_dir() == str(tmp_path / "home" / ".cache" / "hpreg")

    def test_cache_file_is_marshal_not_pickle(self, cached_tree):
        scan_paths(cached_tree, managers=["_"])
        [name] = cache_files()
        assert name.endswith(".marshal")
        blob = open(os.path.join(_scan_cache.cache_dir(), name), "rb").read()
        assert blob.startswith(b"hpreg-scan-cache")


class TestRandomModules:
    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(scanner_modules())
    def test_scan_finds_exactly_the_generated_calls(self, module):
        source, expected = module
        ast.parse(source)  # the generator writes valid Python
        managers = None if source.startswith("from hpreg.m import _") else ["_"]
        result = scan_source(source, "gen.py", managers=managers)
        assert result.problems == []
        got = [(c.name, c.has_default, c.lineno, c.col) for c in result.calls]
        assert got == [(n, d, line, col) for n, d, _v, _h, line, col in expected]
        for call, (_n, _d, value, hints, _l, _c) in zip(result.calls, expected):
            assert call.value_source is None
            assert same_literal(call.value, value)
            assert same_literal(call.hints, hints)
            assert call.manager == "_"
        if expected:
            assert scanner._is_candidate(source, frozenset({"_"}))
        # cached records round-trip through marshal unchanged
        payload = result._payload()
        again = FileScan._from_payload("gen.py", None, payload)
        assert all(
            same_literal(a.value, b.value) and same_literal(a.hints, b.hints)
            for a, b in zip(again.calls, result.calls)
        )
