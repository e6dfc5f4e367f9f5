"""Hypothesis strategies shared by the test modules."""

# --- sweeps ---
# Random sweep trees paired with a reference model: ``model(ctx, pins)`` returns the
# list of ``(point, hidden)`` the tree should give in context ``ctx``, written the
# slow, obvious way; ``hidden`` holds what the tree would set for ``pins`` (the names
# an override takes from its top). Values are small ints, so repeats are common.
import random as _random
from itertools import product as _cartesian

from hypothesis import strategies as st

SWEEP_NAMES = ("a", "b", "c", "d", "e")
LET_NAMES = ("v", "w")


def _int_sum(point):
    return sum(v for v in point.values() if isinstance(v, int))


def _derived(point):
    return _int_sum(point) % 4


def _kept(point):
    return _int_sum(point) % 3 != 1


def _freeze_point(point):
    return frozenset(point.items())


def _rows_model(columns, rows):
    def model(ctx, pins):
        out = []
        for row in rows:
            point, hidden = dict(ctx), {}
            for name, v in zip(columns, row):
                (hidden if name in pins else point)[name] = v
            out.append((point, hidden))
        return out

    return model


def _first_occurrences(pairs):
    out, seen = [], []
    for point, hidden in pairs:
        key = (strip_lets([point])[0], hidden)
        if key not in seen:
            seen.append(key)
            out.append((point, hidden))
    return out


def strip_lets(points):
    """The points as a user sees them: let variables removed."""
    return [{k: v for k, v in p.items() if k not in LET_NAMES} for p in points]


def model_points(model, ctx=None):
    return strip_lets([point for point, _ in model(dict(ctx or {}), frozenset())])


def override_model(base_model, top_model, clash):
    """The reference for override(base, top): pins, then first-producer dedup."""

    def model(ctx, pins):
        out = []
        for top_point, top_hidden in top_model(ctx, pins):
            first = {}
            inner = frozenset(clash & set(top_point))
            for point, hidden in base_model(top_point, pins | inner):
                mine = {k: v for k, v in hidden.items() if k in inner}
                outer = {k: v for k, v in hidden.items() if k not in inner}
                key = (_freeze_point(point), _freeze_point(outer))
                mark = _freeze_point(mine)
                if first.setdefault(key, mark) == mark:
                    out.append((point, {**top_hidden, **outer}))
        return out

    return model


