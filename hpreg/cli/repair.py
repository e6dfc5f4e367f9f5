"""``hpreg repair STORE``: rebuild a store's database from its run directories."""

import os

from hpreg.errors import UsageError


def add_repair_parser(commands) -> None:
    repair = commands.add_parser(
        "repair",
        help="rebuild a run store's hpreg.db from its run directories (a missing, "
        "empty or damaged database); nothing finished runs again",
    )
    repair.add_argument("store", metavar="STORE", help="the run store's folder")
    repair.set_defaults(func=_repair)


def _repair(args) -> int:
    from hpreg.runner.progress import counts_text
    from hpreg.runner.repair import repair

    if not os.path.isdir(args.store):
        raise UsageError(
            where=args.store,
            problem="no such run store folder",
            fix="give the folder 'hpreg run' wrote (--store DIR)",
        )
    done = repair(args.store)
    total = sum(done.counts.values())
    print(
        "rebuilt {} from {} run director{}: {}".format(
            os.path.join(args.store, "hpreg.db"),
            total,
            "y" if total == 1 else "ies",
            counts_text(done.counts),
        )
    )
    if done.kept:
        print("the damaged database is kept as {}".format(done.kept))
    return 0
