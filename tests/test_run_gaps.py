"""Issue 9's runner promises, each checked: ``--gpus`` never gives one device to two
running jobs (re-attached ones included); the progress bar on a terminal, plain
lines otherwise and with ``TQDM_DISABLE``; ``git_commit``/``git_dirty`` in
``meta.json``; a failed job's stderr tail in ``hpreg status`` and ``hpreg results``."""

import io
import json
import os
import subprocess
import sys

import pytest

from hpreg.runner import local, rundir
from hpreg.runner.progress import Progress
from hpreg.runner.store import RunStore

from run_support import (
    DEVICE_JOB,
    counted,
    devices_held,
    env,
    project,
    run,
    run_argv,
    sharing,
)


class TestGpus:
    def test_no_two_running_jobs_share_a_device(self, tmp_path):
        folder, count = project(tmp_path)
        argv = [
            sys.executable,
            "-m",
            "hpreg",
            "run",
            "i=range(6)",
            "--store",
            "runs/g",
            "-j",
            "4",
            "--gpus",
            "0,1",
            "--",
            sys.executable,
            "-c",
            DEVICE_JOB,
            "{run_dir}",
            "0.3",
        ]
        result = run(argv, folder, env(count))
        assert result.returncode == 0, result.stderr
        held = devices_held(str(folder / "runs" / "g"))
        assert len(held) == 6
        assert {d for d, _, _ in held} == {"0", "1"}
        assert sharing(held) == []  # never one device for two jobs at once
        # -j 4 with two devices: at most two jobs at once (the others wait)
        for _, start, _ in held:  # the most at once is reached at some start
            at_once = [h for h in held if h[1] <= start < h[2]]
            assert len(at_once) <= 2

    def test_a_re_attached_job_keeps_its_device(self, tmp_path):
        with RunStore(str(tmp_path / "runs" / "s")) as store:
            store.add_jobs(
                [
                    (
                        "job{}".format(i),
                        {"i": i},
                        [sys.executable, "-c", DEVICE_JOB, "{run_dir}", "0"],
                    )
                    for i in range(3)
                ]
            )
            dead = subprocess.Popen([sys.executable, "-c", "pass"])
            dead.wait()
            store.register("dead", local.HOST, dead.pid)
            job = store.claim("dead")
            run_dir = os.path.join(store.directory, job.id)
            os.makedirs(run_dir)
            # the dead runner's job still runs on device 0
            orphan = subprocess.Popen(
                ["sh", "-c", rundir.WRAPPER, "hpreg-job", run_dir]
                + [sys.executable, "-c", DEVICE_JOB, run_dir, "1.0"],
                env=dict(os.environ, CUDA_VISIBLE_DEVICES="0"),
                start_new_session=True,
            )
            assert _wait_for_file(os.path.join(run_dir, rundir.PID))
            executor = local.LocalExecutor(
                store, store.directory, jobs=2, gpus=["0", "1"]
            )
            summary = executor.run()
            orphan.wait()
            assert summary.launched == 2
            assert [j.state for j in store.jobs()] == ["done"] * 3
            held = devices_held(store.directory)
            assert len(held) == 3
            assert sharing(held) == []


def _wait_for_file(path, timeout=10.0):
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and open(path).read().strip():
            return True
        time.sleep(0.01)
    return False


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture(name="three")
def fixture_three(tmp_path):
    """A store of three jobs: one done, one failed, one left."""
    with RunStore(str(tmp_path / "runs" / "p")) as store:
        store.add_jobs([("job{}".format(i), {"x": i}, ["true"]) for i in range(3)])
        yield store


def _drive(store, progress):
    for state, code in (("done", 0), ("failed", 3)):
        job = store.claim("r")
        progress.started(job)
        store.finish(job.id, "r", state, exit_code=code)
        progress.ended(job, state, code, 0.5)
    progress.close()


