"""The sweep algebra: the issue's examples, laziness, every error, and properties."""

import itertools
import os
import random
import sys

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hpreg import sweep as hp
from hpreg.errors import SweepError
from hpreg.sweep import (
    Axis,
    Defaults,
    Derive,
    Fixed,
    FromFunction,
    Let,
    Override,
    Product,
    Sample,
    Shard,
    Table,
    Union,
    Unique,
    Where,
    Zip,
)
from strategies import model_points, sweep_models, sweeps

TRANSFORMER = hp.union(
    hp.product(d_ff=2048, d_model=[512, 1024, 2048], n_layers=[4, 6, 8, 10]),
    hp.product(d_ff=4096, d_model=[512, 1024, 2048], n_layers=[4, 6, 8]),
    hp.product(d_ff=8192, d_model=[512, 1024], n_layers=[4, 6, 8]),
)


def optimizer_sweep():
    return hp.product(
        hp.let(maxfun=range(10, 151, 10)),
        hp.union(
            hp.product(method="nelder-mead").derive(
                **{"options.maxfev": lambda p: p["maxfun"]}
            ),
            hp.product(method="tnc", **{"options.eta": 0.5}).derive(
                **{"options.maxfun": lambda p: p["maxfun"]}
            ),
        ),
    )


def grid(n_axes, n_values=10):
    return hp.product(**{"x{}".format(i): range(n_values) for i in range(n_axes)})


def digits_point(index, n_axes):
    text = str(index).zfill(n_axes)
    return {"x{}".format(i): int(c) for i, c in enumerate(text)}


class TestIssueExamples:
    def test_product_of_keyword_axes(self):
        s = hp.product(lr=[1e-3, 1e-4], batch_size=[32, 64])
        assert list(s) == [
            {"lr": 1e-3, "batch_size": 32},
            {"lr": 1e-3, "batch_size": 64},
            {"lr": 1e-4, "batch_size": 32},
            {"lr": 1e-4, "batch_size": 64},
        ]
        assert len(s) == 4

    def test_positional_dict_allows_any_name(self):
        s = hp.product({"model.d_model": [512, 1024]}, n_layers=[4, 6])
        assert list(s) == [
            {"model.d_model": 512, "n_layers": 4},
            {"model.d_model": 512, "n_layers": 6},
            {"model.d_model": 1024, "n_layers": 4},
            {"model.d_model": 1024, "n_layers": 6},
        ]

    def test_union_of_27_points(self):
        expected = [
            {"d_ff": d_ff, "d_model": d_model, "n_layers": n_layers}
            for d_ff, d_models, layers in [
                (2048, [512, 1024, 2048], [4, 6, 8, 10]),
                (4096, [512, 1024, 2048], [4, 6, 8]),
                (8192, [512, 1024], [4, 6, 8]),
            ]
            for d_model in d_models
            for n_layers in layers
        ]
        assert len(TRANSFORMER) == 27
        assert list(TRANSFORMER) == expected
        assert [TRANSFORMER[i] for i in range(27)] == expected

    def test_table_times_n_heads(self):
        t = hp.table(("d_model", "d_ff", "n_layers"), [(512, 2048, 4), (1024, 4096, 6)])
        s = hp.product(t, n_heads=[2, 4, 8])
        assert len(s) == 6
        assert list(s) == [
            {"d_model": dm, "d_ff": ff, "n_layers": nl, "n_heads": h}
            for dm, ff, nl in [(512, 2048, 4), (1024, 4096, 6)]
            for h in [2, 4, 8]
        ]

    def test_zip_pairs_axes(self):
        z = hp.zip(lr=[0.1, 0.01, 0.001], warmup=[0, 100, 1000])
        assert list(z) == [
            {"lr": 0.1, "warmup": 0},
            {"lr": 0.01, "warmup": 100},
            {"lr": 0.001, "warmup": 1000},
        ]
        assert len(z) == 3 and z[-1] == {"lr": 0.001, "warmup": 1000}

    def test_derive_then_where(self):
        s = hp.product(d_model=[512, 1024]).derive(d_ff=lambda p: 4 * p["d_model"])
        assert list(s) == [
            {"d_model": 512, "d_ff": 2048},
            {"d_model": 1024, "d_ff": 4096},
        ]
        assert len(s) == 2 and s[1] == {"d_model": 1024, "d_ff": 4096}
        kept = s.where(lambda p: p["d_model"] * 3 <= p["d_ff"] - 1024)
        assert list(kept) == [{"d_model": 1024, "d_ff": 4096}]

    def test_let_feeds_derives_and_leaves_the_points(self):
        s = optimizer_sweep()
        expected = []
        for maxfun in range(10, 151, 10):
            expected.append({"method": "nelder-mead", "options.maxfev": maxfun})
            expected.append(
                {"method": "tnc", "options.eta": 0.5, "options.maxfun": maxfun}
            )
        assert len(s) == 30
        assert list(s) == expected
        assert [s[i] for i in range(-30, 30)] == expected + expected
        assert s.names == {"method", "options.maxfev", "options.eta", "options.maxfun"}

    def test_override_top_is_the_outer_loop(self):
        base = hp.product(a=[1, 2], b=["x", "y"])
        s = hp.override(base, hp.product(a=[3, 4]))
        expected = [
            {"a": 3, "b": "x"},
            {"a": 3, "b": "y"},
            {"a": 4, "b": "x"},
            {"a": 4, "b": "y"},
        ]
        assert list(s) == expected
        assert list(next(iter(s))) == ["a", "b"]
        # the issue: overrides with a clash have no cheap len (count() still works)
        with pytest.raises(TypeError, match=r"no cheap length because it overrides"):
            len(s)
        with pytest.raises(TypeError, match=r"no cheap length"):
            s[0]
        assert s.count() == 4
        assert len(hp.override(hp.product(b=["x", "y"]), hp.product(a=[3, 4]))) == 4

    def test_from_function_dicts_and_pairs(self):
        def configure():
            yield {"method": "tnc", "x0": [0.5, 0.5]}
            yield {"method": "cg"}.items()

        s = hp.from_function(configure)
        assert list(s) == [{"method": "tnc", "x0": [0.5, 0.5]}, {"method": "cg"}]
        assert len(s) == 2 and s.names == {"method", "x0"}

    def test_from_function_is_called_once(self):
        calls = []

        def configure():
            calls.append(1)
            return [{"a": 1}]

        s = hp.from_function(configure)
        list(s), list(s), s[0]
        assert calls == [1]


