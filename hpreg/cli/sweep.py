"""``hpreg sweep``: build a sweep from a file, a function and/or overrides, then
count it, list it or write one values file per point."""

import csv
import io
import json
import os
import re
import sys
from typing import Any, Dict, List, Optional, Tuple

from hpreg.io.files import write_atomic
from hpreg.errors import HpregError, UsageError, ValuesFileError
from hpreg.io.limits import json_safe

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
        "--force", action="store_true", help="with --out, replace a different sweep"
    )
    sweep.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    sweep.add_argument("--no-cache", action="store_true")
    sweep.set_defaults(func=cmd_sweep)


def split_items(items: List[str]) -> Tuple[Optional[str], List[str]]:
    """The sweep file (if the first item is one) and the overrides."""
    if items and "=" not in items[0]:
        return items[0], items[1:]
    for item in items:
        if "=" not in item:
            raise UsageError(
                "'{}': a sweep file must come first, before the overrides; "
                "or write it as NAME=VALUES".format(item)
            )
    return None, list(items)


def build_sweep(args):
    """The sweep the command line describes, with a stem for output files."""
    from hpreg.sweep import algebra
    from hpreg.sweep.overrides import parse_overrides
    from hpreg.sweep.file import load_sweep

    path, overrides = split_items(args.items)
    if path is None and not overrides:
        raise UsageError(
            "nothing to sweep; give a sweep file and/or overrides such as "
            "'lr=0.1,0.01 batch_size=32,64'"
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
        _tag_command_line(command_line, overrides)
    if file_sweep is not None and command_line is not None:
        sweep = algebra.override(file_sweep, command_line)
    else:
        sweep = file_sweep if file_sweep is not None else command_line
    if args.unique:
        sweep = sweep.unique()
    return sweep, stem, path


def _tag_command_line(sweep, overrides: List[str]) -> None:
    """Let validation errors quote the override as typed (``lr=0.1,0.01``)."""
    from hpreg.sweep.overrides import parse_override

    typed = {parse_override(item)[0]: item for item in overrides}
    stack = [sweep]
    while stack:
        node = stack.pop()
        name = getattr(node, "name", None)
        if isinstance(name, str) and name in typed:
            node.origin, node.origin_source = typed[name], "command line"
        stack.extend(node.children)


def _reclaim_items(args) -> None:
    """``--scan PATH...`` is greedy: overrides (``a=1``) and sweep files (``.yaml``,
    ``module.py:function``) written after it belong to the sweep, not the scan."""
    if not args.scan:
        return
    keep, moved = [], []
    for item in args.scan:
        if "=" in item or item.endswith((".yaml", ".yml", ".json")) or ".py:" in item:
            moved.append(item)
        else:
            keep.append(item)
    if moved:
        if not keep:
            raise UsageError(
                "--scan needs a path to the code that declares the hyperparameters, "
                "e.g. --scan src/"
            )
        args.scan = keep
        files = [m for m in moved if "=" not in m]
        args.items = files + list(args.items) + [m for m in moved if "=" in m]


def cmd_sweep(args) -> int:
    _reclaim_items(args)
    sweep, stem, path = build_sweep(args)
    validated = False
    if args.scan:
        sweep = _validate(sweep, args, path)
        validated = True
    if args.sample is not None:
        if args.sample < 1:
            raise UsageError(
                "--sample {}: draw at least one point, e.g. --sample 10".format(
                    args.sample
                )
            )
        sweep = _sampleable(sweep).sample(args.sample, seed=args.seed)
    elif args.seed is not None:
        raise UsageError("--seed goes with --sample N")
    if args.shard:
        match = _SHARD.match(args.shard)
        if not match:
            raise UsageError(
                "--shard {}: expected K/N with 0 <= K < N, e.g. --shard 0/4".format(
                    args.shard
                )
            )
        k, n = int(match.group(1)), int(match.group(2))
        if n < 1 or k >= n:
            raise UsageError(
                "--shard {}: K must be in 0..N-1 and N at least 1".format(args.shard)
            )
        sweep = sweep.shard(k, n)
    if args.count:
        if validated and _has_dynamic(sweep):
            # derived values are checked as drawn: draw them all before answering
            print(sum(1 for _ in sweep))
        else:
            print(sweep.count())
        return 0
    if args.out:
        return write_points(sweep, args.out, stem, force=args.force)
    points = list(sweep) if validated and _has_dynamic(sweep) else sweep
    write = _stdout_writer()
    for point in points:
        write(json.dumps(json_safe(_plain(point)), default=repr) + "\n")
    return 0


def _sampleable(sweep):
    """``sweep``, enumerated first when it has no cheap length (a filter, unique):
    the command line cannot sample before filtering as the Python API can."""
    from hpreg.sweep.algebra import from_function

    if sweep._count_cheaply() is None:
        points = list(sweep)
        return from_function(lambda: points)
    return sweep


def _has_dynamic(sweep) -> bool:
    from hpreg.sweep.validate import ValidatedSweep

    stack = [sweep]
    while stack:
        node = stack.pop()
        if isinstance(node, ValidatedSweep) and node._dynamic:
            return True
        stack.extend(node.children)
    return False


def _stdout_writer():
    return sys.stdout.write


def _validate(sweep, args, path):
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
        print("hpreg: warning: {}".format(problem), file=sys.stderr)
    registry = MergedRegistry(found)
    return validate(sweep, registry, source=path)


def _plain(point):
    from hpreg.registry.listing import plain_value as plain

    return plain(point)


def nest(point: Dict[str, Any], separator: str = ".") -> Dict[str, Any]:
    """A flat point as the nested mapping ``_.save`` writes."""
    from hpreg.io.tree import nest_flat

    return nest_flat({name: _plain(value) for name, value in point.items()}, separator)


def write_points(sweep, out_dir: str, stem: str, force: bool = False) -> int:
    """Write one values file per point and ``index.csv``; same sweep again is fine."""
    from hpreg.io.files import dump_yaml

    points = list(sweep)
    width = len(str(max(len(points) - 1, 0)))
    names: Dict[str, None] = {}
    for point in points:
        for name in point:
            names.setdefault(name, None)
    files = []
    for i, point in enumerate(points):
        filename = "{}_{:0{}d}.yaml".format(stem, i, width)
        files.append((filename, dump_yaml(nest(point))))
    index = io.StringIO()
    writer = csv.writer(index, lineterminator="\n")
    writer.writerow(["index", "file"] + list(names))
    for i, (point, (filename, _text)) in enumerate(zip(points, files)):
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
    index_text = index.getvalue()
    index_path = os.path.join(out_dir, "index.csv")
    old_files = _existing_sweep(out_dir, index_path, index_text, files, force)
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as error:
        raise ValuesFileError(
            "{}: cannot create the --out folder ({}); choose another folder".format(
                out_dir, error.strerror
            )
        ) from None
    for name in old_files:
        try:
            os.unlink(os.path.join(out_dir, name))
        except OSError:
            pass
    for filename, text in files:
        write_atomic(os.path.join(out_dir, filename), text)
    write_atomic(index_path, index_text)
    print(
        "wrote {} point file{} and index.csv to {}".format(
            len(files), "" if len(files) == 1 else "s", out_dir
        )
    )
    return 0


def _existing_sweep(out_dir, index_path, index_text, files, force) -> List[str]:
    """Files of a previous, different sweep to remove; refuses without ``force``."""
    if not os.path.exists(index_path):
        return []
    with open(index_path, encoding="utf-8") as f:
        old_index = f.read()
    what = "its index.csv differs"
    if old_index == index_text:
        # the same sweep: missing point files are written again; an edited one differs
        changed = [
            name
            for name, text in files
            if _read(os.path.join(out_dir, name)) not in (None, text)
        ]
        if not changed:
            return []
        what = "{} differs".format(changed[0])
    if not force:
        raise HpregError(
            "{}: already holds a different sweep ({}); use --force to replace it, "
            "or choose another --out folder".format(out_dir, what)
        )
    rows = list(csv.reader(io.StringIO(old_index)))
    return [row[1] for row in rows[1:] if len(row) > 1 and "/" not in row[1]]


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None
