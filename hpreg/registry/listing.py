"""Listings of one or several managers: table, detail, yaml, json."""

import json
from typing import Any, Dict, List, Optional, Sequence

from hpreg.registry.checks import type_name
from hpreg.errors import NotLiteralEvaluable, UsageError
from hpreg.registry.occurrences import EmptyValue
from hpreg.io.limits import json_safe
from hpreg.io.tree import plain_value as tree_plain_value

FORMATS = ("table", "detail", "yaml", "json")


def render(
    managers: Sequence[Any], fmt: str = "table", manager_column: Optional[bool] = None
) -> str:
    """The hyperparameters of ``managers`` as text in format ``fmt``.

    The table has a ``manager`` column when asked, or by default when several
    managers are listed.
    """
    if fmt not in FORMATS:
        raise UsageError(
            problem="unknown listing format {!r}".format(fmt),
            fix="use one of {}".format(", ".join(FORMATS)),
        )
    managers = list(managers)
    if fmt == "table":
        if manager_column is None:
            manager_column = len({m.placeholder for m in managers}) > 1
        return _table(managers, manager_column)
    return {"detail": _detail, "yaml": _yaml, "json": _json}[fmt](managers)


def records(managers: Sequence[Any]) -> List[Dict[str, Any]]:
    """One record per hyperparameter: name, value, type, file, line, hints, manager."""
    rows = []
    for manager in managers:
        names = list(manager.names())
        scanned = set(names)
        names += [n for n in manager.get_values() if n not in scanned]
        for name in names:
            value = manager.get_value(name, raise_exception=False)
            occurrence = (
                manager.scanned_default(name)
                or (manager.get_occurrences(name) or [manager.get_occurrence(name)])[0]
            )
            rows.append(
                {
                    "manager": manager.placeholder,
                    "name": name,
                    "value": value,
                    "type": (
                        type_name(manager.get_default(name))
                        if not isinstance(manager.get_default(name), EmptyValue)
                        else type_name(value)
                    ),
                    "file": occurrence.filename if occurrence is not None else None,
                    "line": occurrence.lineno if occurrence is not None else None,
                    "location": (
                        occurrence.short_location
                        if occurrence is not None and occurrence.filename
                        else "(set at runtime)"
                    ),
                    "hints": manager.get_hints(name),
                    "occurrences": manager.get_occurrences(name),
                }
            )
    return rows


def format_value(value: Any) -> str:
    if isinstance(value, EmptyValue):
        return "(no default)"
    if isinstance(value, NotLiteralEvaluable):
        return "<code: {}>".format(getattr(value, "source", "?"))
    return repr(value)


def _format_hints(hints: Dict[str, Any]) -> str:
    return ", ".join("{}={!r}".format(k, v) for k, v in hints.items())


def _table(managers, several: bool) -> str:
    from prettytable import PrettyTable

    rows = records(managers)
    columns = ["name", "type", "value", "where defined", "hints"]
    if several:
        columns.insert(0, "manager")
    table = PrettyTable(columns)
    table.align = "l"
    for row in rows:
        cells = [
            row["name"],
            row["type"],
            format_value(row["value"]),
            row["location"],
            _format_hints(row["hints"]),
        ]
        if several:
            cells.insert(0, row["manager"])
        table.add_row(cells)
    return table.get_string()


def _detail(managers) -> str:
    blocks = []
    for row in records(managers):
        head = "{}{} = {}  ({})".format(
            "{}: ".format(row["manager"]) if len(managers) > 1 else "",
            row["name"],
            format_value(row["value"]),
            row["type"],
        )
        lines = [head]
        if row["hints"]:
            lines.append("  hints: {}".format(_format_hints(row["hints"])))
        for i, occurrence in enumerate(row["occurrences"]):
            lines.append("  occurrence[{}]: {}".format(i, occurrence.location))
            text = occurrence.excerpt()
            if text:
                lines.extend("    " + line for line in text.split("\n"))
        if not row["occurrences"]:
            lines.append("  (no occurrence found by a scan)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def plain_value(value: Any) -> Any:
    """Values as YAML/JSON can hold them: tuples as lists, code as its text."""
    return tree_plain_value(value, _code_as_text)


def _code_as_text(value: Any) -> Any:
    if isinstance(value, NotLiteralEvaluable):
        return getattr(value, "source", None)
    if isinstance(value, EmptyValue):
        return None
    return value


def shown_value(value: Any) -> Any:
    """``plain_value(value)`` with what YAML cannot hold (bytes, objects) as its repr."""
    value = plain_value(value)
    if isinstance(value, list):
        return [shown_value(v) for v in value]
    if isinstance(value, dict):
        return {k: shown_value(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _yaml(managers) -> str:
    from hpreg.io.files import dump_yaml

    from hpreg.registry.values import _without_code

    # values only, as a values file holds them: code defaults are not values
    if len(managers) == 1:
        data = shown_value(_without_code(managers[0].get_tree()))
    else:
        data = {
            m.placeholder: shown_value(_without_code(m.get_tree())) for m in managers
        }
    return dump_yaml(data)


def _json(managers) -> str:
    out = []
    for row in records(managers):
        out.append(
            {
                "manager": row["manager"],
                "name": row["name"],
                "value": plain_value(row["value"]),
                "type": row["type"],
                "file": row["file"],
                "line": row["line"],
                "hints": plain_value(row["hints"]),
            }
        )
    return json.dumps(json_safe(out), indent=2, default=repr)