class TestValues:
    @pytest.mark.parametrize(
        "given, points",
        [
            ([1, 2], [1, 2]),
            ((1, 2), [1, 2]),
            (range(3), [0, 1, 2]),
            ([], []),
            ("abc", ["abc"]),
            (None, [None]),
            (True, [True]),
            (0.5, [0.5]),
            ({"k": [1, 2]}, [{"k": [1, 2]}]),
            (hp.value([1, 2]), [[1, 2]]),
            (hp.value(range(2)), [range(2)]),
        ],
    )
    def test_what_is_an_axis(self, given, points):
        assert [p["x"] for p in hp.product(x=given)] == points

    def test_keyword_axes_follow_positional_factors(self):
        s = hp.product(hp.product(b=[1, 2]), a=[3, 4])
        assert [list(p) for p in s] == [["b", "a"]] * 4
        assert [p["a"] for p in s] == [3, 4, 3, 4]

    def test_empty_product_union_zip(self):
        assert list(hp.product()) == [{}] and len(hp.product()) == 1
        assert list(hp.union()) == [] and len(hp.union()) == 0
        assert list(hp.zip()) == [{}]
        assert list(hp.product(a=[1, 2], b=[])) == []

    def test_union_keeps_duplicates_and_unique_drops_them(self):
        s = hp.union(hp.product(a=[1, 2]), hp.product(a=[2, 1, 3]))
        assert [p["a"] for p in s] == [1, 2, 2, 1, 3]
        assert [p["a"] for p in s.unique()] == [1, 2, 3]

    def test_unique_with_unhashable_values(self):
        s = hp.union(
            hp.product(x=hp.value([1, 2]), y={"a": [1]}),
            hp.product(y={"a": [1]}, x=hp.value([1, 2])),
            hp.product(x=hp.value((1, 2)), y={"a": [1]}),
        )
        assert list(s.unique()) == [
            {"x": [1, 2], "y": {"a": [1]}},
            {"x": (1, 2), "y": {"a": [1]}},
        ]

    def test_points_are_new_dicts(self):
        s = hp.product(a=[1, 2])
        first = next(iter(s))
        first["a"] = 99
        first["junk"] = 1
        assert list(s) == [{"a": 1}, {"a": 2}]
        s[0]["a"] = 99
        assert s[0] == {"a": 1}

    def test_axes_around_other_factors(self):
        s = hp.product(hp.table(("t",), [(1,), (2,)]), x=[0, 1], y="y")
        expected = [{"t": t, "x": x, "y": "y"} for t in (1, 2) for x in (0, 1)]
        assert list(s) == expected and [s[i] for i in range(4)] == expected

    def test_sweeps_are_reusable_and_nest(self):
        inner = hp.product(b=[1, 2])
        s = hp.union(hp.product(inner, a=[0]), hp.product(inner, a=[1]))
        assert list(s) == list(s)
        assert len(s) == 4


