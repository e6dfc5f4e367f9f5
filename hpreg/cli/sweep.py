"""``hpreg sweep``: build a sweep from a file, a function and/or overrides, then
count it, list it or write one values file per point."""

import csv
import io
import itertools
import json
import os
import re
import sys
from typing import Any, Dict, List, Optional, Tuple

from hpreg._text import one_line
from hpreg.io.limits import json_safe
from hpreg.errors import UsageError, ValuesFileError

_SHARD = re.compile(r"^(\d+)/(\d+)$")


def add_sweep_parser(commands) -> None:
    sweep = commands.add_parser(
        "sweep",
        help="count, list or write the points of a sweep",
        description=(
            "Build a sweep from a file (YAML/JSON, or module.py:function) and/or "
            "command-line overrides (lr=0.1,0.01 n=range(2,8,2) opt=choice(adam,sgd)); "
            "overrides are the outer loop and win over the file's values."
        ),
    )
    sweep.add_argument(
        "items",
        nargs="*",
        metavar="FILE | module.py:function | NAME=VALUES",
        help="an optional sweep file first, then overrides",
    )
    mode = sweep.add_mutually_exclusive_group()
    mode.add_argument("--count", action="store_true", help="print the number of points")
    mode.add_argument(
        "--list", action="store_true", help="print one point per line as JSON (default)"
    )
    mode.add_argument(
        "--out", metavar="DIR", help="write DIR/<stem>_<i>.yaml per point and index.csv"
    )
    sweep.add_argument("--shard", metavar="K/N", help="keep shard K (0-based) of N")
    sweep.add_argument("--sample", type=int, metavar="N", help="draw N distinct points")
    sweep.add_argument("--seed", type=int, default=None, metavar="S")
    sweep.add_argument("--unique", action="store_true", help="drop repeated points")
    sweep.add_argument(
        "--scan",
        nargs="+",
        metavar="PATH",
        help="validate names, types and hints against the code in PATH first",
    )
    sweep.add_argument(
        "--force",
        action="store_true",
        help="with --out, replace a different sweep hpreg wrote there (other files stay)",
    )
    sweep.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    sweep.add_argument("--no-cache", action="store_true")
    sweep.set_defaults(func=cmd_sweep, take_extras=take_extras)


def split_items(items: List[str]) -> Tuple[Optional[str], List[str]]:
    """The sweep file and the overrides: the file is the first item if it has no
    ``=``, else an item that names an existing file (``outputs/lr=0.1/sweep.yaml``)."""
    if items and "=" not in items[0]:
        return items[0], items[1:]
    found = None
    for i, item in enumerate(items):
        if _names_a_file(item):
            if found is not None:
                raise UsageError(
                    "'{}' and '{}': give one sweep file; write the rest as "
                    "NAME=VALUES".format(items[found], item)
                )
            found = i
        elif "=" not in item:
            raise UsageError(
                where="'{}'".format(item),
                problem="a sweep file must come first, before the overrides",
                fix="move it first, or write it as NAME=VALUES",
            )
    if found is None:
        return None, list(items)
    return items[found], list(items[:found]) + list(items[found + 1 :])


def _names_a_file(item: str) -> bool:
    """``item`` is a sweep file (or ``module.py:function``) that exists."""
    if os.path.isfile(item):
        return True
    module = item.rsplit(":", 1)[0]
    return ".py:" in item and module.endswith(".py") and os.path.isfile(module)


def take_extras(args, extras: List[str]) -> List[str]:
    """Overrides and a sweep file written after options (``FILE --count lr=0.3``)
    join the items; returns what is left, which argparse did not recognise."""
    left = [extra for extra in extras if extra.startswith("-")]
    args.items = list(args.items) + [e for e in extras if not e.startswith("-")]
    return left


def build_sweep(args):
    """The sweep the command line describes, with a stem for output files."""
    from hpreg.sweep import algebra
    from hpreg.sweep.overrides import parse_overrides
    from hpreg.sweep.file import load_sweep

    path, overrides = split_items(args.items)
    if path is None and not overrides:
        raise UsageError(
            problem="nothing to sweep",
            fix="give a sweep file and/or overrides such as "
            "'lr=0.1,0.01 batch_size=32,64'",
        )
    stem = "sweep"
    file_sweep = None
    if path is not None:
        file_sweep = load_sweep(path)
        if ".py:" in path:
            stem = path.rsplit(":", 1)[1]
        else:
            stem = os.path.splitext(os.path.basename(path))[0]
    command_line = parse_overrides(overrides) if overrides else None
    if command_line is not None:
        command_line = _locate_command_line(command_line, overrides)
    if file_sweep is not None and command_line is not None:
        sweep = algebra.override(file_sweep, command_line)
    else:
        sweep = file_sweep if file_sweep is not None else command_line
    if args.unique:
        sweep = sweep.unique()
    return sweep, stem, path


