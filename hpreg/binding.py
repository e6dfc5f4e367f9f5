"""The argparse binding: one option per hyperparameter, plus the ``--hp-*`` actions.

``bind`` adds the options and wraps ``parser.parse_known_args``, so values reach the
manager when the command line is parsed. Precedence, lowest first: defaults,
``$HPREG_CONFIG``, ``--hp-load``, options typed on the command line. Like argparse
itself, the binding may print and exit (bad values exit 2, listings exit 0).
"""

import argparse
import ast
import json
import os
import pickle
import sys
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

from . import _source
from ._checks import check_hints, coerce_to_default
from .errors import (
    AmbiguousNameError,
    HpregError,
    NotLiteralEvaluable,
    OptionClashError,
    UnknownHyperparameterError,
    ValuesFileError,
    did_you_mean,
    suggestion_text,
)
from .occurrences import EmptyValue
from .provenance import Provenance

__all__ = ["bind", "parse_args", "ACTIONS", "SERIAL_FORMATS", "LIST_FORMATS"]

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
_BOOLS = {
    "true": True,
    "yes": True,
    "1": True,
    "t": True,  # t/y/f/n: hpargparse accepts them too
    "y": True,
    "false": False,
    "no": False,
    "0": False,
    "f": False,
    "n": False,
}
_PICKLE_WARNING = "unpickling runs code from the file"


def bind(
    parser: argparse.ArgumentParser,
    hp_mgr: Any,
    *,
    prefix: Optional[str] = None,
    inject_actions: Union[bool, Sequence[str]] = True,
    action_prefix: str = "hp",
    serial_format: str = "auto",
    show_defaults: bool = True,
) -> argparse.ArgumentParser:
    """Add an option per hyperparameter of ``hp_mgr`` to ``parser`` (hpargparse's bind).

    ``--weight-decay`` (and ``--weight_decay``) sets ``weight_decay``; ``prefix="hp."``
    makes it ``--hp.weight-decay``. ``inject_actions`` picks the ``--hp-*`` actions
    (``save``, ``load``, ``list``, ``detail``; True for all); ``action_prefix`` renames
    them. ``serial_format`` is the default of ``--hp-serial-format``; choosing
    ``"pickle"`` here or on the command line is what allows loading a pickle.

    Raises ``OptionClashError`` when an option exists already, and, for names in
    ``$HPREG_CONFIG``, ``UnknownHyperparameterError`` (no manager's scan found it),
    ``AmbiguousNameError`` (two managers declare it) or a type/hint error.
    """
    actions = _action_list(inject_actions)
    if serial_format not in SERIAL_FORMATS:
        raise ValueError(
            "serial_format must be one of {}, not {!r}".format(
                ", ".join(SERIAL_FORMATS), serial_format
            )
        )
    _apply_env_config(hp_mgr)
    binding = _Binding(parser, hp_mgr, prefix or "", actions, action_prefix)
    binding.serial_format = serial_format
    binding.add_options(show_defaults)
    binding.install()
    return parser


def parse_args(
    hp_mgr: Any,
    paths: Optional[Iterable[Union[str, os.PathLike]]] = None,
    parser: Optional[argparse.ArgumentParser] = None,
    argv: Optional[Sequence[str]] = None,
    **bind_options: Any,
) -> argparse.Namespace:
    """Scan ``paths``, bind ``hp_mgr`` to ``parser`` and parse ``argv``, in one call.

    ``paths`` defaults to the calling script's file; ``parser`` to a new
    ``ArgumentParser``; ``argv`` to ``sys.argv[1:]``. Returns the namespace.
    """
    if paths is None:
        caller = sys._getframe(1).f_globals.get("__file__")
        paths = [caller] if caller else []
    elif isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if paths:
        hp_mgr.parse_file(paths)
    if parser is None:
        parser = argparse.ArgumentParser()
    bind(parser, hp_mgr, **bind_options)
    return parser.parse_args(argv)


