"""Tiny Pythia samples shared by the integration tests (generated once per test session)."""

import pytest

from anomalyhunt.generate import GenerationConfig, generate


@pytest.fixture(scope="session")
def search_samples(tmp_path_factory):
    """SM ttbar and W + jets plus a 2 TeV W' (chekanov2022 preset): (root folder, dataset paths)."""
    root = tmp_path_factory.mktemp("search")
    paths = []
    for process, params, n in (("ttbar", {}, 1200), ("wjets", {}, 1200), ("ssm_wprime", {"mass": 2000.0}, 300)):
        out = root / process
        generate(GenerationConfig(process, n, seed=4, params=params, chunk_size=600), out, workers=0)
        paths.append(str(out))
    return root, paths


@pytest.fixture(scope="session")
def disco_samples(tmp_path_factory):
    """W, Z and two seed-002 signals (adc2021 preset): dataset paths."""
    root = tmp_path_factory.mktemp("disco")
    paths = []
    for process, n in (("w_lnu", 3000), ("z_ll", 600), ("a_4l", 400), ("h0_tautau", 1500)):
        out = root / process
        generate(GenerationConfig(process, n, seed=5, preset="adc2021", chunk_size=n), out, workers=0)
        paths.append(str(out))
    return paths


@pytest.fixture(scope="session")
def fourlepton_samples(tmp_path_factory):
    """Seed 003's samples at a tiny scale (fourlepton preset): simulation, an independent background pool from
    another seed, and the 150 GeV scalar_4l signal. Dataset paths in that order."""
    return _tiny_samples(tmp_path_factory.mktemp("fourlepton"), "fourlepton",
                         (("simulation", "fourlepton_bkg", 2500, 31, {}), ("pool", "fourlepton_bkg", 5000, 32, {}),
                          ("scalar_4l_150", "scalar_4l", 400, 33, {"mass": 150.0})))


@pytest.fixture(scope="session")
def dijet_samples(tmp_path_factory):
    """Seed 004's samples at a tiny scale (dijet_lhco preset, large-R jets): QCD above the 1.2 TeV jet threshold
    and the W' -> X Y signal. Dataset paths in that order."""
    return _tiny_samples(tmp_path_factory.mktemp("dijet"), "dijet_lhco",
                         (("qcd", "qcd", 900, 41, {"pthat_min": 1000.0, "bias_pow": 4.0}),
                          ("wprime_xy", "wprime_xy", 400, 42, {})))


@pytest.fixture(scope="session")
def yxh_samples(tmp_path_factory):
    """Seed 001's Y -> X H samples at a tiny scale (yxh_atlas preset: large-R jets with constituents, D2, n_b):
    QCD, boosted ttbar, and the 2-prong and dark-jet signals. Dataset paths in that order."""
    return _tiny_samples(tmp_path_factory.mktemp("yxh"), "yxh_atlas",
                         (("qcd", "qcd", 1200, 51, {"pthat_min": 400.0, "bias_pow": 3.0}),
                          ("ttbar", "ttbar_boosted", 150, 52, {}), ("yxh_qq", "yxh_qq", 250, 53, {}),
                          ("yxh_dark", "yxh_dark", 250, 54, {})))


def _tiny_samples(root, preset: str, specs) -> list[str]:
    """Generate (name, process, events, seed, params) samples in this process, one chunk each; their paths."""
    paths = []
    for name, process, n, seed, params in specs:
        out = root / name
        generate(GenerationConfig(process, n, seed=seed, preset=preset, chunk_size=n, params=params), out,
                 workers=0)
        paths.append(str(out))
    return paths
