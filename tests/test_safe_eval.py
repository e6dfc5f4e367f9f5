"""The safe evaluator of sweep expressions: what it allows, what it refuses, and why."""

import pytest

from hpreg.sweep.expressions import (
    FloatRange,
    compile_expression,
    evaluate_constant,
    make_range,
)
from hpreg.errors import ExpressionError, SweepError

POINT = {
    "d_model": 512,
    "d_ff": 2048,
    "lr": 0.001,
    "method.name": "tnc",
    "method.options.maxfun": 30,
    "maxfun": 30,
    "x0": [-0.5, -0.5],
    "act": "relu",
    "flag": True,
    "nothing": None,
    "opts": {"eta": 0.5},
}

ALLOWED = [
    ("3", 3),
    ("-2.5e-4", -2.5e-4),
    ("'abc'", "abc"),
    ("True", True),
    ("None", None),
    ("d_model", 512),
    ("d_model // 8", 64),
    ("d_model / 8", 64.0),
    ("d_model % 5", 2),
    ("d_model * 4", 2048),
    ("d_model - 12 + 1", 501),
    ("2 ** 10", 1024),
    ("2 ** -1", 0.5),
    ("-d_model", -512),
    ("+lr", 0.001),
    ("not flag", False),
    ("d_model <= d_ff", True),
    ("256 < d_model <= 512 < d_ff", True),
    ("1 < d_model < 100", False),
    ("d_model == 512 != 3", True),
    ("act in ['relu', 'gelu']", True),
    ("act not in ('relu',)", False),
    ("nothing is None", True),
    ("flag is not None", True),
    ("flag and d_model", 512),
    ("nothing or 'default'", "default"),
    ("d_model if flag else 0", 512),
    ("0 if not flag else d_ff", 2048),
    ("method.options.maxfun", 30),
    ("method.name", "tnc"),
    ("f'results/{method.name}-{maxfun}.pickle'", "results/tnc-30.pickle"),
    ("f'{lr:.1e}'", "1.0e-03"),
    ("f'{d_model:>6}|'", "   512|"),
    ("f'{act!r}'", "'relu'"),
    ("f'{d_model:{3}d}'", "512"),
    ("min(d_model, d_ff)", 512),
    ("max(x0)", -0.5),
    ("max([1, 5, 2])", 5),
    ("abs(-3)", 3),
    ("round(2.567, 1)", 2.6),
    ("round(2.5)", 2),
    ("int(lr * 10000)", 10),
    ("float(d_model)", 512.0),
    ("str(d_model) + 'x'", "512x"),
    ("len(x0)", 2),
    ("len(act)", 4),
    ("bool(0)", False),
    ("range(3)", range(0, 3)),
    ("range(10, 151, 10)", range(10, 151, 10)),
    ("[d_model, 2 * d_model]", [512, 1024]),
    ("(d_model, act)", (512, "relu")),
    ("x0[0]", -0.5),
    ("x0[-1]", -0.5),
    ("act[0]", "r"),
    ("opts['eta']", 0.5),
    ("'ab' * 3", "ababab"),
    ("  d_model  ", 512),
]


class TestAllowed:
    @pytest.mark.parametrize("text, expected", ALLOWED)
    def test_value(self, text, expected):
        result = compile_expression(text)(POINT)
        assert result == expected
        assert type(result) is type(expected)

    def test_names_in_order_of_first_use(self):
        expression = compile_expression("f'{method.name}-{maxfun}-{method.name}'")
        assert expression.names == ("method.name", "maxfun")

    def test_called_functions_are_not_names(self):
        assert compile_expression("max(d_model, 3)").names == ("d_model",)

    def test_a_point_may_have_a_name_that_shadows_a_function(self):
        assert compile_expression("max(max, 3)")({"max": 7}) == 7

    def test_compiled_once_evaluated_many_times(self):
        expression = compile_expression("d_model * 4")
        assert [expression({"d_model": d}) for d in (1, 2, 3)] == [4, 8, 12]

    def test_and_or_short_circuit(self):
        # the right side reads a missing name, but is never evaluated
        assert compile_expression("flag or missing")({"flag": 1}) == 1
        assert compile_expression("flag and missing")({"flag": 0}) == 0
        assert compile_expression("missing if flag else 2")({"flag": 0}) == 2

    def test_resolve_maps_names_to_keys(self):
        expression = compile_expression("width * 2")
        point = {"model.width": 64}
        resolve = lambda name, p: "model." + name  # noqa: E731
        assert expression(point, resolve) == 128

    def test_repr(self):
        assert repr(compile_expression("a + 1")) == "Expression('a + 1')"