@st.composite
def sweep_models(draw, names=SWEEP_NAMES, lets=LET_NAMES, depth=3):
    """``(sweep, model)``: a random sweep setting only ``names`` and ``lets``."""
    from hpreg import sweep as sw

    kinds = ["axes", "table", "zip", "let", "function"]
    if depth > 0:
        kinds += ["product", "product", "union", "derive", "where", "unique"]
        kinds += ["shard", "sample", "defaults", "override"]
    kind = draw(st.sampled_from(kinds))
    small = st.integers(0, 2)

    def subset(pool, least=0):
        chosen = draw(st.permutations(pool))
        return list(chosen[: draw(st.integers(least, min(3, len(pool))))])

    if kind == "axes" or (kind in ("table", "zip", "function") and not names):
        chosen = subset(names)
        axes = {}
        for name in chosen:
            if draw(st.booleans()):
                axes[name] = draw(st.lists(small, max_size=3))
            else:
                axes[name] = draw(small)
        lists = [v if isinstance(v, list) else [v] for v in axes.values()]
        return sw.product(**axes), _rows_model(list(axes), list(_cartesian(*lists)))
    if kind == "table":
        columns = subset(names)
        rows = draw(
            st.lists(
                st.tuples(*[small] * len(columns)) if columns else st.just(()),
                max_size=4,
            )
        )
        return sw.table(columns, rows), _rows_model(columns, rows)
    if kind == "zip":
        columns = subset(names, 1)
        length = draw(st.integers(0, 3))
        axes = {
            c: draw(st.lists(small, min_size=length, max_size=length)) for c in columns
        }
        rows = list(zip(*axes.values()))
        return sw.zip(**axes), _rows_model(columns, rows)
    if kind == "function":
        columns = subset(names)
        points = draw(
            st.lists(st.fixed_dictionaries({c: small for c in columns}), max_size=3)
        )
        rows = [tuple(p[c] for c in columns) for p in points]
        if draw(st.booleans()):
            return sw.from_function(lambda: points), _rows_model(columns, rows)
        pairs = [list(p.items()) for p in points]
        return sw.from_function(lambda: iter(pairs)), _rows_model(columns, rows)
    if kind == "let":
        if not lets:
            return sw.product(), _rows_model((), [()])
        chosen = subset(lets, 1)
        axes = {name: draw(st.lists(small, min_size=1, max_size=3)) for name in chosen}
        return sw.let(**axes), _rows_model(chosen, list(_cartesian(*axes.values())))
    if kind == "product":
        k = draw(st.integers(1, 3))
        pool = list(names) + list(lets)
        groups = draw(
            st.lists(st.integers(0, k - 1), min_size=len(pool), max_size=len(pool))
        )
        parts = []
        for i in range(k):
            mine = [n for n, g in zip(pool, groups) if g == i]
            parts.append(
                draw(
                    sweep_models(
                        tuple(n for n in mine if n in names),
                        tuple(n for n in mine if n in lets),
                        depth - 1,
                    )
                )
            )

        # let variables are visible to siblings written before them too (issue 4);
        # the model threads context forward only, so let-holding factors go first
        parts.sort(key=lambda part: not _holds_let(part[0]))

        def product_model(ctx, pins, models=[m for _, m in parts]):
            pairs = [(dict(ctx), {})]
            for model in models:
                pairs = [
                    (point, {**hidden, **more})
                    for ctx2, hidden in pairs
                    for point, more in model(ctx2, pins)
                ]
            return pairs

        return sw.product(*[s for s, _ in parts]), product_model
    if kind == "union":
        parts = draw(st.lists(sweep_models(names, lets, depth - 1), max_size=3))

        def union_model(ctx, pins, models=[m for _, m in parts]):
            return [pair for model in models for pair in model(ctx, pins)]

        return sw.union(*[s for s, _ in parts]), union_model
    if kind == "derive" and names:
        name = names[-1]
        child, model = draw(sweep_models(names[:-1], lets, depth - 1))

        def derive_model(ctx, pins):
            out = []
            for point, hidden in model(ctx, pins):
                if name not in pins:
                    point = {**point, name: _derived(point)}
                out.append((point, hidden))
            return out

        return child.derive(**{name: _derived}), derive_model
    if kind == "override" and names:
        base, base_model = draw(sweep_models(names, lets, depth - 1))
        top_names = subset(names)
        axes = {n: draw(st.lists(small, max_size=3)) for n in top_names}
        top = sw.product(**axes)
        top_model = _rows_model(top_names, list(_cartesian(*axes.values())))
        clash = set(top_names) & (set(base._names) | set(base._lets))
        return sw.override(base, top), override_model(base_model, top_model, clash)
    child, model = draw(sweep_models(names, lets, depth - 1))
    if kind == "where":
        return child.where(_kept), lambda ctx, pins: [
            pair for pair in model(ctx, pins) if _kept(pair[0])
        ]
    if kind == "unique":
        return child.unique(), lambda ctx, pins: _first_occurrences(model(ctx, pins))
    if kind == "shard":
        n = draw(st.integers(1, 3))
        k = draw(st.integers(0, n - 1))
        return child.shard(k, n), lambda ctx, pins: model(ctx, pins)[k::n]
    if kind == "sample" and child._size is not None:
        n = draw(st.integers(0, min(3, child._size)))
        seed = draw(st.integers(0, 9))
        indices = _random.Random(seed).sample(range(child._size), n)
        return child.sample(n, seed=seed), lambda ctx, pins: [
            model(ctx, pins)[i] for i in indices
        ]
    if kind == "defaults" and names:
        values = draw(st.dictionaries(st.sampled_from(names), small, max_size=2))

        def defaults_model(ctx, pins):
            kept = {k: v for k, v in values.items() if k not in pins}
            return model({**ctx, **kept}, pins)

        return sw.defaults(values, child), defaults_model
    return child, model


def _holds_let(sweep) -> bool:
    stack = [sweep]
    while stack:
        node = stack.pop()
        if getattr(node, "kind", None) == "let":
            return True
        stack.extend(node.children)
    return False


def sweeps(**kwargs):
    """Random sweeps (see ``sweep_models``)."""
    return sweep_models(**kwargs).map(lambda pair: pair[0])


