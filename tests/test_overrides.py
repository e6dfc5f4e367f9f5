"""Command-line sweeps (Hydra's grammar) and command-line values (YAML 1.2 scalars)."""

import math

import pytest

from hpreg.io.files import parse_scalar
from hpreg.sweep.overrides import parse_override, parse_overrides, split_top_level
from hpreg.sweep.expressions import FloatRange
from hpreg.errors import UsageError

SCALARS = [
    ("3", 3),
    ("-7", -7),
    ("010", 10),
    ("1e-3", 1e-3),
    ("1E3", 1000.0),
    (".5", 0.5),
    ("-2.5e-4", -2.5e-4),
    ("0x1F", 31),
    ("abc", "abc"),
    ("no", "no"),
    ("off", "off"),
    ("yes", "yes"),
    ("y", "y"),
    ("true", True),
    ("False", False),
    ("null", None),
    ("~", None),
    ("[1, 2]", [1, 2]),
    ("[1,2]", [1, 2]),
    ("{a: 1}", {"a": 1}),
    ("{a: [1, 2], b: x}", {"a": [1, 2], "b": "x"}),
    ("'a,b'", "a,b"),
    ('"1e3"', "1e3"),
    ("'010'", "010"),
    ("", ""),
    ("a b", "a b"),
    ("a: b", "a: b"),  # a block mapping is not a command-line value: the text stays
    ("- x", "- x"),
    ("a #b", "a #b"),
    ("http://host:80/x?y=1", "http://host:80/x?y=1"),
    ("*alias", "*alias"),
    ("2024-01-01", "2024-01-01"),  # YAML 1.2 has no timestamps
    ("1_000", "1_000"),
    ("1:30", "1:30"),
]


class TestParseScalar:
    @pytest.mark.parametrize("text, expected", SCALARS)
    def test_yaml_1_2_scalars(self, text, expected):
        value = parse_scalar(text)
        assert value == expected
        assert type(value) is type(expected)

    def test_inf_and_nan(self):
        assert parse_scalar(".inf") == math.inf
        assert parse_scalar("-.inf") == -math.inf
        assert math.isnan(parse_scalar(".nan"))

    def test_unclosed_flow_collection(self):
        with pytest.raises(UsageError) as info:
            parse_scalar("[1, 2", where="--sizes")
        assert str(info.value) == (
            "--sizes: cannot parse value '[1, 2': expected ',' or ']', but got "
            "'<stream end>'; quote it to pass a string"
        )
        assert info.value.value == "[1, 2"

    def test_python_tags_are_refused(self):
        with pytest.raises(UsageError, match="could not determine a constructor"):
            parse_scalar("!!python/object/apply:os.system ['true']")


OVERRIDES = [
    ("lr=0.1,0.01", ("lr", [0.1, 0.01], True)),
    ("lr=0.1, 0.01", ("lr", [0.1, 0.01], True)),
    ("n=range(10,151,10)", ("n", range(10, 151, 10), True)),
    ("n=range(3)", ("n", range(3), True)),
    ("n=range(1, 4)", ("n", range(1, 4), True)),
    ("opt=choice(adam,sgd)", ("opt", ["adam", "sgd"], True)),
    ("opt=choice(adam)", ("opt", ["adam"], True)),
    ("sizes=[1,2]", ("sizes", [1, 2], False)),
    ("sizes=[1,2],[3]", ("sizes", [[1, 2], [3]], True)),
    ("sizes=choice([1,2],[3])", ("sizes", [[1, 2], [3]], True)),
    ("+extra=3", ("extra", 3, False)),
    ("++extra=3", ("extra", 3, False)),
    ("name=abc", ("name", "abc", False)),
    ("name='a,b'", ("name", "a,b", False)),
    ("name='a,b',c", ("name", ["a,b", "c"], True)),
    ("name=don't", ("name", "don't", False)),
    ("name=", ("name", "", False)),
    ("name=null", ("name", None, False)),
    ("name=no", ("name", "no", False)),
    ("name=f(1,2)", ("name", "f(1,2)", False)),
    ("opts={a: 1, b: 2}", ("opts", {"a": 1, "b": 2}, False)),
    ("model.d_model=512,1024", ("model.d_model", [512, 1024], True)),
    ("x=1e-3,1e-4", ("x", [1e-3, 1e-4], True)),
    ("x=a=b", ("x", "a=b", False)),
]


