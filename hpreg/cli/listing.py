"""``hpreg list``: every manager's hyperparameters as a table, detail, YAML or JSON."""

from hpreg._text import did_you_mean, join_fix, suggestion
from hpreg.cli.scanning import add_scan_options, scan_for_cli
from hpreg.errors import HpregError


def add_list_parser(commands) -> None:
    listing = commands.add_parser("list", help="scan code and list hyperparameters")
    listing.add_argument("paths", nargs="+", metavar="PATH")
    listing.add_argument(
        "--format", choices=("table", "detail", "yaml", "json"), default="table"
    )
    listing.add_argument("--manager", metavar="NAME", help="list one manager only")
    add_scan_options(listing)
    listing.set_defaults(func=cmd_list)


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
