"""``--executor dask``: jobs go to a dask.distributed cluster (the optional extra
``hpreg[dask]``): ``--scheduler tcp://host:8786``, or ``--scheduler local`` for a
``LocalCluster`` on this machine. Each job is one task (``pure=False``) running the
job's command on a worker; the coordinator stays the store's writer.

hpreg owns the retries, not dask: tasks go with ``retries=0``, on a cluster with
its own configuration (``allowed-failures`` included). A task dask runs again
after its worker died, or recomputes after a finished result was lost with its
worker, finds its run directory's ``launched`` record and never starts the command
again (``hpreg.runner.node``): it gives back the first run's exit status, or
``AttemptDied``. That, and dask's own ``KilledWorker``, is the job's failure
``killed its worker`` (an out-of-memory kill, usually): recorded failed, tried
again only as ``--max-attempts`` allow. A task lost otherwise (its connection
closed, cancelled on the cluster) is lost: queued again by hpreg. The job's process
dies with its worker (no copy keeps running unseen). Each task is published on the
scheduler under its job's name, so a coordinator that replaces a dead one
re-attaches to the jobs still running on a remote cluster."""

import os
from typing import Any, Dict, List, Optional

from hpreg.errors import ExecutorError, MissingExtraError
from hpreg.runner.node import AttemptDied, Task, execute
from hpreg.runner.remote import Ended, RemoteExecutor

KILLED_WORKER = "killed its worker"  # the failure of a job whose worker died
LOST_ERRORS = ("CommClosedError", "FutureCancelledError", "CancelledError")


def _distributed():
    try:
        import distributed
    except ImportError:
        raise MissingExtraError(
            where="--executor dask",
            problem="the dask executor needs dask.distributed, which is not installed",
            fix="pip install hpreg[dask]",
            extra="dask",
            package="distributed",
        ) from None
    return distributed


class DaskExecutor(RemoteExecutor):
    """``scheduler`` is an address (``tcp://host:8786``), ``"local"`` (a
    ``LocalCluster`` of ``jobs`` one-thread workers, for this run only) or a
    ``distributed.Client`` already connected."""

    name = "dask"

    def __init__(
        self,
        store,
        root: str,
        scheduler: Any = "local",
        connect_timeout: float = 20.0,
        **common,
    ):
        super().__init__(store, root, **common)
        self.scheduler = scheduler
        self.connect_timeout = connect_timeout
        self.client = None
        self._cluster = None
        self._own_client = False
        self._futures: Dict[str, Any] = {}  # job id -> Future

    def open(self) -> None:
        distributed = _distributed()
        if isinstance(self.scheduler, distributed.Client):
            self.client = self.scheduler
            return
        try:
            if self.scheduler in (None, "local"):
                self._cluster = distributed.LocalCluster(
                    n_workers=self.jobs or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
                self.client = distributed.Client(self._cluster)
            else:
                self.client = distributed.Client(
                    self.scheduler, timeout=self.connect_timeout
                )
        except (OSError, TimeoutError) as error:
            self.close()
            raise ExecutorError(
                where="--scheduler {}".format(self.scheduler),
                problem="cannot reach the dask scheduler: {}".format(error),
                fix="start it (dask scheduler) or give its address, "
                "e.g. --scheduler tcp://host:8786",
                executor="dask",
            ) from None
        self._own_client = True

    def close(self) -> None:
        if self._own_client and self.client is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        self.client = self._cluster = None

    def _name(self, job_id: str) -> str:
        return "hpreg-{}-{}".format(self.root, job_id)

    def submit(self, tasks: List[Task]) -> List[Optional[str]]:
        handles = []
        for task in tasks:
            future = self.client.submit(
                execute,
                task,
                pure=False,
                retries=0,  # hpreg's --max-attempts, counted, are the retries
                # never a key the scheduler may still know (an earlier attempt's,
                # another coordinator's): dask would hand back that task
                key="hpreg-{}-{}-{}".format(
                    task.job_id, task.attempt, os.urandom(6).hex()
                ),
            )
            self._futures[task.job_id] = future
            name = self._name(task.job_id)
            try:
                self.client.unpublish_dataset(name)
            except KeyError:
                pass
            # published: the task outlives this client, a new coordinator attaches
            self.client.publish_dataset(future, name=name)
            handles.append("dask:" + str(future.key))
        return handles

    def attach(self, job_id: str, handle: Optional[str]) -> Optional[str]:
        if self._cluster is not None:
            return None  # a LocalCluster ended with its coordinator
        if handle is not None and not handle.startswith("dask:"):
            return None
        # by the job's published name: found even when the dead coordinator never
        # saved the handle
        try:
            future = self.client.get_dataset(self._name(job_id))
        except (KeyError, ValueError):
            return None
        if future.status in ("lost", "cancelled"):
            return None
        self._futures[job_id] = future
        return handle or "dask:" + str(future.key)

    def poll(self, handles: Dict[str, str]) -> Dict[str, Ended]:
        ended = {}
        for job_id in handles:
            future = self._futures.get(job_id)
            if future is None:
                ended[job_id] = Ended(lost=True)
                continue
            if not future.done():
                continue
            ended[job_id] = self._outcome(future)
            self._forget(job_id)
        return ended

    def _outcome(self, future) -> Ended:
        if future.status == "finished":
            return Ended(code=future.result())
        if future.status == "cancelled":
            return Ended(lost=True, reason="cancelled on the dask cluster")
        error: Optional[BaseException] = None
        try:
            error = future.exception()
        except Exception as caught:  # the scheduler lost it
            error = caught
        kind = type(error).__name__
        if isinstance(error, AttemptDied) or kind == "KilledWorker":
            return Ended(reason=KILLED_WORKER)
        if kind in LOST_ERRORS:
            return Ended(lost=True, reason="dask: {}: {}".format(kind, error))
        return Ended(reason="dask: {}: {}".format(kind, error))

    def _forget(self, job_id: str) -> None:
        self._futures.pop(job_id, None)
        try:
            self.client.unpublish_dataset(self._name(job_id))
        except (KeyError, OSError):
            pass

    def cancel(self, handles: Dict[str, str]) -> None:
        futures = [self._futures[i] for i in handles if i in self._futures]
        if futures:
            try:
                self.client.cancel(futures)
            except Exception:
                pass
        for job_id in handles:
            self._forget(job_id)
