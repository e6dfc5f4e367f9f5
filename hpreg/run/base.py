"""The one method every executor has (see ``hpreg.run.executor`` for the contract)."""


class Executor:
    """Runs the queued jobs of a run store until none is left: ``run()`` returns a
    ``Summary``. Implemented by ``LocalExecutor`` (``hpreg.run.local``) and the
    ``RemoteExecutor`` subclasses (``hpreg.run.slurm``, ``hpreg.run.dask``)."""

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