def _locate_command_line(sweep, overrides: List[str]):
    """The sweep, its validation errors quoting each override as typed
    (``command line: lr=0.1,0.01``)."""
    from hpreg.sweep.overrides import parse_override
    from hpreg.sweep.visit import locate_leaves

    typed = {parse_override(item)[0]: item for item in overrides}
    return locate_leaves(sweep, typed, source="command line")


def reclaim_items(args) -> None:
    """``--scan PATH...`` is greedy: overrides (``a=1``) and sweep files (``.yaml``,
    ``module.py:function``) written after it belong to the sweep, not the scan."""
    if not args.scan:
        return
    keep, moved = [], []
    for item in args.scan:
        if "=" in item or item.endswith((".yaml", ".yml", ".json")) or ".py:" in item:
            if "=" in item and os.path.isdir(item):
                keep.append(item)  # a folder of code such as outputs/lr=0.1
                continue
            moved.append(item)
        else:
            keep.append(item)
    if moved:
        if not keep:
            raise UsageError(
                problem="--scan needs a path to the code that declares the "
                "hyperparameters, e.g. --scan src/"
            )
        args.scan = keep
        files = [m for m in moved if "=" not in m]
        args.items = files + list(args.items) + [m for m in moved if "=" in m]


def cmd_sweep(args) -> int:
    reclaim_items(args)
    sweep, stem, path = build_sweep(args)
    validated = False
    if args.scan:
        sweep = validate_sweep(sweep, args, path)
        validated = True
    whole, sampled, shard = sweep, None, None
    if args.sample is not None:
        if args.sample < 1:
            raise UsageError(
                where="--sample {}".format(args.sample),
                problem="draw at least one point, e.g. --sample 10",
            )
        # the API's own sample: the same points for the same seed (issue 8)
        sweep = sampled = sweep.sample(args.sample, seed=args.seed)
    elif args.seed is not None:
        raise UsageError(problem="--seed goes with --sample N")
    if args.shard:
        match = _SHARD.match(args.shard)
        if not match:
            raise UsageError(
                where="--shard {}".format(args.shard),
                problem="expected K/N with 0 <= K < N, e.g. --shard 0/4",
            )
        k, n = int(match.group(1)), int(match.group(2))
        if n < 1 or k >= n:
            raise UsageError(
                where="--shard {}".format(args.shard),
                problem="K must be in 0..N-1 and N at least 1",
            )
        sweep = sweep.shard(k, n)
        shard = (k, n)
    if args.count:
        if validated and _has_dynamic(sweep):
            # derived values are checked as drawn: draw them all before answering
            print(sum(1 for _ in sweep))
        else:
            print(sweep.count())
        return 0
    if args.out:
        indices, total = _whole_indices(sweep, whole, sampled, shard)
        return write_points(
            sweep, args.out, stem, force=args.force, indices=indices, total=total
        )
    from hpreg.sweep.output import MAX_LIST_POINTS, check_point, too_many

    too_long = too_many(sweep._count_cheaply(), "--list", MAX_LIST_POINTS)
    if too_long is not None:
        raise too_long
    points = list(sweep) if validated and _has_dynamic(sweep) else sweep
    write = _stdout_writer()
    for i, point in enumerate(points):
        try:
            text = json.dumps(json_safe(_plain(point)), default=repr)
        except ValueError:  # an int too long to print: name it
            check_point(point, "point {}".format(i))
            raise
        write(text + "\n")
    return 0


def _whole_indices(sweep, whole, sampled, shard):
    """Each point's index in the whole sweep (before --sample and --shard) and the
    whole sweep's size, or (None, None) when ``sweep`` is the whole sweep."""
    if sampled is None and shard is None:
        return None, None
    from hpreg.sweep.output import MAX_OUT_POINTS, too_many

    too_long = too_many(sweep._count_cheaply(), "--out", MAX_OUT_POINTS)
    if too_long is not None:
        raise too_long
    total = whole._count_cheaply()
    indices = None
    if sampled is not None:
        if sampled.indices is None:  # a filtered sweep, listed when drawn from
            points, drawn = sampled._draw({})
            total = len(points)
        indices = list(sampled.indices if sampled.indices is not None else drawn)
    if total is None:
        total = whole.count()
    if shard is not None:
        k, n = shard
        indices = indices[k::n] if indices is not None else range(k, total, n)
    return indices, total


