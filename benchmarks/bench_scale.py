"""The command line at scale: ``hpreg list`` and ``hpreg lint`` on one file of 20,000
names, as whole processes, against a process doing ``_.parse_file`` of that file.

The file declares 20,000 distinct names (numbered families such as
``encoder_hidden_123``) plus a few planted near-duplicate pairs (``learning_rate`` /
``learning_rte``...). Targets (issue 7): each command at most 3x the time of
``_.parse_file``, and lint reports every planted pair. Every process runs with its own
empty ``HPREG_CACHE_DIR``, so none is served from a cache.

    .venv/bin/python benchmarks/bench_scale.py [--quick] [--names N]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGET = 3.0
FAMILIES = [
    "encoder_hidden",
    "optimizer_momentum",
    "dataset_shuffle",
    "checkpoint_every",
    "attention_window",
    "tokenizer_vocab",
    "scheduler_gamma",
    "augment_crop",
    "sampler_weight",
    "logging_period",
]
PLANTED = [
    ("learning_rate", "learning_rte"),
    ("batch_size", "batchsize"),
    ("optimizer", "optimzer"),
    ("model.regularization", "model.regualrizaton"),
    ("Dropout", "dropout"),
]


def write_file(path, count):
    lines = ["from hpreg.m import _", ""]
    for i in range(count):
        family = FAMILIES[i % len(FAMILIES)]
        lines.append("v{} = _('{}_{}', {})".format(i, family, i // len(FAMILIES), i))
    for k, pair in enumerate(PLANTED):
        for name in pair:
            lines.append("p{} = _('{}', {})".format(len(lines), name, k))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def timed(argv, cache_dir, runs):
    """Best wall time of ``runs`` runs of a process, and its last stdout."""
    env = dict(os.environ, HPREG_CACHE_DIR=cache_dir, PYTHONPATH=ROOT)
    best, out = None, ""
    for _ in range(runs):
        shutil.rmtree(cache_dir, ignore_errors=True)  # every run starts cold
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode not in (0, 1):
            raise SystemExit("{} failed:\n{}".format(argv, done.stderr))
        best = seconds if best is None else min(best, seconds)
        out = done.stdout
    return best, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run each")
    parser.add_argument("--names", type=int, default=20000)
    args = parser.parse_args(argv)
    runs = 1 if args.quick else 3

    work = tempfile.mkdtemp(prefix="hpreg-bench-scale-")
    try:
        path = os.path.join(work, "many_names.py")
        write_file(path, args.names)
        cache = os.path.join(work, "cache")
        python = sys.executable
        parse = "from hpreg.m import _; _.parse_file({!r})".format(path)
        base, _ = timed([python, "-c", parse], cache, runs)
        cli = [python, "-m", "hpreg"]
        listed, list_out = timed(cli + ["list", path], cache, runs)
        linted, lint_out = timed(cli + ["lint", path], cache, runs)

        print(
            "{} names (+{} planted near-duplicate pairs) in one file".format(
                args.names, len(PLANTED)
            )
        )
        print("  {:<28} {:8.3f} s".format("_.parse_file (process)", base))
        ok = True
        for label, seconds in (("hpreg list", listed), ("hpreg lint", linted)):
            ratio = seconds / base
            passed = ratio <= TARGET
            ok &= passed
            print(
                "  {:<28} {:8.3f} s  {:5.2f}x parse_file (target <= {:.0f}x)  {}".format(
                    label, seconds, ratio, TARGET, "PASS" if passed else "FAIL"
                )
            )
        rows = sum(1 for line in list_out.splitlines() if line.startswith("| _ "))
        listed_all = rows == args.names + 2 * len(PLANTED)
        ok &= listed_all
        print(
            "  list rows: {} of {}  {}".format(
                rows, args.names + 2 * len(PLANTED), "PASS" if listed_all else "FAIL"
            )
        )
        reported = [
            line for line in lint_out.splitlines() if "looks like a typo" in line
        ]
        missing = [
            pair
            for pair in PLANTED
            if not any(
                "'{}' looks like a typo of '{}'".format(pair[1], pair[0]) in line
                for line in reported
            )
        ]
        ok &= not missing
        print(
            "  lint near-duplicates: {} reported, planted pairs missing: {}  {}".format(
                len(reported), missing or "none", "PASS" if not missing else "FAIL"
            )
        )
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