DENIED = [
    ("__import__('os')", "calling '__import__'"),
    ("().__class__", "attribute access ('.__class__')"),
    ("().__class__.__bases__[0].__subclasses__()", "method calls"),
    ("open('x')", "calling 'open'"),
    ("eval('1')", "calling 'eval'"),
    ("act.upper()", "calling 'act.upper'"),
    ("'abc'.upper", "attribute access ('.upper')"),
    ("'abc'.upper()", "method calls"),
    ("method.__class__", "the dunder name 'method.__class__'"),
    ("__builtins__", "the dunder name '__builtins__'"),
    ("lambda: 1", "lambda"),
    ("[x for x in x0]", "comprehensions"),
    ("(x for x in x0)", "generator expressions"),
    ("{x for x in x0}", "comprehensions"),
    ("{'a': 1}", "dict literals"),
    ("{1, 2}", "set literals"),
    ("(y := 3)", "assignment expressions (':=')"),
    ("x0[0:1]", "slices"),
    ("max(*x0)", "unpacking with '*'"),
    ("[*x0]", "unpacking with '*'"),
    ("round(lr, ndigits=2)", "keyword arguments"),
    ("d_model & 1", "the operator '&'"),
    ("d_model << 1", "the operator '<<'"),
    ("~d_model", "the operator '~'"),
    ("1j", "the constant 1j"),
    ("b'x'", "the constant b'x'"),
    ("...", "the constant Ellipsis"),
    ("'%s' % act", "'%' string formatting (use an f-string)"),
    ("sum(x0)", "calling 'sum'"),
    ("list(range(3))", "calling 'list'"),
    ("getattr(act, 'upper')", "calling 'getattr'"),
]


class TestDenied:
    @pytest.mark.parametrize("text, what", DENIED)
    def test_refused_at_compile_time(self, text, what):
        with pytest.raises(ExpressionError) as info:
            compile_expression(text, where="sweep.yaml: derive.x")
        message = str(info.value)
        assert message.startswith(
            "sweep.yaml: derive.x: unsupported in expression {!r}: {};".format(
                text, what
            )
        )
        assert "calls to min, max, abs, round" in message  # says what is allowed
        assert info.value.unsupported == what
        assert info.value.where == "sweep.yaml: derive.x"
        assert info.value.text == text

    def test_expression_error_is_a_sweep_error_and_value_error(self):
        with pytest.raises(SweepError):
            compile_expression("open('x')")
        with pytest.raises(ValueError):
            compile_expression("open('x')")

    def test_without_where_no_prefix(self):
        with pytest.raises(ExpressionError, match=r"^unsupported in expression"):
            compile_expression("open('x')")

    def test_syntax_error(self):
        with pytest.raises(ExpressionError) as info:
            compile_expression("d_model //", where="sweep.yaml: derive.d_head")
        assert str(info.value).startswith(
            "sweep.yaml: derive.d_head: invalid expression 'd_model //': "
            "invalid syntax"
        )
        assert "write a Python expression such as 'd_model // 8'" in str(info.value)

    def test_statements_are_not_expressions(self):
        with pytest.raises(ExpressionError, match="invalid expression 'import os'"):
            compile_expression("import os")

    def test_not_a_string(self):
        with pytest.raises(ExpressionError, match="must be a string, not 3"):
            compile_expression(3, where="w")

    def test_text_too_long(self):
        with pytest.raises(ExpressionError, match="longer than 10000 characters"):
            compile_expression("1 + " * 5000 + "1")

    def test_too_deeply_nested(self):
        with pytest.raises(ExpressionError, match="nested|invalid expression"):
            compile_expression("(" * 500 + "1" + ")" * 500)


RESOURCE_BOMBS = [
    ("9 ** 9 ** 9", "power too large (over 100000 bits)"),
    ("(10 ** 9) ** (10 ** 9)", "power too large"),
    ("(-7) ** 10 ** 8", "power too large"),
    ("'a' * 10 ** 9", "repetition longer than 100000 items"),
    ("10 ** 9 * 'a'", "repetition longer than 100000 items"),
    ("x0 * 100000", "repetition longer than 100000 items"),
    ("f'{d_model:>100000000}'", "format width or precision over 1000"),
    ("f'{lr:.100000000f}'", "format width or precision over 1000"),
    ("max(range(10 ** 12))", "max() over more than 1000000 items"),
    ("round(10 ** 100, -10 ** 9)", "round() to more than 1000 digits"),
    ("2.0 ** 100000", "Numerical result out of range"),
]


