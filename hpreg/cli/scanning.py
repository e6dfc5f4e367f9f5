"""What the scanning commands (list, lint, show) share: their options and a scan
into fresh managers that reports each problem on stderr."""

import sys
from typing import Dict

from hpreg._text import one_line
from hpreg.errors import ScanError


def add_scan_options(sub) -> None:
    """``--exclude GLOB`` and ``--no-cache``."""
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


def warn(message: str) -> None:
    """``hpreg: warning: message`` on stderr."""
    print("hpreg: warning: {}".format(one_line(message)), file=sys.stderr)


# a skipped file's advice names a Python argument (strict=True); a command user has none
_SKIPPED_FIX = "fix it ('hpreg lint' is the strict check)"


# -- list -------------------------------------------------------------------------------
def scan_for_cli(args, paths=None):
    """Scan into fresh managers, reporting each problem on stderr; returns them by name."""
    return scan_reporting(args, paths)[0]


def scan_reporting(args, paths=None):
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
        warn(str(problem))
    return {manager.placeholder: manager for manager in found}, problems
