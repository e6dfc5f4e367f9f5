"""Sweep algebra speed and memory against the issue's targets, in one run.

- enumerating a 10^6-point, 6-axis grid as dicts: at least 0.5x the speed of
  itertools.product building the same dicts with dict(zip(names, values));
- tracemalloc peak under 20 MB while iterating those points;
- len and s[i] of a 10^10-point grid: under 1 ms each.

``--quick`` uses a 10^4-point grid (for CI smoke runs).
"""

import argparse
import itertools
import os
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import hpreg.sweep as hp  # noqa: E402


def best_of(repeats, fn):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def peer_enumerate(names, values):
    for combo in itertools.product(*values):
        point = dict(zip(names, combo))
    return point


def hpreg_enumerate(sweep):
    for point in sweep:
        pass
    return point


def verdict(ok):
    return "PASS" if ok else "FAIL"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 10^4-point grid")
    args = parser.parse_args(argv)
    per_axis = [10, 10, 10, 10, 1, 1] if args.quick else [10] * 6
    repeats = 3
    names = ["axis{}".format(i) for i in range(6)]
    values = [[0.1 * j for j in range(n)] for n in per_axis]
    sweep = hp.product(**dict(zip(names, values)))
    size = len(sweep)
    results = []

    peer = best_of(repeats, lambda: peer_enumerate(names, values))
    ours = best_of(repeats, lambda: hpreg_enumerate(sweep))
    ratio = peer / ours
    print(
        "enumerate {:,} points, 6 axes: itertools.product+dict {:.3f} s "
        "({:.2f} us/point), hpreg {:.3f} s ({:.2f} us/point)".format(
            size, peer, 1e6 * peer / size, ours, 1e6 * ours / size
        )
    )
    print(
        "  hpreg speed / peer speed = {:.2f}x (target >= 0.5x): {}".format(
            ratio, verdict(ratio >= 0.5)
        )
    )
    results.append(ratio >= 0.5)

    derived = sweep.derive(total=lambda p: p["axis0"] + p["axis1"])
    slow = best_of(1, lambda: hpreg_enumerate(derived))
    print(
        "  (for scale, with a derive: {:.2f} us/point; no target)".format(
            1e6 * slow / size
        )
    )

    tracemalloc.start()
    hpreg_enumerate(sweep)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        "tracemalloc peak iterating {:,} points: {:.3f} MB (target < 20 MB): "
        "{}".format(size, peak / 2**20, verdict(peak < 20 * 2**20))
    )
    results.append(peak < 20 * 2**20)

    huge = hp.product(**{"x{}".format(i): list(range(10)) for i in range(10)})
    calls = 1000
    length = best_of(repeats, lambda: [len(huge) for _ in range(calls)]) / calls
    last = 10**10 - 1
    index = best_of(repeats, lambda: [huge[last] for _ in range(calls)]) / calls
    negative = best_of(repeats, lambda: [huge[-1] for _ in range(calls)]) / calls
    assert len(huge) == 10**10 and huge[last] == {"x{}".format(i): 9 for i in range(10)}
    worst = max(length, index, negative)
    print(
        "10^10-point grid: len {:.2f} us, s[10**10-1] {:.2f} us, s[-1] {:.2f} us "
        "(target < 1 ms each): {}".format(
            1e6 * length, 1e6 * index, 1e6 * negative, verdict(worst < 1e-3)
        )
    )
    results.append(worst < 1e-3)

    print("overall: {}".format(verdict(all(results))))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