class TestResourceGuards:
    @pytest.mark.parametrize("text, problem", RESOURCE_BOMBS)
    def test_refused_quickly(self, text, problem):
        expression = compile_expression(text, where="sweep.yaml: where")
        with pytest.raises(ExpressionError) as info:
            expression(POINT)
        assert str(info.value).startswith(
            "sweep.yaml: where: cannot evaluate {!r}: ".format(text)
        )
        assert problem in str(info.value)

    def test_large_but_bounded_power_is_fine(self):
        assert compile_expression("2 ** 1000")({}) == 2**1000
        assert compile_expression("1 ** (10 ** 9)")({}) == 1
        assert compile_expression("(-1) ** (10 ** 9 + 1)")({}) == -1

    def test_huge_range_is_lazy(self):
        assert compile_expression("range(10 ** 12)")({}) == range(10**12)
        assert compile_expression("10 ** 11 in range(10 ** 12)")({}) is True


class TestEvaluationErrors:
    def test_unknown_name_with_did_you_mean(self):
        expression = compile_expression(
            "d_modle // 8", where="sweep.yaml: derive.d_head"
        )
        with pytest.raises(ExpressionError) as info:
            expression({"d_model": 512, "d_ff": 2048})
        assert str(info.value) == (
            "sweep.yaml: derive.d_head: unknown name 'd_modle' in 'd_modle // 8'; "
            "did you mean 'd_model'? (names available here: d_ff, d_model)"
        )
        assert info.value.name == "d_modle"
        assert info.value.suggestions == ["d_model"]
        assert info.value.available == ["d_ff", "d_model"]

    def test_unknown_name_without_close_match(self):
        with pytest.raises(ExpressionError) as info:
            compile_expression("zzz", where="w")({})
        assert str(info.value) == (
            "w: unknown name 'zzz' in 'zzz'; set it before it is read "
            "(names available here: none)"
        )

    def test_long_list_of_available_names_is_shortened(self):
        point = {"n{:02d}".format(i): i for i in range(30)}
        with pytest.raises(ExpressionError) as info:
            compile_expression("zzz")(point)
        assert "n19, ... (10 more))" in str(info.value)

    def test_dotted_name_is_looked_up_whole(self):
        with pytest.raises(ExpressionError) as info:
            compile_expression("method.name")({"method": {"name": "tnc"}})
        assert info.value.name == "method.name"

    @pytest.mark.parametrize(
        "text, problem",
        [
            ("d_model / 0", "division by zero"),
            ("act + 1", 'can only concatenate str (not "int") to str'),
            ("x0[5]", "list index out of range"),
            ("opts['nope']", "'nope'"),
            ("d_model[0]", "cannot index a int value"),
            ("int(act)", "invalid literal for int()"),
            ("f'{x0:d}'", "unsupported format string"),
        ],
    )
    def test_failures_name_where_and_values(self, text, problem):
        with pytest.raises(ExpressionError) as info:
            compile_expression(text, where="sweep.yaml: derive.y")(POINT)
        message = str(info.value)
        assert message.startswith(
            "sweep.yaml: derive.y: cannot evaluate {!r}: ".format(text)
        )
        assert problem in message
        assert "; check the values it reads (" in message

    def test_failure_shows_the_values_read(self):
        with pytest.raises(ExpressionError) as info:
            compile_expression("d_model / zero")({"d_model": 4, "zero": 0})
        assert str(info.value).endswith("check the values it reads (d_model=4, zero=0)")


class TestRange:
    def test_ints_give_a_builtin_range(self):
        assert make_range(10, 151, 10) == range(10, 151, 10)
        assert make_range(5) == range(5)

    @pytest.mark.parametrize(
        "args, expected",
        [
            ((0.1, 0.5, 0.1), [0.1, 0.2, 0.3, 0.4]),
            ((0, 1, 0.1), [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]),
            ((1.0, 0.0, -0.25), [1.0, 0.75, 0.5, 0.25]),
            ((0.5, 2.5), [0.5, 1.5]),
            ((2.5,), [0.0, 1.0, 2.0]),
            ((0.1, 0.1, 0.1), []),
            ((0.3, 0.1, 0.1), []),
            ((1e-3, 3.5e-3, 1e-3), [0.001, 0.002, 0.003]),
        ],
    )
    def test_float_ranges_exclude_the_end_without_drift(self, args, expected):
        values = make_range(*args)
        assert isinstance(values, FloatRange)
        assert list(values) == expected
        assert len(values) == len(expected)
        assert [values[i] for i in range(len(expected))] == expected

    def test_float_range_is_lazy_and_indexable(self):
        values = make_range(0.0, 1e12, 1.0)
        assert len(values) == 10**12
        assert values[-1] == 1e12 - 1
        assert values[12345] == 12345.0
        with pytest.raises(IndexError):
            values[10**12]

    def test_float_range_equality(self):
        assert make_range(0.1, 0.5, 0.1) == make_range(0.1, 0.45, 0.1)
        assert make_range(0.1, 0.5, 0.1) != make_range(0.1, 0.6, 0.1)

    @pytest.mark.parametrize(
        "args, problem",
        [
            ((0.0, 1.0, 0.0), "step must not be zero"),
            ((0, 1, 0), "must not be zero"),
            ((True, 3), "must be numbers"),
            (("a", 3), "must be numbers"),
            ((), "expected 1 to 3 arguments"),
            ((0.0, float("inf")), "finite"),
        ],
    )
    def test_bad_ranges(self, args, problem):
        with pytest.raises((TypeError, ValueError), match=problem):
            make_range(*args)


