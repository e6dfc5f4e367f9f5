"""The job state machine (hpreg.runner.states): classify and settle, the store's
guarded transitions against a model (hypothesis), liveness, the heartbeat thread,
attempts counted whatever ended them, and prune acknowledgements."""

import os
import subprocess
import sys
import time

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from hpreg.errors import RunStoreError
from hpreg.runner import liveness, states
from hpreg.runner.local import LocalExecutor
from hpreg.runner.states import Outcome, classify, settle
from hpreg.runner.store import RunStore


class TestClassify:
    @pytest.mark.parametrize(
        "code, kwargs, expected",
        [
            (0, {}, Outcome("done")),
            (3, {}, Outcome("failed", "exit code 3")),
            (None, {}, Outcome("lost", "ended without an exit status (killed)")),
            (None, {"engine_reason": "time limit"}, Outcome("failed", "time limit")),
            (None, {"lost": True, "engine_reason": "slurm: PREEMPTED"},
             Outcome("lost", "slurm: PREEMPTED")),
            (130, {"interrupted": True}, Outcome("interrupted", "interrupted")),
            (0, {"interrupted": True}, Outcome("done")),  # it ended by itself
            (None, {"timed_out": 2.5}, Outcome("failed", "timed out after 2.5 s")),
            (0, {"prune_acknowledged": True},
             Outcome("pruned", "pruned by the optimizer")),
        ],
    )  # fmt: skip
    def test_each_ending(self, code, kwargs, expected):
        assert classify(code, **kwargs) == expected

    def test_the_same_ending_is_the_same_outcome_for_every_executor(self):
        # the local and remote executors both call classify: one definition
        from hpreg.runner import local, remote

        assert local.classify is remote.classify is states.classify


class TestSettle:
    def test_done_and_pruned_are_final(self):
        for state in ("done", "pruned"):
            assert settle(Outcome(state), 1, 3) == state

    def test_a_lost_or_interrupted_job_gets_another_attempt_until_the_cap(self):
        for state in ("lost", "interrupted"):
            assert settle(Outcome(state, "x"), 1, 3) == "queued"
            assert settle(Outcome(state, "x"), 2, 3) == "queued"
            assert settle(Outcome(state, "x"), 3, 3) == "failed"
            # a run that stops leaves it for the next run, still counted
            assert settle(Outcome(state, "x"), 1, 3, stopping=True) == state
            assert settle(Outcome(state, "x"), 3, 3, stopping=True) == "failed"

    def test_a_jobs_own_failure_is_retried_only_when_asked(self):
        assert settle(Outcome("failed", "exit code 1"), 1, 3) == "failed"
        assert settle(Outcome("failed", "exit code 1"), 1, 3, True) == "queued"
        assert settle(Outcome("failed", "exit code 1"), 3, 3, True) == "failed"

    def test_max_attempts_default_and_given(self):
        assert states.max_attempts_of(None) == (3, False)
        assert states.max_attempts_of(5) == (5, True)

    def test_every_transition_is_listed(self):
        assert states.allowed("queued", "running")
        assert not states.allowed("queued", "done")
        assert not states.allowed("done", "queued")
        assert states.allowed("running", "lost")
        assert states.allowed("lost", "running")
        assert not states.allowed("lost", "queued")  # back only through a claim
        assert set(states.TRANSITIONS) == set(states.STATES)


