"""The one method every executor has (see ``hpreg.run.executor`` for the contract)."""


class Executor:
    """Runs the queued jobs of a run store until none is left: ``run()`` returns a
    ``Summary``. Implemented by ``LocalExecutor`` (``hpreg.run.local``) and the
    ``RemoteExecutor`` subclasses (``hpreg.run.slurm``, ``hpreg.run.dask``)."""

    name = "?"

    def run(self):  # pragma: no cover (abstract)
        raise NotImplementedError
