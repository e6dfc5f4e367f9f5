"""Properties of the registry: a scan of generated source gives back exactly the
generated defaults, and values survive a YAML save/load with their types (gin's
``testParseRandomLiterals`` does the same for its parser)."""

import math
import os
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hpreg

PROPERTIES = settings(
    max_examples=int(os.environ.get("REGISTRY_EXAMPLES", "60")), deadline=None
)

# Name segments YAML would read as something else unless quoted, and plain ones.
TRICKY_WORDS = ["true", "no", "off", "null", "1", "010", "1e3", "y", "on", "0x1f"]
segments = st.one_of(
    st.sampled_from(TRICKY_WORDS),
    st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True),
    st.text(st.characters(blacklist_characters=".\x85"), min_size=1, max_size=5),
)
names = st.lists(segments, min_size=1, max_size=3).map(".".join)

# U+0085 (NEL) is left out: see test_next_line_character below
texts = st.text(st.characters(blacklist_characters="\x85"), max_size=8)
tricky_strings = st.sampled_from(
    TRICKY_WORDS + ["", " ", "a: b", "- x", "#c", "~", "'q'", '"', "é", "[1]", "{}"]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-1000, max_value=1000).map(float),  # int-valued floats
    tricky_strings,
    texts,
)


def _literals(tuples_inside: bool):
    def containers(inner):
        options = [
            st.lists(inner, max_size=3),
            st.dictionaries(st.one_of(texts, st.integers()), inner, max_size=3),
        ]
        if tuples_inside:
            options.append(st.lists(inner, max_size=3).map(tuple))
        return st.one_of(*options)

    inner = st.recursive(scalars, containers, max_leaves=6)
    return st.one_of(inner, st.lists(inner, max_size=3).map(tuple))


literals = _literals(tuples_inside=True)
# A tuple inside a list or dict comes back from YAML as a list (see the xfail below)
flat_tuple_literals = _literals(tuples_inside=False)


def _tree_ok(keys):
    """No name is also a group of another one (``a`` and ``a.b``)."""
    return not any(b.startswith(a + ".") for a in keys for b in keys)


def declarations(values=literals):
    return st.dictionaries(names, values, min_size=1, max_size=8).filter(
        lambda d: _tree_ok(list(d))
    )


@st.composite
def sources(draw, values=literals):
    """(source text, expected values, number of calls): one default per name, plus
    a few uses of the same names without a default, in shuffled order."""
    values = draw(declarations(values))
    lines = ["_({!r}, {!r})".format(name, v) for name, v in values.items()]
    lines += [
        "_({!r})".format(name)
        for name in draw(st.lists(st.sampled_from(sorted(values)), max_size=3))
    ]
    order = draw(st.permutations(range(len(lines))))
    body = "\n".join("v{} = {}".format(i, lines[i]) for i in order)
    return "from hpreg.m import _\n\n" + body + "\n", values, len(lines)


def same(a, b):
    """Equal with the same types all the way down (1 is not 1.0, a tuple no list)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def same_values(got, expected):
    return got.keys() == expected.keys() and all(
        same(got[k], expected[k]) for k in expected
    )


class TestScanGivesBackDefaults:
    @PROPERTIES
    @given(sources())
    def test_parse_source(self, source):
        text, expected, calls = source
        manager = hpreg.HyperParameterManager("_").parse_source(text, "gen.py")
        assert same_values(manager.get_values(), expected)
        assert sorted(manager.names()) == sorted(expected)
        assert len(manager.db) == calls

    @PROPERTIES
    @given(sources())
    def test_rescan_is_idempotent(self, source):
        text, expected, calls = source
        manager = hpreg.HyperParameterManager("_").parse_source(text, "gen.py")
        manager.parse_source(text, "gen.py")
        assert same_values(manager.get_values(), expected)
        assert len(manager.db) == calls


def round_trip(text):
    """Scan ``text`` as a file, save its values, load them into a fresh manager
    scanned from the same file; returns that manager."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "gen.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        saved = hpreg.HyperParameterManager("_").parse_file(path, cache=False)
        saved.save(os.path.join(folder, "hp.yaml"))

        fresh = hpreg.HyperParameterManager("_").parse_file(path, cache=False)
        fresh.load(os.path.join(folder, "hp.yaml"))
    return fresh


class TestYamlRoundTrip:
    @PROPERTIES
    @given(sources(flat_tuple_literals))
    def test_save_then_load_into_a_fresh_manager(self, source):
        text, expected, _calls = source
        fresh = round_trip(text)
        assert same_values(fresh.get_values(), expected)
        assert all(fresh.provenance(name).source == "file" for name in expected)

    def test_tuples_and_int_valued_floats(self):
        text = 'from hpreg.m import _\n_("shape", (1, 2))\n_("lr", 1.0)\n_("n", 1)\n'
        values = round_trip(text).get_values()
        assert same_values(values, {"shape": (1, 2), "lr": 1.0, "n": 1})

    @pytest.mark.parametrize("default", ["a\x85b", {"\x85": 1}])
    def test_next_line_character(self, default):
        text = 'from hpreg.m import _\n_("x", {!r})\n'.format(default)
        assert same(round_trip(text).get_value("x"), default)

    @pytest.mark.parametrize("default", [[(1, 2)], {"a": (1, 2)}, ((1, 2), (3,))])
    def test_nested_tuples(self, default):
        text = 'from hpreg.m import _\n_("x", {!r})\n'.format(default)
        assert same(round_trip(text).get_value("x"), default)
