"""The ``hpreg`` command. The only place that prints errors and chooses exit codes.

User mistakes give one line on stderr (``hpreg: error: ...``), exit 2 for usage
errors and 1 for the rest; ``HPREG_DEBUG=1`` shows the traceback instead.
"""

import argparse
import os
import sys
from typing import Dict, List, Optional

from hpreg import __version__
from hpreg._text import did_you_mean, join_fix, one_line, suggestion
from hpreg.errors import (
    DoubleAssignmentException,
    HpregError,
    ScanError,
    UnknownHyperparameterError,
)

PROG = "hpreg"


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
        take_extras = getattr(args, "take_extras", None)
        if extras and take_extras is not None:
            extras = take_extras(args, extras)  # `hpreg sweep FILE --count lr=0.3`
        if extras:
            parser.error("unrecognized arguments: {}".format(" ".join(extras)))
    except SystemExit as stop:  # argparse: --help (0) or a usage error (2)
        return _exit_code(stop)
    if not getattr(args, "func", None):
        _error(
            "choose a command: list, lint, show, sweep; see '{} --help'".format(PROG)
        )
        return 2
    debug = os.environ.get("HPREG_DEBUG") == "1"
    try:
        return args.func(args) or 0
    except HpregError as error:
        if debug:
            raise
        _error(str(error))
        return error.exit_code
    except BrokenPipeError:  # `hpreg sweep --list | head`
        return 0
    except OSError as error:  # a missing path, a file where a folder should be...
        if debug:
            raise
        _error(_os_error_text(error))
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


def _exit_code(stop: SystemExit) -> int:
    code = stop.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _os_error_text(error: OSError) -> str:
    path = error.filename or (error.args[0] if error.args else "?")
    if isinstance(error, FileNotFoundError):
        return "no such file or directory: '{}'; check the path".format(path)
    return "'{}': {}; check the path".format(path, error.strerror or error)


def _error(message: str) -> None:
    print("{}: error: {}".format(PROG, one_line(message)), file=sys.stderr)


