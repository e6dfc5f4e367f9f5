"""Walking a sweep tree: the one traversal mechanism every client uses.

Each node class declares its ``kind`` and ``node.accept(visitor, *args)`` calls
``visitor.visit_<kind>(node, *args)``. A ``SweepVisitor`` has one method per kind,
each defaulting to ``generic_visit``, which visits ``node.children`` in order; a
client overrides the kinds it cares about and calls ``self.generic_visit(node,
*args)`` to go on below them. Nothing here imports the node classes: a client
reads a node's attributes (listed below), so it depends on this module alone.

A ``SweepTransformer`` rebuilds instead: its ``generic_visit`` returns
``node.with_children(...)`` of the transformed children (the node itself when
none changed, its parameters and origin kept), so it overrides only the kinds it
rewrites.

Kinds and what a client reads (every node has ``children``, ``names``,
``origin`` and ``origin_source``):

- ``axis``: ``name``, ``values`` (a tuple or a range); ``fixed``: ``name``, ``value``.
- ``table``: ``columns``, ``rows``; ``zip``: ``axes`` (its children, ``axis`` nodes).
- ``from_function``: ``function``, ``points`` (a function's finite list of points).
- ``let``: ``child``, ``variables``: sweep variables, not hyperparameters.
- ``defaults``: ``values`` (a dict in every point), ``child``.
- ``derive``: ``fns`` (name -> function of the point: dynamic values), ``child``.
- ``product``: ``factors``; ``union``: ``parts``; ``where``: ``pred``;
  ``unique``; ``shard``: ``k``, ``n``; ``sample``: ``n``, ``seed``, ``indices``;
  ``override``: ``base``, ``top``, ``clash`` (names ``top`` pins inside ``base``);
  ``validated``: ``dynamic`` (name -> where, checked as points are drawn).

Clients: validation (``hpreg.sweep.check``) checks what is known up front,
``override`` pins the top's names inside the base (``hpreg.sweep.override``),
sweep files and the command line give leaves their origin (``locate_leaves``
below), and ``hpreg sweep`` looks for dynamic checks. The optimizer
(``hpreg/optimizer/``) will be one more: a visitor that turns a sweep or a search
space into suggest calls, e.g. ``visit_axis`` -> ``suggest_categorical(node.name,
node.values)``, a ``range`` axis -> ``suggest_int``.
"""

from typing import Any, Dict, Optional

KINDS = (
    "axis",
    "fixed",
    "table",
    "zip",
    "from_function",
    "let",
    "defaults",
    "derive",
    "product",
    "union",
    "where",
    "unique",
    "shard",
    "sample",
    "override",
    "validated",
)


class SweepVisitor:
    """Visit a sweep tree by node kind; every ``visit_<kind>`` defaults to
    ``generic_visit``, which visits the children and returns None."""

    def visit(self, node: Any, *args: Any) -> Any:
        return node.accept(self, *args)

    def generic_visit(self, node: Any, *args: Any) -> Any:
        for child in node.children:
            self.visit(child, *args)
        return None

    def visit_axis(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_fixed(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_table(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_zip(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_from_function(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_let(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_defaults(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_derive(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_product(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_union(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_where(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_unique(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_shard(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_sample(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_override(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)

    def visit_validated(self, node: Any, *args: Any) -> Any:
        return self.generic_visit(node, *args)


class SweepTransformer(SweepVisitor):
    """A visitor that returns a new tree: by default each node over its
    transformed children (the same node when none changed)."""

    def generic_visit(self, node: Any, *args: Any) -> Any:
        return node.with_children([self.visit(child, *args) for child in node.children])


class _Locate(SweepTransformer):
    def __init__(self, origins: Dict[str, Any], source: Optional[str]):
        self.origins = origins
        self.source = source

    def generic_visit(self, node: Any) -> Any:
        if node.origin is not None:
            return node  # a nested mapping located its own leaves
        return super().generic_visit(node)

    def visit_axis(self, node: Any) -> Any:
        name = node.name
        if node.origin is None and isinstance(name, str) and name in self.origins:
            return node.located(self.origins[name], self.source)
        return node

    visit_fixed = visit_axis


def locate_leaves(sweep: Any, origins: Dict[str, Any], source: Optional[str] = None):
    """``sweep`` with each axis and fixed value whose name is in ``origins``
    located there (``product[1].lr``, ``lr=0.1,0.01``), so validation errors name
    it; subtrees already located are kept as they are."""
    if not origins:
        return sweep
    return _Locate(origins, source).visit(sweep)


__all__ = ["KINDS", "SweepVisitor", "SweepTransformer", "locate_leaves"]
