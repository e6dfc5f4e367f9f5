"""Sweep files: YAML mappings (``product``/``union``/``table``/``with NAME``/``let``)
and ``file.py:function`` sweeps, read into the algebra of :mod:`hpreg.sweep`.

This module owns the file format and its error messages (``sweep.yaml:
product[1].union[0].d_model: ...``); what the points mean is left to the algebra, and
whether the names exist to :mod:`hpreg.validate`.
"""

import os
import re
from typing import Any, Dict, List, Optional

from hpreg.sweep import algebra
from hpreg.io.files import load_values_file, load_yaml_file
from hpreg.io.tree import flatten_nested
from hpreg.sweep.function import load_function_sweep
from hpreg.sweep.expressions import evaluate_constant
from hpreg.sweep.context import _Context, _type_name
from hpreg.sweep.ranges import MAX_FLOAT_AXIS, FloatRange
from hpreg.sweep.file_keys import (
    MODIFIER_KEYS,
    NODE_KEYS,
    RESERVED,
    WITH_PREFIX,
    check_key,
)
from hpreg.sweep.file_modifiers import apply_modifiers, locate_expression_error
from hpreg.sweep.visit import locate_leaves
from hpreg.errors import (
    ExpressionError,
    SweepFileError,
    ValuesFileError,
)

__all__ = ["load_sweep", "parse_sweep", "load_function_sweep", "flatten_values"]

_RANGE = re.compile(r"^\s*range\s*\(.*\)\s*$", re.DOTALL)
_FUNCTION_REF = re.compile(r"^(?P<path>.+\.py):(?P<function>[A-Za-z_]\w*)$")

_SHAPE_HELP = (
    "a sweep node is a mapping of names to values or lists of values, "
    "possibly with product, union, table, let, 'with NAME', derive, where, unique"
)


# -- nodes ----------------------------------------------------------------------------
def _parse_node(data: Any, ctx: _Context, top: bool = False):
    if isinstance(data, dict):
        return _parse_mapping(data, ctx, top=top)
    if isinstance(data, list):
        raise ctx.error(
            "a list cannot stand here",
            "write 'product: [...]' or 'union: [...]' to combine the items",
        )
    raise ctx.error(
        "expected a mapping, got {}".format(_type_name(data)),
        "write name: value or name: [values] here ({})".format(_SHAPE_HELP),
    )


def _parse_mapping(data: dict, ctx: _Context, top: bool = False):
    factors: List[Any] = []
    names: Dict[str, Any] = {}
    origins: Dict[str, str] = {}
    modifiers = {}

    def flush():
        if names:
            factors.append(dict(names))
            names.clear()

    for key, value in data.items():
        check_key(key, ctx, value)
        if key == "include":
            if not top:
                raise ctx.child(key).error(
                    "include is only allowed at the top level of a sweep file",
                    "move it to the top of the file",
                )
            continue  # applied by parse_sweep, around everything else
        if key in MODIFIER_KEYS:
            modifiers[key] = value
            continue
        match = WITH_PREFIX.match(key)
        if key in NODE_KEYS or match:
            flush()
            factors.append(_parse_keyed_node(key, value, ctx, match))
            continue
        full = ctx.name(key)
        if full in names:
            raise ctx.child(key).error(
                "{!r} is set twice in this mapping".format(full), "keep one of them"
            )
        entry = _parse_entry(value, ctx.child(key), full)
        if isinstance(entry, _Nested):
            flush()
            factors.append(entry.sweep)
        else:
            names[full] = entry
            origins[full] = ctx.child(key).key
    flush()
    if len(factors) == 1 and not isinstance(factors[0], dict):
        sweep = factors[0]
    else:
        sweep = ctx.build(algebra.product, *factors)
    # leaves get their key path (``product[1].lr``) so validation errors name it
    sweep = locate_leaves(sweep, origins)
    return apply_modifiers(sweep, modifiers, ctx)


class _Nested:
    def __init__(self, sweep):
        self.sweep = sweep