class TestLaziness:
    def test_ten_billion_point_grid(self):
        s = grid(10)
        assert len(s) == 10**10
        assert s[10**10 - 1] == digits_point(10**10 - 1, 10)
        assert s[-1] == s[10**10 - 1]
        assert s[1234567890] == digits_point(1234567890, 10)
        assert s[-(10**10)] == digits_point(0, 10)

    def test_beyond_a_trillion_points(self):
        s = hp.union(grid(13), hp.product(extra=[1]))
        assert s.count() == 10**13 + 1
        assert s[-1] == {"extra": 1}
        assert s[9876543210123] == digits_point(9876543210123, 13)

    def test_iteration_streams(self):
        s = grid(12)
        assert list(itertools.islice(s, 3)) == [digits_point(i, 12) for i in range(3)]

    def test_huge_range_axis_is_not_copied(self):
        s = hp.product(seed=range(10**12), lr=[1, 2])
        assert list(itertools.islice(s, 3)) == [
            {"seed": 0, "lr": 1},
            {"seed": 0, "lr": 2},
            {"seed": 1, "lr": 1},
        ]
        assert s[-1] == {"seed": 10**12 - 1, "lr": 2}

    def test_derive_and_shard_keep_cheap_length(self):
        s = grid(10).derive(total=lambda p: sum(p.values())).shard(3, 7)
        assert len(s) == (10**10 - 3 + 6) // 7
        assert s[-1]["total"] == sum(s[-1][k] for k in s[-1] if k != "total")

    def test_index_out_of_range(self):
        s = hp.product(a=[1, 2])
        for index in (2, -3, 10**20):
            with pytest.raises(IndexError, match="out of range for a sweep of 2"):
                s[index]

    def test_index_must_be_an_integer(self):
        with pytest.raises(TypeError):
            hp.product(a=[1, 2])["0"]

    def test_slices_give_lists(self):
        s = hp.product(a=range(5))
        assert s[1:4] == [{"a": 1}, {"a": 2}, {"a": 3}]
        assert s[::-2] == [{"a": 4}, {"a": 2}, {"a": 0}]
        assert s.where(lambda p: True)[1:3] == [{"a": 1}, {"a": 2}]

    @pytest.mark.parametrize(
        "make, reason",
        [
            (lambda s: s.where(lambda p: p["a"] > 0), "filters points"),
            (lambda s: s.unique(), "drops repeated points"),
            (lambda s: hp.product(s.unique(), b=[1]), "drops repeated points"),
        ],
    )
    def test_no_cheap_length(self, make, reason):
        s = make(hp.product(a=[0, 1, 2]))
        with pytest.raises(TypeError, match="has no cheap length because it " + reason):
            len(s)
        with pytest.raises(TypeError, match="use .count"):
            s[0]
        assert s.count() == len(list(s)) and bool(s)

    def test_list_works_without_cheap_length(self):
        s = hp.product(a=[0, 1, 2]).where(lambda p: p["a"] != 1)
        assert list(s) == [{"a": 0}, {"a": 2}]
        assert not hp.product(a=[1]).where(lambda p: False)


class TestContext:
    def test_where_reads_earlier_factors(self):
        inner = hp.product(b=[1, 2, 3]).where(lambda p: p["a"] < p["b"])
        s = hp.product(hp.product(a=[1, 2]), inner)
        assert list(s) == [
            {"a": 1, "b": 2},
            {"a": 1, "b": 3},
            {"a": 2, "b": 3},
        ]

    def test_derive_reads_earlier_factors_and_earlier_derives(self):
        inner = hp.product(b=[10]).derive(
            c=lambda p: p["a"] + p["b"], d=lambda p: p["c"] * 2
        )
        s = hp.product(hp.product(a=[1, 2]), inner)
        assert list(s) == [
            {"a": 1, "b": 10, "c": 11, "d": 22},
            {"a": 2, "b": 10, "c": 12, "d": 24},
        ]
        assert s[1] == {"a": 2, "b": 10, "c": 12, "d": 24}

    def test_derive_on_union_parts(self):
        s = hp.union(
            hp.product(a=[1]).derive(b=lambda p: "one"),
            hp.product(a=[2]),
        ).derive(c=lambda p: p["a"] * 10)
        assert list(s) == [{"a": 1, "b": "one", "c": 10}, {"a": 2, "c": 20}]
        assert s.names == {"a", "b", "c"}

    def test_derive_view_is_read_only(self):
        def sneaky(p):
            p["a"] = 0
            return 1

        with pytest.raises(TypeError):
            list(hp.product(a=[1]).derive(b=sneaky))

    def test_derive_missing_name(self):
        s = hp.product(a=[1]).derive(b=lambda p: p["zz"])
        with pytest.raises(SweepError) as info:
            list(s)
        assert str(info.value) == (
            "derive 'b': reads 'zz', which the point does not have (names so far: "
            "a); set it in this sweep, an earlier factor of an enclosing product "
            "or a let()"
        )
        assert info.value.missing == "zz"
        with pytest.raises(SweepError, match="derive 'b': reads 'zz'"):
            s[0]

    def test_where_missing_name(self):
        def wide(p):
            return p["width"] > 1

        with pytest.raises(SweepError, match=r"^where\(wide\): reads 'width', which"):
            list(hp.product(a=[1]).where(wide))

    def test_other_key_errors_propagate(self):
        def broken(p):
            return {}["a"]

        with pytest.raises(KeyError) as info:
            list(hp.product(a=[1]).derive(b=broken))
        assert not isinstance(info.value, SweepError)