class StoreMachine(RuleBasedStateMachine):
    """The store against a model: every guarded transition happens exactly when
    the model says the job is in the state and owned by the runner asking."""

    RUNNERS = ("a", "b")

    def __init__(self):
        super().__init__()
        import tempfile

        self.folder = tempfile.mkdtemp()
        self.store = RunStore(self.folder)
        self.model = {}  # id -> [state, owner, attempts]
        self.count = 0

    jobs = Bundle("jobs")

    @rule(target=jobs)
    def add(self):
        job_id = "j{}".format(self.count)
        self.count += 1
        assert self.store.add_jobs([(job_id, {"i": self.count}, ["true"])]) == 1
        self.model[job_id] = ["queued", None, 0]
        return job_id

    @rule(runner=st.sampled_from(RUNNERS))
    def claim(self, runner):
        job = self.store.claim(runner)
        claimable = [i for i, (s, _, _) in self.model.items() if s in states.CLAIMABLE]
        if not claimable:
            assert job is None
            return
        assert job is not None and job.id == min(claimable, key=lambda i: int(i[1:]))
        entry = self.model[job.id]
        entry[0], entry[1], entry[2] = "running", runner, entry[2] + 1
        assert job.attempts == entry[2]

    @rule(
        job=jobs,
        runner=st.sampled_from(RUNNERS),
        state=st.sampled_from(states.ENDINGS + ("queued",)),
    )
    def finish(self, job, runner, state):
        entry = self.model[job]
        expected = entry[0] == "running" and entry[1] == runner
        outcome = Outcome(state, "r") if state != "queued" else None
        done = self.store.finish(job, runner, state, outcome=outcome, attempt=1)
        assert done == expected
        if done:
            entry[0], entry[1] = state, None

    @rule(job=jobs, runner=st.sampled_from(RUNNERS))
    def release(self, job, runner):
        entry = self.model[job]
        expected = entry[0] == "running" and entry[1] == runner
        assert self.store.release(job, runner) == expected
        if expected:
            entry[0], entry[1], entry[2] = "queued", None, entry[2] - 1

    @rule(job=jobs, old=st.sampled_from(RUNNERS), new=st.sampled_from(RUNNERS))
    def adopt(self, job, old, new):
        entry = self.model[job]
        expected = entry[0] == "running" and entry[1] == old
        assert self.store.adopt(job, old, new) == expected
        if expected:
            entry[1] = new

    @rule()
    def retry_failed(self):
        failed = [i for i, e in self.model.items() if e[0] == "failed"]
        assert self.store.requeue_failed() == len(failed)
        for job_id in failed:
            self.model[job_id][0] = "queued"

    @invariant()
    def counts_agree(self):
        counts = self.store.counts()
        for state in states.STATES:
            expected = sum(1 for e in self.model.values() if e[0] == state)
            assert counts[state] == expected, state

    @precondition(lambda self: self.model)
    @invariant()
    def rows_agree(self):
        for job in self.store.jobs():
            state, owner, attempts = self.model[job.id]
            assert (job.state, job.runner, job.attempts) == (state, owner, attempts)

    def teardown(self):
        self.store.close()


TestStoreAgainstModel = StoreMachine.TestCase
TestStoreAgainstModel.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None
)