def _parse_entry(value: Any, ctx: _Context, full: str):
    """What a ``name: value`` entry means: an axis, a fixed value, or nested names."""
    if isinstance(value, list):
        if not value:
            raise ctx.error(
                "empty list of values",
                "give at least one value, or write {value: []} for an empty list",
            )
        return list(value)
    if isinstance(value, str) and _RANGE.match(value):
        try:
            axis = evaluate_constant(value, where=ctx.where)
        except ExpressionError as exc:
            raise locate_expression_error(exc, ctx) from None
        if not isinstance(axis, (range, FloatRange)):
            raise ctx.error(
                "{!r} is not a range".format(value),
                "write range(stop), range(start, stop) or range(start, stop, step)",
            )
        if not axis:
            raise ctx.error(
                "{} is empty (the end is excluded)".format(value.strip()),
                "check the bounds and the step's sign",
            )
        if isinstance(axis, FloatRange):
            if len(axis) > MAX_FLOAT_AXIS:
                raise ctx.error(
                    "{} has {} values (at most {} for a float range)".format(
                        value.strip(), len(axis), MAX_FLOAT_AXIS
                    ),
                    "use a larger step, or ints",
                )
            return list(axis)  # the algebra keeps lazy ranges for ints only
        return axis
    if isinstance(value, dict):
        if "value" in value:
            if len(value) != 1:
                others = ", ".join(repr(k) for k in value if k != "value")
                raise ctx.error(
                    "'value' must be the only key of its mapping (also found {})".format(
                        others
                    ),
                    "write {value: X} to fix a list or mapping value, or move the other "
                    "names out",
                )
            return algebra.value(value["value"])
        if not value:
            raise ctx.error(
                "empty mapping",
                "write {value: {}} for an empty mapping value, or give nested names",
            )
        return _Nested(_parse_mapping(value, _Context(ctx.source, ctx.key, full)))
    return value


def _parse_keyed_node(key: str, value: Any, ctx: _Context, match):
    here = ctx.child(key)
    if match:
        prefix = ctx.name(match.group(1))
        inner = _Context(ctx.source, here.key, prefix)
        if isinstance(value, list):
            return inner.build(
                algebra.product,
                *[_parse_node(v, inner.child(i)) for i, v in enumerate(value)],
            )
        return _parse_node(value, inner)
    if key == "product":
        if isinstance(value, dict):
            return _parse_mapping(value, here)
        items = _node_list(value, here)
        return here.build(
            algebra.product,
            *[_parse_node(v, here.child(i)) for i, v in enumerate(items)],
        )
    if key == "union":
        if isinstance(value, dict):
            return _union_of_mapping(value, here)
        items = _node_list(value, here)
        return here.build(
            algebra.union, *[_parse_node(v, here.child(i)) for i, v in enumerate(items)]
        )
    if key == "table":
        return _parse_table(value, here)
    return _parse_let(value, here)


def _node_list(value: Any, ctx: _Context) -> list:
    if not isinstance(value, list):
        raise ctx.error(
            "expected a list of sweep nodes, got {}".format(_type_name(value)),
            "write a YAML list: '- name: [values]' per item",
        )
    return value


def _union_of_mapping(value: dict, ctx: _Context):
    """``union: {a: [1, 2], b: [3]}``: each entry is its own alternative (Hyperion)."""
    members = []
    modifiers = {}
    for key, item in value.items():
        check_key(key, ctx, item)
        if key in MODIFIER_KEYS:
            modifiers[key] = item
            continue
        members.append(_parse_mapping({key: item}, ctx))
    return apply_modifiers(ctx.build(algebra.union, *members), modifiers, ctx)


def _parse_table(value: Any, ctx: _Context):
    fix = "write table: {columns: [a, b], rows: [[1, 2], [3, 4]]}"
    if not isinstance(value, dict):
        raise ctx.error(
            "expected a mapping with columns and rows, got {}".format(
                _type_name(value)
            ),
            fix,
        )
    unknown = [k for k in value if k not in ("columns", "rows") + MODIFIER_KEYS]
    if unknown:
        raise ctx.child(unknown[0]).error(
            "unknown key {!r} in a table".format(unknown[0]),
            "a table takes columns, rows (and derive, where, unique)",
        )
    for required in ("columns", "rows"):
        if required not in value:
            raise ctx.error("table without {}".format(required), fix)
    columns, rows = value["columns"], value["rows"]
    if not isinstance(columns, list) or not columns:
        raise ctx.child("columns").error(
            "expected a list of names, got {}".format(_type_name(columns)), fix
        )
    for i, column in enumerate(columns):
        if not isinstance(column, str) or not column.strip():
            raise ctx.child("columns").child(i).error(
                "column {!r} is not a name".format(column), "write names as strings"
            )
    repeated = [c for i, c in enumerate(columns) if c in columns[:i]]
    if repeated:
        raise ctx.child("columns").error(
            "column {!r} appears twice".format(repeated[0]), "keep one of them"
        )
    if not isinstance(rows, list):
        raise ctx.child("rows").error(
            "expected a list of rows, got {}".format(_type_name(rows)), fix
        )
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise ctx.child("rows").child(i).error(
                "expected a row (a list of {} values), got {}".format(
                    len(columns), _type_name(row)
                ),
                "write [v1, v2, ...] in the order of columns",
            )
        if len(row) != len(columns):
            raise ctx.child("rows").child(i).error(
                "row has {} values for {} columns ({})".format(
                    len(row), len(columns), ", ".join(columns)
                ),
                "give one value per column",
                row=i,
            )
    sweep = ctx.build(
        algebra.table, tuple(ctx.name(c) for c in columns), [tuple(r) for r in rows]
    ).located(ctx.key)
    modifiers = {k: value[k] for k in MODIFIER_KEYS if k in value}
    return apply_modifiers(sweep, modifiers, ctx)


