"""Tiny Pythia samples shared by the integration tests: generated once per test session, side by side on two
Dask workers, and under pytest-xdist once for all its workers (the first to need a sample generates it while
holding a lock, the others wait for it and read the same folders)."""

import json
import os
from pathlib import Path

import pytest
from filelock import FileLock

from anomalyhunt.events.io import atomic_write_text
from anomalyhunt.generate import GenerationConfig, generate_many
from anomalyhunt.parallel import dask_client


@pytest.fixture(scope="session")
def generation_client():
    """One LocalCluster of two single-threaded workers for the generation of every sample fixture (CI has two
    cores; generating in the test process used one). Started only by a test process that generates."""
    with dask_client(workers=2) as client:
        yield client


def _generate_together(client, jobs) -> list[str]:
    """Generate (GenerationConfig, folder) jobs at once on the client (`generate_many`); their folders, in order."""
    generate_many(jobs, client=client)
    return [str(out) for _, out in jobs]


@pytest.fixture(scope="session")
def generate_together(request):
    """A function generating (GenerationConfig, folder) jobs side by side on the session's client."""
    return lambda jobs: _generate_together(request.getfixturevalue("generation_client"), jobs)


def _shared(name: str, tmp_path_factory, request, make):
    """`make(root, client)` run once per test session, its result (JSON: folder names) kept for every test process.

    Without xdist: in a fresh temporary folder. Under xdist: in `name` beside the workers' temporary folders,
    behind a file lock, so that the first worker generates and the others wait and reuse its folders."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return make(tmp_path_factory.mktemp(name), request.getfixturevalue("generation_client"))
    root = tmp_path_factory.getbasetemp().parent / name
    record = root / "fixture.json"
    with FileLock(str(root) + ".lock"):
        if not record.exists():
            root.mkdir(exist_ok=True)
            atomic_write_text(record, json.dumps(make(root, request.getfixturevalue("generation_client"))))
        return json.loads(record.read_text())


@pytest.fixture(scope="session")
def search_samples(tmp_path_factory, request):
    """SM ttbar and W + jets plus a 2 TeV W' (chekanov2022 preset): (root folder, dataset paths)."""
    def make(root, client):
        jobs = [(GenerationConfig(process, n, seed=4, params=params, chunk_size=600), root / process) for
                process, params, n in (("ttbar", {}, 1200), ("wjets", {}, 1200), ("ssm_wprime", {"mass": 2000.0}, 300))]
        return [str(root), _generate_together(client, jobs)]

    root, paths = _shared("search", tmp_path_factory, request, make)
    return Path(root), paths


@pytest.fixture(scope="session")
def disco_samples(tmp_path_factory, request):
    """W, Z and two Mikuni, Nachman & Shih signals (adc2021 preset): dataset paths."""
    def make(root, client):
        jobs = [(GenerationConfig(process, n, seed=5, preset="adc2021", chunk_size=n), root / process)
                for process, n in (("w_lnu", 3000), ("z_ll", 600), ("a_4l", 400), ("h0_tautau", 1500))]
        return _generate_together(client, jobs)

    return _shared("disco", tmp_path_factory, request, make)


@pytest.fixture(scope="session")
def fourlepton_samples(tmp_path_factory, request):
    """Krzyzanska & Nachman's samples at a tiny scale (fourlepton preset): simulation, an independent background pool
    from another seed, and the 150 GeV scalar_4l signal. Dataset paths in that order."""
    specs = (("simulation", "fourlepton_bkg", 2500, 31, {}), ("pool", "fourlepton_bkg", 5000, 32, {}),
             ("scalar_4l_150", "scalar_4l", 400, 33, {"mass": 150.0}))
    # two workers: the pool's halves beside the simulation
    return _shared("fourlepton", tmp_path_factory, request,
                   lambda root, client: _tiny_samples(client, root, "fourlepton", specs, chunks={"pool": 2500}))


@pytest.fixture(scope="session")
def dijet_samples(tmp_path_factory, request):
    """Bortolato et al.'s samples at a tiny scale (dijet_lhco preset, large-R jets): QCD above the 1.2 TeV jet threshold
    and the W' -> X Y signal. Dataset paths in that order."""
    specs = (("qcd", "qcd", 900, 41, {"pthat_min": 1000.0, "bias_pow": 4.0}), ("wprime_xy", "wprime_xy", 400, 42, {}))
    return _shared("dijet", tmp_path_factory, request,
                   lambda root, client: _tiny_samples(client, root, "dijet_lhco", specs))


@pytest.fixture(scope="session")
def yxh_samples(tmp_path_factory, request):
    """ATLAS's Y -> X H samples at a tiny scale (yxh_atlas preset: large-R jets with constituents, D2, n_b):
    QCD, boosted ttbar, and the 2-prong and dark-jet signals. Dataset paths in that order."""
    specs = (("qcd", "qcd", 1200, 51, {"pthat_min": 400.0, "bias_pow": 3.0}), ("ttbar", "ttbar_boosted", 150, 52, {}),
             ("yxh_qq", "yxh_qq", 250, 53, {}), ("yxh_dark", "yxh_dark", 250, 54, {}))
    return _shared("yxh", tmp_path_factory, request,
                   lambda root, client: _tiny_samples(client, root, "yxh_atlas", specs))


def _tiny_samples(client, root, preset: str, specs, chunks=None) -> list[str]:
    """Generate (name, process, events, seed, params) samples side by side, one chunk each unless `chunks`
    (name -> chunk size) says otherwise; their paths."""
    chunks = chunks or {}
    return _generate_together(client, [(GenerationConfig(process, n, seed=seed, preset=preset,
                                                          chunk_size=chunks.get(name, n), params=params), root / name)
                                       for name, process, n, seed, params in specs])
