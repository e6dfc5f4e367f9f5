"""Managers the command line could not see (issue 8, section 5), and folders and
files the scan cannot read (section 3): re-exported aliases, hpman's explicit
``HyperParameterManager("name")``, gettext's ``_``, unreadable folders and files."""

import ast
import json
import os
import warnings

import pytest

import hpreg
from cli_support import one_error_line
from hpreg.scan import scanner
from hpreg.scan.scanner import scan_paths

CONFIG = "from hpreg.m import _ as hp\n"
MODEL = 'from pkg.config import hp\nwidth = hp("width", 64)\n'


def found(root, **options):
    """(file relative to root, manager, name) of every call the scan records."""
    return [
        (
            os.path.relpath(scan.filename, str(root)).replace(os.sep, "/"),
            c.manager,
            c.name,
        )
        for scan in scan_paths(str(root), **options)
        for c in scan.calls
    ]


def listed(out):
    return {(row["manager"], row["name"]) for row in json.loads(out)}


# -- 1. re-exported aliases --------------------------------------------------------------
class TestReexportedAlias:
    def test_hpreg_list_sees_the_issue_example(self, tree, cli):
        root = tree({"pkg/config.py": CONFIG, "pkg/model.py": MODEL})
        code, out, err = cli("list", root, "--format", "json", "--no-cache")
        assert (code, err) == (0, "")
        assert listed(out) == {("_", "width")}

    def test_hpreg_list_in_a_subprocess(self, tree, run_hpreg, tmp_path):
        root = tree(
            {
                "pkg/__init__.py": "",
                "pkg/config.py": CONFIG,
                "pkg/model.py": MODEL,
                "train.py": "from pkg.model import width\n",
            }
        )
        env = {"HPREG_CACHE_DIR": str(tmp_path / "cache")}
        for _run in range(2):  # cold, then from the cache
            result = run_hpreg("list", "pkg", "--format", "json", cwd=root, env=env)
            assert (result.returncode, result.stderr) == (0, "")
            [row] = json.loads(result.stdout)
            assert (row["manager"], row["name"], row["value"]) == ("_", "width", 64)
            assert (row["file"], row["line"]) == ("pkg/model.py", 2)

    def test_lint_sees_a_second_default_through_the_alias(self, tree, cli):
        root = tree(
            {
                "pkg/config.py": CONFIG,
                "pkg/model.py": MODEL,
                "pkg/other.py": 'from hpreg.m import _\n_("width", 32)\n',
            }
        )
        code, out, _err = cli("lint", root, "--no-cache")
        assert code == 1
        assert "conflicting defaults for 'width'" in out

    def test_lint_is_clean_on_the_issue_example(self, tree, cli):
        root = tree({"pkg/config.py": CONFIG, "pkg/model.py": MODEL})
        assert cli("lint", root, "--no-cache")[:2] == (0, "")

    @pytest.mark.parametrize(
        "files",
        [
            {"pkg/model.py": MODEL},
            {"pkg/__init__.py": "", "pkg/model.py": MODEL},
            {"pkg/model.py": 'from .config import hp\nhp("width", 64)\n'},
            {"pkg/model.py": 'from . import config\nconfig.hp("width", 64)\n'},
            {"pkg/model.py": 'import pkg.config as c\nc.hp("width", 64)\n'},
            {"pkg/model.py": 'import pkg.config\npkg.config.hp("width", 64)\n'},
            {
                "pkg/__init__.py": "",
                "pkg/model.py": 'from pkg import config\nconfig.hp("width", 64)\n',
            },
            {"pkg/model.py": 'from .config import hp as h\nh("width", 64)\n'},
            {"pkg/model.py": 'from .config import *\nhp("width", 64)\n'},
            {
                "pkg/model.py": "def build():\n"
                "    from pkg.config import hp\n"
                '    return hp("width", 64)\n'
            },
            {  # a re-export of the re-export: pkg/__init__.py passes it on
                "pkg/__init__.py": "from .config import hp\n",
                "pkg/model.py": 'from pkg import hp\nhp("width", 64)\n',
            },
            {
                "pkg/__init__.py": "from .config import *\n",
                "pkg/model.py": 'from pkg import hp\nhp("width", 64)\n',
            },
        ],
        ids=[
            "absolute",
            "package",
            "relative",
            "relative-module",
            "import-as",
            "import-dotted",
            "from-package-import-module",
            "renamed",
            "star",
            "in-function",
            "package-reexport",
            "package-star",
        ],
    )
    def test_import_forms(self, tree, files):
        root = tree(dict(files, **{"pkg/config.py": CONFIG}))
        expected = [("pkg/model.py", "_", "width")]
        assert found(root, cache=False) == expected
        assert found(root, managers=["_"], cache=False) == expected
        assert found(root) == expected  # writes the cache
        assert found(root) == expected  # reads it
        # ``hp`` is manager _'s name there, not manager hp
        assert found(root, managers=["hp"], cache=False) == []

    @pytest.mark.parametrize(
        "config",
        [
            "from hpreg.m import _\nhp = _\n",
            "import hpreg.m as m\nhp = m._\n",
            "import hpreg\nhp = hpreg.m._\n",
            "import hpreg\nhp = hpreg.get_manager('_')\n",
        ],
    )
    def test_exported_by_assignment(self, tree, config):
        root = tree({"pkg/config.py": config, "pkg/model.py": MODEL})
        assert found(root) == [("pkg/model.py", "_", "width")]

    def test_assigned_alias_in_the_same_module(self):
        source = "from hpreg.m import _\nhp = _\nhp('a', 1)\ndef f():\n    g = hp\n    g('b')\n"
        scan = scanner.scan_source(source, "m.py", managers=None)
        assert [(c.manager, c.name) for c in scan.calls] == [("_", "a"), ("_", "b")]
        assert scan.exports == {"_": "_", "hp": "_"}

    def test_parse_args_sees_the_alias(self, tree):
        from hpreg.m import _

        root = tree({"pkg/config.py": CONFIG, "pkg/model.py": MODEL})
        hpreg.parse_args(_, paths=[str(root)], argv=["--width", "128"])
        assert _.get_value("width") == 128

    def test_manager_parse_file_and_all_managers_parse_file(self, tree):
        from hpreg.m import _

        root = tree({"pkg/config.py": CONFIG, "pkg/model.py": MODEL})
        hpreg.HyperParameterManager("_").parse_file(str(root))
        assert [m.placeholder for m in hpreg.parse_file(str(root))] == ["_"]
        assert _.get_values() == {"width": 64}

    def test_a_file_without_any_manager_name_is_still_scanned(self, tree):
        # the text prefilter: neither ``_`` nor hpreg appear in model.py
        root = tree(
            {
                "pkg/config.py": CONFIG,
                "pkg/model.py": 'import pkg.config as settings\nsettings.hp("w", 1)\n',
            }
        )
        assert found(root) == [("pkg/model.py", "_", "w")]
        assert found(root, managers=["_"]) == [("pkg/model.py", "_", "w")]

    def test_unrelated_files_are_not_parsed(self, tree, monkeypatch):
        files = {"pkg/config.py": CONFIG, "pkg/model.py": MODEL}
        files.update(
            {"lib/m{}.py".format(i): "import os\nx = os.sep\n" for i in range(5)}
        )
        files["lib/user.py"] = "from hpreg.m import hp\n"  # a manager named hp
        files["lib/uses.py"] = "import json\njson.loads('1')\n"
        root = tree(files)
        parsed = []
        real_parse = ast.parse
        monkeypatch.setattr(
            scanner.ast,
            "parse",
            lambda text, *a: parsed.append(text) or real_parse(text, *a),
        )
        assert found(root, cache=False) == [("pkg/model.py", "_", "width")]
        assert "import os\nx = os.sep\n" not in parsed
        assert "import json\njson.loads('1')\n" not in parsed

    def test_cache_follows_a_change_in_the_exporting_module(self, tree):
        root = tree({"pkg/config.py": CONFIG, "pkg/model.py": MODEL})
        assert found(root) == [("pkg/model.py", "_", "width")]
        # model.py is unchanged, but hp is no longer a manager there
        (root / "pkg" / "config.py").write_text("def hp(*args):\n    pass\n")
        assert found(root) == []
        (root / "pkg" / "config.py").write_text("from hpreg.m import other as hp\n")
        assert found(root) == [("pkg/model.py", "other", "width")]
        (root / "pkg" / "config.py").write_text(CONFIG)
        assert found(root) == [("pkg/model.py", "_", "width")]

    def test_cache_serves_the_resolved_scan(self, tree, monkeypatch):
        root = tree({"pkg/config.py": CONFIG, "pkg/model.py": MODEL})
        first = scan_paths(str(root))

        def fail(*args, **kwargs):
            raise AssertionError("scanned although cached")

        monkeypatch.setattr(scanner, "_scan_data", fail)
        assert scan_paths(str(root)) == first

    def test_the_sibling_module_wins_over_another_of_the_same_name(self, tree):
        root = tree(
            {
                "a/config.py": CONFIG,
                "a/model.py": 'from config import hp\nhp("width", 64)\n',
                "b/config.py": "from hpreg.m import other as hp\n",
                "b/model.py": 'from config import hp\nhp("depth", 2)\n',
            }
        )
        assert found(root) == [
            ("a/model.py", "_", "width"),
            ("b/model.py", "other", "depth"),
        ]

    def test_package_name_wins_over_a_folder_of_the_same_name(self, tree):
        root = tree(
            {
                "src/pkg/__init__.py": "",
                "src/pkg/config.py": CONFIG,
                "tests/pkg/config.py": "def hp(*args):\n    pass\n",
                "tests/test_model.py": 'from pkg.config import hp\nhp("width", 64)\n',
            }
        )
        assert found(root) == [("tests/test_model.py", "_", "width")]

    def test_an_import_cycle_ends(self, tree):
        root = tree(
            {
                "a.py": "from b import hp\n",
                "b.py": "from a import hp\n",
                "c.py": 'from a import hp\nhp("x", 1)\n',
                "d.py": "from hpreg.m import _ as hp\n",
            }
        )
        assert found(root) == []


