"""Scale-out on Dask: a client on a LocalCluster by default, or on any scheduler address."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["dask_client", "run_futures"]


@contextmanager
def dask_client(*, workers: int = 2, scheduler: str | None = None) -> Iterator:
    """A `dask.distributed.Client` on `scheduler`, or on a LocalCluster of `workers` single-threaded processes."""
    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, so that freed memory goes back to the
    # system at once; PyTorch training, which frees and allocates its activations every step, ran 1.5-2x slower
    # under it (benchmarks/RESULTS.md). 64 MiB keeps the memory-returning behaviour for large frees.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 64 * 2**20}), \
            LocalCluster(n_workers=max(workers, 1), threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def run_futures(client, func: Callable, tasks: Iterable[tuple], *, on_result: Callable[[Any], None],
                name: str = "task") -> None:
    """Submit `func(*task)` for every task as futures and hand each result to `on_result` as it completes."""
    from dask.distributed import as_completed

    futures = [client.submit(func, *task, pure=False, key=f"{name}-{i}") for i, task in enumerate(tasks)]
    for future in as_completed(futures):
        on_result(future.result())