class TestLet:
    def test_let_counts_and_is_stripped(self):
        s = hp.product(hp.let(k=[1, 2, 3]), a=[0]).derive(b=lambda p: p["k"] * 2)
        assert len(s) == 3
        assert list(s) == [{"a": 0, "b": 2}, {"a": 0, "b": 4}, {"a": 0, "b": 6}]
        assert s[-1] == {"a": 0, "b": 6}
        assert s.names == {"a", "b"}

    def test_let_alone(self):
        s = hp.let(k=[1, 2], fixed=5)
        assert list(s) == [{}, {}] and len(s) == 2 and s.names == frozenset()
        assert s.children[0].names == {"k", "fixed"}
        assert s.variables == ("fixed", "k")

    def test_top_level_derive_sees_let(self):
        s = hp.product(hp.let(maxfun=[10, 20]), method=["a"]).derive(
            path=lambda p: "{}-{}".format(p["method"], p["maxfun"])
        )
        assert list(s) == [
            {"method": "a", "path": "a-10"},
            {"method": "a", "path": "a-20"},
        ]

    def test_let_clashing_with_a_name(self):
        with pytest.raises(SweepError, match=r"product\(\): 'k' is set by two"):
            hp.product(hp.let(k=[1]), k=[2])
        with pytest.raises(
            SweepError,
            match=r"^union\(\): let variable 'k' is also a hyperparameter name in "
            r"this sweep; rename the variable$",
        ):
            hp.union(hp.product(hp.let(k=[1])), hp.product(k=[2]))


class TestOverride:
    def test_without_clash_it_is_a_product(self):
        s = hp.override(hp.product(b=[1, 2]), hp.product(a=[3, 4]))
        assert list(s) == list(hp.product(a=[3, 4], b=[1, 2]))
        assert len(s) == 4

    def test_base_derives_see_top_values(self):
        base = hp.product(d_model=[512, 1024]).derive(
            d_head=lambda p: p["d_model"] // 8
        )
        s = hp.override(base, hp.product(d_model=[256]))
        assert list(s) == [{"d_model": 256, "d_head": 32}]
        assert s.count() == 1

    def test_top_wins_over_a_derived_name(self):
        base = hp.product(a=[1, 2]).derive(b=lambda p: p["a"] * 10)
        s = hp.override(base, hp.product(b=[0]))
        assert list(s) == [{"b": 0, "a": 1}, {"b": 0, "a": 2}]
        assert s.count() == 2

    def test_base_repeats_stay(self):
        base = hp.product(a=[1, 2, 1], b=["x"])
        s = hp.override(base, hp.product(b=["z"]))
        assert [p["a"] for p in s] == [1, 2, 1]
        twice = hp.override(hp.product(a=[1, 1], b=["x", "y"]), hp.product(b=["z"]))
        assert list(twice) == [{"b": "z", "a": 1}, {"b": "z", "a": 1}]
        assert twice.count() == 2

    def test_clash_in_a_union_has_no_cheap_length(self):
        s = hp.override(TRANSFORMER, hp.product(d_ff=[1024]))
        with pytest.raises(
            TypeError,
            match=r"because it overrides names its base sets \(d_ff\) and drops the "
            r"repeats that creates; use .count\(\) or list\(s\)",
        ):
            len(s)
        assert s.count() == 12
        assert list(s)[:2] == [
            {"d_ff": 1024, "d_model": 512, "n_layers": 4},
            {"d_ff": 1024, "d_model": 512, "n_layers": 6},
        ]

    def test_union_base_keeps_its_own_repeats(self):
        base = hp.union(hp.product(a=[1, 2], b="x"), hp.product(a=[1, 2], b="x"))
        s = hp.override(base, hp.product(a=[9]))
        assert list(s) == [{"a": 9, "b": "x"}, {"a": 9, "b": "x"}]

    def test_pinned_table_column(self):
        t = hp.table(("a", "b"), [(1, "x"), (2, "x"), (1, "x"), (3, "y")])
        s = hp.override(t, hp.product(a=[9]))
        assert list(s) == [{"a": 9, "b": "x"}, {"a": 9, "b": "x"}, {"a": 9, "b": "y"}]
        assert s.count() == 3

    def test_top_can_set_a_let_variable(self):
        base = hp.product(hp.let(k=[1, 2]), a=[0]).derive(b=lambda p: p["k"])
        s = hp.override(base, hp.product(k=[7]))
        assert list(s) == [{"a": 0, "b": 7}]
        assert s.names == {"a", "b"}

    def test_defaults_give_way(self):
        base = hp.defaults({"lr": 0.1, "wd": 0}, hp.product(a=[1, 2]))
        s = hp.override(base, hp.product(lr=[0.5]))
        assert list(s) == [
            {"lr": 0.5, "wd": 0, "a": 1},
            {"lr": 0.5, "wd": 0, "a": 2},
        ]
        assert s.count() == 2

    def test_nested_override(self):
        inner = hp.override(hp.union(hp.product(a=[1, 2], b=[1])), hp.product(a=[5]))
        s = hp.override(hp.union(inner), hp.product(a=[7], b=[0, 1]))
        assert list(s) == [{"a": 7, "b": 0}, {"a": 7, "b": 1}]

    def test_top_let_clashing_with_base(self):
        with pytest.raises(
            SweepError,
            match=r"^override\(\): let variable 'a' of the top sweep is also set by "
            r"the base; rename the variable$",
        ):
            hp.override(hp.product(a=[1]), hp.product(hp.let(a=[1])))

    def test_dicts_stand_for_products(self):
        s = hp.override({"a": [1, 2], "b": "x"}, {"a": 3})
        assert list(s) == [{"a": 3, "b": "x"}]