class TestProgress:
    def test_a_terminal_gets_a_tqdm_bar_with_the_counts(self, three, monkeypatch):
        monkeypatch.delenv("TQDM_DISABLE", raising=False)
        stream = _Terminal()
        progress = Progress(three, stream=stream)
        assert progress.use_bar
        _drive(three, progress)
        text = stream.getvalue()
        assert "\r" in text  # redrawn in place
        assert "2/3" in text and "job/s" in text
        assert "1 done, 1 failed, 0 running, 1 left" in text
        assert "<" in text  # tqdm's [elapsed<remaining]
        assert "failed: job1 (exit 3) x=1" in text

    def test_not_a_terminal_gets_plain_lines(self, three, monkeypatch):
        monkeypatch.delenv("TQDM_DISABLE", raising=False)
        stream = io.StringIO()
        progress = Progress(three, stream=stream)
        assert not progress.use_bar
        _drive(three, progress)
        lines = stream.getvalue().splitlines()
        assert len(lines) == 2 and "\r" not in stream.getvalue()
        assert lines[0].startswith("job0 done in 0.5 s x=0: 1/3 finished (33%): ")
        assert "1 done, 0 failed, 0 running, 2 left; elapsed 00:00, ETA" in lines[0]
        assert lines[1].startswith("job1 failed (exit 3) in 0.5 s x=1: 2/3 finished")
        assert "1 done, 1 failed, 0 running, 1 left; elapsed" in lines[1]

    @pytest.mark.parametrize("value", ["1", "True"])
    def test_tqdm_disable_gives_plain_lines_on_a_terminal(
        self, three, monkeypatch, value
    ):
        monkeypatch.setenv("TQDM_DISABLE", value)
        stream = _Terminal()
        progress = Progress(three, stream=stream)
        assert not progress.use_bar
        _drive(three, progress)
        assert "\r" not in stream.getvalue()
        assert len(stream.getvalue().splitlines()) == 2

    def test_tqdm_disable_0_keeps_the_bar(self, three, monkeypatch):
        monkeypatch.setenv("TQDM_DISABLE", "0")
        stream = _Terminal()
        _drive(three, Progress(three, stream=stream))
        assert "1 done, 1 failed, 0 running, 1 left" in stream.getvalue()
        assert "\r" in stream.getvalue()

    def test_the_runner_prints_plain_lines_through_a_pipe(self, tmp_path):
        folder, count = project(tmp_path)
        result = run(run_argv("x=1,2", jobs=1), folder, env(count))
        assert result.returncode == 0, result.stderr
        lines = [line for line in result.stderr.splitlines() if " in " in line]
        assert len(lines) == 2
        # the second job may already run while the first is recorded
        assert "1/2 finished (50%): 1 done, 0 failed, " in lines[0]
        assert "1 running, 0 left" in lines[0] or "0 running, 1 left" in lines[0]
        assert "2/2 finished (100%): 2 done, 0 failed, 0 running, 0 left" in lines[1]


def _git(folder, *argv):
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *argv],
        cwd=str(folder),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _metas(store_dir):
    metas = {}
    for name in os.listdir(str(store_dir)):
        path = os.path.join(str(store_dir), name, "meta.json")
        if os.path.exists(path):
            with open(path) as f:
                meta = json.load(f)
            with open(os.path.join(str(store_dir), name, "config.yaml")) as f:
                metas[f.read().strip()] = meta
    return metas


class TestGitState:
    def test_commit_and_dirty_flag_of_the_users_repository(self, tmp_path):
        (tmp_path / "repo").mkdir()
        folder, count = project(tmp_path / "repo")
        environ = env(count, GIT_CEILING_DIRECTORIES=str(tmp_path))
        _git(folder, "init", "-q")
        _git(folder, "add", "job.py")
        _git(folder, "commit", "-q", "-m", "one")
        head = _git(folder, "rev-parse", "HEAD")
        clean = run(run_argv("x=1", store=str(tmp_path / "runs")), folder, environ)
        assert clean.returncode == 0, clean.stderr
        with open(str(folder / "job.py"), "a") as f:
            f.write("# changed\n")
        dirty = run(run_argv("x=2", store=str(tmp_path / "runs")), folder, environ)
        assert dirty.returncode == 0, dirty.stderr
        metas = _metas(tmp_path / "runs")
        assert metas["x: 1"]["git_commit"] == head
        assert metas["x: 1"]["git_dirty"] is False
        assert metas["x: 2"]["git_commit"] == head
        assert metas["x: 2"]["git_dirty"] is True
        assert len(counted(count)) == 2

    def test_the_users_index_is_left_alone(self, tmp_path):
        """``git status`` would refresh (rewrite) the index under index.lock: a
        user's git command at that moment would fail, and a runner stopped then
        would leave the lock behind."""
        (tmp_path / "repo").mkdir()
        folder, count = project(tmp_path / "repo")
        environ = env(count, GIT_CEILING_DIRECTORIES=str(tmp_path))
        _git(folder, "init", "-q")
        _git(folder, "add", "job.py")
        _git(folder, "commit", "-q", "-m", "one")
        later = os.stat(str(folder / "job.py")).st_mtime + 10
        os.utime(str(folder / "job.py"), (later, later))  # same content, new time
        index = (folder / ".git" / "index").read_bytes()
        result = run(run_argv("x=1", store=str(tmp_path / "runs")), folder, environ)
        assert result.returncode == 0, result.stderr
        assert _metas(tmp_path / "runs")["x: 1"]["git_dirty"] is False
        assert (folder / ".git" / "index").read_bytes() == index

    def test_outside_a_repository_they_are_null(self, tmp_path):
        (tmp_path / "plain").mkdir()
        folder, count = project(tmp_path / "plain")
        environ = env(count, GIT_CEILING_DIRECTORIES=str(tmp_path))
        result = run(run_argv("x=1,2"), folder, environ)
        assert result.returncode == 0, result.stderr
        metas = _metas(folder / "runs" / "s")
        assert len(metas) == 2
        for meta in metas.values():
            assert meta["git_commit"] is None and meta["git_dirty"] is None

    def test_read_once_per_run(self, tmp_path, monkeypatch):
        started = []
        real = rundir.start_git_state

        def counting(cwd="."):
            started.append(cwd)
            return real(cwd)

        monkeypatch.setattr(rundir, "start_git_state", counting)
        with RunStore(str(tmp_path / "s")) as store:
            store.add_jobs([("j{}".format(i), {"i": i}, ["true"]) for i in range(4)])
            local.LocalExecutor(store, store.directory, jobs=2).run()
            assert [j.state for j in store.jobs()] == ["done"] * 4
        assert len(started) == 1


