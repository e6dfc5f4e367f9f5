"""``--gpus`` across processes: a device is leased machine-wide (hpreg.runner.devices),
the lease follows the job (kill -9 of its runner included) and never leaks into the
user's command."""

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from hpreg.errors import ExecutorError
from hpreg.runner import devices, local
from hpreg.runner.store import RunStore
from run_support import (
    DEVICE_JOB,
    devices_held,
    env,
    project,
    sharing,
    start,
    states,
    wait_for,
)


def _run_argv(store, gpus, sleep, points="i=range(4)", jobs=2, command=None):
    command = command or [sys.executable, "-c", DEVICE_JOB, "{run_dir}", str(sleep)]
    return [
        sys.executable,
        "-m",
        "hpreg",
        "run",
        points,
        "--store",
        store,
        "-j",
        str(jobs),
        "--gpus",
        gpus,
        "--",
    ] + command


def _finish(proc, timeout=90):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _other_process_takes(folder, names):
    """The device another process gets from ``names`` (None: all held)."""
    code = (
        "import sys; from hpreg.runner.devices import Devices; "
        "lease = Devices(sys.argv[2:], folder=sys.argv[1]).take(); "
        "print(lease.device if lease else None)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(folder)] + list(names),
        capture_output=True,
        text=True,
        timeout=30,
        env=env("unused"),
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


# -- devices.py --------------------------------------------------------------------------
class TestLeases:
    def test_take_and_give_back(self, tmp_path):
        pool = devices.Devices(["0", "1"], folder=str(tmp_path))
        first, second = pool.take(), pool.take()
        assert (first.device, second.device) == ("0", "1")
        assert pool.take() is None  # both held
        pool.give_back(first)
        assert first.fd is None
        again = pool.take()
        assert again.device == "0"
        pool.close()
        assert again.fd is None and second.fd is None

    def test_a_second_process_cannot_take_a_held_device(self, tmp_path):
        pool = devices.Devices(["0", "1"], folder=str(tmp_path))
        lease = pool.take()
        assert _other_process_takes(tmp_path, ["0", "1"]) == "1"
        assert _other_process_takes(tmp_path, ["0"]) == "None"
        pool.give_back(lease)
        assert _other_process_takes(tmp_path, ["0"]) == "0"

    def test_a_lease_handed_to_a_process_ends_with_it_even_on_kill_9(self, tmp_path):
        pool = devices.Devices(["0"], folder=str(tmp_path))
        lease = pool.take()
        child = subprocess.Popen(["sleep", "60"], stdin=lease.fd)
        pool.started(lease)  # this process's copy is closed: the child holds it
        assert lease.fd is None
        try:
            assert _other_process_takes(tmp_path, ["0"]) == "None"
            pool.free("0")
            assert pool.take() is None  # in this process too: the lock decides
        finally:
            child.kill()
            child.wait()
        assert _other_process_takes(tmp_path, ["0"]) == "0"

    def test_the_default_lock_folder_is_private(self, tmp_path, monkeypatch):
        monkeypatch.delenv(devices.ENV, raising=False)
        monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
        mine = tmp_path / "hpreg-{}".format(os.getuid())
        mine.mkdir(mode=0o755)
        os.chmod(str(mine), 0o755)
        pool = devices.Devices(["0", "GPU-1/a b"])
        assert pool.folder == str(mine / "devices")
        for folder in (mine, mine / "devices"):
            assert stat.S_IMODE(os.stat(str(folder)).st_mode) == 0o700
        assert pool.take().device == "0" and pool.take().device == "GPU-1/a b"
        files = sorted(os.listdir(pool.folder))
        assert "0.lock" in files and len(files) == 2  # an odd name is hashed
        for name in files:
            mode = os.stat(os.path.join(pool.folder, name)).st_mode
            assert stat.S_IMODE(mode) == 0o600
        pool.close()

    def test_a_lock_folder_that_is_a_link_is_refused(self, tmp_path, monkeypatch):
        monkeypatch.delenv(devices.ENV, raising=False)
        monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        os.symlink(
            str(tmp_path / "elsewhere"), str(tmp_path / "hpreg-{}".format(os.getuid()))
        )
        with pytest.raises(ExecutorError) as caught:
            devices.Devices(["0"])
        assert "not a folder of this user" in str(caught.value)
        assert devices.ENV in str(caught.value)

    def test_the_environment_variable_picks_the_folder(self, tmp_path, monkeypatch):
        monkeypatch.setenv(devices.ENV, str(tmp_path / "locks" / "here"))
        pool = devices.Devices(["3"])
        assert pool.take().device == "3"
        assert os.listdir(str(tmp_path / "locks" / "here")) == ["3.lock"]
        pool.close()


# -- end to end ----------------------------------------------------------------------------
class TestRunners:
    def test_two_runners_on_two_stores_never_share_a_device(self, tmp_path):
        folder, count = project(tmp_path)
        environ = env(count)
        runners = [
            start(_run_argv("runs/{}".format(name), "0,1", 0.4), folder, environ)
            for name in ("a", "b")
        ]
        for runner in runners:
            code, _, err = _finish(runner)
            assert code == 0, err
        stores = [str(folder / "runs" / name) for name in ("a", "b")]
        for store in stores:
            assert set(states(store).values()) == {"done"}
        held = devices_held(*stores)
        assert len(held) == 8
        assert {d for d, _, _ in held} == {"0", "1"}
        assert sharing(held) == []

    def test_two_runners_on_one_store_run_each_job_once_on_its_own_device(
        self, tmp_path
    ):
        folder, count = project(tmp_path)
        environ = env(count)
        # the first one creates the store; the second joins it while it runs
        argv = _run_argv("runs/s", "0,1", 0.6, points="i=range(6)")
        first = start(argv, folder, environ)
        store = folder / "runs" / "s"
        assert wait_for(lambda: (store / "hpreg.db").exists())
        second = start(argv, folder, environ)
        for runner in (first, second):
            code, _, err = _finish(runner)
            assert code == 0, err
        assert sorted(states(str(store)).values()) == ["done"] * 6
        held = devices_held(str(store))
        assert len(held) == 6
        assert sharing(held) == []
        with RunStore(str(store), create=False) as opened:
            assert [job.attempts for job in opened.jobs()] == [1] * 6

    def test_a_killed_runners_job_keeps_its_device_until_it_ends(self, tmp_path):
        folder, count = project(tmp_path)
        environ = env(count)
        first = start(
            _run_argv("runs/a", "0", 3.0, points="i=[0]", jobs=1), folder, environ
        )
        store_a = folder / "runs" / "a"
        assert wait_for(lambda: any(store_a.glob("*/pid")) and _has_pid(store_a))
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        (pid_file,) = store_a.glob("*/pid")
        job = int(pid_file.read_text())
        assert local.process_alive(job)  # its own session: it outlived its runner
        second = start(_run_argv("runs/b", "0", 0.1, jobs=1), folder, environ)
        code, _, err = _finish(second)
        assert code == 0, err
        assert not local.process_alive(job)
        ((_, _, killed_end),) = devices_held(str(store_a))
        later = devices_held(str(folder / "runs" / "b"))
        assert len(later) == 4 and {d for d, _, _ in later} == {"0"}
        assert min(begin for _, begin, _ in later) >= killed_end
        assert sharing(later) == []

    def test_the_users_command_does_not_hold_the_lease(self, tmp_path):
        folder, count = project(tmp_path)
        (folder / "fds.py").write_text(
            textwrap.dedent(
                """\
                import os, sys
                def targets(pid):
                    where = "/proc/{}/fd".format(pid)
                    found = []
                    for fd in os.listdir(where):
                        try:
                            found.append(os.readlink(os.path.join(where, fd)))
                        except OSError:
                            pass
                    return found
                with open(os.path.join(sys.argv[1], "fds"), "w") as f:
                    f.write("\\n".join(["self"] + targets("self")) + "\\n")
                    f.write("\\n".join(["wrapper"] + targets(os.getppid())) + "\\n")
                """
            )
        )
        environ = env(count)
        runner = start(
            _run_argv(
                "runs/s",
                "0",
                0,
                points="i=[0]",
                command=[
                    sys.executable,
                    "-c",
                    (folder / "fds.py").read_text(),
                    "{run_dir}",
                ],
            ),
            folder,
            environ,
        )
        code, _, err = _finish(runner)
        assert code == 0, err
        (fds,) = (folder / "runs" / "s").glob("*/fds")
        mine, wrapper = fds.read_text().split("wrapper\n")
        lock = os.path.join(os.environ[devices.ENV], "0.lock")
        assert lock in wrapper.split()  # the wrapper holds the lease...
        assert lock not in mine.split()  # ...its command does not
        assert "/dev/null" in mine.split()  # its stdin, as without --gpus

    def test_ctrl_c_leaves_no_device_held(self, tmp_path):
        folder, count = project(tmp_path)
        runner = start(
            _run_argv("runs/s", "0,1", 60, points="i=range(3)"), folder, env(count)
        )
        store = folder / "runs" / "s"
        assert wait_for(lambda: len(list(store.glob("*/pid"))) == 2)
        assert _other_process_takes(os.environ[devices.ENV], ["0", "1"]) == "None"
        runner.send_signal(signal.SIGINT)
        code, _, err = _finish(runner)
        assert code != 0
        assert "interrupted" in set(states(str(store)).values())
        assert _other_process_takes(os.environ[devices.ENV], ["0"]) == "0"
        assert _other_process_takes(os.environ[devices.ENV], ["1"]) == "1"


def _has_pid(store):
    return all(path.read_text().strip() for path in store.glob("*/pid"))


class TestInProcess:
    def test_a_runner_waits_for_a_device_held_elsewhere(self, tmp_path):
        pool = devices.Devices(["0"])
        lease = pool.take()
        released = []

        def release():
            time.sleep(1.0)
            released.append(time.time())
            pool.give_back(lease)

        thread = threading.Thread(target=release)
        command = [sys.executable, "-c", DEVICE_JOB, "{run_dir}", "0"]
        with RunStore(str(tmp_path / "runs" / "s")) as store:
            store.add_jobs([("job{}".format(i), {"i": i}, command) for i in range(2)])
            executor = local.LocalExecutor(store, store.directory, jobs=2, gpus=["0"])
            thread.start()
            summary = executor.run()
            thread.join()
            assert summary.launched == 2
            assert [j.state for j in store.jobs()] == ["done", "done"]
            held = devices_held(store.directory)
        assert min(begin for _, begin, _ in held) >= released[0]
        assert sharing(held) == []
        assert executor.devices.leases == []  # none left open by the runner
        assert _other_process_takes(os.environ[devices.ENV], ["0"]) == "0"

    def test_a_function_job_holds_its_lease_while_it_runs(self, tmp_path):
        with RunStore(str(tmp_path / "runs" / "f")) as store:
            store.add_jobs([("job0", {"i": 0}, ["python-function", "t"])])
            executor = local.LocalExecutor(
                store,
                store.directory,
                gpus=["0"],
                function=local.FunctionTarget(_try_my_device),
            )
            executor.run()
            (job,) = store.jobs()
            assert job.state == "done", job.error
            assert job.metrics == {"device": "0", "taken_by_another": False}
        assert _other_process_takes(os.environ[devices.ENV], ["0"]) == "0"


def _try_my_device(point):
    """In the forked job: its device cannot be leased again (another lease of this
    same process conflicts: flock belongs to an open file)."""
    lease = devices.Devices(["0"]).take()
    return {
        "device": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "taken_by_another": lease is not None,
    }


def test_optimize_with_gpus_waits_for_a_device_held_elsewhere(tmp_path):
    pytest.importorskip("optuna")
    (tmp_path / "job.py").write_text(
        textwrap.dedent(
            """\
            import os, time
            import hpreg
            from hpreg.m import _

            x = _("x", 0.5, low=0.0, high=1.0)
            t = time.time()
            time.sleep(0.2)
            with open(os.path.join(os.environ["HPREG_RUN_DIR"], "device"), "w") as f:
                f.write("{} {!r} {!r}".format(
                    os.environ["CUDA_VISIBLE_DEVICES"], t, time.time()))
            hpreg.report(val_loss=x)
            """
        )
    )
    pool = devices.Devices(["0", "1"])
    lease = pool.take()  # device 0 is busy elsewhere: trials run on 1 only
    argv = [sys.executable, "-m", "hpreg", "optimize", "--metric", "val_loss"]
    argv += ["--n-trials", "3", "-j", "2", "--gpus", "0,1"]
    argv += ["--", sys.executable, "job.py"]
    try:
        done = subprocess.run(
            argv,
            cwd=str(tmp_path),
            env=env(tmp_path / "count.txt"),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        pool.close()
    assert done.returncode == 0, done.stderr
    assert "3 of 3 trials" in done.stdout
    held = devices_held(str(tmp_path / "runs" / "optimize"))
    assert [d for d, _, _ in held] == ["1", "1", "1"]
    assert sharing(held) == []
