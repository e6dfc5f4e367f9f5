"""Optimizer overhead against the issue's target, in one run.

Per-trial cost of ``hpreg.optimize`` on a trivial in-process objective (a sum of
squares) against plain Optuna's ``study.optimize`` with the same sampler (seeded
TPE) and the same storage (in memory, and a journal file): at most 1.3x. The
objective costs nothing, so the whole time is overhead. Each side is timed once,
after a warm-up; ``--quick`` uses fewer trials. Exit 1 on a miss.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TARGET = 1.3


def objective_point(point):
    return (point["x"] - 2) ** 2 + (point["y"] + 1) ** 2


def plain(optuna, n, storage, name):
    start = time.perf_counter()  # creating the study counts on both sides
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        sampler=optuna.samplers.TPESampler(seed=0, constant_liar=False),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5),
    )

    def objective(trial):
        x = trial.suggest_float("x", -5.0, 5.0)
        y = trial.suggest_float("y", -5.0, 5.0)
        return (x - 2) ** 2 + (y + 1) ** 2

    study.optimize(objective, n_trials=n)
    return time.perf_counter() - start


def ours(n, storage, name):
    import hpreg

    start = time.perf_counter()
    hpreg.optimize(
        objective_point,
        {"x": {"low": -5.0, "high": 5.0}, "y": {"low": -5.0, "high": 5.0}},
        n_trials=n,
        seed=0,
        storage=storage,
        study_name=name,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folder = tempfile.mkdtemp(prefix="hpreg-bench-optimize-")
    ok = True
    try:
        cases = [
            ("memory", 60 if args.quick else 200),
            ("journal", 30 if args.quick else 100),
        ]
        ours(5, None, None)  # warm-up: imports, first compilations
        plain(optuna, 5, None, None)
        for kind, n in cases:
            times = {}
            for who in ("optuna", "hpreg"):
                storage = None
                if kind == "journal":
                    path = os.path.join(folder, "{}.journal".format(who))
                    if who == "optuna":
                        journal = optuna.storages.journal
                        storage = journal.JournalStorage(
                            journal.JournalFileBackend(path)
                        )
                    else:
                        storage = "journal:" + path
                name = None if storage is None else who
                if who == "optuna":
                    times[who] = plain(optuna, n, storage, name)
                else:
                    times[who] = ours(n, storage, name)
            ratio = times["hpreg"] / times["optuna"]
            good = ratio <= TARGET
            ok = ok and good
            print(
                "optimize, TPE, {} storage, {} trials: optuna {:.2f} ms/trial, hpreg "
                "{:.2f} ms/trial: {:.2f}x (target <= {}x) {}".format(
                    kind,
                    n,
                    1000 * times["optuna"] / n,
                    1000 * times["hpreg"] / n,
                    ratio,
                    TARGET,
                    "PASS" if good else "FAIL",
                )
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