class TestDefaults:
    def test_values_in_every_point_and_the_sweep_wins(self):
        s = hp.defaults({"lr": 0.1, "x0": [1, 2]}, hp.product(lr=[0.5, 0.7]))
        assert list(s) == [{"lr": 0.5, "x0": [1, 2]}, {"lr": 0.7, "x0": [1, 2]}]
        assert len(s) == 2 and s[1] == {"lr": 0.7, "x0": [1, 2]}
        assert s.names == {"lr", "x0"}

    def test_values_are_visible_to_derive_and_where(self):
        inner = (
            hp.product(a=[1, 2, 3])
            .derive(b=lambda p: p["a"] * p["scale"])
            .where(lambda p: p["b"] > p["scale"])
        )
        s = hp.defaults({"scale": 10}, inner)
        assert list(s) == [
            {"scale": 10, "a": 2, "b": 20},
            {"scale": 10, "a": 3, "b": 30},
        ]

    def test_a_derive_wins_over_a_default(self):
        s = hp.defaults({"b": 0}, hp.product(a=[1]).derive(b=lambda p: p["b"] + 5))
        assert list(s) == [{"b": 5, "a": 1}]


class TestShardAndSample:
    def test_shard_takes_every_nth(self):
        s = hp.product(a=range(10))
        assert [p["a"] for p in s.shard(1, 3)] == [1, 4, 7]
        assert len(s.shard(1, 3)) == 3 and len(s.shard(0, 3)) == 4
        assert s.shard(2, 3)[-1] == {"a": 8}
        assert [p["a"] for p in s.where(lambda p: p["a"] % 2).shard(0, 2)] == [1, 5, 9]

    def test_many_shards_skip_the_other_shards_points(self):
        # a worker of 10**14 takes 10 points of 10**15 without streaming past the rest
        s = hp.product(a=range(10**15), b=["x"]).derive(c=lambda p: p["a"] % 7)
        points = list(s.shard(3, 10**14))
        assert [p["a"] for p in points] == [3 + i * 10**14 for i in range(10)]
        assert points[1] == {"a": 10**14 + 3, "b": "x", "c": (10**14 + 3) % 7}
        over = hp.override(hp.product(a=range(10**15), b=[1, 2]), hp.product(b=[0]))
        assert len(list(over.shard(0, 10**14))) == 10
        small = hp.union(hp.product(a=range(20)), hp.product(hp.let(k=[1, 2]), a=[5]))
        for n in (8, 9, 30):
            for k in range(n):
                assert list(small.shard(k, n)) == list(small)[k::n]

    def test_sample_is_reproducible(self):
        s = grid(3)
        drawn = s.sample(5, seed=42)
        indices = random.Random(42).sample(range(1000), 5)
        assert list(drawn) == [s[i] for i in indices]
        assert len(drawn) == 5 and drawn[-1] == s[indices[-1]]

    def test_sample_past_maxsize(self):
        s = grid(20)
        assert s.count() > sys.maxsize
        with pytest.raises(OverflowError, match="more than len\\(\\) can return"):
            len(s)
        drawn = list(s.sample(3, seed=1))
        assert len({tuple(p.values()) for p in drawn}) == 3
        assert drawn == list(s.sample(3, seed=1))

    def test_sample_too_many(self):
        with pytest.raises(
            SweepError,
            match=r"^sample\(7\): the sweep has only 6 points, so 7 distinct ones "
            r"cannot be drawn; ask for at most 6$",
        ) as info:
            hp.product(a=range(6)).sample(7)
        assert (info.value.n, info.value.size) == (7, 6)

    def test_sample_of_a_filtered_sweep_draws_from_its_list(self):
        s = hp.product(a=range(20)).where(lambda p: p["a"] % 3)
        drawn = list(s.sample(4, seed=5))
        listed = list(s)
        indices = random.Random(5).sample(range(len(listed)), 4)
        assert drawn == [listed[i] for i in indices]
        with pytest.raises(SweepError, match=r"^sample\(14\): the sweep has only 13"):
            list(s.sample(14))

    def test_sample_and_count_an_override_without_enumerating(self):
        base = hp.product(**{"h{}".format(i): list(range(10)) for i in range(12)})
        s = hp.override(base, hp.product(h0=[0, 1]))  # 2 * 10**11 points
        assert s.count() == 2 * 10**11
        points = list(s.sample(3, seed=1))
        assert len(points) == 3 and all(p["h0"] in (0, 1) for p in points)
        with pytest.raises(TypeError):
            len(s)

    @pytest.mark.parametrize(
        "k, n, message",
        [
            (
                3,
                3,
                r"shard\(3, 3\): k must be in 0..2 \(shard k of n, counted from 0\)",
            ),
            (-1, 3, r"shard\(-1, 3\): k must be an integer >= 0, got -1"),
            (0, 0, r"shard\(0, 0\): n must be an integer >= 1, got 0"),
            (0, 1.5, r"shard\(0, 1.5\): n must be an integer >= 1, got 1.5"),
        ],
    )
    def test_shard_errors(self, k, n, message):
        with pytest.raises(SweepError, match="^" + message + "$"):
            hp.product(a=[1]).shard(k, n)

    def test_sample_negative(self):
        with pytest.raises(SweepError, match=r"sample\(-1\): n must be an integer"):
            hp.product(a=[1]).sample(-1)


