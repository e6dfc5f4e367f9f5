"""The argparse binding: one option per hyperparameter, plus the ``--hp-*`` actions.

``bind`` adds the options and wraps ``parser.parse_known_args``, so values reach the
manager when the command line is parsed. Precedence, lowest first: defaults,
``$HPREG_CONFIG``, ``--hp-load``, options typed on the command line. Like argparse
itself, the binding may print and exit (bad values exit 2, listings exit 0).
"""

import argparse
import ast
import functools
import json
import os
import sys
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

from hpreg._text import article, one_line
from hpreg.registry.checks import bad_hint, check_hints, coerce_to_default
from hpreg.registry.env_check import check_env_config
from hpreg.binder.actions import (
    ACTIONS,
    LIST_FORMATS,
    SERIAL_FORMATS,
    _action_list,
    _HpActions,
)
from hpreg.binder.actions import read_values  # noqa: F401 (importable from here)
from hpreg.errors import HpregError, NotLiteralEvaluable, OptionClashError
from hpreg.registry.occurrences import EmptyValue
from hpreg.registry.provenance import Provenance

__all__ = [
    "StringAsDefault",
    "bind",
    "parse_args",
    "ACTIONS",
    "SERIAL_FORMATS",
    "LIST_FORMATS",
]

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
    ``AmbiguousNameError`` (two managers declare it) or a type/hint error. Those
    are the user's mistakes, so they are also a ``SystemExit(2)`` after the
    message is printed as argparse prints its errors: no traceback in a script.
    """
    actions = _action_list(inject_actions)
    if serial_format not in SERIAL_FORMATS:
        raise ValueError(
            "serial_format must be one of {}, not {!r}".format(
                ", ".join(SERIAL_FORMATS), serial_format
            )
        )
    try:
        check_env_config(hp_mgr)
    except HpregError as error:
        raise _exit_for(parser, error) from None
    binding = _Binding(parser, hp_mgr, prefix or "", actions, action_prefix)
    binding.serial_format = serial_format
    binding.add_options(show_defaults)
    binding.install()
    return parser


class BindExit(SystemExit):
    """An ``HpregError`` met while binding, raised as argparse's exit (status 2).

    Each error class gets one exiting subclass, ``(ErrorClass, BindExit)``, so code
    that catches the error class, or ``SystemExit``, keeps working.
    """


@functools.lru_cache(maxsize=None)
def _exit_class(error_class: type) -> type:
    return type(
        error_class.__name__,
        (error_class, BindExit),
        {
            "__module__": error_class.__module__,
            "__qualname__": error_class.__qualname__,
        },
    )


def _exit_for(parser: argparse.ArgumentParser, error: HpregError) -> BaseException:
    """``error`` printed as argparse prints errors, and raised as an exit (status 2)
    that is still the same ``HpregError`` subclass for code that catches it."""
    parser.print_usage(sys.stderr)
    sys.stderr.write("{}: error: {}\n".format(parser.prog, one_line(str(error))))
    try:
        exit_error = error.as_class(_exit_class(type(error)))
    except TypeError:  # a class that cannot also be a SystemExit (a SyntaxError)
        exit_error = BindExit(2)
        exit_error.__cause__ = error
    exit_error.code = 2
    return exit_error


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
class StringAsDefault(str):
    """A string that is an option's default, not a value the user typed.

    hpargparse's marker: an option's converter passes it through unchanged and
    does not count it as set.
    """


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
        if isinstance(text, StringAsDefault):
            return str(text)
        value = _parse_value(text, self.reference)
        # argparse checks valid choices; check_hints reports a bad choices hint
        hints = self.hints if bad_hint(self.hints) else _without(self.hints, "choices")
        try:
            check_hints(self.name, value, hints)
        except HpregError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return value

    def add_to(self, parser: argparse.ArgumentParser, show_default: bool, record):
        help_text = self.hints.get("help")
        if help_text is None:
            help_text = "{} {} hyperparameter".format(
                article(_type_label(self.reference)), _type_label(self.reference)
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
_INF = float("inf")


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
            value = type(reference)(text)  # Python's spellings: 1_000, inf, 1e-3
        except ValueError:
            pass
        else:
            if isinstance(value, float) and value in (_INF, -_INF):
                if "inf" not in text.lower():  # 1e400 or 400 digits: not what was typed
                    raise argparse.ArgumentTypeError(
                        "{!r} is too large for a float (the largest is about "
                        "1.8e308); give a smaller value, or inf".format(text)
                    )
            return value
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
    from hpreg.io.files import parse_scalar

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
        if text.strip()[:1] in "[{":  # a list or dict that does not parse
            from hpreg.io.files import parse_scalar

            try:
                parse_scalar(text)
            except HpregError as error:
                raise argparse.ArgumentTypeError(str(error)) from None
        return text
    if isinstance(values[0], str) and len(values) > 1:
        return values[1]  # None, (1, 2), ... are Python spellings YAML reads as text
    return values[0]


def _type_error(text: str, reference: Any, spelling: Optional[str] = None):
    label = _type_label(reference)
    message = "expected {} {}, got {!r}".format(article(label), label, text)
    if spelling:
        message += " ({})".format(spelling)
    message += "; the default is {}".format(_show(reference))
    return argparse.ArgumentTypeError(message)


def _type_label(reference: Any) -> str:
    if reference is None or isinstance(reference, (EmptyValue, NotLiteralEvaluable)):
        return "value"
    return type(reference).__name__


def _show(value: Any) -> str:
    if isinstance(value, NotLiteralEvaluable):
        return "<code: {}>".format(getattr(value, "source", "?"))
    if isinstance(value, str) and value and value.strip() == value:
        return value
    return repr(value)


def _without(hints: dict, key: str) -> dict:
    return {k: v for k, v in hints.items() if k != key}


# -- the binding ---------------------------------------------------------------------
class _Binding(_HpActions):
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
                        problem="{} and {} both want the option {}".format(
                            ours[string], owner, string
                        ),
                        fix="rename one of them",
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
            problem="option {} of {} clashes with the parser's own {}".format(
                string, owner, existing
            ),
            fix=fix,
            option=string,
            name=name,
            existing=existing,
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

    def apply(self, namespace: argparse.Namespace) -> None:
        """Load, set typed values, fill ``namespace``, save, list, exit."""
        serial_format = self._get(namespace, "serial_format", self.serial_format)
        path = self._get(namespace, "load") if "load" in self.actions else None
        try:
            if path is not None:
                self._load(path, serial_format)
            for name, value in self.typed.items():
                self.manager.set_value(name, value, Provenance("cli"))
        except HpregError as error:
            self.parser.error(one_line(str(error)))
        for option in self.options:
            setattr(namespace, option.dest, self.manager.get_value(option.name))
        path = self._get(namespace, "save") if "save" in self.actions else None
        if path is not None:
            try:
                self._save(path, serial_format)
            except HpregError as error:
                self.parser.error(one_line(str(error)))
        listing = None
        if "detail" in self.actions and self._get(namespace, "detail"):
            listing = "detail"
        elif "list" in self.actions:
            listing = self._get(namespace, "list")
        if listing is not None:
            if listing == "json":  # hpargparse's: the flat values, by dotted name
                from hpreg.registry.listing import shown_value

                from hpreg.io.limits import json_safe

                text = json.dumps(
                    json_safe(shown_value(self.manager.get_values())), indent=2
                )
            else:
                text = self.manager.listing(listing)
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            self.parser.exit(0)
        if self.actions and self._get(namespace, "exit"):
            self.parser.exit(0)


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