# -- 2. hpman's explicit managers -------------------------------------------------------------
EXPLICIT = [
    'import hpreg\nhp = hpreg.HyperParameterManager("hp")\n',
    'from hpreg import HyperParameterManager\nhp = HyperParameterManager("hp")\n',
    'import hpreg\nhp = hpreg.hpm.HyperParameterManager("hp")\n',
    'from hpreg.hpm import HyperParameterManager\nhp = HyperParameterManager("hp")\n',
    'import hpreg\nhp = hpreg.HyperParameterManager(placeholder="hp")\n',
    'from hpreg import HyperParameterManager as HPM\nhp = HPM("hp")\n',
    'from hpreg import hpm\nhp = hpm.HyperParameterManager("hp")\n',
    'import hpreg\nhp = hpreg.get_manager("hp")\n',
]


class TestExplicitManagers:
    @pytest.mark.parametrize("managers", EXPLICIT)
    def test_list_lint_and_manager_option(self, tree, cli, managers):
        root = tree(
            {
                "ex/managers.py": managers,
                "ex/net.py": 'from ex.managers import hp\ndepth = hp("depth", 3)\n',
            }
        )
        code, out, err = cli("list", root, "--format", "json", "--no-cache")
        assert (code, err) == (0, "")
        assert listed(out) == {("hp", "depth")}
        code, out, err = cli("list", root, "--manager", "hp", "--format", "json")
        assert (code, err) == (0, "") and listed(out) == {("hp", "depth")}
        assert cli("lint", root)[:2] == (0, "")

    def test_the_manager_is_the_placeholder_not_the_variable(self, tree):
        root = tree(
            {
                "managers.py": 'import hpreg\nhp = hpreg.HyperParameterManager("_")\n',
                "net.py": 'from managers import hp\nhp("depth", 3)\n',
            }
        )
        assert found(root) == [("net.py", "_", "depth")]

    def test_hpman_style_in_one_module(self, tree):
        root = tree(
            {
                "one.py": "import hpreg\n_ = hpreg.HyperParameterManager('_')\n"
                "_('a', 1)\n",
            }
        )
        assert found(root) == [("one.py", "_", "a")]
        scan = scan_paths(str(root))[0]
        assert scan.problems == [] and scan.imports == {"_": "_"}

    @pytest.mark.parametrize(
        "maker",
        [
            "from mylib import get_manager\nconn = get_manager('hp')\n",
            "import mylib\nconn = mylib.HyperParameterManager('hp')\n",
            "conn = get_manager('hp')\n",
        ],
    )
    def test_a_maker_that_is_not_hpregs_makes_no_manager(self, tree, maker):
        root = tree(
            {
                "db.py": maker + "conn('select', 1)\n",
                "a.py": "from hpreg.m import _\n_('a', 1)\n",
            }
        )
        assert found(root) == [("a.py", "_", "a")]
        assert "hp" not in {
            n for s in scan_paths(str(root)) for n in s.imports.values()
        }

    def test_a_manager_with_no_literal_name_is_not_guessed(self, tree):
        root = tree(
            {
                "m.py": "import hpreg\nNAME = 'hp'\nhp = hpreg.HyperParameterManager(NAME)\n",
                "n.py": 'from m import hp\nhp("depth", 3)\n',
            }
        )
        assert found(root) == []


