"""The ``hpreg`` command. The only place that prints errors and chooses exit codes.

User mistakes give one line on stderr (``hpreg: error: ...``), exit 2 for usage
errors and 1 for the rest; ``HPREG_DEBUG=1`` shows the traceback instead.
"""

import argparse
import os
import sys
from typing import List, Optional

from hpreg import __version__
from hpreg._text import one_line
from hpreg.errors import HpregError

PROG = "hpreg"


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    argv, command = _split_command(list(sys.argv[1:] if argv is None else argv))
    try:
        args, extras = parser.parse_known_args(argv)
        take_extras = getattr(args, "take_extras", None)
        if extras and take_extras is not None:
            extras = take_extras(args, extras)  # `hpreg sweep FILE --count lr=0.3`
        if extras:
            parser.error("unrecognized arguments: {}".format(" ".join(extras)))
        if command is not None:
            if not getattr(args, "takes_command", False):
                parser.error("unrecognized arguments: -- {}".format(" ".join(command)))
            args.command = command
    except SystemExit as stop:  # argparse: --help (0) or a usage error (2)
        return _exit_code(stop)
    if not getattr(args, "func", None):
        _error(
            "choose a command: list, lint, show, sweep, run, optimize, status, results, repair; see '{} --help'".format(
                PROG
            )
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


def _split_command(argv: List[str]):
    """``hpreg run ... -- COMMAND``: the arguments before ``--`` and the command
    after it (None without ``--``). Only ``run`` and ``optimize`` take a command. ``--sort -acc``
    (descending) is read as ``--sort=-acc``, not as an option ``-acc``."""
    first = next((a for a in argv if not a.startswith("-")), None)
    if first == "results":
        for i in range(len(argv) - 1, 0, -1):
            if argv[i - 1] == "--sort" and argv[i].startswith("-"):
                argv[i - 1 : i + 1] = ["--sort=" + argv[i]]
    if first not in ("run", "optimize") or "--" not in argv:
        return argv, None
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1 :]


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

    from hpreg.cli.lint import add_lint_parser
    from hpreg.cli.listing import add_list_parser
    from hpreg.cli.run import add_run_parsers
    from hpreg.cli.show import add_show_parser
    from hpreg.cli.sweep import add_sweep_parser

    add_list_parser(commands)
    add_lint_parser(commands)
    add_show_parser(commands)
    add_sweep_parser(commands)
    add_run_parsers(commands)
    from hpreg.cli.optimize import add_optimize_parser
    from hpreg.cli.repair import add_repair_parser

    add_optimize_parser(commands)
    add_repair_parser(commands)
    return parser


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
