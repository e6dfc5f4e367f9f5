"""The first line of every training job: ``python -c "from hpreg.m import _"`` against
``python -c pass``, and hpman's ``from hpman.m import _``, as whole processes.

Target (issue 7): at most 1.5x a bare interpreter, with ``$HPREG_CONFIG`` unset.
"""

import argparse
import os
import subprocess
import sys
import time


def best_seconds(code, env, runs):
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    args = parser.parse_args(argv)
    runs = 10 if args.quick else 30

    env = dict(os.environ)
    env.pop("HPREG_CONFIG", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # installed packages have their .pyc
    commands = [
        ("python -c pass", "pass"),
        ("from hpreg.m import _", "from hpreg.m import _"),
        ("from hpman.m import _", "from hpman.m import _"),
    ]
    for _, code in commands:  # write bytecode, warm the file cache
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
    # interleave the commands so drift in machine load hits all alike
    times = {label: float("inf") for label, _ in commands}
    for _ in range(runs):
        for label, code in commands:
            times[label] = min(times[label], best_seconds(code, env, 1))
    base = times["python -c pass"]
    print("process start-up, best of {} runs".format(runs))
    ok = True
    for label, _ in commands:
        ratio = times[label] / base
        verdict = ""
        if label.startswith("from hpreg"):
            ok = ratio <= 1.5
            verdict = ("PASS" if ok else "FAIL") + " (target <= 1.5x python -c pass)"
        print(
            "  {:<24} {:7.1f} ms  {:5.2f}x  {}".format(
                label, times[label] * 1e3, ratio, verdict
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