# -- 3. gettext's _ ---------------------------------------------------------------------------------
GETTEXT = {
    "app.py": "import gettext\n"
    "gettext.install('app')\n"
    "from hpreg.m import _ as hp\n"
    "print(_('Hello'))\n"
    "lr = hp('lr', 0.1)\n",
    "views.py": "def greet():\n    return _('Bye')\n",
}


class TestGettext:
    def test_translated_strings_are_not_hyperparameters(self, tree, cli):
        root = tree(GETTEXT)
        code, out, err = cli("list", root, "--format", "json", "--no-cache")
        assert (code, err) == (0, "")
        assert listed(out) == {("_", "lr")}
        assert cli("lint", root, "--no-cache")[:2] == (0, "")

    def test_all_managers_scan_in_a_process_that_imported_the_manager(self, tree):
        from hpreg.m import _

        root = tree(GETTEXT)
        hpreg.parse_file(str(root))
        assert _.names() == ["lr"]

    def test_the_file_that_imports_the_manager_as_hp(self, tree):
        root = tree(GETTEXT)
        manager = hpreg.HyperParameterManager("_").parse_file(str(root / "app.py"))
        assert manager.names() == ["lr"]

    def test_a_name_bound_to_the_manager_still_counts(self, tree):
        root = tree(
            {"a.py": "from hpreg.m import _\n_('a', 1)\n", "b.py": "_('b', 2)\n"}
        )
        assert found(root) == [("a.py", "_", "a")]


