"""The sparse parse (``hpreg.scan.sparse``) gives exactly the full parse's scan.

The scanner parses with ``ast`` only the top-level statements its walks need and
checks the rest with the C parser; any doubt makes it parse the whole text. These
tests compare the two on generated sources full of traps for the cutting (strings
with lines at column 0, decorators, clauses, brackets and backslashes spanning
lines, syntax errors in statements that declare nothing) and on real files.
"""

import os
import random
import re
import sysconfig

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpreg.scan import scanner
from hpreg.scan.sparse import SparseTree, Unparsed

FRAGMENTS = [
    "from hpreg.m import _\n",
    "from hpreg.m import _ as hp\n",
    "import hpreg.m as m\n",
    "from hpreg import m\n",
    'from hpreg import HyperParameterManager\nmgr = HyperParameterManager("mgr")\n',
    'from hpreg import HyperParameterManager as HPM\nzz = HPM("zz")\n',
    "from .config import hp\n",
    "import pkg.config as c\n",
    "from os import *\n",
    "from gettext import gettext as _\n",
    'a = _("a", 1)\n',
    'b = hp("b", 2, low=0)\n',
    'm._("c", 3)\n',
    'mgr("d", [1, 2])\n',
    'c.hp("e", 5)\n',
    'zz("z", 1)\n',
    "hp = _\n",
    'alias = hp\nalias("f", 6)\n',
    '_("g", x)\n',
    "_(name, 1)\n",
    '_("h", 1, 2, 3)\n',
    '_("i", 1, **kw)\n',
    '"""Docstring.\n\nx = _("doc", 1)\nimport os\n"""\n',
    "'''Another.\nfrom hpreg.m import _\ny = _(\"doc2\", 2)\n'''\n",
    'q = \'"""\'\nw = _("after_quote", 1)\n',
    's = """\\\n_("in_string", 1)\n"""\n',
    '@decorator\ndef decorated():\n    return _("dec", 1)\n',
    '@decorator(\n    _("in_decorator", 1),\n)\nclass Decorated:\n    pass\n',
    'if cond:\n    j = _("if", 1)\nelif other:\n    pass\nelse:\n    hp = _\n',
    'try:\n    k = _("try", 1)\nexcept ValueError as _:\n    pass\n'
    "finally:\n    done = 1\n",
    "for _ in range(3):\n    pass\n",
    "def _():\n    pass\n",
    'def uses():\n    return _("in_def", 1)\n',
    'def shadows(_):\n    return _("shadowed", 1)\n',
    'class Box:\n    """Doc\nat column 0\n"""\n    v = _("in_class", 1)\n'
    '    def meth(self):\n        return hp("meth", 2)\n',
    "def outer():\n    global hp\n    hp = 3\n",
    'def closure():\n    x = 1\n    def inner():\n        nonlocal x\n        x = _("nl", 1)\n',
    "l = [_(n, 1) for _ in range(2)]\n",
    'lam = lambda _: _("lam", 1)\n',
    'y = 1 + \\\n_("backslash", 3)\n',
    'z = [\n_("bracket", 1),\n]\n',
    "call(\n    1,\n)\n",
    'd = {\n"k": _("in_dict", 1)\n}\n',
    "del hp\n",
    "with open(p) as _:\n    pass\n",
    'value = 1  # _("comment", 1)\n',
    "# from hpreg.m import _ as commented\n",
    'é = _("unicode_é", "ü")\n',
    'if x:\n\tt = _("tab", 1)\n',
    'x = 1\r\ny = _("crlf", 2)\r\n',
    "def broken(:\n    pass\n",
    "x = (\n",
    "else:\n    pass\n",
    "nonlocal nowhere\n",
    "from __future__ import annotations\n",
    "return 5\n",
    'x = "unterminated\n',
    'print "py2"\n',
    "\n",
    "    \n",
    "pass\n",
]