class TestErrors:
    def test_product_clash(self):
        with pytest.raises(SweepError) as info:
            hp.product(hp.product(lr=[1, 2]), lr=[3])
        assert str(info.value) == (
            "product(): 'lr' is set by two factors (product(lr=[1, 2]) and "
            "product(lr=[3])); give each name to one factor, or use union() for "
            "alternatives and override() to replace values"
        )
        assert info.value.name == "lr"

    def test_product_clash_through_a_derive(self):
        with pytest.raises(SweepError, match=r"'b' is set by two factors"):
            hp.product(hp.product(a=[1]).derive(b=lambda p: 1), b=[2])

    def test_table_ragged_row(self):
        with pytest.raises(SweepError) as info:
            hp.table(("d_model", "d_ff", "n_layers"), [(512, 2048, 4), (1024, 4096)])
        assert str(info.value) == (
            "table(): row 1 has 2 values for 3 columns (d_model, d_ff, n_layers); "
            "give every row one value per column"
        )
        assert (info.value.row, info.value.values, info.value.columns) == (1, 2, 3)

    @pytest.mark.parametrize(
        "columns, rows, message",
        [
            ("ab", [], r"table\(\): columns must be a list of names, got 'ab'"),
            (("a", "a"), [], r"table\(\): column 'a' appears twice"),
            (("a",), [5], r"table\(\): row 0 is not a list or tuple of values: 5"),
            ((1,), [(1,)], r"table\(\): the name 1 is not a non-empty string"),
        ],
    )
    def test_table_shape(self, columns, rows, message):
        with pytest.raises(SweepError, match="^" + message):
            hp.table(columns, rows)

    def test_zip_lengths(self):
        with pytest.raises(SweepError) as info:
            hp.zip(lr=[0.1, 0.01, 0.001], warmup=[0, 100])
        assert str(info.value) == (
            "zip(): axes have different lengths (lr: 3, warmup: 2); give every axis "
            "the same number of values"
        )
        assert info.value.lengths == {"lr": 3, "warmup": 2}

    def test_zip_of_a_fixed_value(self):
        with pytest.raises(SweepError, match=r"^zip\(\): 'b' is not an axis"):
            hp.zip(a=[1], b=2)

    @pytest.mark.parametrize(
        "call, message",
        [
            (lambda: hp.product(3), r"product\(\): positional argument 0 is 3; pass"),
            (
                lambda: hp.product({1: [2]}),
                r"product\(\): the name 1 is not a non-empty",
            ),
            (lambda: hp.product(a=hp.product()), r"product\(\): 'a' is given a sweep"),
            (lambda: hp.product(a={1, 2}), r"product\(\): 'a' is given a set"),
            (lambda: hp.product(a=iter([1])), r"product\(\): 'a' is given an iterator"),
            (lambda: hp.union([1]), r"union\(\): part 0 is \[1\]; pass sweeps"),
            (lambda: hp.let(hp.product()), r"let\(\): positional argument 0 is"),
            (lambda: hp.override(1, {}), r"override\(\): base is 1; pass a sweep"),
            (lambda: hp.defaults([1], {}), r"defaults\(\): values must be a dict"),
            (lambda: hp.defaults({"": 1}, {}), r"defaults\(\): the name '' is not"),
        ],
    )
    def test_bad_arguments(self, call, message):
        with pytest.raises(SweepError, match="^" + message):
            call()

    def test_derive_arguments(self):
        s = hp.product(a=[1])
        with pytest.raises(
            SweepError,
            match=r"^derive\(\): the value for 'b' is 4, not a function of the point; "
            r"use product\(b=...\) for a fixed value$",
        ):
            s.derive(b=4)
        with pytest.raises(
            SweepError,
            match=r"^derive\(\): 'a' is already set by the sweep it derives from; "
            r"derive a new name, or drop 'a' from that sweep$",
        ):
            s.derive(a=lambda p: 1)
        with pytest.raises(SweepError, match=r"^derive\(\): positional arguments"):
            s.derive([1])
        with pytest.raises(SweepError, match=r"^where\(\): 3 is not a function"):
            s.where(3)

    @pytest.mark.parametrize(
        "result, message",
        [
            ({"a": 1}, r"returned \{'a': 1\}; return a list of points"),
            (5, r"returned 5; return a list of points"),
            ([{"a": 1}, 7], r"point 1 is 7, neither a dict nor \(name, value\) pairs"),
            ([[("a", 1, 2)]], r"point 0 is \[\('a', 1, 2\)\], neither a dict"),
            ([{3: 1}], r"point 0 has the name 3; names are non-empty strings"),
        ],
    )
    def test_from_function_results(self, result, message):
        def configure():
            return result

        with pytest.raises(
            SweepError, match=r"^from_function\(configure\): " + message
        ):
            hp.from_function(configure)

    def test_from_function_not_callable(self):
        with pytest.raises(SweepError, match=r"^from_function\(3\): not callable"):
            hp.from_function(3)

    def test_errors_are_value_errors(self):
        with pytest.raises(ValueError):
            hp.zip(a=[1], b=[])