# -- unreadable folders and files (section 3) --------------------------------------------------------
@pytest.fixture(name="locked")
def fixture_locked(tree, monkeypatch):
    """A tree whose folder ``secret`` and file ``locked.py`` cannot be read (tests run
    as root, where chmod does not lock anything: the scan's reads are patched)."""
    root = tree(
        {
            "ok.py": "from hpreg.m import _\n_('a', 1)\n",
            "secret/b.py": "from hpreg.m import _\n_('b', 2)\n",
            "locked.py": "from hpreg.m import _\n_('c', 3)\n",
        }
    )
    real_scandir, real_open = os.scandir, open

    def scandir(path="."):
        if os.path.basename(os.fspath(path)) == "secret":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    def open_(path, *args, **kwargs):
        if os.path.basename(os.fspath(path)) == "locked.py":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(scanner.os, "scandir", scandir)
    monkeypatch.setattr(scanner, "open", open_, raising=False)
    return root


class TestUnreadable:
    def test_list_warns_about_the_folder_and_the_file(self, locked, cli):
        code, out, err = cli("list", "src", "--format", "json", cwd=locked.parent)
        assert code == 0 and listed(out) == {("_", "a")}
        assert err.splitlines() == [
            "hpreg: warning: src/secret: skipped, cannot be read: permission denied; "
            "check its permissions; fix it ('hpreg lint' is the strict check)",
            "hpreg: warning: src/locked.py: skipped, cannot be read: permission "
            "denied; check its permissions; fix it ('hpreg lint' is the strict check)",
        ]

    def test_lint_names_the_reason(self, locked, cli):
        code, out, _err = cli("lint", "src", cwd=locked.parent)
        assert code == 1
        assert out.splitlines() == [
            "src/locked.py: skipped, cannot be read: permission denied; check its "
            "permissions",
            "src/secret: skipped, cannot be read: permission denied; check its "
            "permissions",
        ]
        assert "does not parse" not in out

    def test_parse_file_warns(self, locked):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            managers = hpreg.parse_file(str(locked))
        messages = [str(w.message) for w in caught if w.category is hpreg.ScanWarning]
        assert len(messages) == 2
        assert messages[0].startswith(
            "{}: skipped, cannot be read: permission denied".format(locked / "secret")
        )
        assert "locked.py: skipped, cannot be read: permission denied" in messages[1]
        assert [m.names() for m in managers] == [["a"]]
        with pytest.raises(hpreg.ScanError, match="secret: skipped, cannot be read"):
            hpreg.HyperParameterManager("_").parse_file(str(locked), strict=True)

    def test_manager_parse_file_warns(self, locked):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            manager = hpreg.HyperParameterManager("_").parse_file(str(locked))
        messages = sorted(str(w.message) for w in caught)
        assert len(messages) == 2 and manager.names() == ["a"]
        assert "locked.py: skipped, cannot be read: permission denied" in messages[0]
        assert "secret: skipped, cannot be read: permission denied" in messages[1]

    @pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() == 0,
        reason="root reads folders whatever their mode",
    )
    def test_real_permissions(self, tree, cli):
        root = tree({"ok.py": "from hpreg.m import _\n_('a', 1)\n", "secret/b.py": ""})
        os.chmod(str(root / "secret"), 0)
        try:
            code, _out, err = cli("list", root)
        finally:
            os.chmod(str(root / "secret"), 0o755)
        assert code == 0 and "secret: skipped, cannot be read: permission denied" in err

    def test_a_bad_path_is_still_one_error(self, cli, tmp_path):
        code, _out, err = cli("list", tmp_path / "missing")
        assert code == 1 and "no such file or directory" in one_error_line(err)