# -- options -------------------------------------------------------------------------
class _Option:
    """One hyperparameter's option: its strings, dest and converter."""

    def __init__(self, name: str, prefix: str, reference: Any, hints: dict):
        self.name = name
        full = prefix + name.replace("_", "-")
        self.strings = ["--" + full]
        if "_" in name:
            self.strings.append("--" + prefix + name)
        self.dest = prefix + name
        self.reference = reference
        self.hints = hints

    def convert(self, text: str) -> Any:
        value = _parse_value(text, self.reference)
        try:
            check_hints(self.name, value, _without(self.hints, "choices"))
        except HpregError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return value

    def add_to(self, parser: argparse.ArgumentParser, show_default: bool, record):
        help_text = self.hints.get("help")
        if help_text is None:
            help_text = "{} {} hyperparameter".format(
                _article(_type_label(self.reference)), _type_label(self.reference)
            )
        help_text = str(help_text).replace("%", "%%")
        if show_default:
            help_text += " (default: {})".format(_show(self.reference)).replace(
                "%", "%%"
            )
            bounds = [self.hints.get("low"), self.hints.get("high")]
            if bounds != [None, None]:
                help_text += " [{}, {}]".format(
                    "-inf" if bounds[0] is None else bounds[0],
                    "inf" if bounds[1] is None else bounds[1],
                ).replace("%", "%%")
        kwargs: Dict[str, Any] = {
            "dest": self.dest,
            "type": self.convert,
            "default": argparse.SUPPRESS,
            "action": _record_action(record, self.name),
            "help": help_text,
        }
        choices = self.hints.get("choices")
        if isinstance(choices, (list, tuple, set, frozenset)):
            kwargs["choices"] = list(choices)
        else:
            kwargs["metavar"] = _type_label(self.reference).upper()
        if self.hints.get("required"):  # one action, so either spelling counts
            parser.add_argument(*self.strings, required=True, **kwargs)
            return
        parser.add_argument(self.strings[0], **kwargs)
        for alias in self.strings[1:]:  # accepted, but kept out of -h
            parser.add_argument(alias, **dict(kwargs, help=argparse.SUPPRESS))


