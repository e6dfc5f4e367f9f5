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

Remote executors are ``RemoteExecutor`` subclasses: they implement four small hooks
(``submit``, ``poll``, ``attach``, ``cancel``) and ``execute`` runs each job on the
worker exactly as the local executor runs it (the same wrapper, run directory files
and environment). The run directories must be on a filesystem the workers share
(the usual case on a Slurm cluster).
"""


class Executor:
    """Runs the queued jobs of a run store until none is left: ``run()`` returns a
    ``Summary``. Implemented by ``LocalExecutor`` (``hpreg.runner.local``) and the
    ``RemoteExecutor`` subclasses (``hpreg.runner.slurm``, ``hpreg.runner.dask``)."""

    name = "?"

    def run(self):  # pragma: no cover (abstract)
        raise NotImplementedError

    def claim_next(self):
        """The next queued job, claimed for this runner; when none is queued, the
        optimizer's driver (if any, and no signal stops the run) may add one. None
        when there is none."""
        job = self.store.claim(self.runner)
        if job is None and self.driver is not None and not self.signals:
            if self.driver.feed():
                job = self.store.claim(self.runner)
        return job

    def record_end(self, job, run_dir, state, code, end, error, metrics, start):
        """Record a job's end in the store (a failed job is queued again while
        ``max_attempts`` allow and no signal stops the run), then tell the progress
        display and the optimizer's driver. Subclasses set ``store``, ``runner``,
        ``max_attempts``, ``signals``, ``progress`` and ``driver``."""
        if state == "failed" and job.tries < self.max_attempts and not self.signals:
            state = "queued"  # --max-attempts: try again in this run
        self.store.finish(
            job.id,
            self.runner,
            state,
            exit_code=code,
            end=end,
            error=error,
            metrics=metrics,
            start=start,
        )
        if self.progress is not None:
            self.progress.ended(job, state, code, end - (start or end))
        if self.driver is not None:
            self.driver.ended(job, state, run_dir, metrics, error)
