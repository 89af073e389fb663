"""The mass-dependent transfer factor against a known exponential ratio and a direct error propagation."""

import numpy as np
import pytest

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.stats import fit_mass_transfer


def _sample(rng, n, slope):
    """Source events flat in mass 50-200 GeV; each is tagged with probability r(m) / (1 + r(m)), so that the
    tagged / untagged ratio is r(m) = 0.02 exp(slope (m - 110))."""
    m = rng.uniform(50, 200, n)
    r = 0.02 * np.exp(slope * (m - 110))
    tagged = rng.random(n) < r / (1 + r)
    return m, tagged


def test_the_fit_recovers_a_rising_ratio_and_extrapolates_into_the_window():
    rng = np.random.default_rng(3)
    m, tagged = _sample(rng, 400_000, 0.012)
    bins = np.array([[50, 62.5], [62.5, 75], [145, 172.5], [172.5, 200]])
    fit = fit_mass_transfer(m, tagged, ~tagged, np.ones(len(m)), bins, m_ref=110.0)
    assert fit.b == pytest.approx(0.012, abs=3 * np.sqrt(fit.covariance[1, 1]))
    assert fit.factor(110.0) == pytest.approx(0.02, rel=0.05)
    window = (m >= 75) & (m < 145)
    value, stat, err = fit.predict(np.ones(int((window & ~tagged).sum())), m[window & ~tagged])
    observed = (window & tagged).sum()
    assert abs(value - observed) < 3 * np.sqrt(observed + stat**2 + err**2)
    # a flat normalisation from the high sideband alone overshoots the window
    high = m >= 145
    flat = (high & tagged).sum() / (high & ~tagged).sum() * (window & ~tagged).sum()
    assert flat > observed + 5 * np.sqrt(observed)
    assert fit.ndof == 2 and fit.chi2 < 15


def test_the_fit_error_propagates_the_covariance_as_a_finite_difference_does():
    rng = np.random.default_rng(5)
    m, tagged = _sample(rng, 50_000, 0.01)
    bins = np.array([[50, 75], [75, 100], [150, 175], [175, 200]])
    fit = fit_mass_transfer(m, tagged, ~tagged, np.ones(len(m)), bins, m_ref=110.0)
    weights, masses = np.ones(200), np.linspace(120, 180, 200)  # off m_ref: the slope's error counts
    _, _, err = fit.predict(weights, masses)
    draws = rng.multivariate_normal([fit.a, fit.b], fit.covariance, size=20_000)
    values = [np.sum(np.exp(a + b * (masses - 110.0))) for a, b in draws]
    assert err == pytest.approx(np.std(values), rel=0.05)


def test_an_empty_bin_is_refused_with_its_range():
    m = np.array([55.0, 60.0, 160.0, 170.0])
    tagged = np.array([True, False, False, False])
    with pytest.raises(ConfigError, match=r"\[150, 200\)"):
        fit_mass_transfer(m, tagged, ~tagged, np.ones(4), np.array([[50, 75], [150, 200]]), m_ref=110.0)
