"""Spectra that leave the tool: hist objects, JSON, and pyhf workspaces whose limits are checked against ours."""

import json

import hist
import numpy as np
import pyhf
import pytest

from anomalyhunt.exceptions import StatsInputError
from anomalyhunt.stats import dijet_expected, dijet_fit, resolution_binning, upper_limits
from anomalyhunt.stats.spectra import Histogram, Spectrum, fit_uncertainty_modes, to_hist

EDGES = resolution_binning(1000, 4000)


@pytest.fixture(scope="module")
def fitted():
    shape = dijet_expected(np.array([1.0, 10.0, -4.0]), EDGES)
    counts = np.random.default_rng(1).poisson(20000 * shape / shape.sum()).astype(float)
    return dijet_fit(counts, EDGES, n_params="auto")


def test_fit_modes_carry_the_fit_covariance(fitted):
    """The eigen-shifts' squares sum to the variance J V J^T of the expected counts, and the shifts reproduce the
    spread of the background over refits of Poisson replicas of the fitted expectation (an independent check)."""
    modes = fit_uncertainty_modes(fitted)
    assert modes.shape == (fitted.n_params, len(EDGES) - 1)
    sigma = np.sqrt((modes**2).sum(axis=0))
    rng = np.random.default_rng(7)
    refits = np.array([dijet_fit(rng.poisson(fitted.expected).astype(float), EDGES, n_params=fitted.n_params).expected
                       for _ in range(60)])
    spread = refits.std(axis=0, ddof=1)
    # 60 replicas: the std is known to ~10%; the analytic band must match it bin by bin to 30%
    assert np.all(np.abs(sigma / spread - 1) < 0.3), np.round(sigma / spread, 2)


def test_hist_and_json_round_trip(fitted):
    sp = Spectrum.from_fit(fitted, region="r10pb", observable="m_jj", limit_masses=[1500, 2500],
                           signals={"wprime": np.full(len(EDGES) - 1, 0.5)})
    again = Spectrum.from_dict(json.loads(json.dumps(sp.to_dict())))
    assert again.name == "r10pb_m_jj" and sorted(again.limit_templates) == ["gauss_1500", "gauss_2500"]
    np.testing.assert_array_equal(again.background_modes, sp.background_modes)
    h = sp.background_hist()
    assert isinstance(h, hist.Hist) and h.storage_type is hist.storage.Weight
    np.testing.assert_allclose(h.values(), fitted.expected)
    np.testing.assert_allclose(np.sqrt(h.variances()), sp.background_error)
    np.testing.assert_array_equal(sp.data_hist().axes[0].edges, EDGES)
    # a hist.Hist goes back into the statistics: the same fit as from (counts, edges)
    refit = dijet_fit(sp.data_hist(), n_params=fitted.n_params)
    np.testing.assert_allclose(refit.expected, dijet_fit(fitted.counts, EDGES, n_params=fitted.n_params).expected)
    assert sp.signal_hist("gauss_1500").sum() == pytest.approx(1.0, rel=1e-3)  # a Gaussian cut at +-3 sigma
    assert "r10pb_m_jj" in repr(sp) and "2 limit templates" in repr(sp) and len(repr(sp)) < 300
    with pytest.raises(StatsInputError, match="unknown spectrum field"):
        Spectrum.from_dict({**sp.to_dict(), "extra": 1})
    scores = Histogram("scores/sm", np.linspace(0, 1, 6), [1, 2, 3, 2, 1], label="score")
    assert Histogram.from_dict(json.loads(json.dumps(scores.to_dict()))).to_hist().sum() == 9
    assert to_hist([1, 2], [0, 1, 2]).storage_type is hist.storage.Double


@pytest.mark.parametrize("mass", [1500, 2500, 3000])
def test_pyhf_limits_agree_with_ours(fitted, mass):
    """pyhf on our workspace against our CLs limits on the same spectrum and Gaussian template.

    They cannot be identical: ours profiles the dijet parameters with no constraint (the data alone pin the
    background), while the workspace carries the fit's eigen-shifts as Gaussian-constrained histosys, whose
    constraint comes from a fit to these same data, so pyhf counts that information twice and its background
    is held tighter. With the background fixed, both must agree closely (same likelihood but for histosys
    interpolation); with it free, pyhf must lie between our fixed and profiled limits, within 15% of profiled."""
    sp = Spectrum.from_fit(fitted, region="r", observable="m_jj", limit_masses=[mass])
    ws = pyhf.Workspace(sp.workspace())  # validates against the HistFactory JSON schema
    model = ws.model(measurement_name=f"gauss_{mass}")
    data = ws.data(model)
    profiled = upper_limits(fitted.counts, EDGES, fit=fitted, masses=[mass])
    fixed = upper_limits(fitted.counts, EDGES, fit=fitted, masses=[mass], background="fixed")
    obs, exp = pyhf.infer.intervals.upper_limits.upper_limit(data, model, scan=None, level=0.05)
    assert float(obs) == pytest.approx(profiled.observed[0], rel=0.15)
    assert float(exp[2]) == pytest.approx(profiled.expected[0], rel=0.15)
    assert fixed.observed[0] * 0.99 <= float(obs) <= profiled.observed[0] * 1.01
    frozen = [fix or name.startswith("bkg_fit_mode")
              for name, fix in zip(model.config.par_names, model.config.suggested_fixed(), strict=True)]
    obs_fixed, exp_fixed = pyhf.infer.intervals.upper_limits.upper_limit(data, model, scan=None, level=0.05,
                                                                         fixed_params=frozen)
    assert float(obs_fixed) == pytest.approx(fixed.observed[0], rel=0.02)
    assert float(exp_fixed[2]) == pytest.approx(fixed.expected[0], rel=0.02)


def test_workspace_needs_a_template(fitted):
    with pytest.raises(StatsInputError, match="at least one signal"):
        Spectrum.from_fit(fitted, region="r", observable="m").workspace()
