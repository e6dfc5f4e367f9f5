"""What the runner's tests share: a tiny job script that records each run it makes,
and helpers to start ``hpreg run`` in the background."""

import os
import subprocess
import sys
import textwrap
import time

from conftest import ROOT

JOB = textwrap.dedent(
    """\
    import os, sys, time
    import hpreg
    from hpreg.m import _

    x = _("x", 0)
    tag = _("tag", "a")
    time.sleep(float(os.environ.get("JOB_SLEEP", "0")))
    hpreg.report(step=1, y=x * 2)
    with open(os.environ["COUNT_FILE"], "a") as f:
        f.write(os.environ["HPREG_RUN_ID"] + "\\n")
    if x == int(os.environ.get("JOB_FAIL", "-1")):
        print("job failed on purpose", file=sys.stderr)
        sys.exit(3)
    """
)


def project(tmp_path):
    """A folder with ``job.py``; returns (folder, count file)."""
    (tmp_path / "job.py").write_text(JOB)
    return tmp_path, tmp_path / "count.txt"


def env(count, **extra):
    full = dict(os.environ)
    full.pop("HPREG_DEBUG", None)
    full.pop("HPREG_CONFIG", None)
    full["PYTHONPATH"] = ROOT + os.pathsep + full.get("PYTHONPATH", "")
    full["COUNT_FILE"] = str(count)
    full["TQDM_DISABLE"] = "1"
    full.update({k: str(v) for k, v in extra.items()})
    return full


def run_argv(*items, store="runs/s", jobs=2, extra=()):
    return (
        [
            sys.executable,
            "-m",
            "hpreg",
            "run",
            *items,
            "--store",
            store,
            "-j",
            str(jobs),
        ]
        + list(extra)
        + ["--", sys.executable, "job.py"]
    )


def start(argv, cwd, environ):
    return subprocess.Popen(
        argv,
        cwd=str(cwd),
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(argv, cwd, environ, timeout=60):
    return subprocess.run(
        argv,
        cwd=str(cwd),
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def counted(count):
    """The ids the jobs recorded, one per completed run."""
    if not os.path.exists(str(count)):
        return []
    with open(str(count)) as f:
        return f.read().split()


def wait_for(predicate, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def states(store_dir):
    from hpreg.runner.store import RunStore

    with RunStore(str(store_dir), create=False) as store:
        return {job.id: job.state for job in store.jobs()}


# a job that records its device and when it ran (inside the time it holds it):
# ``python -c DEVICE_JOB RUN_DIR SECONDS``
DEVICE_JOB = (
    "import os, sys, time; t = time.time(); time.sleep(float(sys.argv[2])); "
    "open(os.path.join(sys.argv[1], 'device'), 'w').write("
    "'{} {!r} {!r}'.format(os.environ.get('CUDA_VISIBLE_DEVICES'), t, time.time()))"
)


def devices_held(*store_dirs):
    """(device, start, end) of each job of these stores that recorded one."""
    held = []
    for store_dir in store_dirs:
        for name in sorted(os.listdir(str(store_dir))):
            path = os.path.join(str(store_dir), name, "device")
            if os.path.exists(path):
                with open(path) as f:
                    device, begin, end = f.read().split()
                held.append((device, float(begin), float(end)))
    return held


def sharing(held):
    """Pairs of jobs that held one device at the same time."""
    return [
        (a, b)
        for i, a in enumerate(held)
        for b in held[i + 1 :]
        if a[0] == b[0] and a[1] < b[2] and b[1] < a[2]
    ]
