"""CLs limits against pyhf, the profiled signal + background likelihood against iminuit, the first-order profile
of the bump hunt against the exact one, degenerate fits, and limit coverage (slow)."""

import numpy as np
import pyhf
import pytest
from iminuit import Minuit
from scipy import special

from anomalyhunt.exceptions import FitError
from anomalyhunt.stats import (
    SignalPlusBackground,
    bump_hunt,
    cls_limits,
    dijet_expected,
    dijet_fit,
    global_significance,
    local_scan,
    profile_factors,
    resolution_binning,
    signal_templates,
    upper_limits,
)

EDGES = resolution_binning(200.0, 6000.0)
TRUTH = np.array([1.0, 8.0, -5.0, -0.6])  # a 4-parameter shape: "auto" fits it with 4 or 5 parameters


def truth(total=2e5):
    b = dijet_expected(TRUTH, EDGES)
    return b * total / b.sum()


def template(mass):
    """The scanned resolution-width template nearest `mass`: its mass and its dense row."""
    tm = signal_templates(EDGES, widths=("resolution",))
    k = int(np.argmin(np.abs(tm.masses - mass)))
    return float(tm.masses[k]), tm.dense(len(EDGES) - 1)[k]


def pyhf_limits(n, b, t):
    pyhf.set_backend("numpy")
    spec = {"channels": [{"name": "sr", "samples": [
        {"name": "signal", "data": [float(x) for x in t],
         "modifiers": [{"name": "mu", "type": "normfactor", "data": None}]},
        {"name": "background", "data": [float(x) for x in b], "modifiers": []}]}]}
    model = pyhf.Model(spec, poi_name="mu")
    bounds = model.config.suggested_bounds()
    bounds[model.config.poi_index] = (0.0, 1000.0)
    obs, exp = pyhf.infer.intervals.upper_limits.upper_limit([float(x) for x in n], model, scan=None,
                                                             par_bounds=bounds, rtol=1e-8)
    return float(obs), [float(x) for x in exp]


@pytest.mark.parametrize(("n", "b", "t"), [
    ([80], [100], [1]),  # downward fluctuation: q-tilde differs from q_mu here
    ([100], [100], [1]),
    ([130], [100], [1]),
    ([8], [12], [1]),
    ([95, 60, 48, 22, 14], [100, 70, 45, 30, 18], [0.1, 0.25, 0.35, 0.2, 0.1]),
    ([3, 9, 15, 12, 4, 1], [5.0, 8.0, 11.0, 9.0, 6.0, 3.0], [0.05, 0.2, 0.4, 0.25, 0.08, 0.02]),
])
def test_limits_and_bands_agree_with_pyhf(n, b, t):
    n, b, t = (np.asarray(a, dtype=np.float64) for a in (n, b, t))
    observed, bands = cls_limits(n, SignalPlusBackground(t, background=b))
    ref_observed, ref_expected = pyhf_limits(n, b, t)
    assert observed == pytest.approx(ref_observed, rel=0.02)
    np.testing.assert_allclose([bands[k] for k in (-2, -1, 0, 1, 2)], ref_expected, rtol=0.02)


def test_expected_limit_equals_the_observed_limit_on_asimov_data():
    b = np.array([40.0, 30.0, 20.0, 10.0])
    t = np.array([0.1, 0.4, 0.4, 0.1])
    observed, bands = cls_limits(b, SignalPlusBackground(t, background=b))
    assert observed == pytest.approx(bands[0], rel=1e-6)


def _nll(n, mu):
    return float(np.sum(mu - n * np.log(mu)))


def test_profiled_likelihood_matches_iminuit():
    rng = np.random.default_rng(5)
    m, t = template(1967.0)
    n = rng.poisson(truth() + 150 * t).astype(np.float64)
    fit = dijet_fit(n, EDGES, n_params=4)
    model = SignalPlusBackground(t, fit_result=fit)
    q_start = np.array([np.log(fit.params[0]), *fit.params[1:]])

    def cost(s):
        def f(*q):
            mu = dijet_expected(np.array([np.exp(q[0]), *q[1:]]), EDGES) + s * t
            return _nll(n, mu) if np.all(mu > 0) else 1e30
        return f

    for s in (0.0, 80.0, 300.0):
        minuit = Minuit(cost(s), *q_start)
        minuit.errordef = Minuit.LIKELIHOOD
        minuit.strategy = 2
        minuit.migrad()
        assert model.profile(n, s)[0] == pytest.approx(minuit.fval, abs=2e-4)
    s_hat, nll_hat, _ = model.fit(n)

    def joint(*p):
        mu = dijet_expected(np.array([np.exp(p[0]), *p[1:-1]]), EDGES) + p[-1] * t
        return _nll(n, mu) if np.all(mu > 0) else 1e30

    minuit = Minuit(joint, *q_start, 100.0)
    minuit.errordef = Minuit.LIKELIHOOD
    minuit.limits[-1] = (0, None)
    minuit.strategy = 2
    minuit.migrad()
    assert nll_hat == pytest.approx(minuit.fval, abs=2e-4)
    assert s_hat == pytest.approx(minuit.values[-1], rel=0.01)


def _experiments(events: float, n_pe: int, *, seed: int):
    """Pseudo-experiments with `events` signal at 1967 GeV: (counts, "auto" fit, template row, its Templates)."""
    rng = np.random.default_rng(seed)
    m, t = template(1967.0)
    tm = signal_templates(EDGES, widths=("resolution",), masses=[m])
    for _ in range(n_pe):
        n = rng.poisson(truth() + events * t).astype(np.float64)
        yield n, dijet_fit(n, EDGES, n_params="auto"), t, tm


