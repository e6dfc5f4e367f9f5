"""``hpreg lint``: problem lines, compiler style; exit 1 when there is any."""

import os
import sys

from hpreg.cli.scanning import add_scan_options


def add_lint_parser(commands) -> None:
    lint = commands.add_parser("lint", help="report problems in declarations")
    lint.add_argument("paths", nargs="+", metavar="PATH")
    lint.add_argument(
        "--project",
        action="append",
        metavar="DIR",
        help="scan DIR as context, report problems in PATH only (for pre-commit)",
    )
    add_scan_options(lint)
    lint.set_defaults(func=cmd_lint)


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