def _record_action(record: Callable[[str, Any], None], name: str):
    class _Store(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            setattr(namespace, self.dest, values)
            record(name, values)

    return _Store


# -- parsing values --------------------------------------------------------------------
def _parse_value(text: str, reference: Any) -> Any:
    """``text`` read as a value of ``reference``'s type, or ``ArgumentTypeError``."""
    if reference is None or isinstance(reference, (EmptyValue, NotLiteralEvaluable)):
        return _any_literal(text)
    if isinstance(reference, bool):
        value = _BOOLS.get(text.strip().lower())
        if value is None:
            raise _type_error(text, reference, "true/false, yes/no or 1/0")
        return value
    if isinstance(reference, str):
        return text
    if isinstance(reference, (int, float)):
        try:
            return type(reference)(text)  # Python's spellings: 1_000, inf, 1e-3
        except ValueError:
            pass
    for candidate in _candidates(text):
        try:
            return coerce_to_default("", candidate, reference)
        except (TypeError, ValueError):
            continue
    example = None
    if isinstance(reference, (list, tuple, dict, set)):
        example = "a YAML or Python literal such as {}".format(_show(reference))
    raise _type_error(text, reference, example)


def _candidates(text: str):
    from ._files import parse_scalar

    try:
        yield parse_scalar(text)
    except HpregError:
        pass
    try:
        yield ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass


def _any_literal(text: str) -> Any:
    """A value for a default that fixes no type: YAML first, then a Python literal."""
    values = list(_candidates(text))
    if not values:
        return text
    if isinstance(values[0], str) and len(values) > 1:
        return values[1]  # None, (1, 2), ... are Python spellings YAML reads as text
    return values[0]


def _type_error(text: str, reference: Any, spelling: Optional[str] = None):
    label = _type_label(reference)
    message = "expected {} {}, got {!r}".format(_article(label), label, text)
    if spelling:
        message += " ({})".format(spelling)
    message += "; the default is {}".format(_show(reference))
    return argparse.ArgumentTypeError(message)


def _type_label(reference: Any) -> str:
    if reference is None or isinstance(reference, (EmptyValue, NotLiteralEvaluable)):
        return "value"
    return type(reference).__name__


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _show(value: Any) -> str:
    if isinstance(value, NotLiteralEvaluable):
        return "<code: {}>".format(getattr(value, "source", "?"))
    if isinstance(value, str) and value and value.strip() == value:
        return value
    return repr(value)


def _without(hints: dict, key: str) -> dict:
    return {k: v for k, v in hints.items() if k != key}


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


# -- the binding ---------------------------------------------------------------------
class _Binding:
    """One manager bound to one parser; applies values each time it parses."""

    def __init__(self, parser, manager, prefix, actions, action_prefix):
        self.parser = parser
        self.manager = manager
        self.prefix = prefix
        self.actions = actions
        self.action_prefix = action_prefix
        self.serial_format = "auto"
        self.typed: Dict[str, Any] = {}
        self.options = [
            _Option(name, prefix, reference, manager.get_hints(name))
            for name, reference in _bound_names(manager)
        ]

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

    def add_options(self, show_defaults: bool) -> None:
        self._check_clashes()
        for option in self.options:
            option.add_to(self.parser, show_defaults, self._record)
        self._add_actions()

    def _record(self, name: str, value: Any) -> None:
        self.typed[name] = value

    def _check_clashes(self) -> None:
        existing = dict(self.parser._option_string_actions)
        dests = {
            a.dest: a
            for a in self.parser._actions
            if a.dest is not argparse.SUPPRESS and a.dest != "help"
        }
        ours: Dict[str, str] = {}
        wanted = [(o.name, o.strings, o.dest) for o in self.options]
        for action in self._action_names():
            wanted.append(
                (None, [self._action_option(action)], self._action_dest(action))
            )
        for name, strings, dest in wanted:
            owner = "hyperparameter '{}'".format(name) if name else "hpreg's action"
            for string in strings:
                if string in existing:
                    raise self._clash(owner, name, string, _describe(existing[string]))
                if string in ours:
                    raise OptionClashError(
                        "{} and {} both want the option {}; rename one of them".format(
                            ours[string], owner, string
                        ),
                        option=string,
                        name=name,
                        existing=ours[string],
                    )
                ours[string] = owner
            if dest in dests:
                raise self._clash(
                    owner,
                    name,
                    strings[0],
                    "{} (stored as args.{})".format(_describe(dests[dest]), dest),
                )

    def _clash(self, owner, name, string, existing) -> OptionClashError:
        if name is None:
            fix = "pass inject_actions=False or another action_prefix to bind()"
        else:
            fix = 'bind(parser, {}, prefix="hp.") puts hyperparameters under --hp.{}'
            fix = fix.format(self.manager.placeholder, name)
        return OptionClashError(
            "option {} of {} clashes with the parser's own {}; {}".format(
                string, owner, existing, fix
            ),
            option=string,
            name=name,
            existing=existing,
        )

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
    def install(self) -> None:
        original = self.parser.parse_known_args

        def parse_known_args(*args, **kwargs):
            self.typed = {}
            namespace, extras = original(*args, **kwargs)
            self.apply(namespace)
            return namespace, extras

        self.parser.parse_known_args = parse_known_args

    def _get(self, namespace, action: str, default=None):
        return getattr(namespace, self._action_dest(action), default)

    def apply(self, namespace: argparse.Namespace) -> None:
        """Load, set typed values, fill ``namespace``, save, list, exit."""
        serial_format = self._get(namespace, "serial_format", self.serial_format)
        path = self._get(namespace, "load") if "load" in self.actions else None
        try:
            if path is not None:
                self._load(path, serial_format)
            for name, value in self.typed.items():
                self.manager._set_value(name, value, Provenance("cli"))
        except HpregError as error:
            self.parser.error(str(error))
        for option in self.options:
            setattr(namespace, option.dest, self.manager.get_value(option.name))
        path = self._get(namespace, "save") if "save" in self.actions else None
        if path is not None:
            try:
                self._save(path, serial_format)
            except HpregError as error:
                self.parser.error(str(error))
        listing = None
        if "detail" in self.actions and self._get(namespace, "detail"):
            listing = "detail"
        elif "list" in self.actions:
            listing = self._get(namespace, "list")
        if listing is not None:
            text = self.manager.listing(listing)
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            self.parser.exit(0)
        if self.actions and self._get(namespace, "exit"):
            self.parser.exit(0)

    def _load(self, path: str, serial_format: str) -> None:
        data = read_values(path, serial_format, self._action_option("serial-format"))
        where = _source.display_path(path)
        if not isinstance(data, dict):
            raise ValuesFileError(
                "{}: expected a mapping of hyperparameter names to values, got {}; "
                "write 'name: value' lines".format(where, type(data).__name__),
                path=path,
                key=None,
            )
        manager = self.manager
        checked = manager.check_values(manager.flatten_tree(data), where)
        for name, value in checked.items():
            check_hints(name, value, manager.get_hints(name), where)
        for name, value in checked.items():
            manager._set_value(name, value, Provenance("file", path))

    def _save(self, path: str, serial_format: str) -> None:
        fmt = _resolve_format(path, serial_format, self._action_option("serial-format"))
        if fmt == "pickle":
            values = {
                n: v
                for n, v in self.manager.get_values().items()
                if not isinstance(v, NotLiteralEvaluable)
            }
            _write(path, pickle.dumps(values))
            return
        tree = _prune(self.manager.get_tree())
        if fmt == "yaml":
            from ._files import dump_yaml

            text = dump_yaml(tree)
        else:
            text = json.dumps(_jsonable(tree), indent=2, ensure_ascii=False) + "\n"
        _write(path, text.encode("utf-8"))


def _bound_names(manager) -> List[tuple]:
    """(name, reference value for its type) of every hyperparameter to bind."""
    scanned = set(manager.names())
    bound = []
    for name, value in manager.get_values().items():
        default = manager.get_default(name)
        if name not in scanned and isinstance(default, EmptyValue):
            if manager.provenance(name).source != "set":
                continue  # from a values file, never declared: not this manager's
        bound.append((name, value if isinstance(default, EmptyValue) else default))
    return bound


def _describe(action: argparse.Action) -> str:
    if action.option_strings:
        return "/".join(action.option_strings)
    return "argument {}".format(action.metavar or action.dest)


# -- values files ----------------------------------------------------------------------
def _resolve_format(path: str, serial_format: str, format_option: str) -> str:
    if serial_format != "auto":
        return serial_format
    ext = os.path.splitext(str(path))[1].lower()
    fmt = _EXTENSIONS.get(ext)
    if fmt is None:
        raise ValuesFileError(
            "{}: unsupported file extension {!r}; use .yaml, .yml, .json, .pkl or "
            ".pickle, or choose a format with {}".format(
                path, ext or "(none)", format_option
            ),
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
            "{}: refusing to load a pickle file, since {}; if you trust the file, "
            "pass {} pickle".format(path, _PICKLE_WARNING, format_option),
            path=str(path),
            key=None,
        )
    from ._files import load_yaml_text, _read_text

    if fmt == "pickle":
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except OSError as error:
            raise ValuesFileError(
                "{}: cannot read: {}".format(path, error.strerror or error),
                path=str(path),
                key=None,
            ) from None
        except Exception as error:  # a damaged pickle fails in many ways
            raise ValuesFileError(
                "{}: not a readable pickle ({}); check the file or its format".format(
                    path, error
                ),
                path=str(path),
                key=None,
            ) from None
    text = _read_text(path, ValuesFileError)
    if fmt == "yaml":
        data = load_yaml_text(text, source=str(path))
        return {} if data is None else data
    try:
        return json.loads(text)
    except ValueError as error:
        raise ValuesFileError(
            "{}:{}:{}: invalid JSON: {}; fix the file's syntax".format(
                path,
                getattr(error, "lineno", "?"),
                getattr(error, "colno", "?"),
                getattr(error, "msg", error),
            ),
            path=str(path),
            key=None,
        ) from None


def _write(path: str, data: bytes) -> None:
    tmp = "{}.{}.tmp".format(path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as error:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ValuesFileError(
            "{}: cannot write: {}; check the folder exists and is writable".format(
                path, error.strerror or error
            ),
            path=str(path),
            key=None,
        ) from None


def _prune(tree: Dict[str, Any]) -> Dict[str, Any]:
    """The tree without non-literal defaults: code is not a value to save."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, NotLiteralEvaluable):
            continue
        if isinstance(value, dict):
            value = _prune(value)
        out[key] = value
    return out


def _jsonable(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _jsonable(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_jsonable(value) for value in data]
    return data


# -- $HPREG_CONFIG -----------------------------------------------------------------------
def _apply_env_config(manager) -> None:
    """Check ``$HPREG_CONFIG`` against every manager's scan; apply ``manager``'s part.

    Each name must be declared by exactly one manager. ``manager`` gets its names
    type-checked (a dict default keeps its dict whole) and drops the others, unless
    a value set since (``set_value``, a file, the command line) overrides them.
    """
    path = os.environ.get("HPREG_CONFIG")
    if not path:
        return
    from ._env import env_values
    from ._files import load_values_file
    from .manager import managers

    where = _source.display_path(path)
    pool = list(managers())
    if not any(m is manager for m in pool):
        pool.append(manager)
    owners = {}
    for name in env_values(path, manager.separator):
        owners[name] = _owners(name, pool, manager.separator)
        if not owners[name]:
            known = set().union(*(m.names() for m in pool))
            suggestions = did_you_mean(name, known)
            raise UnknownHyperparameterError(
                "{}: {}: unknown hyperparameter '{}' ($HPREG_CONFIG): no manager's "
                "scan found it{}; scan the files that declare it before bind(), e.g. "
                "{}.parse_file(path), or remove it from the file".format(
                    where,
                    name,
                    name,
                    suggestion_text(suggestions),
                    manager.placeholder,
                ),
                name=name,
                path=path,
                suggestions=suggestions,
            )
        if len(owners[name]) > 1:
            (first, a), (second, b) = owners[name][:2]
            raise AmbiguousNameError(
                "{}: {}: ambiguous hyperparameter ($HPREG_CONFIG): declared by two "
                "managers, '{}' at {} and '{}' at {}; rename one of them".format(
                    where,
                    name,
                    first.placeholder,
                    first.get_occurrences(a)[0].short_location,
                    second.placeholder,
                    second.get_occurrences(b)[0].short_location,
                ),
                name=name,
                path=path,
                managers=[first.placeholder, second.placeholder],
            )
    mine = set(manager.names())
    data = load_values_file(path)
    values = {
        name: value
        for name, value in manager.flatten_tree(data).items()
        if name in mine
    }
    for name, value in values.items():
        value = coerce_to_default(name, value, manager.get_default(name), where)
        check_hints(name, value, manager.get_hints(name), where)
        values[name] = value
    for name in list(getattr(manager, "_env_names", ())):
        if name not in values and _source_of(manager, name) == "env":
            manager.unset(name)
    for name, value in values.items():
        if _source_of(manager, name) in (None, "default", "call", "env"):
            manager._set_value(name, value, Provenance("env", path))


def _owners(name: str, pool, separator: str) -> list:
    """(manager, declared name) for each manager declaring ``name`` or a parent of it."""
    parts = name.split(separator)
    candidates = [separator.join(parts[:i]) for i in range(len(parts), 0, -1)]
    found = []
    for manager in pool:
        declared = set(manager.names())
        for candidate in candidates:
            if candidate in declared:
                found.append((manager, candidate))
                break
    return found


def _source_of(manager, name: str) -> Optional[str]:
    try:
        return manager.provenance(name).source
    except (KeyError, LookupError):
        return None