def _has_dynamic(sweep) -> bool:
    """Whether values of the sweep are checked only as points are drawn."""
    from hpreg.sweep.visit import SweepVisitor

    class _Dynamic(SweepVisitor):
        def generic_visit(self, node) -> bool:
            return any(self.visit(child) for child in node.children)

        def visit_validated(self, node) -> bool:
            return bool(node.dynamic) or self.generic_visit(node)

    return _Dynamic().visit(sweep)


def _stdout_writer():
    return sys.stdout.write


def validate_sweep(sweep, args, path):
    """``sweep`` checked against the hyperparameters found by scanning ``args.scan``
    (names, types, hints); a broken file is a warning."""
    from hpreg.registry.all_managers import scan_all
    from hpreg.registry.protocol import MergedRegistry
    from hpreg.sweep.validate import validate

    into: Dict[str, Any] = {}
    found, problems = scan_all(
        args.scan,
        collect=True,
        exclude=args.exclude,
        cache=not args.no_cache,
        into=into,
    )
    for problem in problems:  # a broken file's names would only look unknown
        print("hpreg: warning: {}".format(one_line(str(problem))), file=sys.stderr)
    registry = MergedRegistry(found)
    return validate(sweep, registry, source=path)


def _plain(point):
    from hpreg.registry.listing import plain_value as plain

    return plain(point)


def nest(point: Dict[str, Any], separator: str = ".") -> Dict[str, Any]:
    """A flat point as the nested mapping ``_.save`` writes."""
    from hpreg.io.tree import nest_flat

    return nest_flat({name: _plain(value) for name, value in point.items()}, separator)


def write_points(
    sweep,
    out_dir: str,
    stem: str,
    force: bool = False,
    indices=None,
    total: Optional[int] = None,
) -> int:
    """Write one values file per point and ``index.csv``; same sweep again is fine.

    ``indices`` are the points' indices in the whole sweep (of ``total`` points)
    when ``sweep`` is a shard or a sample of it: file names and ``index.csv`` carry
    them, zero-padded for the whole sweep. See ``hpreg.sweep.output`` for the folder.
    """
    from hpreg.sweep.output import (
        MAX_OUT_POINTS,
        check_point,
        too_many,
        unwritable,
        write_folder,
    )

    from hpreg.io.files import dump_yaml

    too_long = too_many(sweep._count_cheaply(), "--out", MAX_OUT_POINTS)
    if too_long is not None:
        raise too_long
    points = list(itertools.islice(sweep, MAX_OUT_POINTS + 1))
    if len(points) > MAX_OUT_POINTS:
        raise too_many(len(points), "--out", MAX_OUT_POINTS, at_least=True)
    if indices is None:
        indices = range(len(points))
    indices = list(itertools.islice(indices, len(points)))
    total = len(points) if total is None else total
    width = len(str(max(total - 1, 0)))
    problem = unwritable(stem)
    if problem is not None:
        raise ValuesFileError("{}: the file names' stem is {}".format(out_dir, problem))
    names: Dict[str, None] = {}
    for index, point in zip(indices, points):
        check_point(point, "{}: point {}".format(out_dir, index))
        for name in point:
            names.setdefault(name, None)
    files = []
    for index, point in zip(indices, points):
        filename = "{}_{:0{}d}.yaml".format(stem, index, width)
        files.append((filename, dump_yaml(nest(point))))
    index_file = io.StringIO()
    writer = csv.writer(index_file, lineterminator="\n")
    writer.writerow(["index", "file"] + list(names))
    for i, point, (filename, _text) in zip(indices, points, files):
        writer.writerow(
            [i, filename]
            + [
                (
                    json.dumps(json_safe(_plain(point[n])), default=repr)
                    if isinstance(point.get(n), (list, dict, tuple))
                    else ("" if n not in point else point[n])
                )
                for n in names
            ]
        )
    write_folder(str(out_dir), files + [("index.csv", index_file.getvalue())], force)
    print(
        "wrote {} point file{} and index.csv to {}".format(
            len(files), "" if len(files) == 1 else "s", out_dir
        )
    )
    return 0