# --- scanner ---
# Random modules with random ``_("name", <literal>, **<literal hints>)`` calls spread
# over functions, loops, classes, nested expressions and unrelated code (traps
# included: calls in strings and comments, ``obj._(...)``), with the place and the
# value of every call written down as the source is built (gin-config's
# testParseRandomLiterals idea). ``scanner_modules()`` draws ``(source, expected)``,
# expected being ``[(name, has_default, value, hints, lineno, col)]`` in source order.
import keyword as _keyword

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
    | st.binary(max_size=4)
)
_HASHABLES = st.none() | st.booleans() | st.integers() | st.text(max_size=4)
SCANNER_LITERALS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3)
    | st.lists(inner, max_size=3).map(tuple)
    | st.dictionaries(_HASHABLES, inner, max_size=3)
    | st.sets(_HASHABLES, min_size=1, max_size=3),
    max_leaves=6,
)
_IDENTIFIERS = st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True).filter(
    lambda s: not _keyword.iskeyword(s)
)
_HP_NAMES = st.text(min_size=1, max_size=8) | st.from_regex(
    r"[a-z]{1,4}(\.[a-z]{1,4}){0,2}", fullmatch=True
)
_PLAIN_LINES = (
    "x = 1",
    "s = '_(\"in a string\", 1)'",
    "# _('in a comment', 2)",
    "t = obj._('attribute of another object', 3)",
    "u = '''\n_('in a multi-line string', 4)\n'''",
    "hp = 5",
    "y = [i for i in range(3)]",
    "z = lambda a, b=2: a",
    "w = {'é': 'ü'}",
    "del x",
    "print(_x, x_, __)",
)
_HEADERS = (
    "def f_{n}(a, b=1):",
    "async def g_{n}(*args, **kwargs):",
    "for i in range(3):",
    "if True:",
    "while False:",
    "with open('x') as fh:",
    "class C_{n}:",
    "try:",
)
_WRAPPERS = (
    "{}",
    "({})",
    "[{}, 1]",
    "{{'k': {}}}",
    "f({})",
    "{} + 0",
    "not {}",
    "a if {} else b",
    "lambda: {}",
    "[{} for i in range(2)]",
    "{{k: {} for k in 'ab'}}",
)


def _literal_source(value):
    return repr(value)


@st.composite
def _scanner_call(draw, manager):
    """(text, name, has_default, value, hints) of one call, possibly multi-line."""
    name = draw(_HP_NAMES)
    has_default = draw(st.booleans())
    value = draw(SCANNER_LITERALS) if has_default else None
    hints = draw(st.dictionaries(_IDENTIFIERS, SCANNER_LITERALS, max_size=3))
    args = [repr(name)]
    if has_default:
        args.append(_literal_source(value))
    args += ["{}={}".format(k, _literal_source(v)) for k, v in hints.items()]
    separator = draw(st.sampled_from([", ", ",\n    ", " , "]))
    space = draw(st.sampled_from(["", " "]))
    text = "{}{}({})".format(manager, space, separator.join(args))
    return text, name, has_default, value, hints


@st.composite
def scanner_modules(draw, manager="_"):
    lines = []
    expected = []
    counter = [0]

    def statement(indent, in_function):
        calls = [draw(_scanner_call(manager)) for _ in range(draw(st.integers(1, 2)))]
        expression = "({}, {})" if len(calls) == 2 else "{}"
        for depth in range(draw(st.integers(0, 2))):
            inner = "({})".format(expression) if depth else expression
            expression = draw(st.sampled_from(_WRAPPERS)).format(inner)
        forms = ["v = {}", "{}", "print({})"] + (["return {}"] if in_function else [])
        text = " " * indent + draw(st.sampled_from(forms)).format(expression)
        # place each call: the text before it gives its line and column
        pieces = text.split("{}")
        built = pieces[0]
        for call, piece in zip(calls, pieces[1:]):
            before = "\n".join(lines + [built]) if lines else built
            lineno = before.count("\n") + 1
            col = len(before) - (before.rfind("\n") + 1) + 1
            call_text, name, has_default, value, hints = call
            expected.append((name, has_default, value, hints, lineno, col))
            built += call_text + piece
        lines.extend(built.split("\n"))

    def block(indent, depth, in_function):
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["plain", "call", "call", "block"]))
            if kind == "block" and depth < 3:
                counter[0] += 1
                header = draw(st.sampled_from(_HEADERS)).format(n=counter[0])
                lines.append(" " * indent + header)
                if header.startswith(("def", "async")):
                    inner_function = True
                elif header.startswith("class"):
                    inner_function = False  # no ``return`` in a class body
                else:
                    inner_function = in_function
                block(indent + 4, depth + 1, inner_function)
                if header == "try:":
                    lines.append(" " * indent + "except Exception as exc:")
                    block(indent + 4, depth + 1, in_function)
            elif kind == "plain":
                lines.extend(
                    " " * indent + line
                    for line in draw(st.sampled_from(_PLAIN_LINES)).split("\n")
                )
            else:
                statement(indent, in_function)
        if depth:  # a block of comments alone would not parse
            lines.append(" " * indent + "pass")

    if draw(st.booleans()):
        lines.append("from hpreg.m import {}".format(manager))
    block(0, 0, False)
    return "\n".join(lines) + "\n", expected


