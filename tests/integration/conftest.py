"""Tiny Pythia samples shared by the integration tests (generated once per test session, side by side on two
Dask workers)."""

import pytest

from anomalyhunt.generate import GenerationConfig, generate_many
from anomalyhunt.parallel import dask_client


@pytest.fixture(scope="session")
def generation_client():
    """One LocalCluster of two single-threaded workers for the generation of every sample fixture (CI has two
    cores; generating in the test process used one)."""
    with dask_client(workers=2) as client:
        yield client


def _generate_together(client, jobs) -> list[str]:
    """Generate (GenerationConfig, folder) jobs at once on the client (`generate_many`); their folders, in order."""
    generate_many(jobs, client=client)
    return [str(out) for _, out in jobs]


@pytest.fixture(scope="session")
def generate_together(generation_client):
    """A function generating (GenerationConfig, folder) jobs side by side on the session's client."""
    return lambda jobs: _generate_together(generation_client, jobs)


@pytest.fixture(scope="session")
def search_samples(tmp_path_factory, generation_client):
    """SM ttbar and W + jets plus a 2 TeV W' (chekanov2022 preset): (root folder, dataset paths)."""
    root = tmp_path_factory.mktemp("search")
    jobs = [(GenerationConfig(process, n, seed=4, params=params, chunk_size=600), root / process)
            for process, params, n in (("ttbar", {}, 1200), ("wjets", {}, 1200), ("ssm_wprime", {"mass": 2000.0}, 300))]
    return root, _generate_together(generation_client, jobs)


@pytest.fixture(scope="session")
def disco_samples(tmp_path_factory, generation_client):
    """W, Z and two Mikuni, Nachman & Shih signals (adc2021 preset): dataset paths."""
    root = tmp_path_factory.mktemp("disco")
    jobs = [(GenerationConfig(process, n, seed=5, preset="adc2021", chunk_size=n), root / process)
            for process, n in (("w_lnu", 3000), ("z_ll", 600), ("a_4l", 400), ("h0_tautau", 1500))]
    return _generate_together(generation_client, jobs)


@pytest.fixture(scope="session")
def fourlepton_samples(tmp_path_factory, generation_client):
    """Krzyzanska & Nachman's samples at a tiny scale (fourlepton preset): simulation, an independent background pool
    from another seed, and the 150 GeV scalar_4l signal. Dataset paths in that order."""
    return _tiny_samples(generation_client, tmp_path_factory.mktemp("fourlepton"), "fourlepton",
                         (("simulation", "fourlepton_bkg", 2500, 31, {}), ("pool", "fourlepton_bkg", 5000, 32, {}),
                          ("scalar_4l_150", "scalar_4l", 400, 33, {"mass": 150.0})),
                         chunks={"pool": 2500})  # two workers: the pool's halves beside the simulation


@pytest.fixture(scope="session")
def dijet_samples(tmp_path_factory, generation_client):
    """Bortolato et al.'s samples at a tiny scale (dijet_lhco preset, large-R jets): QCD above the 1.2 TeV jet threshold
    and the W' -> X Y signal. Dataset paths in that order."""
    return _tiny_samples(generation_client, tmp_path_factory.mktemp("dijet"), "dijet_lhco",
                         (("qcd", "qcd", 900, 41, {"pthat_min": 1000.0, "bias_pow": 4.0}),
                          ("wprime_xy", "wprime_xy", 400, 42, {})))


@pytest.fixture(scope="session")
def yxh_samples(tmp_path_factory, generation_client):
    """ATLAS's Y -> X H samples at a tiny scale (yxh_atlas preset: large-R jets with constituents, D2, n_b):
    QCD, boosted ttbar, and the 2-prong and dark-jet signals. Dataset paths in that order."""
    return _tiny_samples(generation_client, tmp_path_factory.mktemp("yxh"), "yxh_atlas",
                         (("qcd", "qcd", 1200, 51, {"pthat_min": 400.0, "bias_pow": 3.0}),
                          ("ttbar", "ttbar_boosted", 150, 52, {}), ("yxh_qq", "yxh_qq", 250, 53, {}),
                          ("yxh_dark", "yxh_dark", 250, 54, {})))


def _tiny_samples(client, root, preset: str, specs, chunks=None) -> list[str]:
    """Generate (name, process, events, seed, params) samples side by side, one chunk each unless `chunks`
    (name -> chunk size) says otherwise; their paths."""
    chunks = chunks or {}
    return _generate_together(client, [(GenerationConfig(process, n, seed=seed, preset=preset,
                                                          chunk_size=chunks.get(name, n), params=params), root / name)
                                       for name, process, n, seed, params in specs])
