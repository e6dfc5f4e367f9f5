"""Runtime access in a training loop's inner step: ``_("name")`` and the idiom
``_("name", default)`` against a plain ``dict[key]`` lookup, and hpman side by side.

Target (issue 2): each hpreg call costs at most 10x the dict lookup.
"""

import argparse
import timeit


def per_call_ns(stmt, namespace, number):
    timer = timeit.Timer(stmt, globals=namespace)
    best = min(timer.repeat(repeat=5, number=number))
    return best / number * 1e9


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args(argv)
    number = 100_000 if args.quick else 1_000_000

    import hpman
    import hpreg

    reg = hpreg.HyperParameterManager("_")
    reg.parse_source("_('learning_rate', 0.001)\n")
    man = hpman.HyperParameterManager("_")
    man.parse_source("_('learning_rate', 0.001)\n")
    values = {"learning_rate": 0.001}
    namespace = {"reg": reg, "man": man, "d": values}

    base = per_call_ns("d['learning_rate']", namespace, number)
    rows = [
        ("hpreg _(name)", per_call_ns("reg('learning_rate')", namespace, number)),
        (
            "hpreg _(name, default)",
            per_call_ns("reg('learning_rate', 0.001)", namespace, number),
        ),
        ("hpman _(name)", per_call_ns("man('learning_rate')", namespace, number // 10)),
        (
            "hpman _(name, default)",
            per_call_ns("man('learning_rate', 0.001)", namespace, number // 10),
        ),
    ]
    print("runtime access, per call (best of 5), dict[key] = {:.1f} ns".format(base))
    ok = True
    for label, ns in rows:
        ratio = ns / base
        verdict = ""
        if label.startswith("hpreg"):
            passed = ratio <= 10
            ok &= passed
            verdict = "PASS" if passed else "FAIL"
            verdict += " (target <= 10x dict)"
        print(
            "  {:<24} {:8.1f} ns  {:6.1f}x dict  {}".format(label, ns, ratio, verdict)
        )
    hpman_default = rows[3][1] / rows[1][1]
    print("  hpreg vs hpman for _(name, default): {:.1f}x faster".format(hpman_default))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