def same_literal(a, b):
    """Equal and of the same types all the way down (True is not 1, 0.0 not -0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_literal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_literal(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return repr(a) == repr(b)
    return a == b


# --- command-line fuzzing ---
# Hostile inputs for the ``hpreg`` command and bound scripts (issue 8's fuzzing): sweep
# files, override items and values files, built from random structures and from raw
# YAML-ish text. They aim at the edges: tags with bad content, aliases that multiply,
# deep nesting, huge numbers and ranges, NaN, unicode, bytes that are not UTF-8.
import json as _json

import yaml as _yaml

_NO_SURROGATES = st.characters(blacklist_categories=("Cs",))
# how Linux hands over argv bytes that are not UTF-8
_SURROGATE_ESCAPES = st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF)

FUZZ_EXPRESSIONS = (
    "a * 2",
    "a + b",
    "a // 0",
    "1 / 0",
    "range(10)",
    "range(0)",
    "range(-5)",
    "range(1, 2, 0)",
    "range(3.5)",
    "range(0, 1, 0.1)",
    "range(0, 1, 1e-9)",
    "range(10**30)",
    "range(1e300)",
    "range(2, 8, 2)",
    "f'{a}-{b}'",
    "f'{a:>{b}}'",
    "f'{a!r:10}'",
    "f'{\"x\" * 10**7}'",
    "a if a > 1 else b",
    "2**99999",
    "2**99999 * 2**99999",
    "10**4301",
    "-(10**5000)",
    "'x' * 10**7",
    "'x' * a",
    "[a] * 10**7",
    "str(['a' * 100000] * 100000)",
    "str(range(10**30))",
    "list(range(10**30))",
    "len(range(10**30))",
    "int('9' * 5000)",
    "float('nan')",
    "float('inf')",
    "nan",
    "inf",
    "__import__('os')",
    "().__class__",
    "a.__class__",
    "lambda: 1",
    "[i for i in range(10)]",
    "{'k': a}",
    "[a, b]",
    "(a,)",
    "a[0]",
    "a.b",
    "min(a, b)",
    "max()",
    "abs(-a)",
    "round(a, 2)",
    "'%s' % a",
    "'{}'.format(a)",
    "not a",
    "a and b or c",
    "a < b < c",
    "'é' + str(a)",
    "a ** a ** a",
    "a ** -1",
    "0 ** -1",
    "(-8) ** 0.5",
    "1e308 * 10",
    "a[",
    ")",
    "",
    " ",
    "#",
    "\x00",
    "yield a",
    "await a",
    "a := 1",
    "*a",
    "model.x * 2",
    "d_model // 8",
    "maxfun",
)
FUZZ_KEYS = (
    "product",
    "union",
    "table",
    "zip",
    "let",
    "derive",
    "where",
    "include",
    "unique",
    "value",
    "columns",
    "rows",
    "with m",
    "with",
    "with a b",
    "Product",
    "UNION",
    "lett",
    "drive",
    "a",
    "b",
    "c",
    "lr",
    "optim.lr",
    "train.batch_size",
    "model.hidden",
    "m.x",
    "a.b.c",
    "é",
    "x y",
    "",
    " ",
    "1",
    "__class__",
    ".",
    "a..b",
    "a.",
)
# (an int over 4,300 digits has no repr: those come as text, see _YAML_FRAGMENTS)
_HUGE_INTS = st.sampled_from([63, -63, 100, 1000, 4299, -4299]).map(
    lambda e: 2 ** e if e in (63, -63) else (-1 if e < 0 else 1) * 10 ** abs(e)
)
FUZZ_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 12)
    | st.integers()
    | _HUGE_INTS
    | st.floats()
    | st.sampled_from([float("nan"), float("inf"), -float("inf"), -0.0, 1e-320])
    | st.text(_NO_SURROGATES, max_size=8)
    | st.sampled_from(FUZZ_EXPRESSIONS)
)


def _deep_list(depth, leaf=1):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


_DEEP = st.sampled_from([50, 99, 100, 101, 150, 2000]).map(_deep_list)
FUZZ_VALUES = st.recursive(
    FUZZ_SCALARS | _DEEP,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(FUZZ_KEYS)
        | st.text(_NO_SURROGATES, max_size=4)
        | st.integers(),
        inner,
        max_size=4,
    ),
    max_leaves=12,
)


_NAMES = ("a", "b", "c", "lr", "m.x")
_ATOMS = ("a", "b", "c", "m.x", "lr", "0", "1", "2", "-1", "2.5", "1e308", "'x'")
_ATOMS += ("''", "nan", "inf", "True", "None", "10**30", "[1, 2]", "range(3)", "q")
_BINARY = ("+", "-", "*", "/", "//", "%", "**", "<", "<=", "==", "!=", "and", "or")
_CALLS = ("str", "len", "int", "float", "abs", "round", "bool", "min", "max", "range")


def _combine(inner):
    binary = st.tuples(inner, st.sampled_from(_BINARY), inner).map(
        lambda t: "({} {} {})".format(*t)
    )
    call = st.tuples(st.sampled_from(_CALLS), st.lists(inner, max_size=3)).map(
        lambda t: "{}({})".format(t[0], ", ".join(t[1]))
    )
    other = st.tuples(inner, inner, inner).map(
        lambda t: st.sampled_from(
            [
                "{} if {} else {}".format(*t),
                "f'{{{}}}-{{{}}}'".format(t[0], t[1]),
                "[{}, {}][{}]".format(*t),
                "not {}".format(t[0]),
                "-{}".format(t[0]),
            ]
        )
    )
    return binary | call | other.flatmap(lambda s: s)


FUZZ_EXPRESSION_TEXTS = st.sampled_from(FUZZ_EXPRESSIONS) | st.recursive(
    st.sampled_from(_ATOMS), _combine, max_leaves=6
)
_SMALL = st.integers(-2, 6) | st.sampled_from([0.1, 0.5, 1e-3, "x", "y", True, None])
_AXES = (
    st.lists(_SMALL, min_size=1, max_size=4)
    | _SMALL
    | st.sampled_from(["range(3)", "range(1, 9, 2)", "range(0.0, 1.0, 0.25)"])
)


@st.composite
def _sweep_node(draw, depth=3):
    """A sweep file's node: mostly names with a few values, combined by the node
    keys and modifiers, with a hostile key or value now and then."""
    node = {}
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["name"] * 5 + ["node"] * 4 + ["bad"]))
        if kind == "name":
            key = draw(st.sampled_from(_NAMES))
        elif kind == "node":
            key = draw(st.sampled_from(FUZZ_KEYS[:13]))
        else:
            key = draw(st.sampled_from(FUZZ_KEYS))
        if key in ("product", "union") and depth > 0:
            if draw(st.booleans()):
                value = draw(st.lists(_sweep_node(depth - 1), max_size=3))
            else:
                value = draw(_sweep_node(depth - 1))
        elif key.startswith("with") and depth > 0:
            value = draw(_sweep_node(depth - 1))
        elif key == "table":
            columns = draw(
                st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3, unique=True)
                | st.lists(st.sampled_from(FUZZ_KEYS), max_size=3)
            )
            width = draw(st.sampled_from([len(columns)] * 4 + [0, 1, 4]))
            rows = draw(
                st.lists(
                    st.lists(_SMALL | FUZZ_SCALARS, min_size=width, max_size=width),
                    max_size=3,
                )
            )
            value = draw(
                st.sampled_from(
                    [{"columns": columns, "rows": rows}] * 4
                    + [{"columns": columns}, {"rows": rows, "where": "a < 1"}, rows]
                )
            )
        elif key in ("let", "derive"):
            value = draw(
                st.dictionaries(
                    st.sampled_from(_NAMES + ("v", "w")) | st.sampled_from(FUZZ_KEYS),
                    FUZZ_EXPRESSION_TEXTS | _AXES | FUZZ_VALUES,
                    max_size=3,
                )
            )
        elif key == "where":
            value = draw(FUZZ_EXPRESSION_TEXTS | FUZZ_SCALARS)
        elif key == "include":
            value = draw(
                st.sampled_from(["base.yaml", "base.json", "missing.yaml", "", "."])
                | st.lists(st.sampled_from(["base.yaml", "base.json"]), max_size=2)
                | FUZZ_SCALARS
            )
        elif key == "unique":
            value = draw(st.booleans() | FUZZ_SCALARS)
        else:
            value = draw(
                _AXES
                | _AXES
                | FUZZ_VALUES
                | st.lists(FUZZ_SCALARS, min_size=1, max_size=4)
                | FUZZ_EXPRESSION_TEXTS
                | st.fixed_dictionaries({"value": FUZZ_VALUES})
            )
        node[key] = value
    return node


_YAML_FRAGMENTS = (
    "lr: !!float x",
    "lr: !!float",
    "lr: !!float 1e999",
    "a: !!int",
    "a: !!int 0x",
    "a: !!int " + "1" * 5000,
    "a: " + "1" * 5000,
    "a: " + "9" * 4301,
    "b: !!bool maybe",
    "b: !!timestamp x",
    "b: !!timestamp 2001-02-30",
    "b: !!binary aGk=",
    "b: !!binary %%%",
    "b: !!set {x, y}",
    "b: !!omap [x: 1, y: 2]",
    "b: !!pairs [x: 1]",
    "b: !!str",
    "b: !!null x",
    "b: !!python/object/apply:os.system [echo]",
    "b: !!python/name:os.system",
    "b: !custom 1",
    "c: &x [1, 2]",
    "d: *x",
    "d: *nowhere",
    "e: &m {k: 1}",
    "f: {<<: *m}",
    "<<: *m",
    "g: &r [*r]",
    "a: [1, 2]",
    "a: [1, 2]",
    "a: 1",
    "a: 2",
    "a: range(10)",
    "a: range(10**30)",
    "a: .nan",
    "a: .inf",
    "a: -.inf",
    "a: ~",
    "a: 0o17",
    "a: 1_000",
    "a: 'unterminated",
    "a: {b: 1",
    "a: [[[[",
    "? [complex, key]\n: 1",
    "- 1",
    "- {a: 1}",
    "%YAML 1.1",
    "%TAG ! tag:example.com,2000:",
    "---",
    "...",
    "\t",
    "x: |\n  block\n  text",
    "x: >\n  folded",
    "product:",
    "product:\n  - a: [1, 2]\n  - b: range(3)",
    "union:\n  - {a: 1}\n  - {b: 2}",
    "table: {columns: [a, b], rows: [[1, 2], [3]]}",
    "let: {v: range(3)}",
    "derive: {d: 'a * 2'}",
    "derive: {d: '2**99999'}",
    "where: 'a < b'",
    "unique: true",
    "unique: maybe",
    "include: base.yaml",
    "include: [base.yaml, base.json]",
    "with m:\n  a: [1, 2]",
    "\ufeffa: 1",
    "a: \x00",
    "a: \u2028",
    "é: ü",
    "[" * 3000 + "]" * 3000,
    "{" * 200 + "}" * 200,
    "a: " + "[" * 120 + "]" * 120,
)


def _laughs(levels, width):
    """YAML whose mappings alias the level below ``width`` times ("billion laughs")."""
    first = ", ".join("k{}: 1".format(j) for j in range(width))
    lines = ["a0: &a0 {{{}}}".format(first)]
    for i in range(1, levels + 1):
        keys = ", ".join("k{}: *a{}".format(j, i - 1) for j in range(width))
        lines.append("a{}: &a{} {{{}}}".format(i, i, keys))
    return "\n".join(lines) + "\n"


def _dump(data, style):
    """``data`` as YAML (block or flow) or JSON text; None when it cannot be written."""
    try:
        if style == "json":
            return _json.dumps(data)
        return _yaml.safe_dump(
            data, allow_unicode=True, default_flow_style=style == "flow", width=1000
        )
    except (TypeError, ValueError, RecursionError, _yaml.YAMLError):
        return None


@st.composite
def _raw_yaml(draw):
    lines = draw(
        st.lists(st.sampled_from(_YAML_FRAGMENTS) | st.text(max_size=12), max_size=6)
    )
    indent = draw(st.sampled_from(["", "  ", "- "]))
    return "\n".join(
        (indent if i and draw(st.booleans()) else "") + line
        for i, line in enumerate(lines)
    )


@st.composite
def sweep_file_texts(draw):
    """``(suffix, text)`` of a sweep file: a dump of a random node, raw YAML-ish text
    or a billion-laughs document."""
    kind = draw(st.sampled_from(["node", "node", "node", "raw", "laughs", "values"]))
    if kind == "raw":
        return ".yaml", draw(_raw_yaml())
    if kind == "laughs":
        return ".yaml", _laughs(draw(st.integers(1, 9)), draw(st.integers(1, 10)))
    data = draw(_sweep_node()) if kind == "node" else draw(FUZZ_VALUES)
    style = draw(st.sampled_from(["block", "flow", "json"]))
    text = _dump(data, style)
    if text is None:
        return ".yaml", draw(_raw_yaml())
    return (".json" if style == "json" else ".yaml"), text


_OVERRIDE_NAMES = (
    "a",
    "b",
    "lr",
    "optim.lr",
    "optim.momentum",
    "train.batch_size",
    "train.epochs",
    "model.hidden",
    "data.seed",
    "data.noise",
    "+x",
    "++y",
    "~z",
    "+optim.lr",
    "",
    "a b",
    "é",
    "x[0]",
    "a.",
    ".a",
    "(",
    "'q'",
)
_OVERRIDE_ELEMENTS = (
    "0",
    "1",
    "-1",
    "0.1",
    "1e-3",
    "1e999",
    "-1e999",
    "nan",
    "NaN",
    ".nan",
    "inf",
    "-inf",
    ".inf",
    "true",
    "True",
    "no",
    "null",
    "~",
    "",
    " ",
    "'q'",
    '"q"',
    "'a,b'",
    "'unclosed",
    '"',
    "[1,2]",
    "[]",
    "[[[[",
    "{a:1,b:2}",
    "{a: 1, b: 2}",
    "{a:1",
    "{a}",
    "{}",
    "{a:{b:{c:1}}}",
    "!!float x",
    "!!float",
    "!!int",
    "!!bool maybe",
    "!!timestamp x",
    "!!binary aGk=",
    "!!python/name:os.system",
    "&a [*a]",
    "*a",
    "10**5",
    "1" * 5000,
    "9" * 4301,
    "0x1F",
    "0o17",
    "1_000",
    "[" * 2000 + "]" * 2000,
    "range(10)",
    "range(0)",
    "range(1,2,0)",
    "range(10**30)",
    "range(1e300)",
    "range(0,1,0.1)",
    "range(0,1,1e-9)",
    "range(3.5)",
    "range()",
    "range(1,2,3,4)",
    "range(a)",
    "choice(a,b)",
    "choice()",
    "choice([1,2],[3])",
    "choice(range(3))",
    "interval(0,1)",
    "glob(*)",
    "shuffle(1,2)",
    "tag(x,1)",
    "sort(3,1)",
    "unknown(1)",
    "é",
    "a=b",
    "(",
    ")",
    "\\",
    "$x",
    "${oc.env:HOME}",
    "\x00",
    "\n",
)


_TRAIN_NAMES = (
    "optim.lr",
    "optim.momentum",
    "train.batch_size",
    "train.epochs",
    "model.hidden",
    "model.init_scale",
    "data.seed",
    "data.noise",
    "data.n_features",
    "data.n_samples",
)
_GOOD_ELEMENTS = st.sampled_from(
    ["0", "1", "2", "3", "8", "16", "32", "0.1", "0.5", "1e-3", "0.0", "64", "100"]
)
_GOOD_VALUES = (
    st.lists(_GOOD_ELEMENTS, min_size=1, max_size=3).map(",".join)
    | st.sampled_from(
        ["range(1,4)", "range(16,40,8)", "choice(8,16)", "choice(0.1,0.2)"]
    )
    | st.sampled_from(["range(0.0,1.0,0.25)", "[1,2]", "'x'"])
)
_ANY_ELEMENT = st.sampled_from(_OVERRIDE_ELEMENTS) | _GOOD_ELEMENTS


@st.composite
def override_items(draw):
    """A list of ``hpreg sweep`` items in Hydra's grammar: mostly well formed, for
    examples/train's names, with hostile names, values and bytes mixed in."""
    items = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(["good"] * 4 + ["element"] * 3 + ["junk", "escaped"])
        )
        if kind == "junk":
            items.append(draw(st.text(max_size=12).filter(lambda s: s[:1] != "-")))
            continue
        if kind == "good":
            name = draw(st.sampled_from(_TRAIN_NAMES))
            value = draw(_GOOD_VALUES)
        else:
            name = draw(st.sampled_from(_TRAIN_NAMES + _OVERRIDE_NAMES))
            values = draw(
                st.lists(_ANY_ELEMENT | st.text(max_size=6), min_size=1, max_size=3)
            )
            value = ",".join(values)
        if kind == "escaped":
            value += draw(st.text(_SURROGATE_ESCAPES, min_size=1, max_size=3))
        items.append("{}={}".format(name, value))
    return items


