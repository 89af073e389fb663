"""run_futures on a real LocalCluster: every result arrives; a hung task and a task that kills its worker end
in a clear error instead of a wait without end."""

import os
import time

import dask
import distributed  # noqa: F401 - its config defaults must exist before dask.config.set below
import pytest

from anomalyhunt.exceptions import AnomalyHuntError
from anomalyhunt.parallel import dask_client, run_futures


def _square(x):
    return x * x


def _hang(x):
    if x == 1:
        time.sleep(15)
    return x


def _die(x):
    if x == 2:
        os._exit(1)  # the worker process dies, as it would when the kernel kills it for memory
    return x


@pytest.fixture
def client():
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), dask_client(workers=2) as c:
        yield c


def test_every_result_reaches_the_callback(client):
    got = []
    run_futures(client, _square, [(i,) for i in range(7)], on_result=got.append, name="square")
    assert sorted(got) == [i * i for i in range(7)]


def test_calls_side_by_side_on_one_client_get_their_own_results(client):
    """Two callers with the same task name at once (two datasets of one sample): Dask would hand both the
    result of whichever key ran first if the keys were not unique per call."""
    from concurrent.futures import ThreadPoolExecutor

    def call(offset):
        got = []
        run_futures(client, _square, [(offset + i,) for i in range(4)], on_result=got.append, name="square")
        return sorted(got)

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(call, (0, 10))
    assert first == [0, 1, 4, 9] and second == [100, 121, 144, 169]


def _slow_identity(x):
    time.sleep(1.0)
    return x


def test_clients_opened_while_futures_run_do_not_take_over_the_wait():
    """`distributed.wait` waits on the default client, outside a `with Client()` block the most recently
    created one: with clients opened while the futures ran it raised "bound to a different event loop" (a
    fresh-clone CI run lost its background samples to it). run_futures waits on its own client's futures."""
    from concurrent.futures import ThreadPoolExecutor

    from dask.distributed import Client, LocalCluster

    def in_process(workers):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=False, dashboard_address=None)

    got, opened = [], []

    def open_another(result):
        got.append(result)
        if len(opened) < 2:  # a new most-recent client after each of the first two results
            cluster = in_process(1)
            opened.append((cluster, Client(cluster)))

    # from another thread, as the test suite's background samples are made: `with Client(...)` makes the client
    # current in this thread's context only, so there the default client is the most recently created one
    with in_process(2) as cluster, Client(cluster) as client, ThreadPoolExecutor(1) as thread:
        try:
            thread.submit(run_futures, client, _slow_identity, [(i,) for i in range(6)], on_result=open_another,
                          name="slow").result()
        finally:
            for other_cluster, other in opened:
                other.close()
                other_cluster.close()
    assert sorted(got) == list(range(6)) and len(opened) == 2


def test_a_hung_task_ends_in_a_clear_error(client):
    got = []
    start = time.perf_counter()
    with pytest.raises(AnomalyHuntError, match=r"no hang finished within 1 s; 1 still pending \(hang-1\)"):
        run_futures(client, _hang, [(0,), (1,)], on_result=got.append, name="hang", stall_timeout_s=1)
    assert got == [0]  # what finished was delivered
    assert time.perf_counter() - start < 10
    # with labels, messages name the task by its label
    with pytest.raises(AnomalyHuntError, match=r"1 still pending \(ttbar chunk 7\)"):
        run_futures(client, _hang, [(0,), (1,)], on_result=got.append, name="hang",
                    labels=["w chunk 0", "ttbar chunk 7"], stall_timeout_s=1)
    with pytest.raises(ValueError, match="1 labels for 2 tasks"):
        run_futures(client, _square, [(0,), (1,)], on_result=got.append, labels=["one"])


def test_a_task_that_kills_its_worker_is_named(client):
    # the dying task alone: a task queued behind it on the same worker dies with it and is reported too (Dask
    # cannot tell them apart), which made a batch of three name either one
    got = []
    with pytest.raises(AnomalyHuntError, match="ttbar chunk 2 killed 1 Dask workers in a row"):
        run_futures(client, _die, [(2,)], on_result=got.append, name="die", labels=["ttbar chunk 2"],
                    stall_timeout_s=60)
    assert got == []