def _warn(message: str) -> None:
    print("{}: warning: {}".format(PROG, one_line(message)), file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """argparse with a usage error as one line, ``hpreg: error: ...`` (exit 2)."""

    def error(self, message: str):
        self.exit(
            2,
            "{}: error: {}; see '{} --help'\n".format(
                PROG, one_line(message), self.prog
            ),
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Find, list, check and sweep the hyperparameters declared in code.",
    )
    parser.add_argument(
        "--version", action="version", version="%(prog)s " + __version__
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def scan_options(sub):
        sub.add_argument(
            "--exclude",
            action="append",
            default=[],
            metavar="GLOB",
            help="skip files and folders matching GLOB (repeatable)",
        )
        sub.add_argument(
            "--no-cache",
            action="store_true",
            help="do not read or write the scan cache",
        )

    listing = commands.add_parser("list", help="scan code and list hyperparameters")
    listing.add_argument("paths", nargs="+", metavar="PATH")
    listing.add_argument(
        "--format", choices=("table", "detail", "yaml", "json"), default="table"
    )
    listing.add_argument("--manager", metavar="NAME", help="list one manager only")
    scan_options(listing)
    listing.set_defaults(func=cmd_list)

    lint = commands.add_parser("lint", help="report problems in declarations")
    lint.add_argument("paths", nargs="+", metavar="PATH")
    lint.add_argument(
        "--project",
        action="append",
        metavar="DIR",
        help="scan DIR as context, report problems in PATH only (for pre-commit)",
    )
    scan_options(lint)
    lint.set_defaults(func=cmd_lint)

    show = commands.add_parser("show", help="everything known about one hyperparameter")
    show.add_argument("name", metavar="NAME")
    show.add_argument("paths", nargs="+", metavar="PATH")
    scan_options(show)
    show.set_defaults(func=cmd_show)

    from hpreg.cli.sweep import add_sweep_parser

    add_sweep_parser(commands)
    return parser


# a skipped file's advice names a Python argument (strict=True); a command user has none
_SKIPPED_FIX = "fix it ('hpreg lint' is the strict check)"


# -- list -------------------------------------------------------------------------------
def scan_for_cli(args, paths=None):
    """Scan into fresh managers, reporting each problem on stderr; returns them by name."""
    return _scan_reporting(args, paths)[0]


def _scan_reporting(args, paths=None):
    """``scan_for_cli``, also returning the problems it reported."""
    from hpreg.registry.all_managers import scan_all

    into: Dict = {}
    found, problems = scan_all(
        paths if paths is not None else args.paths,
        collect=True,
        exclude=args.exclude,
        cache=not args.no_cache,
        into=into,
        every_syntax_error=True,
    )
    for problem in problems:
        if isinstance(problem, ScanError):
            problem = problem.with_fix(_SKIPPED_FIX)
        _warn(str(problem))
    return {manager.placeholder: manager for manager in found}, problems


def cmd_list(args) -> int:
    from hpreg.registry.listing import render

    found = scan_for_cli(args)
    chosen = list(found.values())
    if args.manager is not None:
        if args.manager not in found:
            raise HpregError(
                problem="unknown manager '{}'".format(args.manager),
                fix=join_fix(
                    suggestion(did_you_mean(args.manager, found)),
                    "the scanned code uses: {}".format(
                        ", ".join(sorted(found)) or "no manager"
                    ),
                ),
            )
        chosen = [found[args.manager]]
    text = render(chosen, args.format, manager_column=True)
    print(text.rstrip("\n"))  # the yaml dump ends with its own newline
    return 0


# -- lint --------------------------------------------------------------------------------
def cmd_lint(args) -> int:
    from hpreg.lint.linter import lint_paths

    problems = lint_paths(
        args.paths,
        exclude=args.exclude,
        cache=not args.no_cache,
        project=args.project,
    )
    try:
        for problem in problems:
            print(problem)
        sys.stdout.flush()
    except BrokenPipeError:  # `hpreg lint . | head`: the problems are still there
        _silence_stdout()
    return 1 if problems else 0


def _silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush does not complain."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


# -- show --------------------------------------------------------------------------------
def cmd_show(args) -> int:
    from hpreg.registry.listing import format_value

    found, problems = _scan_reporting(args)
    # a second default is left out of the registry, but it is an occurrence too
    conflicting = [
        p.second
        for p in problems
        if isinstance(p, DoubleAssignmentException)
        and getattr(p, "name", None) == args.name
        and getattr(p, "second", None) is not None
    ]
    holders = [
        m for m in found.values() if args.name in m.names() or m.exists(args.name)
    ]
    if not holders:
        known = {n for m in found.values() for n in m.names()}
        suggestions = did_you_mean(args.name, known)
        raise UnknownHyperparameterError(
            problem="unknown hyperparameter '{}'".format(args.name),
            fix=join_fix(
                suggestion(suggestions),
                "'hpreg list {}' shows all names".format(" ".join(args.paths)),
            ),
            name=args.name,
            suggestions=suggestions,
        )
    for manager in holders:
        name = args.name
        members = [] if name in manager.names() else manager.names_under(name)
        if members:
            print(
                "{} is a group of {} hyperparameters: {}; 'hpreg show NAME' shows "
                "one".format(name, len(members), ", ".join(members))
            )
            continue
        value = manager.get_value(name, raise_exception=False)
        lines = ["name: {}".format(name), "manager: {}".format(manager.placeholder)]
        lines.append("value: {}".format(format_value(value)))
        try:
            lines.append("provenance: {}".format(manager.provenance(name)))
        except KeyError:
            lines.append("provenance: none (no default, never set)")
        default = manager.get_default(name)
        lines.append("default: {}".format(format_value(default)))
        hints = manager.get_hints(name)
        if hints:
            lines.append(
                "hints: {}".format(
                    ", ".join("{}={!r}".format(k, v) for k, v in hints.items())
                )
            )
        occurrences = list(manager.get_occurrences(name))
        occurrences += [o for o in conflicting if o.manager == manager.placeholder]
        lines.append("occurrences: {}".format(len(occurrences)))
        for i, occurrence in enumerate(occurrences):
            marker = " (default)" if occurrence.has_default_value else ""
            if any(occurrence is c for c in conflicting):
                marker = " (conflicting default, not used)"
            lines.append("  [{}] {}{}".format(i, occurrence.location, marker))
            text = occurrence.excerpt(before=3, after=3)
            if text:
                lines.extend("      " + line for line in text.split("\n"))
        print("\n".join(lines))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