def scan(text, full, managers=None, extra=(), imported=(), uses=None, name="t.py"):
    return scanner._scan_text(
        text,
        name,
        managers,
        frozenset(extra),
        frozenset(imported),
        None,
        True,
        uses,
        sparse=not full,
    )


def assert_same(text, **options):
    sparse, full = scan(text, False, **options), scan(text, True, **options)
    assert sparse == full, text


MODES = [
    {},
    {"managers": ("_",)},
    {"managers": ("_", "hp", "mgr")},
    {"extra": ("_",), "imported": ("hp",)},
    {"managers": ("_",), "uses": frozenset({"hp", "_"})},
]


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12),
    st.sampled_from(range(len(MODES))),
    st.booleans(),
)
def test_sparse_scan_equals_full_scan(fragments, mode, lone_cr):
    text = "".join(fragments)
    if lone_cr:
        text = text.replace("\n", "\r", 1)
    assert_same(text, **MODES[mode])


@pytest.mark.parametrize("mode", range(len(MODES)))
def test_every_fragment_alone_and_after_the_others(mode):
    for fragment in FRAGMENTS:
        assert_same(fragment, **MODES[mode])
        assert_same("".join(FRAGMENTS[:5]) + fragment + FRAGMENTS[10], **MODES[mode])


def test_a_syntax_error_in_a_statement_that_declares_nothing_is_reported():
    text = (
        "from hpreg.m import _\n"
        "lr = _('lr', 0.1)\n"
        "def unrelated(:\n"
        "    return 1\n"
        "depth = _('depth', 3)\n"
    )
    found = scan(text, False, managers=("_",))
    assert found.calls == []
    assert [p.kind for p in found.problems] == ["syntax"]
    assert found.problems[0].lineno == 3
    assert found == scan(text, True, managers=("_",))


def test_scan_paths_reports_a_syntax_error_that_declares_nothing(tmp_path):
    good = "from hpreg.m import _\nlr = _('lr', 0.1)\n"
    (tmp_path / "good.py").write_text(good)
    (tmp_path / "bad.py").write_text(good + "def unrelated(:\n    return 1\n")
    bad, fine = scanner.scan_paths(str(tmp_path), managers=["_"], cache=False)
    assert bad.calls == [] and [p.kind for p in bad.problems] == ["syntax"]
    assert bad.problems[0].lineno == 3
    assert [c.name for c in fine.calls] == ["lr"]
    for mode in (None, ["_"]):
        sparse = scanner.scan_paths(str(tmp_path), managers=mode, cache=False)
        scanner._SPARSE = False
        try:
            full = scanner.scan_paths(str(tmp_path), managers=mode, cache=False)
        finally:
            scanner._SPARSE = True
        assert sparse == full


def test_a_statement_only_the_symbol_table_refuses_still_scans():
    # ``ast.parse`` takes ``nonlocal`` at module level (the compiler refuses it)
    text = "from hpreg.m import _\nnonlocal x\nlr = _('lr', 0.1)\n"
    found = scan(text, False, managers=("_",))
    assert [c.name for c in found.calls] == ["lr"]
    assert found.problems == []


def test_a_docstring_with_code_at_column_0_is_not_cut():
    text = (
        '"""Usage:\n\nfrom hpreg.m import _\nlr = _("doc", 1)\n"""\n'
        "from hpreg.m import _\n"
        "depth = _('depth', 3)\n"
    )
    tree = SparseTree(text)
    module = tree.tree([7])
    tree.verify()
    assert [node.lineno for node in module.body] == [7]
    assert [c.name for c in scan(text, False, managers=("_",)).calls] == ["depth"]


def test_the_sparse_tree_grows_and_keeps_the_line_numbers():
    text = "a = 1\n\ndef f():\n    return 2\n\nb = 3\nc = 4\n"
    tree = SparseTree(text)
    assert [n.lineno for n in tree.tree([6]).body] == [6]
    assert [n.lineno for n in tree.tree([3, 7]).body] == [3, 6, 7]
    tree.verify()


