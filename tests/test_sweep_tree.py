"""Sweep trees: immutable nodes with declared metadata (``origin``, ``origin_source``,
``hide``), and one way to walk them (``hpreg.sweep.visit``) that validation,
``override`` and the coming optimizer share."""

import textwrap

import pytest

import hpreg
from hpreg.errors import UnknownHyperparameterError
from hpreg.sweep.algebra import Axis, Derive, Fixed, Where
from hpreg.sweep.file import load_sweep
from hpreg.sweep.overrides import parse_overrides
from hpreg.sweep.validate import validate
from hpreg.sweep.visit import KINDS, SweepTransformer, SweepVisitor, locate_leaves

SWEEP_FILE = """\
include: base.yaml
lr: [0.1, 0.01]
optimizer: adam
model:
  width: [64, 128]
  derive: {depth: 'width // 16'}
union:
  - {seed: [0, 1]}
  - table: {columns: [dropout, wd], rows: [[0.0, 0.1], [0.5, 0.2]]}
let: {k: [1, 2]}
where: 'k == 1'
unique: true
"""

SOURCE = """\
_("lr", 0.1)
_("optimizer", "sgd")
_("model.width", 64)
_("model.depth", 4)
_("seed", 0)
_("dropout", 0.0)
_("wd", 0.0)
_("batch", 32)
_("x", 0)
_("y", 0)
"""


@pytest.fixture(name="hp")
def fixture_hp():
    manager = hpreg.HyperParameterManager("_")
    manager.parse_source(SOURCE, "train.py")
    return manager


@pytest.fixture(name="every_kind")
def fixture_every_kind(tmp_path, hp):
    """A sweep file met by the command line, as ``hpreg sweep`` builds it, with every
    kind of node: file sweep and function sweep, zip, shard, sample, validation."""
    (tmp_path / "base.yaml").write_text("batch: 32\n")
    (tmp_path / "sweep.yaml").write_text(SWEEP_FILE)
    (tmp_path / "points.py").write_text(
        "def points():\n    return [{'x': 1, 'y': 2}, {'x': 3, 'y': 4}]\n"
    )
    from_file = load_sweep(tmp_path / "sweep.yaml")
    function = load_sweep("{}:points".format(tmp_path / "points.py"))
    command_line = parse_overrides(["lr=0.5,0.05", "optimizer=sgd"])
    overridden = hpreg.override(from_file, command_line)
    sweep = hpreg.union(
        overridden.shard(0, 2),
        function.sample(1, seed=0),
        hpreg.zip(x=[5, 6], y=[7, 8]),
    )
    return validate(sweep, hp, source="sweep.yaml")


class _Kinds(SweepVisitor):
    def __init__(self):
        self.kinds = set()

    def generic_visit(self, node):
        self.kinds.add(node.kind)
        super().generic_visit(node)


class _SearchSpace(SweepVisitor):
    """The optimizer's use case: each axis's name and values, each fixed value."""

    def __init__(self):
        self.axes = {}
        self.fixed = {}

    def visit_axis(self, node):
        self.axes[node.name] = list(node.values)

    def visit_fixed(self, node):
        self.fixed[node.name] = node.value

    def visit_table(self, node):
        for j, column in enumerate(node.columns):
            self.axes[column] = [row[j] for row in node.rows]

    def visit_let(self, node):
        return  # sweep variables are not hyperparameters


class TestVisitors:
    def test_a_visitor_reaches_every_kind_of_node(self, every_kind):
        visitor = _Kinds()
        visitor.visit(every_kind)
        assert visitor.kinds == set(KINDS)

    def test_the_optimizer_collects_each_axis_name_and_values(self, tmp_path):
        (tmp_path / "base.yaml").write_text("batch: 32\n")
        (tmp_path / "sweep.yaml").write_text(SWEEP_FILE)
        space = _SearchSpace()
        space.visit(load_sweep(tmp_path / "sweep.yaml"))
        assert space.axes == {
            "lr": [0.1, 0.01],
            "model.width": [64, 128],
            "seed": [0, 1],
            "dropout": [0.0, 0.5],
            "wd": [0.1, 0.2],
        }
        assert space.fixed == {"optimizer": "adam"}

    def test_visit_methods_get_extra_arguments(self):
        class Depth(SweepVisitor):
            def generic_visit(self, node, depth):
                return max(
                    [depth] + [self.visit(child, depth + 1) for child in node.children]
                )

        sweep = hpreg.product(hpreg.union({"a": [1]}, {"b": [2]}), c=3)
        assert Depth().visit(sweep, 0) == 3

    def test_a_transformer_rebuilds_only_what_changes(self):
        class Doubled(SweepTransformer):
            def visit_axis(self, node):
                return Axis(node.name, [2 * v for v in node.values])

        untouched = hpreg.product(b=3)
        sweep = hpreg.product(untouched, hpreg.union({"a": [1, 2]})).derive(
            c=lambda p: p["a"] + p["b"]
        )
        doubled = Doubled().visit(sweep)
        assert list(doubled) == [{"b": 3, "a": 2, "c": 5}, {"b": 3, "a": 4, "c": 7}]
        assert list(sweep)[0] == {"b": 3, "a": 1, "c": 4}  # the original is unchanged
        assert Doubled().visit(untouched) is untouched

    def test_with_children_keeps_parameters_and_origin(self):
        where = Where(hpreg.product(a=[1, 2]), lambda p: p["a"] > 1, hide=True)
        located = where.located("where", "sweep.yaml")
        rebuilt = located.with_children([hpreg.product(a=[1, 2, 3])])
        assert (rebuilt.pred, rebuilt.hide) == (where.pred, True)
        assert (rebuilt.origin, rebuilt.origin_source) == ("where", "sweep.yaml")
        assert list(rebuilt) == [{"a": 2}, {"a": 3}]
        assert located.with_children(located.children) is located