class TestIntrospection:
    def test_tree_of_nodes(self):
        t = hp.table(("d_model",), [(512,)])
        s = hp.product(
            hp.let(k=[1, 2]),
            t,
            hp.zip(a=[1, 2], b=[3, 4]),
            lr=[0.1, 0.01],
            act="relu",
        ).derive(d_ff=lambda p: 4 * p["d_model"])
        assert isinstance(s, Derive) and list(s.fns) == ["d_ff"]
        (product,) = s.children
        assert isinstance(product, Product)
        let, table, zipped, axis, fixed = product.factors
        assert isinstance(let, Let) and let.variables == ("k",)
        assert isinstance(table, Table) and table.columns == ("d_model",)
        assert table.rows == ((512,),)
        assert isinstance(zipped, Zip) and [a.name for a in zipped.axes] == ["a", "b"]
        assert all(isinstance(a, Axis) for a in zipped.children)
        assert isinstance(axis, Axis) and (axis.name, axis.values) == (
            "lr",
            (0.1, 0.01),
        )
        assert isinstance(fixed, Fixed) and (fixed.name, fixed.value) == ("act", "relu")
        assert s.names == {"d_model", "a", "b", "lr", "act", "d_ff"}

    def test_other_nodes(self):
        base = hp.from_function(lambda: [{"a": 1}])
        assert isinstance(base, FromFunction) and base.points == ({"a": 1},)
        assert isinstance(hp.union(base), Union)
        assert isinstance(base.where(bool), Where)
        assert isinstance(base.unique(), Unique)
        assert isinstance(base.shard(0, 2), Shard)
        assert isinstance(base.sample(1, seed=0), Sample)
        assert isinstance(hp.defaults({"b": 1}, base), Defaults)
        o = hp.override(base, hp.product(a=[2]))
        assert isinstance(o, Override) and o.children == (o.base, o.top)
        assert o.base is base

    def test_ranges_stay_ranges(self):
        axis = hp.product(seed=range(10**15)).factors[0]
        assert axis.values == range(10**15)


class TestRepr:
    @pytest.mark.parametrize(
        "sweep, text",
        [
            (
                hp.product(lr=[0.001, 0.0001], batch_size=[32, 64]),
                "product(lr=[0.001, 0.0001], batch_size=[32, 64])",
            ),
            (
                hp.product({"model.d": [1]}, n=range(3), x=hp.value([1])),
                "product({'model.d': [1], 'n': range(0, 3), 'x': value([1])})",
            ),
            (
                hp.union(hp.product(a=1), hp.let(k=[1])),
                "union(product(a=1), let(k=[1]))",
            ),
            (hp.zip(a=[1], b=[2]), "zip(a=[1], b=[2])"),
            (hp.table(("a",), [(1,)]), "table(('a',), [(1,)])"),
            (
                hp.override(hp.product(a=[1]), hp.product(a=[2])).unique(),
                "override(product(a=[1]), product(a=[2])).unique()",
            ),
            (
                hp.product(a=range(100)).shard(1, 2),
                "product(a=range(0, 100)).shard(1, 2)",
            ),
            (
                hp.product(a=list(range(20))),
                "product(a=[0, 1, 2, 3, 4, 5, 6, 7, ...])",
            ),
        ],
    )
    def test_repr(self, sweep, text):
        assert repr(sweep) == text

    def test_repr_of_functions(self):
        def ok(p):
            return True

        s = hp.product(a=[1]).derive(b=len).where(ok)
        assert repr(s) == "product(a=[1]).derive(b=len).where(ok)"


