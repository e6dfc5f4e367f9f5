"""Executors: where a run's jobs execute. The store and the coordinator (the process
that runs ``hpreg run`` or ``hpreg.run``) stay the source of truth in every case.

The interface, for every executor (``LocalExecutor``, ``SlurmExecutor``,
``DaskExecutor``; ``hpreg.runner.api.make_executor`` builds one by name)::

    executor = make_executor("dask", store, root, jobs=4, scheduler="local")  # api
    summary = executor.run()   # runs the store's queued jobs until none is left

(``Executor`` is in ``hpreg.runner.base``; the local executor keeps its own loop for
pidfd waits, signals to process groups and GPU slots, under the same contract.)

- ``run()`` claims queued (and interrupted) jobs of ``store`` (limited by
  ``store.choose``), runs each in ``root/<id>/`` and records its end in the store,
  exactly once (``store.finish`` is guarded by the runner's id). It returns a
  ``Summary`` (counts by state, failed jobs, whether it was interrupted). Jobs added
  to the store while it runs (an optimizer's next trials, from ``progress.ended``)
  are claimed too, when ``store.choose`` lets them.
- ``driver`` (the optimizer's ask/tell loop, ``hpreg.optimizer.coordinator``): when a
  slot is free and no job is queued, ``driver.feed()`` adds one (and chooses it);
  ``driver.tick(running)`` looks at the running jobs (``running[id].run_dir``) every
  poll; ``driver.ended(job, state, run_dir, metrics, error)`` hears each end. A job
  whose run directory holds ``prune`` when it ends is recorded ``pruned``.
- A coordinator that dies loses nothing: the next ``run()`` on the store finds its
  jobs stale and re-attaches to those still running (by pid locally, by the Slurm
  job id or dask key recorded as the job's ``handle`` otherwise), records those
  that ended meanwhile from their run directory, and queues the others again.
- Ctrl-C (SIGINT/SIGTERM) stops the jobs, records them ``interrupted`` (queued
  again on the next run) and returns with ``summary.interrupted``.
- Every end goes through ``hpreg.runner.states``: ``classify`` says how the
  attempt ended, ``settle`` what the job becomes (another attempt while
  ``max_attempts`` allow, else failed with the reasons of its attempts), and the
  store writes it only if this runner still owns the job; a runner that lost a
  job neither launches it nor records it, nor tells the optimizer about it.

Remote executors are ``RemoteExecutor`` subclasses: they implement four small hooks
(``submit``, ``poll``, ``attach``, ``cancel``) and ``execute`` runs each job on the
worker exactly as the local executor runs it (the same wrapper, run directory files
and environment). The run directories must be on a filesystem the workers share
(the usual case on a Slurm cluster).
"""

import os
from typing import Optional

from hpreg.runner.liveness import Heartbeat, check_one_host, process_identity
from hpreg.runner.rundir import HOST, METRICS, read_metrics_checked
from hpreg.runner.states import (
    DONE,
    FAILED,
    PRUNED,
    attempts_summary,
    max_attempts_of,
    settle,
)


class Executor:
    """Runs the queued jobs of a run store until none is left: ``run()`` returns a
    ``Summary``. Implemented by ``LocalExecutor`` (``hpreg.runner.local``) and the
    ``RemoteExecutor`` subclasses (``hpreg.runner.slurm``, ``hpreg.runner.dask``).
    Subclasses set ``store``, ``runner``, ``max_attempts``, ``retry_failures``,
    ``signals``, ``progress`` and ``driver``."""

    name = "?"
    _heartbeat = None

    def run(self):  # pragma: no cover (abstract)
        raise NotImplementedError

    def set_attempts(self, max_attempts: Optional[int]) -> None:
        """``--max-attempts`` (None: the default, which retries only endings that
        are not the job's own failure)."""
        self.max_attempts, self.retry_failures = max_attempts_of(max_attempts)

    def register(self) -> None:
        """Join the store's runners (refused when another host's live runner holds
        it) and start beating from a thread."""
        check_one_host(self.store)
        pid = os.getpid()
        self.store.register(self.runner, HOST, pid, process_identity(pid))
        self._heartbeat = Heartbeat(self.store, self.runner).start()

    def unregister(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None
        self.store.unregister(self.runner)

    def claim_next(self):
        """The next queued job, claimed for this runner; when none is queued, the
        optimizer's driver (if any, and no signal stops the run) may add one. None
        when there is none."""
        job = self.store.claim(self.runner)
        if job is None and self.driver is not None and not self.signals:
            if self.driver.feed():
                job = self.store.claim(self.runner)
        return job

    def read_metrics(self, job, run_dir: str):
        """The job's metrics; what was wrong with its ``metrics.jsonl`` (lines
        skipped or cut) is said, naming the job."""
        metrics, problems = read_metrics_checked(run_dir)
        if problems and self.progress is not None:
            self.progress.message(
                "{}: {}: {}".format(job.id, METRICS, "; ".join(problems))
            )
        return metrics

    def record_end(self, job, run_dir, outcome, code, end, metrics, start, detail=None):
        """Record how a job's attempt ended (``outcome``, from ``states.classify``;
        ``detail``: its stderr tail) and what the job becomes (``states.settle``),
        then tell the progress display and the optimizer's driver. Nothing is told
        when the store refuses (this runner no longer owns the job)."""
        state = settle(
            outcome,
            job.tries,
            self.max_attempts,
            self.retry_failures,
            stopping=bool(self.signals),
        )
        error = None
        if outcome.state != DONE and outcome.state != PRUNED:
            error = outcome.reason or outcome.state
            if state == FAILED and outcome.state != FAILED:
                history = list(job.get("history") or [])
                history.append(
                    {
                        "attempt": job.attempts,
                        "state": outcome.state,
                        "reason": outcome.reason,
                    }
                )
                error = attempts_summary(history, job.tries)
            if detail:
                error += "\n" + detail
        recorded = self.store.finish(
            job.id,
            self.runner,
            state,
            exit_code=code,
            end=end,
            error=error,
            metrics=metrics,
            start=start,
            outcome=outcome,
            attempt=job.attempts,
        )
        if not recorded:
            if self.progress is not None:
                self.progress.message(
                    "{}: another runner took this job over; its end is not "
                    "recorded here".format(job.id)
                )
            return
        if self.progress is not None:
            self.progress.ended(job, state, code, end - (start or end))
        if self.driver is not None:
            self.driver.ended(job, state, run_dir, metrics, error)