class TestImmutableNodes:
    def test_every_node_refuses_assignment(self, every_kind):
        nodes, stack = [], [every_kind]
        while stack:
            node = stack.pop()
            nodes.append(node)
            stack.extend(node.children)
        assert {node.kind for node in nodes} == set(KINDS)
        for node in nodes:
            with pytest.raises(AttributeError, match="immutable.*located"):
                node.origin = "lr"
            with pytest.raises(AttributeError, match="immutable"):
                node.children = ()
            with pytest.raises(AttributeError, match="immutable"):
                del node.children

    def test_drawing_a_sample_of_a_filtered_sweep_still_works(self):
        sample = hpreg.product(a=range(10)).where(lambda p: p["a"] % 2).sample(2, 1)
        assert sample.indices is None
        points = list(sample)
        assert len(points) == 2 and sample.indices is not None
        assert list(sample) == points

    def test_metadata_is_declared(self):
        axis = Axis("lr", [0.1])
        assert (axis.origin, axis.origin_source) == (None, None)
        derive = Derive(axis, {"d": lambda p: 1})
        assert derive.hide is False
        assert Derive(axis, {"d": lambda p: 1}, hide=True).hide is True

    def test_located_is_a_copy(self):
        axis = Axis("lr", [0.1, 0.2])
        located = axis.located("grid.lr", "sweep.yaml")
        assert (located.origin, located.origin_source) == ("grid.lr", "sweep.yaml")
        assert axis.origin is None and list(located) == list(axis)
        assert type(located) is Axis
        with pytest.raises(AttributeError):
            located.origin = "other"


class TestOriginsInErrors:
    def test_a_located_leaf_is_named_in_the_error(self, hp):
        sweep = hpreg.product(Axis("lrr", [0.1]).located("grid[1].lrr", "my.yaml"))
        with pytest.raises(UnknownHyperparameterError) as info:
            validate(sweep, hp, source="sweep.yaml")
        assert str(info.value).startswith(
            "my.yaml: grid[1].lrr: unknown hyperparameter 'lrr'"
        )

    def test_a_derive_is_located_per_name(self, hp):
        sweep = hpreg.product(lr=[0.1]).derive(dpth=lambda p: 1)
        sweep = sweep.located({"dpth": "derive.dpth"})
        with pytest.raises(UnknownHyperparameterError) as info:
            validate(sweep, hp, source="sweep.yaml")
        assert str(info.value).startswith(
            "sweep.yaml: derive.dpth: unknown hyperparameter 'dpth'"
        )

    def test_locate_leaves_skips_what_is_located(self, hp):
        inner = hpreg.product(Fixed("seed", "a").located("inner.seed"))
        sweep = locate_leaves(
            hpreg.product(inner, optimizer=1),
            {"seed": "outer.seed", "optimizer": "optimizer=1"},
            source="command line",
        )
        seed, optimizer = sweep.children
        assert (seed.origin, seed.origin_source) == ("inner.seed", None)
        assert (optimizer.origin, optimizer.origin_source) == (
            "optimizer=1",
            "command line",
        )
        assert locate_leaves(sweep, {}) is sweep

    def test_a_sweep_file_names_its_keys(self, tmp_path, hp):
        (tmp_path / "sweep.yaml").write_text(
            textwrap.dedent(
                """\
                product:
                  - {lr: [0.1]}
                  - model: {wdth: [1, 2]}
                """
            )
        )
        with pytest.raises(UnknownHyperparameterError) as info:
            validate(load_sweep(tmp_path / "sweep.yaml"), hp, source="sweep.yaml")
        assert str(info.value).startswith(
            "sweep.yaml: product[1].model.wdth: unknown hyperparameter 'model.wdth'"
        )