def _wait(condition, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


class TestLiveness:
    def test_the_heartbeat_comes_from_a_thread_while_the_main_loop_blocks(
        self, tmp_path
    ):
        with RunStore(str(tmp_path / "s")) as store:
            store.register("r", "elsewhere", 1)
            first = store.runners()[0]["heartbeat"]
            beat = liveness.Heartbeat(store, "r", interval=0.01).start()
            try:
                # the main thread does nothing but wait (as on a slow git/sacct)
                _wait(lambda: store.runners()[0]["heartbeat"] > first)
            finally:
                beat.stop()

    def test_a_store_held_by_a_live_runner_on_another_host_is_refused(self, tmp_path):
        with RunStore(str(tmp_path / "s")) as store:
            store.register("r", "login2", 4242)
            with pytest.raises(RunStoreError) as caught:
                liveness.check_one_host(store)
            message = str(caught.value)
            assert "login2" in message and "4242" in message
            assert "one coordinator per store" in message

    def test_the_command_refuses_it_too(self, tmp_path, run_hpreg):
        store = tmp_path / "runs" / "s"
        with RunStore(str(store)) as opened:
            opened.register("r", "login2", 4242)
        result = run_hpreg("run", "x=1,2", "--store", store, "--", "true", cwd=tmp_path)
        assert result.returncode == 1
        assert "login2" in result.stderr and "Traceback" not in result.stderr
        with RunStore(str(store)) as opened:
            assert opened.counts()["done"] == 0  # nothing ran

    def test_a_runner_that_lost_its_job_never_launches_it(self, tmp_path):
        with RunStore(str(tmp_path / "s")) as store:
            ledger = tmp_path / "ledger"
            store.add_jobs([("a", {}, ["sh", "-c", "echo a >> {}".format(ledger)])])
            executor = LocalExecutor(store, str(tmp_path / "s"))
            job = store.claim(executor.runner)
            assert store.adopt("a", executor.runner, "other")  # taken over
            executor._launch(job)
            assert not executor.running and not ledger.exists()

    def test_a_refused_end_is_not_reported(self, tmp_path):
        told = []

        class Driver:
            def ended(self, *args):
                told.append(args)

        with RunStore(str(tmp_path / "s")) as store:
            store.add_jobs([("a", {}, ["true"])])
            executor = LocalExecutor(store, str(tmp_path / "s"), driver=Driver())
            job = store.claim(executor.runner)
            assert store.adopt("a", executor.runner, "other")
            executor.record_end(
                job, str(tmp_path), Outcome("done"), 0, time.time(), {}, None
            )
            assert told == [] and store.get("a").state == "running"


def _run(tmp_path, command, points=1, extra=()):
    argv = [sys.executable, "-m", "hpreg", "run", "x=range(0,{})".format(points)]
    argv += ["--store", str(tmp_path / "runs"), "-j", "2", *extra, "--", *command]
    return subprocess.run(
        argv, cwd=str(tmp_path), capture_output=True, text=True, timeout=300
    )


class TestAttempts:
    def test_a_job_killed_every_time_fails_after_three_attempts_with_reasons(
        self, tmp_path
    ):
        ledger = tmp_path / "ledger"
        # the job's wrapper is killed: the job did not end by itself (lost)
        script = 'echo "$HPREG_RUN_ID" >> {}; kill -9 $PPID'.format(ledger)
        result = _run(tmp_path, ["sh", "-c", script])
        assert result.returncode == 1, result.stderr
        assert len(ledger.read_text().split()) == 3  # the default --max-attempts
        with RunStore(str(tmp_path / "runs")) as store:
            (job,) = store.jobs()
            assert job.state == "failed" and job.attempts == 3
            assert job.error.startswith("failed after 3 attempts: 1 lost (")
            assert [h["state"] for h in job.history] == ["lost"] * 3
        # each attempt's logs are kept
        run_dir = tmp_path / "runs" / job.id
        assert (run_dir / "attempt1").is_dir() and (run_dir / "attempt2").is_dir()

    def test_max_attempts_caps_lost_jobs_too(self, tmp_path):
        ledger = tmp_path / "ledger"
        script = 'echo "$HPREG_RUN_ID" >> {}; kill -9 $PPID'.format(ledger)
        result = _run(tmp_path, ["sh", "-c", script], extra=["--max-attempts", "1"])
        assert result.returncode == 1
        assert len(ledger.read_text().split()) == 1

    def test_a_failing_job_is_not_retried_by_default(self, tmp_path):
        ledger = tmp_path / "ledger"
        result = _run(tmp_path, ["sh", "-c", "echo x >> {}; exit 3".format(ledger)])
        assert result.returncode == 1
        assert ledger.read_text().split() == ["x"]
        with RunStore(str(tmp_path / "runs")) as store:
            (job,) = store.jobs()
            assert job.error.startswith("exit code 3")


class TestPruneAcknowledgement:
    JOB = (
        "import os, sys, hpreg\n"
        "from hpreg.m import _\n"
        '_("x", 0)\n'
        "d = os.environ['HPREG_RUN_DIR']\n"
        "open(os.path.join(d, 'prune'), 'w').close()  # the optimizer's marker\n"
        "if sys.argv[1] == 'report':\n"
        "    hpreg.report(step=1, loss=1.0)\n"
    )

    @pytest.mark.parametrize("how, state", [("report", "pruned"), ("end", "done")])
    def test_only_a_report_that_saw_the_prune_makes_a_job_pruned(
        self, tmp_path, how, state
    ):
        (tmp_path / "job.py").write_text(self.JOB)
        result = _run(tmp_path, [sys.executable, "job.py", how])
        assert result.returncode == 0, result.stderr
        with RunStore(str(tmp_path / "runs")) as store:
            assert [j.state for j in store.jobs()] == [state]


class TestStaleExitFile:
    def test_an_earlier_attempts_status_is_never_this_attempts(self, tmp_path):
        from hpreg.runner import rundir

        run_dir = tmp_path / "job"
        run_dir.mkdir()
        (run_dir / "exit_code").write_text("130 1\n")
        assert rundir.read_exit_code(str(run_dir), 1) == 130
        assert rundir.read_exit_code(str(run_dir), 2) is None
        assert rundir.read_exit(str(run_dir), 2) == (None, None)
        (run_dir / "exit_code").write_text("0\n")  # an older wrapper's: no attempt
        assert rundir.read_exit_code(str(run_dir), 2) == 0

    def test_a_runner_killed_between_claim_and_launch_runs_the_job(self, tmp_path):
        # attempt 1 was interrupted (its status 130 is in the run directory); the
        # runner that claimed attempt 2 died before moving it aside
        ledger = tmp_path / "ledger"
        store_dir = tmp_path / "s"
        with RunStore(str(store_dir)) as store:
            command = ["sh", "-c", "echo ran >> {}".format(ledger)]
            store.add_jobs([("a", {}, command)])
            first = store.claim("gone")
            store.finish("a", "gone", "interrupted", exit_code=130)
            (store_dir / "a").mkdir()
            (store_dir / "a" / "exit_code").write_text("130 1\n")
            second = store.claim("dead-runner")
            assert (first.attempts, second.attempts) == (1, 2)
            store._db.execute("UPDATE jobs SET claimed = claimed - 60")
            LocalExecutor(store, str(store_dir)).run()
            job = store.get("a")
            assert job.state == "done" and ledger.read_text().split() == ["ran"]
            assert (store_dir / "a" / "exit_code").read_text().split() == ["0", "2"]


def test_placeholders_are_filled_in_one_pass():
    from hpreg.runner import rundir

    config = "/runs/st_{id}/abc/config.yaml"
    filled = rundir.fill("--cfg={config}:{id}", config, "/runs/st_{id}/abc", "abc")
    assert filled == "--cfg=/runs/st_{id}/abc/config.yaml:abc"


def test_a_store_path_with_braces_is_not_filled(tmp_path, run_hpreg):
    result = run_hpreg(
        "run", "x=1,2", "--store", "st_{id}", "--", "sh", "-c", "cat {config}",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with RunStore(str(tmp_path / "st_{id}"), create=False) as store:
        assert {j.state for j in store.jobs()} == {"done"}
        outputs = sorted(
            (tmp_path / "st_{id}" / j.id / "stdout.log").read_text().strip()
            for j in store.jobs()
        )
    assert outputs == ["x: 1", "x: 2"]


def test_a_point_holding_an_object_with_an_address_is_refused(tmp_path):
    import hpreg
    from hpreg.errors import UsageError

    def activation(x):
        return x

    with pytest.raises(UsageError) as caught:
        hpreg.run(
            [{"lr": 0.1, "model": {"act": activation}}],
            ["true"],
            store=str(tmp_path / "s"),
            progress=False,
        )
    message = str(caught.value)
    assert "'model'" in message and "not plain data" in message
    assert not (tmp_path / "s").exists()  # refused before anything was written


class TestSweepLimit:
    def test_a_countable_sweep_past_the_limit_is_refused_with_runs(self, run_hpreg):
        result = run_hpreg("run", "x=range(0,2000000)", "--", "true")
        assert result.returncode == 1
        assert "hpreg run runs at most 1000000" in result.stderr

    def test_an_endless_function_sweep_is_refused_at_the_limit(
        self, tmp_path, monkeypatch, capsys
    ):
        from hpreg.cli.app import main
        from hpreg.sweep import leaves, output

        (tmp_path / "points.py").write_text(
            "import itertools\n"
            "def endless():\n"
            "    return ({'x': i} for i in itertools.count())\n"
        )
        monkeypatch.setattr(output, "MAX_OUT_POINTS", 50)
        monkeypatch.setattr(leaves, "MAX_FUNCTION_POINTS", 50)
        monkeypatch.chdir(tmp_path)
        code = main(["run", "points.py:endless", "--store", "s", "--", "true"])
        assert code == 1
        err = capsys.readouterr().err
        assert "returned more than 50 points" in err
        assert not (tmp_path / "s").exists()


def test_a_kept_attempt_is_never_overwritten(tmp_path):
    from hpreg.runner import rundir

    run_dir = str(tmp_path / "job")
    rundir.prepare(run_dir, {"x": 1}, ["true"], 1)
    (tmp_path / "job" / "metrics.jsonl").write_text('{"loss": 0.5}\n')
    rundir.prepare(run_dir, {"x": 1}, ["true"], 2)  # attempt 1 kept
    # attempt 2 was claimed, never started, given back uncounted: claimed as 2 again
    rundir.prepare(run_dir, {"x": 1}, ["true"], 2)
    kept = tmp_path / "job" / "attempt1" / "metrics.jsonl"
    assert kept.read_text() == '{"loss": 0.5}\n'
    assert (tmp_path / "job" / "metrics.jsonl").read_text() == ""