def test_first_order_profile_of_the_bump_hunt_follows_the_exact_profile():
    """Z_local and s_hat of the scan (fixed-background Poisson fit scaled by the Schur-complement factor) against
    the exact profile likelihood ratio, for a moderate signal."""
    ratios_z, ratios_s = [], []
    for n, fit, t, tm in _experiments(250.0, 5, seed=8):
        s_scan, z_scan = local_scan(n[None], fit.expected[None], tm, factors=profile_factors(fit, tm))
        model = SignalPlusBackground(t, fit_result=fit)
        s_hat, nll_hat, _ = model.fit(n)
        z_exact = np.sqrt(2 * (model.profile(n, 0.0)[0] - nll_hat))
        ratios_z.append(z_scan[0, 0] / z_exact)
        ratios_s.append(s_scan[0, 0] / s_hat)
    assert np.mean(ratios_z) == pytest.approx(1.0, abs=0.05), ratios_z
    assert np.mean(ratios_s) == pytest.approx(1.0, abs=0.08), ratios_s


def test_the_profile_undoes_the_signal_absorbed_by_the_background_fit():
    profiled, fixed = [], []
    for n, fit, _, tm in _experiments(500.0, 12, seed=3):
        fixed.append(local_scan(n[None], fit.expected[None], tm)[0][0, 0])
        profiled.append(local_scan(n[None], fit.expected[None], tm, factors=profile_factors(fit, tm))[0][0, 0])
    assert np.mean(fixed) < 0.9 * 500  # the background-only fit takes a part of the signal
    assert np.mean(profiled) == pytest.approx(500, rel=0.08)


def test_profiled_limits_never_fall_below_the_fixed_background_ones_on_asimov_data():
    b = truth()
    fit = dijet_fit(b, EDGES, n_params="auto")
    masses = [1000.0, 1967.0, 3000.0]
    profiled = upper_limits(b, EDGES, fit=fit, masses=masses)
    fixed = upper_limits(b, EDGES, fit=fit, masses=masses, background="fixed")
    assert np.all(profiled.expected >= fixed.expected * (1 - 1e-6))
    assert np.all(profiled.band_2sigma[:, 1] > profiled.band_1sigma[:, 1])
    assert "profiled" in profiled.background


def test_degenerate_spectra_fail_and_are_refused_downstream():
    edges = resolution_binning(300.0, 1500.0)
    counts = np.zeros(len(edges) - 1)
    counts[4] = 20.0  # one non-empty bin
    fit = dijet_fit(counts, edges, n_params="auto")
    assert not fit.converged and "non-empty bins" in fit.message
    with pytest.raises(FitError, match="non-empty bins"):
        bump_hunt(counts, edges, n_toys=10, fit=fit)
    with pytest.raises(FitError, match="not usable"):
        upper_limits(counts, edges, fit=fit)
    with pytest.raises(FitError, match="spectrum 0"):
        global_significance([(counts, edges)], n_toys=10, fits=[fit])


def _gaussian(edges, events, mass, sigma):
    return events * np.diff(special.ndtr((edges - mass) / sigma))


def test_global_significance_is_a_bound_when_no_toy_reaches_it_and_adaptive_toys_measure_it():
    edges = np.linspace(300.0, 3000.0, 61)
    b = dijet_expected(np.array([1.0, 10.0, -4.0]), edges)
    b *= 5e4 / b.sum()
    rng = np.random.default_rng(2)
    strong = rng.poisson(b + _gaussian(edges, 900, 1500, 60)).astype(float)
    g = global_significance([(strong, edges)], n_toys=200, rng=1)
    assert g.is_bound and g.n_above == 0 and g.stopped == "max_toys"
    assert g.record()["z_global_is_bound"]
    from anomalyhunt.stats import describe_z_global

    assert describe_z_global(g.record()).startswith(f"Z_global >= {g.z_global:.2f} (200 toys")
    # a budget that cannot reach it stops early, saying so
    far = global_significance([(strong, edges)], n_toys=1000, max_toys=64_000, rng=1)
    assert far.is_bound and far.stopped == "out of reach" and far.n_toys < 64_000
    # a moderate excess: the toys double until 1/precision^2 of them lie above it
    moderate = np.random.default_rng(13).poisson(b + _gaussian(edges, 30, 1500, 60)).astype(float)
    m = global_significance([(moderate, edges)], n_toys=500, max_toys=64_000, precision=0.3, rng=1)
    assert m.stopped == "precision" and m.n_above >= 12 and not m.is_bound
    assert m.n_toys in (500, 1000, 2000, 4000, 8000, 16_000, 32_000, 64_000)
    assert m.p_global_error / m.p_global < 0.35
    assert describe_z_global(m.record()).startswith(f"Z_global = {m.z_global:.2f}")
    # the up-crossing rate is measured, with an error, and not capped
    assert np.all(np.isfinite(m.rate_error)) and np.all(m.rate > 0.3)


@pytest.mark.slow
@pytest.mark.parametrize("mass", [1967.0, 2700.0])
def test_limits_cover_a_true_signal_at_twice_the_expected_limit(mass):
    """CLs at 95% excludes a true signal in at most 5% of experiments; at twice the median expected limit much
    less. 300 pseudo-experiments: the bound is 5% plus two binomial errors."""
    b = truth()
    m, t = template(mass)
    expected = upper_limits(b, EDGES, fit=dijet_fit(b, EDGES, n_params="auto"), masses=[m]).expected[0]
    rng = np.random.default_rng(7)
    excluded, n_pe = 0, 300
    for _ in range(n_pe):
        n = rng.poisson(b + 2 * expected * t).astype(np.float64)
        excluded += upper_limits(n, EDGES, masses=[m]).observed[0] < 2 * expected
    assert excluded / n_pe <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / n_pe), excluded
