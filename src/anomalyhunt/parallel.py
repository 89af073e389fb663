"""Scale-out on Dask: a client on a LocalCluster by default, or on any scheduler address."""

from __future__ import annotations

import logging
import queue
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .exceptions import AnomalyHuntError

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
    # under it (docs/results.md). 64 MiB keeps the memory-returning behaviour for large frees.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 64 * 2**20}), \
            LocalCluster(n_workers=max(workers, 1), threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def run_futures(client, func: Callable, tasks: Iterable[tuple], *, on_result: Callable[[Any], None],
                name: str = "task", labels: Sequence[str] | None = None,
                stall_timeout_s: float | None = 3600.0) -> None:
    """Submit `func(*task)` for every task as futures and hand each result to `on_result` as it completes.

    A task whose worker dies is retried on another worker by Dask; when it has killed
    `distributed.scheduler.allowed-failures` workers (out of memory, a crash in compiled code) it raises an
    AnomalyHuntError naming the task. When no task finishes for `stall_timeout_s` seconds (a hung worker, a lost
    scheduler) it raises too instead of waiting forever. Either way the futures still pending are cancelled, and
    what `on_result` already received stays (the callers write each result as it comes, so a rerun resumes).
    Messages name a task by its entry of `labels` (one per task), else `name-i`.
    """
    from dask.distributed import KilledWorker

    tasks = list(tasks)
    if labels is not None and len(labels) != len(tasks):
        raise ValueError(f"{len(labels)} labels for {len(tasks)} tasks")
    # Dask runs a key once and hands its result to every future with that key, so keys must be unique on the
    # scheduler: two datasets of one sample generated side by side (or two jobs on one shared scheduler) would
    # otherwise receive each other's chunks. Messages name tasks by their label instead.
    token = uuid.uuid4().hex[:12]
    futures = [client.submit(func, *task, pure=False, key=f"{name}-{i}-{token}") for i, task in enumerate(tasks)]
    order = {f.key: i for i, f in enumerate(futures)}
    label = {f.key: f"{name}-{i}" if labels is None else labels[i] for i, f in enumerate(futures)}
    pending = set(futures)
    # finished futures arrive through their own callbacks, not `distributed.wait`: that waits on the process's
    # most recently created client, and with a second client alive (another cluster opened meanwhile, in another
    # thread or a notebook) the futures' events got bound to the wrong event loop ("bound to a different event loop")
    done: queue.Queue = queue.Queue()
    for future in futures:
        future.add_done_callback(done.put)
    try:
        while pending:
            try:
                finished = {done.get(timeout=stall_timeout_s)}
            except queue.Empty:
                keys = [label[k] for k in sorted((f.key for f in pending), key=order.get)]
                raise AnomalyHuntError(
                    f"no {name} finished within {stall_timeout_s:g} s; {len(keys)} still pending "
                    f"({', '.join(keys[:5])}{', ...' if len(keys) > 5 else ''}): a worker hangs or the scheduler "
                    f"is gone") from None
            while not done.empty():
                finished.add(done.get_nowait())
            finished &= pending
            pending -= finished
            for future in sorted(finished, key=lambda f: order[f.key]):
                try:
                    result = future.result()
                except KilledWorker as exc:
                    raise AnomalyHuntError(
                        f"{label[future.key]} killed {exc.allowed_failures + 1} Dask workers in a row (each died while "
                        f"running it: out of memory, or a crash in compiled code); "
                        f"rerun to resume from what was written") from exc
                on_result(result)
    finally:
        if pending:
            client.cancel(list(pending))