class TestParseOverride:
    @pytest.mark.parametrize("item, expected", OVERRIDES)
    def test_grammar(self, item, expected):
        assert parse_override(item) == expected

    def test_float_range_excludes_the_end_without_drift(self):
        name, values, swept = parse_override("lr=range(0.1,0.5,0.1)")
        assert (name, swept) == ("lr", True)
        assert isinstance(values, FloatRange)
        assert list(values) == [0.1, 0.2, 0.3, 0.4]

    def test_split_top_level(self):
        assert split_top_level("[1,2],'a,b',{x: 1, y: 2},c") == [
            "[1,2]",
            "'a,b'",
            "{x: 1, y: 2}",
            "c",
        ]


BAD_OVERRIDES = [
    (
        "lr",
        "lr: not an override (no '='); write name=value, name=v1,v2, "
        "name=range(a,b[,step]) or name=choice(a,b)",
    ),
    ("=3", "=3: empty name before '='; write name=value"),
    ("+=3", "+=3: empty name before '='; write name=value"),
    ("+++x=3", "+++x=3: too many '+' before the name"),
    ("~x=1", "~x=1: deleting a value with '~' is not supported; leave the name out"),
    ("a b=1", "a b=1: invalid name 'a b'; write name=value"),
    ("x=1,", "x=1,: empty value in a list of values; remove the extra comma"),
    ("x=1,,2", "x=1,,2: empty value in a list of values; remove the extra comma"),
    ("x=[1,2", "x=[1,2: unclosed ']'; write name=value"),
    ("x=1]", "x=1]: unbalanced ']'; write name=value"),
    ("x='a,b", "x='a,b: unclosed quote '; write name=value"),
    (
        "x=range(5,1)",
        "x=range(5,1): the range is empty (the end is excluded); "
        "check the bounds and the step's sign",
    ),
    (
        "x=range(a)",
        "x=range(a): range needs numbers, not 'a'; write range(stop), "
        "range(start, stop) or range(start, stop, step)",
    ),
    ("x=range()", "x=range(): range takes 1 to 3 numbers, got 0; write range(stop)"),
    ("x=range(1,2,3,4)", "x=range(1,2,3,4): range takes 1 to 3 numbers, got 4"),
    ("x=range(0,1,0)", "x=range(0,1,0): range() arg 3 must not be zero"),
    ("x=range(0.0,1.0,0.0)", "x=range(0.0,1.0,0.0): range() step must not be zero"),
    ("x=range(true,3)", "x=range(true,3): range needs numbers, not True"),
    ("x=choice()", "x=choice(): choice() needs at least one value; write name=value"),
    (
        "x=interval(0,1)",
        "x=interval(0,1): interval() is not supported in hpreg "
        "sweeps; use range(...), choice(...) or a list of values",
    ),
    ("x=[1, 2", "x=[1, 2: unclosed ']'"),
    ("x={a: [1}", "x={a: [1}: unbalanced '}'"),
]


class TestBadOverrides:
    @pytest.mark.parametrize("item, message", BAD_OVERRIDES)
    def test_usage_error_names_the_item(self, item, message):
        with pytest.raises(UsageError) as info:
            parse_override(item)
        assert str(info.value).startswith(message)
        assert info.value.item == item
        assert info.value.exit_code == 2

    def test_not_a_string(self):
        with pytest.raises(UsageError, match="an override must be a string"):
            parse_override(3)

    def test_same_name_twice(self):
        with pytest.raises(UsageError) as info:
            parse_overrides(["lr=1", "+lr=2,3"])
        assert str(info.value) == (
            "+lr=2,3: 'lr' is already set by 'lr=1'; give each name once "
            "(write several values as lr=v1,v2)"
        )