class TestEvaluateConstant:
    def test_constant(self):
        assert evaluate_constant("range(0.1, 0.5, 0.1)") == FloatRange(0.1, 0.5, 0.1)

    def test_reading_names_is_an_error(self):
        with pytest.raises(ExpressionError) as info:
            evaluate_constant("range(0, n)", where="sweep.yaml: lr")
        assert str(info.value) == (
            "sweep.yaml: lr: 'range(0, n)' reads 'n'; a fixed value cannot read "
            "names (use derive)"
        )


class TestPercentFormatting:
    def test_refused_at_evaluation_when_the_left_is_a_string_value(self):
        expression = compile_expression("act % 3", where="w")
        assert expression({"act": 7}) == 1
        with pytest.raises(ExpressionError) as info:
            expression({"act": "%0999999999d"})
        assert info.value.unsupported == "'%' string formatting (use an f-string)"


class TestSizesBoundedBeforeBuilding:
    """Every result is sized from its operands before it is built (issue 8)."""

    @pytest.mark.parametrize(
        "text, point, problem",
        [
            ("a * a", {"a": 2**99999}, "product too large"),
            ("a * 3", {"a": 2**99990}, None),
            ("3 ** 99999", {}, "power too large"),
            ("str(['a' * 100000] * 100000)", {}, "repetition too large"),
            ("s * 100000", {"s": ["a" * 100000]}, "repetition too large"),
            ("[s, s, s, s, s, s, s, s, s, s, s]", {"s": "a" * 100000}, "too large"),
            ("(s, s, s, s, s, s, s, s, s, s, s)", {"s": "a" * 100000}, "too large"),
            ("x + x", {"x": ["a" * 1000] * 600}, "sum too large"),
            ("s + s", {"s": "a" * 60000}, "longer than 100000"),
            ("str(x)", {"x": [["a" * 1000] * 100] * 100}, "str() of a value too large"),
            ("f'{x}'", {"x": [["a" * 1000] * 100] * 100}, "formatting a value too"),
            ("f'{s}{s}'", {"s": "a" * 60000}, "longer than 100000"),
            ("0.5 in range(10**30)", {}, "would search a range"),
            ("0.5 in range(0.0, 1e12, 1.0)", {}, "would search a range"),
        ],
    )
    def test_refused_with_the_expression_named(self, text, point, problem):
        expression = compile_expression(text, where="s.yaml: derive.y")
        if problem is None:
            expression(point)
            return
        with pytest.raises(ExpressionError) as info:
            expression(point)
        message = str(info.value)
        assert message.startswith(
            "s.yaml: derive.y: cannot evaluate {!r}: ".format(text)
        )
        assert problem in message
        assert len(message) < 1000  # large values are shown by type and size

    def test_shift_is_not_allowed(self):
        with pytest.raises(ExpressionError, match="the operator '<<'"):
            compile_expression("1 << 10**9")

    def test_lazy_ranges_stay_unbounded(self):
        assert evaluate_constant("range(10**30)") == range(10**30)
        assert evaluate_constant("5 in range(10**30)") is True
        assert evaluate_constant("str(range(10**30))") == "range(0, {})".format(10**30)

    def test_sizes_within_the_bounds_still_work(self):
        assert len(evaluate_constant("str([1] * 10000)")) == 30000
        assert evaluate_constant("len('ab' * 50000)") == 100000
        assert evaluate_constant("2 ** 99999 % 7") == pow(2, 99999, 7)
        assert evaluate_constant("len([[1, 2]] * 1000 + [[3]] * 1000)") == 2000
