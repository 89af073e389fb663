"""The tiny Pythia samples shared by the integration tests (tests/samples.py: generated in the background from the
start of the session, on the session's Dask cluster), and generation of further samples on that cluster."""

from pathlib import Path

import pytest

from anomalyhunt.generate import generate_many


@pytest.fixture(scope="session")
def generate_together(generation_client):
    """A function generating (GenerationConfig, folder) jobs side by side on the session's cluster; their folders."""
    def generate(jobs) -> list[str]:
        generate_many(jobs, client=generation_client)
        return [str(out) for _, out in jobs]

    return generate


def _samples(request, name: str) -> list[str]:
    background = request.getfixturevalue("background_samples")
    if background is None:  # the test asked for the set by name at run time only (getfixturevalue)
        pytest.fail(f"{name} was not declared: mark the test with pytest.mark.samples({name!r})")
    return background.wait(name)


@pytest.fixture(scope="session")
def search_samples(request):
    """SM ttbar and W + jets plus a 2 TeV W' (chekanov2022 preset): (root folder, dataset paths)."""
    paths = _samples(request, "search_samples")
    return Path(paths[0]).parent, paths


@pytest.fixture(scope="session")
def disco_samples(request):
    """W, Z and two Mikuni, Nachman & Shih signals (adc2021 preset): dataset paths."""
    return _samples(request, "disco_samples")


@pytest.fixture(scope="session")
def disco_other_samples(request):
    """The leptoquark and charged-Higgs tau signals and the QCD fake leptons (adc2021 preset): dataset paths."""
    return _samples(request, "disco_other_samples")


@pytest.fixture(scope="session")
def fourlepton_samples(request):
    """Krzyzanska & Nachman's samples at a tiny scale (fourlepton preset): simulation, an independent background pool
    from another seed, and the 150 GeV scalar_4l signal. Dataset paths in that order."""
    return _samples(request, "fourlepton_samples")


@pytest.fixture(scope="session")
def dijet_samples(request):
    """Bortolato et al.'s samples at a tiny scale (dijet_lhco preset, large-R jets): QCD above the 1.2 TeV jet threshold
    and the W' -> X Y signal. Dataset paths in that order."""
    return _samples(request, "dijet_samples")


@pytest.fixture(scope="session")
def yxh_samples(request):
    """ATLAS's Y -> X H samples at a tiny scale (yxh_atlas preset: large-R jets with constituents, D2, n_b):
    QCD, boosted ttbar, and the 2-prong and dark-jet signals. Dataset paths in that order."""
    return _samples(request, "yxh_samples")


@pytest.fixture(scope="session")
def features_samples(request):
    """SM ttbar and W + jets at a tiny scale (chekanov2022 preset), two chunks each."""
    return _samples(request, "features_samples")