class TestFailureTail:
    def test_status_and_results_show_the_stderr_tail(self, tmp_path):
        folder, count = project(tmp_path)
        environ = env(count, JOB_FAIL=2)
        result = run(run_argv("x=1,2,3"), folder, environ)
        assert result.returncode == 1
        hpreg = [sys.executable, "-m", "hpreg"]
        status = run(hpreg + ["status", "runs/s"], folder, environ)
        assert status.returncode == 0
        assert "2 done, 1 failed, 0 running, 0 left" in status.stdout
        assert "3/3 finished (100%)" in status.stdout
        assert " exit 3 (attempt 1): x=2" in status.stdout
        assert "    | job failed on purpose" in status.stdout
        table = run(hpreg + ["results", "runs/s", "--sort", "x"], folder, environ)
        assert table.returncode == 0, table.stderr
        tail = table.stdout.split("failed:\n", 1)[1]
        assert " exit 3 (attempt 1): x=2" in tail
        assert "    | job failed on purpose" in tail
        # rows filtered out are not listed; CSV and JSON keep their columns
        kept = run(hpreg + ["results", "runs/s", "--where", "x != 2"], folder, environ)
        assert "failed:" not in kept.stdout
        rows = json.loads(
            run(
                hpreg + ["results", "runs/s", "--format", "json"], folder, environ
            ).stdout
        )
        assert [r["exit_code"] for r in rows] == [0, 3, 0]


LOADED = """
import sys
from hpreg.cli.app import main
code = main(sys.argv[1:])
heavy = ("optuna", "dask", "distributed", "submitit", "matplotlib", "tqdm",
         "prettytable", "numpy", "pandas", "multiprocessing", "ctypes")
print(" ".join(sorted({m.split(".")[0] for m in sys.modules} & set(heavy))))
sys.exit(code)
"""


class TestLean:
    def test_hpreg_run_loads_no_optional_library(self, tmp_path):
        """What ``hpreg run`` of a command imports on a pipe: none of the optional
        extras, no tqdm (no terminal), no multiprocessing (a command, not a
        function)."""
        folder, count = project(tmp_path)
        (folder / "loaded.py").write_text(LOADED)
        argv = [sys.executable, "loaded.py"] + run_argv("x=1,2")[3:]
        result = run(argv, folder, env(count))
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1] == ""

    def test_a_job_end_does_not_read_back_what_its_launch_wrote(
        self, tmp_path, monkeypatch
    ):
        reads = []
        real = rundir.read_meta
        monkeypatch.setattr(
            rundir, "read_meta", lambda run_dir: reads.append(run_dir) or real(run_dir)
        )
        with RunStore(str(tmp_path / "s")) as store:
            store.add_jobs([("j{}".format(i), {"i": i}, ["true"]) for i in range(3)])
            local.LocalExecutor(store, store.directory, jobs=1).run()
            assert [j.state for j in store.jobs()] == ["done"] * 3
            meta = json.loads(
                open(os.path.join(store.directory, "j0", "meta.json")).read()
            )
            assert meta["exit_code"] == 0 and meta["end"] >= meta["start"]
        assert reads == []

    def test_an_exit_file_stamped_before_the_start_still_ends_after_it(
        self, tmp_path, monkeypatch
    ):
        """The exit file's mtime comes from the kernel's coarse clock, which can be a few
        milliseconds behind the ``time.time()`` the start was taken with."""
        real = rundir.read_exit

        def early(run_dir, attempt=None):
            code, _ = real(run_dir, attempt)
            return code, rundir.read_meta(run_dir)["start"] - 0.004

        monkeypatch.setattr(rundir, "read_exit", early)
        with RunStore(str(tmp_path / "s")) as store:
            store.add_jobs([("j0", {"i": 0}, ["true"])])
            local.LocalExecutor(store, store.directory, jobs=1).run()
            meta = rundir.read_meta(os.path.join(store.directory, "j0"))
            assert meta["exit_code"] == 0 and meta["end"] == meta["start"]
