"""Every result of the statistics reads on one screen and converts to JSON: each Readable class in
`anomalyhunt.stats` has a case here built by the function that returns it (a new result class without one fails)."""

import inspect
import json

import numpy as np
import pytest

from anomalyhunt import stats
from anomalyhunt.records import Readable

EDGES = stats.resolution_binning(1000, 3000)


def _spectrum():
    shape = stats.dijet_expected(np.array([1.0, 10.0, -4.0]), EDGES)
    return np.random.default_rng(2).poisson(5000 * shape / shape.sum()).astype(float)


def _cases():
    rng = np.random.default_rng(3)
    counts = _spectrum()
    fit = stats.dijet_fit(counts, EDGES)
    bump = stats.bump_hunt(counts, EDGES, rng=1, n_toys=50)
    s1, s2 = rng.random(2000), rng.random(2000)
    bkg, sig = rng.normal(size=500), rng.normal(1, 1, 300)
    masses = rng.uniform(1000, 3000, 500)
    models = stats.background_models({"m_jj": masses}, np.full(500, 0.01), {"all": np.ones(500, bool)}, EDGES,
                                     luminosity_fb=100.0, min_effective=10)
    return {
        stats.DijetFitResult: fit,
        stats.BumpHuntResult: bump,
        stats.GlobalSignificance: bump.significance,
        stats.LimitResult: stats.upper_limits(counts, EDGES, fit=fit, masses=[1500.0]),
        stats.ABCDResult: stats.abcd(s1, s2, thresholds=(0.8, 0.8)),
        stats.TriggerEmulation: stats.emulate_trigger(s1, s2, (0.9, 0.9), events_per_control=20, rng=1),
        stats.GridSignificance: stats.grid_significance(np.array([[5.0, 3.0]]), np.array([[4.0, 3.0]]),
                                                        np.array([[1.0, 1.0]]), n_toys=50, rng=rng),
        stats.RocCurve: stats.roc_curve(bkg, sig),
        stats.SensitivityGain: stats.sensitivity_gain(masses, masses[:300], selected_background=bkg > 1,
                                                      selected_signal=sig > 1, mass=2000.0, sigma=100.0),
        stats.InjectionLimit: stats.injection_limit([0.0, 1.0, 2.0], rng.normal(size=(3, 20)) + [[0], [1], [2]], 1.0),
        stats.Chi2Fit: stats.fit_chi2(rng.chisquare(5, 200)),
        stats.AnomalyRegion: stats.region_by_efficiency(bkg, np.ones(500), 0.1),
        stats.SculptingResult: stats.sculpting_check(counts, EDGES, n_toys=20, rng=1),
        stats.SpectrumModel: models[0],
        stats.SidebandCheck: stats.sideband_check(counts, fit),
        stats.Excess: stats.Excess("m_jj", "all", bump),
        stats.MassTransferFit: stats.fit_mass_transfer(masses, bkg > 0.5, bkg <= 0.5, np.ones(500),
                                                       np.array([[1000, 1300], [1300, 1800], [1800, 3000]]),
                                                       m_ref=1500.0),
    }


def test_every_readable_result_has_a_case():
    readable = {cls for _, cls in inspect.getmembers(stats, inspect.isclass) if issubclass(cls, Readable)}
    assert readable == set(_cases())


@pytest.mark.parametrize("cls, result", list(_cases().items()), ids=lambda v: getattr(v, "__name__", ""))
def test_results_read_on_one_screen_and_convert_to_json(cls, result):
    text = repr(result)
    assert text.startswith(cls.__name__ + "(") and "\n" not in text and len(text) < 700, text
    assert "array([" not in text  # arrays by shape and range, never dumped
    data = json.loads(json.dumps(result.to_dict()))
    assert set(data) == {f for f in result.__dataclass_fields__}