# -- properties -----------------------------------------------------------------
def context_free(sweep):
    if isinstance(sweep, (Derive, Where)):
        return False
    return all(map(context_free, sweep.children))


# SWEEP_EXAMPLES=3000 hunts longer
PROPERTIES = settings(
    max_examples=int(os.environ.get("SWEEP_EXAMPLES", "150")), deadline=None
)


@PROPERTIES
@given(sweep_models())
def test_points_match_the_reference_model(pair):
    sweep, model = pair
    assert list(sweep) == model_points(model)


@PROPERTIES
@given(sweeps())
def test_len_count_and_indexing_agree_with_iteration(sweep):
    points = list(sweep)
    assert sweep.count() == len(points)
    assert bool(sweep) == bool(points)
    if sweep._size is None:
        with pytest.raises(TypeError, match="no cheap length"):
            len(sweep)
        return
    assert len(sweep) == len(points)
    n = len(points)
    assert [sweep[i] for i in range(-n, n)] == points + points
    for index in (n, -n - 1):
        with pytest.raises(IndexError):
            sweep[index]


@PROPERTIES
@given(sweeps(), sweeps())
def test_union_length_adds(first, second):
    both = hp.union(first, second)
    assert both.count() == first.count() + second.count()
    assert list(both) == list(first) + list(second)


@PROPERTIES
@given(sweeps(names=("a", "b"), lets=("v",)), sweeps(names=("c", "d"), lets=("w",)))
def test_product_length_multiplies(first, second):
    # derive/where may read earlier factors; the count multiplies for the others
    assume(context_free(first) and context_free(second))
    both = hp.product(first, second)
    assert both.count() == first.count() * second.count()
    if first._size is not None and second._size is not None:
        assert len(both) == len(first) * len(second)
        assert list(both) == [
            {**p, **q} for p, q in itertools.product(list(first), list(second))
        ]


@PROPERTIES
@given(sweeps(), st.integers(1, 10))
def test_shards_partition_the_sweep(sweep, n):
    points = list(sweep)
    shards = [list(sweep.shard(k, n)) for k in range(n)]
    assert sum(map(len, shards)) == len(points)
    for k, shard in enumerate(shards):
        assert shard == points[k::n]


@PROPERTIES
@given(sweeps(), st.integers(0, 5), st.integers(0, 3))
def test_sample_draws_distinct_members(sweep, n, seed):
    if sweep._size is None or n > sweep._size:
        return
    indices = random.Random(seed).sample(range(sweep._size), n)
    assert len(set(indices)) == n
    assert list(sweep.sample(n, seed=seed)) == [sweep[i] for i in indices]


@PROPERTIES
@given(sweeps())
def test_unique_keeps_first_occurrences(sweep):
    expected = []
    for point in sweep:
        if point not in expected:
            expected.append(point)
    assert list(sweep.unique()) == expected


@PROPERTIES
@given(sweeps(), st.dictionaries(st.sampled_from("abcde"), st.lists(st.integers(0, 2))))
def test_override_cheap_and_enumerated_paths_agree(base, top_axes):
    top = hp.product(**top_axes)
    cheap = hp.override(base, top)
    enumerated = hp.override(Union([base]), top)
    points = list(cheap)
    assert points == list(enumerated)
    if cheap.clash:
        with pytest.raises(TypeError, match="no cheap length"):
            len(cheap)
    n = cheap._count_cheaply()
    if n is not None:  # counted and sampled without enumerating
        assert n == cheap.count() == len(points)
        order = random.Random(0).sample(range(n), n)
        assert list(cheap.sample(n, seed=0)) == [points[i] for i in order]


class TestLetReadByEarlierSiblings:
    def test_let_written_last_is_visible_and_varies_fastest(self):
        s = hp.product(
            hp.union(
                hp.product(method="a").derive(x=lambda p: p["k"] * 10),
                hp.product(method="b").derive(y=lambda p: p["k"]),
            ),
            hp.let(k=[1, 2]),
        )
        expected = [
            {"method": "a", "x": 10},
            {"method": "a", "x": 20},
            {"method": "b", "y": 1},
            {"method": "b", "y": 2},
        ]
        assert len(s) == 4 and list(s) == expected
        assert [s[i] for i in range(-4, 0)] == expected