def _parse_let(value: Any, ctx: _Context):
    if not isinstance(value, dict) or not value:
        raise ctx.error(
            "expected a mapping of variables, got {}".format(_type_name(value)),
            "write let: {maxfun: 'range(10, 151, 10)'} or let: {k: [1, 2]}",
        )
    variables = {}
    for key, item in value.items():
        check_key(key, ctx, item)
        here = ctx.child(key)
        if key in RESERVED:
            raise here.error(
                "{!r} cannot be a sweep variable (it is a reserved key)".format(key),
                "choose another name",
            )
        if isinstance(item, dict):
            raise here.error(
                "a sweep variable takes a list, a 'range(...)' string or one value, "
                "not a mapping",
                "write {}: [v1, v2]".format(key),
            )
        entry = _parse_entry(item, here, ctx.name(key))
        variables[ctx.name(key)] = entry
    return ctx.build(algebra.let, variables)


# -- include --------------------------------------------------------------------------------
def flatten_values(values: dict, prefix: str = "") -> Dict[str, Any]:
    """An included values file's names, flat and dotted (see ``flatten_nested``)."""
    return flatten_nested(values, ".", prefix)


def _load_includes(
    value: Any, ctx: _Context, base_dir: str, origins: Dict[str, str]
) -> Dict[str, Any]:
    """The values of the included files, later files winning; ``origins`` gets each
    name's key path (``include.lr``, ``include[1].lr``) for validation errors."""
    here = ctx.child("include")
    paths = value if isinstance(value, list) else [value]
    merged: Dict[str, Any] = {}
    for i, path in enumerate(paths):
        at = here.child(i) if isinstance(value, list) else here
        if not isinstance(path, str) or not path.strip():
            raise at.error(
                "expected the path of a values file, got {}".format(_type_name(path)),
                "write include: base.yaml",
            )
        full = os.path.join(base_dir, path)
        if not os.path.isfile(full):
            raise at.error(
                "values file {!r} not found (looked for {})".format(path, full),
                "the path is relative to the sweep file's folder",
                include=full,
            )
        try:
            values = flatten_values(load_values_file(full))
        except ValuesFileError as exc:
            raise at.error(str(exc), include=full) from None
        merged.update(values)
        origins.update((name, at.child(name).key) for name in values)
    return merged


# -- entry points -------------------------------------------------------------------------
def parse_sweep(data: Any, source: str = "sweep.yaml", base_dir: Optional[str] = None):
    """Read a parsed sweep file (a mapping) into a Sweep; ``source`` names the file in
    errors and ``include`` paths are relative to ``base_dir`` (by default its folder).
    """
    ctx = _Context(str(source))
    if data is None:
        raise ctx.error(
            "the sweep file is empty", "write at least one 'name: [values]' line"
        )
    if not isinstance(data, dict):
        raise ctx.error(
            "a sweep file is a mapping, not {}".format(_type_name(data)),
            "write name: [values] lines, or 'union:' with a list of alternatives",
        )
    sweep = _parse_mapping(data, ctx, top=True)
    if "include" in data:
        if base_dir is None:
            base_dir = os.path.dirname(os.path.abspath(str(source)))
        origins: Dict[str, str] = {}
        values = _load_includes(data["include"], ctx, base_dir, origins)
        sweep = ctx.child("include").build(algebra.defaults, values, sweep)
        sweep = sweep.located(origins)
    return sweep


def load_sweep(path):
    """Load a sweep from a YAML (or JSON) file, or from ``file.py:function`` (a
    function returning points, as the Hydra python sweeper takes)."""
    text = os.fspath(path)
    match = _FUNCTION_REF.match(text)
    if match:
        return load_function_sweep(match.group("path"), match.group("function"))
    if text.endswith(".py"):
        raise SweepFileError(
            where=text,
            problem="a Python sweep names its function",
            fix="write {}:FUNCTION".format(text),
            path=text,
            key="",
        )
    data = load_yaml_file(text, error=SweepFileError)
    return parse_sweep(data, source=text)
