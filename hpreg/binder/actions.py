"""The ``--hp-*`` options of the argparse binding: list, detail, save, load,
serial format and exit, and reading/writing values files (a pickle loads only when
asked for by name)."""

import os
import pickle
from typing import Any, List, Sequence, Union

from hpreg.io.files import write_atomic
from hpreg.errors import NotLiteralEvaluable, ValuesFileError

ACTIONS = ("save", "load", "list", "detail")
SERIAL_FORMATS = ("auto", "yaml", "json", "pickle")
LIST_FORMATS = ("yaml", "json", "table", "detail")
_EXTENSIONS = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".pkl": "pickle",
    ".pickle": "pickle",
}
_PICKLE_WARNING = "unpickling runs code from the file"


def _action_list(inject_actions: Union[bool, Sequence[str]]) -> List[str]:
    if inject_actions is True:
        return list(ACTIONS)
    if inject_actions is False:
        return []
    actions = list(inject_actions)
    for action in actions:
        if action not in ACTIONS:
            raise ValueError(
                "unknown action {!r} in inject_actions; use some of {}".format(
                    action, ", ".join(ACTIONS)
                )
            )
    return actions


class _HpActions:
    """The ``--hp-*`` half of a binding: needs ``parser``, ``manager``, ``actions``,
    ``action_prefix`` and ``serial_format`` on the instance."""

    def _action_dest(self, action: str) -> str:
        return "{}_{}".format(self.action_prefix, action.replace("-", "_"))

    def _action_option(self, action: str) -> str:
        return "--{}-{}".format(self.action_prefix, action)

    def _action_names(self) -> List[str]:
        names = list(self.actions)
        if "save" in names or "load" in names:
            names.append("serial-format")
        if names:
            names.append("exit")
        return names

    def _add_actions(self) -> None:
        add = self.parser.add_argument
        option, dest = self._action_option, self._action_dest
        if "list" in self.actions:
            add(
                option("list"),
                dest=dest("list"),
                nargs="?",
                const="yaml",
                default=None,
                choices=list(LIST_FORMATS),
                help="print the hyperparameters (default format: yaml) and exit",
            )
        if "detail" in self.actions:
            add(
                option("detail"),
                dest=dest("detail"),
                action="store_true",
                help="print every hyperparameter with the source around each "
                "occurrence, and exit{}".format(
                    " (short for {} detail)".format(option("list"))
                    if "list" in self.actions
                    else ""
                ),
            )
        if "save" in self.actions:
            add(
                option("save"),
                dest=dest("save"),
                metavar="FILE",
                help="save the hyperparameters to FILE (.yaml, .yml, .json; .pkl, "
                ".pickle) after all other options are applied",
            )
        if "load" in self.actions:
            add(
                option("load"),
                dest=dest("load"),
                metavar="FILE",
                help="load hyperparameters from FILE (.yaml, .yml, .json) before the "
                "options typed on the command line; a pickle is loaded only with "
                "{} pickle, since {}".format(option("serial-format"), _PICKLE_WARNING),
            )
        if "save" in self.actions or "load" in self.actions:
            add(
                option("serial-format"),
                dest=dest("serial_format"),
                default=self.serial_format,
                choices=list(SERIAL_FORMATS),
                help="file format of the saved or loaded hyperparameters (default: "
                "{}, chosen by the file's extension); pickle must be chosen "
                "explicitly to load one, since {}".format(
                    self.serial_format, _PICKLE_WARNING
                ),
            )
        if self.actions:
            add(
                option("exit"),
                dest=dest("exit"),
                action="store_true",
                help="process the {}-* options, then exit".format(option("")[:-1]),
            )

    # -- at parse time --------------------------------------------------------------
    def _get(self, namespace, action: str, default=None):
        return getattr(namespace, self._action_dest(action), default)

    def _load(self, path: str, serial_format: str) -> None:
        data = read_values(path, serial_format, self._action_option("serial-format"))
        self.manager.set_checked(data, path, source="file")

    def _save(self, path: str, serial_format: str) -> None:
        fmt = _resolve_format(path, serial_format, self._action_option("serial-format"))
        if fmt == "pickle":
            values = {
                n: v
                for n, v in self.manager.get_values().items()
                if not isinstance(v, NotLiteralEvaluable)
            }
            write_atomic(path, pickle.dumps(values))
            return
        self.manager.save(path, fmt)


# -- values files ----------------------------------------------------------------------
def _resolve_format(path: str, serial_format: str, format_option: str) -> str:
    if serial_format != "auto":
        return serial_format
    ext = os.path.splitext(str(path))[1].lower()
    fmt = _EXTENSIONS.get(ext)
    if fmt is None:
        raise ValuesFileError(
            where=str(path),
            problem="unsupported file extension {!r}".format(ext or "(none)"),
            fix="use .yaml, .yml, .json, .pkl or .pickle, or choose a format with "
            "{}".format(format_option),
            path=str(path),
            key=None,
        )
    return fmt


def read_values(path: str, serial_format: str = "auto", format_option: str = "") -> Any:
    """Read a values file as YAML, JSON or (only when asked by name) pickle."""
    format_option = format_option or "--hp-serial-format"
    fmt = _resolve_format(path, serial_format, format_option)
    if fmt == "pickle" and serial_format != "pickle":
        raise ValuesFileError(
            where=str(path),
            problem="refusing to load a pickle file, since {}".format(_PICKLE_WARNING),
            fix="if you trust the file, pass {} pickle".format(format_option),
            path=str(path),
            key=None,
        )
    from hpreg.io.files import load_values_file

    if fmt == "pickle":
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except OSError as error:
            raise ValuesFileError(
                where=str(path),
                problem="cannot read: {}".format(error.strerror or error),
                path=str(path),
                key=None,
            ) from None
        except Exception as error:  # a damaged pickle fails in many ways
            raise ValuesFileError(
                where=str(path),
                problem="not a readable pickle ({})".format(error),
                fix="check the file or its format",
                path=str(path),
                key=None,
            ) from None
    return load_values_file(path, fmt)
