"""What the ``hpreg optimize`` end-to-end tests share: the jobs' environment, the
store's results as JSON, and the trials the jobs counted themselves."""

import json
import os
import subprocess
import sys


def job_env(project, **extra):
    """The environment of a test's jobs: no debug, no $HPREG_CONFIG, and a file
    where each job writes its run id (``count``)."""
    env = dict(os.environ)
    env.pop("HPREG_DEBUG", None)
    env.pop("HPREG_CONFIG", None)
    env["COUNT_FILE"] = str(project / "count.txt")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def results(project, *args, env=None):
    """``hpreg results ARGS --format json``, parsed (it must succeed)."""
    out = subprocess.run(
        [sys.executable, "-m", "hpreg", "results", *args, "--format", "json"],
        cwd=str(project),
        env=env or job_env(project),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def count(project):
    """The run ids the jobs wrote, one per run of a job."""
    path = project / "count.txt"
    return path.read_text().split() if path.exists() else []
