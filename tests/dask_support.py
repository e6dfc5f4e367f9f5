"""A dask.distributed cluster for the executor tests: two one-thread worker
processes behind a scheduler listening on TCP (127.0.0.1), as a remote cluster is,
with dask's default configuration (a task whose worker dies is run again by dask,
``allowed-failures`` times: hpreg must cope with that)."""

import contextlib

import distributed


@contextlib.contextmanager
def tcp_cluster():
    """A ``LocalCluster`` on 127.0.0.1 with dask's default configuration."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        protocol="tcp",
        dashboard_address=None,
    )
    try:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        yield cluster
    finally:
        cluster.close()