@pytest.mark.parametrize(
    "text",
    [
        "x = [\n1]\n",  # a cut inside brackets
        "x = 1 + \\\n2\n",  # a cut after a backslash
        "@dec\n\ndef f(): pass\nx = (\n",  # a broken statement after the cut
        "x = 1\n\0\n",  # a null byte
    ],
)
def test_a_doubtful_cut_or_a_broken_text_gives_up(text):
    tree = SparseTree(text)
    with pytest.raises(Unparsed):
        tree.tree([2])
        tree.verify()


def test_unknown_lines_give_up():
    with pytest.raises(Unparsed):
        SparseTree("x = 1\ry = 2\n").tree(None)


def _stdlib_files(count):
    root = sysconfig.get_paths()["stdlib"]
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "__pycache__"))
        found += [os.path.join(folder, f) for f in sorted(files) if f.endswith(".py")]
    return random.Random(7).sample(found, min(count, len(found)))


INJECTED = [
    "\nfrom hpreg.m import _ as hp\nlr = hp('stdlib.lr', 0.1, low=0)\n",
    "\ndef injected():\n    from hpreg.m import _\n    return _('stdlib.inner', [1])\n",
    "\nclass Injected:\n    hp = _\n    width = hp('stdlib.width', 3)\n",
]


@pytest.mark.parametrize("path", _stdlib_files(40))
def test_real_files_with_injected_calls(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        pytest.skip("not UTF-8")
    lines = text.splitlines(keepends=True)
    middle = len(lines) // 2
    variants = [
        text,
        text + INJECTED[0],
        "from hpreg.m import _\n" + text + INJECTED[2],
        "".join(lines[:middle]) + INJECTED[1] + "".join(lines[middle:]),
    ]
    for variant in variants:
        for mode in ({}, {"managers": ("_", "hp")}):
            assert_same(variant, **mode)


# the pattern ``CALL_TAIL`` replaced: same matches, but exponential on ``####``
OLD_TAIL = r"(?:[\s)\\]|#[^\n\r]*)*\("


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="a b.#()\\\n\rx\x0b\t", max_size=16))
def test_the_call_tail_matches_as_the_old_pattern(text):
    from hpreg.scan.calls import CALL_TAIL

    for prefix in (r"((?:a|b))(?!\w)((?:\s*\.\s*\w+)*)", r"\.\s*(?:a|b)(?!\w)"):
        old, new = re.compile(prefix + OLD_TAIL), re.compile(prefix + CALL_TAIL)
        assert [(m.span(), m.groups()) for m in old.finditer(text)] == [
            (m.span(), m.groups()) for m in new.finditer(text)
        ]


def test_a_line_of_hashes_after_an_import_does_not_hang_the_scan():
    # each ``#`` could start a comment of its own: 2**60 ways to fail before
    text = "import re\nre\n" + "#" * 60 + "\nx = _.y\n"
    assert scanner.scan_source(text).calls == []


@pytest.mark.parametrize("enabled", [True, False])
def test_a_scan_pauses_the_garbage_collector_and_restores_it(
    tmp_path, monkeypatch, enabled
):
    import gc

    (tmp_path / "a.py").write_text("from hpreg.m import _\nx = _('x', 1)\n")
    during = []
    real = scanner._scan_files

    def scan_files(*args):
        during.append(gc.isenabled())
        return real(*args)

    monkeypatch.setattr(scanner, "_scan_files", scan_files)
    (gc.enable if enabled else gc.disable)()
    try:
        scans = scanner.scan_paths(str(tmp_path), managers=["_"], cache=False)
        after = gc.isenabled()
    finally:
        gc.enable()
    assert [c.name for s in scans for c in s.calls] == ["x"]
    assert during == [False] and after is enabled
