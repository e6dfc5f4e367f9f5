"""``hpreg show``: everything known about one hyperparameter, or a group's members."""

from hpreg._text import did_you_mean, join_fix, suggestion
from hpreg.cli.scanning import add_scan_options, scan_reporting
from hpreg.errors import DoubleAssignmentException, UnknownHyperparameterError


def add_show_parser(commands) -> None:
    show = commands.add_parser("show", help="everything known about one hyperparameter")
    show.add_argument("name", metavar="NAME")
    show.add_argument("paths", nargs="+", metavar="PATH")
    add_scan_options(show)
    show.set_defaults(func=cmd_show)


def cmd_show(args) -> int:
    from hpreg.registry.listing import format_value

    found, problems = scan_reporting(args)
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