class TestParseOverrides:
    def test_the_issue_example(self):
        sweep = parse_overrides(
            [
                "lr=0.1,0.01",
                "n=range(10,151,10)",
                "opt=choice(adam,sgd)",
                "sizes=[1,2]",
                "+extra=3",
                "name=abc",
            ]
        )
        points = list(sweep)
        assert len(sweep) == len(points) == 2 * 15 * 2
        assert points[0] == {
            "lr": 0.1,
            "n": 10,
            "opt": "adam",
            "sizes": [1, 2],
            "extra": 3,
            "name": "abc",
        }
        assert list(points[0]) == ["lr", "n", "opt", "sizes", "extra", "name"]
        # the first override is the slowest, the last swept one the fastest
        assert [(p["lr"], p["n"], p["opt"]) for p in points[:3]] == [
            (0.1, 10, "adam"),
            (0.1, 10, "sgd"),
            (0.1, 20, "adam"),
        ]
        assert points[-1]["lr"] == 0.01 and points[-1]["n"] == 150
        assert all(p["sizes"] == [1, 2] for p in points)

    def test_nothing_is_one_empty_point(self):
        assert list(parse_overrides([])) == [{}]

    def test_quoted_comma_is_one_value(self):
        assert list(parse_overrides(["name='a,b'"])) == [{"name": "a,b"}]

    def test_float_range(self):
        assert [p["lr"] for p in parse_overrides(["lr=range(0.1,0.5,0.1)"])] == [
            0.1,
            0.2,
            0.3,
            0.4,
        ]

    def test_list_and_mapping_values_are_not_swept(self):
        points = list(parse_overrides(["x0=[-0.5,-0.5]", "opts={eta: 0.5}"]))
        assert points == [{"x0": [-0.5, -0.5], "opts": {"eta": 0.5}}]

    def test_axis_of_lists(self):
        points = list(parse_overrides(["sizes=[1,2],[3]"]))
        assert points == [{"sizes": [1, 2]}, {"sizes": [3]}]

    def test_huge_grid_is_lazy(self):
        sweep = parse_overrides(["a=range(100000)", "b=range(100000)", "c=range(100)"])
        assert len(sweep) == 10**12
        assert sweep[-1] == {"a": 99999, "b": 99999, "c": 99}


class TestOverFiles:
    """A command line meets a file through the algebra's override (issue 4)."""

    def test_command_line_wins_and_clash_repeats_are_dropped(self):
        from hpreg.io.files import load_yaml_text
        from hpreg.sweep import override
        from hpreg.sweep.file import parse_sweep

        base = parse_sweep(load_yaml_text("a: [1, 2]\nb: [x, y]"), "sweep.yaml")
        assert list(override(base, parse_overrides(["a=3,4"]))) == [
            {"a": 3, "b": "x"},
            {"a": 3, "b": "y"},
            {"a": 4, "b": "x"},
            {"a": 4, "b": "y"},
        ]

    def test_python_sweeper_example_with_plus(self, tmp_path):
        from hpreg.sweep import override
        from hpreg.sweep.file import load_sweep

        (tmp_path / "multilayer.py").write_text(
            "import itertools\n"
            "def configure():\n"
            "    return [{'num_layers': n, 'num_hidden': list(h)}.items()\n"
            "            for n in range(1, 4)\n"
            "            for h in itertools.product((32, 64), repeat=n)]\n"
        )
        functions = load_sweep("{}:configure".format(tmp_path / "multilayer.py"))
        points = list(override(functions, parse_overrides(["+activation=relu,tanh"])))
        assert len(points) == 28
        assert points[0] == {"activation": "relu", "num_layers": 1, "num_hidden": [32]}
        assert points[14] == {
            "activation": "tanh",
            "num_layers": 1,
            "num_hidden": [32],
        }
