"""Values files for a manager: save and load YAML/JSON, checked against the registry."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs import time in every training job
if TYPE_CHECKING:
    from typing import Any, Dict, Mapping, Optional

from hpreg.io import source as _source
from hpreg.registry.checks import check_hints, coerce_to_default
from hpreg._text import did_you_mean, join_fix, key_text, suggestion
from hpreg.errors import (
    NotLiteralEvaluable,
    UnknownHyperparameterError,
    ValuesFileError,
    ValuesFileTypeError,
    ValueTypeError,
    text_fields,
)
from hpreg.registry.provenance import Provenance


class ValuesFileMixin:
    """``save``/``load`` and the one path every values file goes through.

    ``_.load``, ``--hp-load``, ``$HPREG_CONFIG`` and the runner's point files all
    read -> flatten -> coerce to the default's type -> check type and hints ->
    set with provenance, here.
    """

    def save(self, path: str, serial_format: str = "auto"):
        """Write current values to YAML (nested) or JSON, chosen by extension.

        A non-literal default is code, not a value: it is left out, so loading
        the file back never replaces the code with its text.
        """
        from hpreg.io.files import dump_values_file, format_of, plain_values
        from hpreg.io.writable import check_tree

        fmt = _fmt(serial_format)
        tree = plain_values(_without_code(self.get_tree()), path, self.separator)
        # YAML escapes text that is not UTF-8 and reads it back; JSON here cannot
        yaml_file = (fmt or format_of(path)) == "yaml"
        check_tree(tree, path, self.separator, escapes=yaml_file)
        dump_values_file(path, tree, fmt)
        return self

    def load(self, path: str, serial_format: str = "auto", *, source: str = "file"):
        """Set values from a YAML or JSON file, checked against the registry."""
        from hpreg.io.files import load_values_file

        data = load_values_file(path, _fmt(serial_format))
        self.set_checked(data, path, source=source)
        return self

    def set_checked(self, data: Any, origin: str, source: str = "file"):
        """Set values from a mapping read from ``origin``: flattened, each name
        checked against the scan, each value coerced to its default's type and
        checked against its hints, then set with ``source`` as provenance."""
        from hpreg.io.files import check_mapping

        where = _source.display_path(origin)
        if data is None:
            return self
        check_mapping(data, origin)
        flat = self.flatten_tree(data)
        checked = self.check_values(flat, where)
        for name, value in checked.items():
            self.set_value(name, value, Provenance(source, origin))
        return self

    def check_values(self, values: Mapping[str, Any], where: str) -> Dict[str, Any]:
        """Names checked against the scan, values against their defaults' types
        and their hints (``low``/``high``, ``choices``)."""
        known = self.known_names()
        checked = {}
        for name, value in values.items():
            if known and name not in known:
                suggestions = did_you_mean(name, known)
                raise UnknownHyperparameterError(
                    where="{}: {}".format(where, key_text(name)),
                    problem="unknown hyperparameter '{}'".format(name),
                    fix=join_fix(
                        suggestion(suggestions), "('hpreg list' shows all names)"
                    ),
                    name=name,
                    path=where,
                    suggestions=suggestions,
                )
            default = self.get_default(name)
            try:
                checked[name] = coerce_to_default(name, value, default, where)
            except ValueTypeError as error:
                raise ValuesFileTypeError(
                    path=where, name=name, **text_fields(error)
                ) from None
            check_hints(name, checked[name], self.get_hints(name), where)
        return checked


def _fmt(serial_format: str) -> Optional[str]:
    if serial_format in (None, "auto"):
        return None
    if serial_format not in ("yaml", "json"):
        raise ValuesFileError(
            problem="unsupported values format {!r}".format(serial_format),
            fix="use auto, yaml or json",
        )
    return serial_format


def _without_code(tree: Dict[str, Any]) -> Dict[str, Any]:
    out = {}
    for key, value in tree.items():
        if isinstance(value, NotLiteralEvaluable):
            continue
        if isinstance(value, dict) and value:
            value = _without_code(value)
            if not value:
                continue  # a group of code only
        out[key] = value
    return out
