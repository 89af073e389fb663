import awkward as ak
import numpy as np
import pytest

from anomalyhunt.events import empty_events
from tests.samples import SAMPLE_SETS, BackgroundSamples, lower_priority


def make_events(objects_per_event, *, met=None, weight=None):
    """Events in the contract from a list of dicts {collection: [(pt, eta, phi, mass[, charge]), ...]}."""
    n = len(objects_per_event)
    base = empty_events(n)
    fields = {name: base[name] for name in base.fields}
    for coll in ("jets", "bjets", "muons", "electrons", "photons"):
        rows = [ev.get(coll, []) for ev in objects_per_event]
        counts = np.array([len(r) for r in rows], dtype=np.int64)
        width = 5 if coll in ("muons", "electrons") else 4
        flat = np.array([o for r in rows for o in r], dtype=np.float64).reshape(-1, width)
        rec = {k: flat[:, i].astype(np.float32) for i, k in enumerate(("pt", "eta", "phi", "mass"))}
        if coll in ("muons", "electrons"):
            rec["charge"] = flat[:, 4].astype(np.int8)
        fields[coll] = ak.unflatten(ak.zip(rec), counts)
    if met is not None:
        met = np.asarray(met, dtype=np.float32).reshape(n, 2)
        fields["met"] = ak.zip({"pt": np.ascontiguousarray(met[:, 0]), "phi": np.ascontiguousarray(met[:, 1])})
    if weight is not None:
        fields["weight"] = np.asarray(weight, dtype=np.float64)
    return ak.zip(fields, depth_limit=1)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def cli(capsys):
    """Run one `anomalyhunt` command in this process (a subprocess costs seconds of imports per call):
    `cli(*argv)` -> (exit code, stdout, stderr), argparse's exits counted as exit codes. The command's logging
    set-up (its own handler, no propagation) is undone afterwards, so later tests' caplog still sees records."""
    import logging

    from anomalyhunt.cli import main

    logger = logging.getLogger("anomalyhunt")
    saved = (logger.handlers[:], logger.level, logger.propagate)

    def call(*argv):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    yield call
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture(scope="session")
def _generation_cluster():
    """One LocalCluster of two single-threaded workers for generating samples, at a lower priority than the test
    process (the integration tests' samples are made beside the tests that run meanwhile)."""
    from anomalyhunt.parallel import dask_client

    with dask_client(workers=2) as client:
        lower_priority(client)
        yield client


@pytest.fixture(scope="session")
def generation_client(_generation_cluster, background_samples):
    """The generation cluster's client, once the background generation is over (one thread at a time uses it)."""
    if background_samples is not None:
        background_samples.join()
    return _generation_cluster


def _sample_sets_used(items) -> list[str]:
    """The sample sets that the collected tests ask for, as fixtures or through a `samples` mark, in the order
    of SAMPLE_SETS."""
    used = set()
    for item in items:
        used.update(name for name in getattr(item, "fixturenames", ()) if name in SAMPLE_SETS)
        used.update(name for mark in item.iter_markers("samples") for name in mark.args)
    return [name for name in SAMPLE_SETS if name in used]


@pytest.fixture(scope="session", autouse=True)
def background_samples(request, tmp_path_factory):
    """Starts, before the first test, the generation of every sample set the collected tests use (tests/samples.py);
    the sample fixtures wait on it. Nothing starts (and the test process keeps its threads) when no collected test
    uses a sample set."""
    used = _sample_sets_used(request.session.items)
    if not used:
        yield None
        return
    import torch
    from threadpoolctl import threadpool_limits

    samples = BackgroundSamples(request.getfixturevalue("_generation_cluster"), tmp_path_factory.mktemp("samples"))
    samples.start(used)
    # one thread for torch and OpenMP in the test process: beside the generating workers two threads wait on each
    # other (a small ensemble fit took 2-3x longer); alone, one thread measured as fast as two on these tiny fits
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield samples
    torch.set_num_threads(threads)
    samples.close()
