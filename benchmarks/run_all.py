"""Run every ``bench_*.py`` in this folder in turn (``make bench``); extra
arguments (e.g. ``--quick``) are passed to each. Exits 1 if any target was missed."""

import glob
import os
import subprocess
import sys


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    here = os.path.dirname(os.path.abspath(__file__))
    failed = []
    for script in sorted(glob.glob(os.path.join(here, "bench_*.py"))):
        name = os.path.basename(script)
        print("=" * 78)
        print(name)
        print("=" * 78, flush=True)
        result = subprocess.run([sys.executable, script] + args)
        if result.returncode != 0:
            failed.append(name)
        print(flush=True)
    if failed:
        print("targets missed in: {}".format(", ".join(failed)))
        return 1
    print("all benchmark targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