# examples/basic/main.py declares these, with low/high and choices hints
_BASIC_GOOD = {
    "optimizer": st.sampled_from(["sgd", "adam"]),
    "lr": st.floats(0, 10),
    "weight_decay": st.floats(0, 1),
    "layer_sizes": st.lists(st.integers(1, 512), max_size=3),
    "net": st.fixed_dictionaries({"width": st.integers(1, 4096)}),
    "use_bn": st.booleans(),
}
_BASIC_BAD = (
    st.sampled_from(
        ["rmsprop", -1.0, -1, 0, 1e999, -1e999, "x", [], [64, "x"], {}, {"width": 0}]
    )
    | st.sampled_from([float("nan"), {"width": float("nan")}, {"width": 10**400}])
    | FUZZ_SCALARS
    | FUZZ_VALUES
)


@st.composite
def _basic_values(draw):
    """A mapping for examples/basic/main.py: right values, then a few wrong ones
    (names, types, bounds, NaN, nesting)."""
    chosen = draw(st.lists(st.sampled_from(sorted(_BASIC_GOOD)), unique=True))
    data = {name: draw(_BASIC_GOOD[name]) for name in chosen}
    for _ in range(draw(st.integers(0, 2))):
        key = draw(
            st.sampled_from(sorted(_BASIC_GOOD) + ["net.width", "unknown", "lr.x"])
            | st.text(max_size=4)
        )
        data[key] = draw(_BASIC_BAD)
    return data


