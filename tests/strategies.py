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