@st.composite
def values_file_texts(draw):
    """``(suffix, text)`` of a values file for examples/basic/main.py: right and
    wrong names, types and bounds, nesting, duplicate keys, hostile YAML."""
    kind = draw(st.sampled_from(["mapping"] * 6 + ["raw", "duplicate", "any"]))
    if kind == "raw":
        return draw(st.sampled_from([".yaml", ".yml", ".json"])), draw(_raw_yaml())
    if kind == "duplicate":
        key = draw(st.sampled_from(sorted(_BASIC_GOOD)))
        one, two = draw(st.tuples(_BASIC_GOOD[key], _BASIC_GOOD[key]))
        if draw(st.booleans()):
            text = '{{"{0}": {1}, "{0}": {2}}}'.format(
                key, _dump(one, "json"), _dump(two, "json")
            )
            return ".json", text
        return ".yaml", "{0}: {1}\n{0}: {2}\n".format(
            key, _json.dumps(one), _json.dumps(two)
        )
    data = draw(_basic_values()) if kind == "mapping" else draw(FUZZ_VALUES)
    style = draw(st.sampled_from(["block", "flow", "json"]))
    text = _dump(data, style)
    if text is None:
        return ".yaml", draw(_raw_yaml())
    return (".json" if style == "json" else ".yaml"), text
