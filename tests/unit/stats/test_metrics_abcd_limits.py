import numpy as np
import pytest
from sklearn import metrics as skm

from anomalyhunt.exceptions import StatsInputError
from anomalyhunt.stats import (
    abcd,
    auc,
    dijet_expected,
    max_sic,
    rejection_at_efficiency,
    resolution_binning,
    roc_curve,
    sensitivity_gain,
    tpr_at_fpr,
    upper_limits,
)


def scores(rng, n=3000):
    return rng.normal(0, 1, n), rng.normal(1.2, 1, n // 2)


def test_auc_and_roc_match_scikit_learn_with_weights_and_ties(rng):
    bkg, sig = scores(rng)
    bkg = np.round(bkg, 1)  # ties
    sig = np.round(sig, 1)
    wb, ws = rng.uniform(0.5, 2, len(bkg)), rng.uniform(0.5, 2, len(sig))
    y = np.r_[np.zeros(len(bkg)), np.ones(len(sig))]
    s = np.r_[bkg, sig]
    w = np.r_[wb, ws]
    assert auc(bkg, sig, weights_background=wb, weights_signal=ws) == pytest.approx(
        skm.roc_auc_score(y, s, sample_weight=w), abs=1e-12)
    fpr, tpr, _ = skm.roc_curve(y, s, sample_weight=w, drop_intermediate=False)
    curve = roc_curve(bkg, sig, weights_background=wb, weights_signal=ws)
    np.testing.assert_allclose(curve.fpr, fpr, atol=1e-12)
    np.testing.assert_allclose(curve.tpr, tpr, atol=1e-12)


def test_working_points_and_sic(rng):
    bkg = rng.uniform(0, 1, 100_000)
    sig = np.sqrt(rng.uniform(0, 1, 100_000))  # density 2x on [0, 1]: tpr = 1 - t^2, fpr = 1 - t
    assert tpr_at_fpr(bkg, sig, 0.19) == pytest.approx(1 - 0.81**2, abs=0.01)
    assert rejection_at_efficiency(bkg, sig, 0.5) == pytest.approx(1 / (1 - np.sqrt(0.5)), rel=0.03)
    # SIC = (1 - t^2)/sqrt(1 - t) = (1 + t) sqrt(1 - t): maximum at t = 1/3
    assert max_sic(bkg, sig) == pytest.approx((4 / 3) * np.sqrt(2 / 3), rel=0.02)


def test_metric_inputs_are_checked():
    with pytest.raises(StatsInputError, match="finite"):
        auc(np.array([0.0, np.nan]), np.array([1.0]))
    with pytest.raises(StatsInputError, match="non-empty"):
        auc(np.array([]), np.array([1.0]))


def test_sensitivity_gain_counts_within_one_sigma():
    mb = np.array([990.0, 1000, 1010, 1500, 1005])
    ms = np.array([1000.0, 1002, 2000])
    g = sensitivity_gain(mb, ms, selected_background=[True, False, False, True, False],
                         selected_signal=[True, True, True], mass=1000, sigma=20)
    assert (g.s_before, g.b_before, g.s_after, g.b_after) == (2, 4, 2, 1)
    assert g.gain == pytest.approx((2 / 1) / (2 / 2))


def test_abcd_counts_prediction_and_closure():
    s1 = np.array([0.0, 0, 0, 0, 1, 1, 0, 1, 1, 1])
    s2 = np.array([0.0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    r = abcd(s1, s2, thresholds=(0.5, 0.5))
    assert r.counts == {"<<": 4, "><": 2, "<>": 1, ">>": 3}
    assert r.predicted == pytest.approx(2 * 1 / 4)
    assert r.closure == pytest.approx(3 / 0.5)
    assert r.closure_error == pytest.approx(6 * np.sqrt(1 / 4 + 1 / 2 + 1 / 1 + 1 / 3))
    # Z = (N - B) / sqrt(B + sigma_B^2), sigma_B from the three control regions (no non-closure given)
    sigma_b2 = 0.5**2 * (1 / 4 + 1 / 2 + 1 / 1)
    assert r.predicted_error == pytest.approx(np.sqrt(sigma_b2))
    assert r.significance == pytest.approx((3 - 0.5) / np.sqrt(0.5 + sigma_b2))


def test_abcd_closes_on_independent_scores(rng):
    s1, s2 = rng.exponential(1, 200_000), rng.exponential(1, 200_000)
    for t in (0.5, 1.0, 2.0):
        r = abcd(s1, s2, thresholds=(t, t))
        assert abs(r.closure - 1) < 3 * r.closure_error


def _numeric_jacobian(params, edges, eps=1e-6):
    """d expected / d (ln p1, p2, p3) by central differences of dijet_expected (independent of DijetShape)."""
    q = np.array([np.log(params[0]), *params[1:]])
    cols = []
    for k in range(len(q)):
        up, down = q.copy(), q.copy()
        up[k] += eps
        down[k] -= eps
        f = [dijet_expected(np.array([np.exp(v[0]), *v[1:]]), edges) for v in (up, down)]
        cols.append((f[0] - f[1]) / (2 * eps))
    return np.stack(cols, axis=1)


def test_expected_limit_follows_the_asymptotic_formula():
    """On Asimov data the median expected limit is 1.96 sigma (Gaussian regime, b ~ 1e5): sigma from the Fisher
    information on s, fixed background, or with the background parameters profiled (Schur complement)."""
    from anomalyhunt.stats import dijet_fit, signal_templates

    edges = resolution_binning(300.0, 3000.0)
    b = dijet_expected(np.array([1.0, 10.0, -4.0]), edges)
    b *= 1e5 / b.sum()
    fit = dijet_fit(b, edges, n_params=3)
    jac = _numeric_jacobian(fit.params, edges)
    templates = signal_templates(edges, widths=("resolution",))
    masses = templates.masses[[3, 15, 30]]
    profiled = upper_limits(b, edges, fit=fit, masses=masses)
    fixed = upper_limits(b, edges, fit=fit, masses=masses, background="fixed")
    for j, k in enumerate((3, 15, 30)):
        t = templates.dense(len(b))[k]
        i_ss = np.sum(t * t / b)
        i_sq = (t / b) @ jac
        i_prof = i_ss - i_sq @ np.linalg.solve((jac.T / b) @ jac, i_sq)
        for limits, info in ((fixed, i_ss), (profiled, i_prof)):
            assert limits.expected[j] == pytest.approx(1.96 / np.sqrt(info), rel=0.03)
            assert limits.observed[j] == pytest.approx(limits.expected[j], rel=1e-3)
            lo, hi = limits.band_1sigma[j]
            assert lo < limits.expected[j] < hi
        assert profiled.expected[j] > fixed.expected[j]


def _correlated_scores(rng, n, rho=0.15):
    """Two background scores with a small linear correlation: the ABCD prediction does not close."""
    x = rng.normal(size=(n, 2))
    return x[:, 0], rho * x[:, 0] + np.sqrt(1 - rho**2) * x[:, 1]


@pytest.mark.parametrize("weighted", [False, True])
def test_abcd_significance_is_standard_normal_on_independent_background_only_datasets(weighted):
    """Simulation and data are independent background-only samples with a real non-closure (correlated scores):
    k is measured on the simulation, Z on the data. Mikuni, Nachman & Shih's (N - B)/sqrt(N) is far from calibrated
    here."""
    from anomalyhunt.stats import abcd_significance, seed002_significance, working_point

    rng = np.random.default_rng(42)
    sim1, sim2 = _correlated_scores(rng, 400_000)
    t = working_point(sim1, sim2, 0.005)  # one working point; every experiment has its own simulation
    assert abcd(sim1, sim2, thresholds=t).closure > 1.3  # the non-closure is real
    z, z_seed = [], []
    for _ in range(300):
        c1, c2 = _correlated_scores(rng, 100_000)
        calib = abcd(c1, c2, thresholds=t, weights=rng.exponential(size=len(c1)) if weighted else None)
        d1, d2 = _correlated_scores(rng, 40_000)
        r = abcd(d1, d2, thresholds=t, weights=rng.exponential(size=len(d1)) if weighted else None)
        z.append(abcd_significance(r.observed, r.predicted, predicted_error=r.predicted_error,
                                   entry_weight=r.entry_weight, closure=calib.closure,
                                   closure_error=calib.closure_error))
        z_seed.append(seed002_significance(r.observed, r.predicted))
    z = np.array(z)
    assert abs(z.mean()) < 0.15 and 0.85 < z.std() < 1.15, (z.mean(), z.std())
    assert np.mean(z > 2) < 0.05
    assert np.mean(np.array(z_seed) > 2) > 0.1  # what the non-closure alone fakes with the old statistic


def test_repeated_halvings_of_background_only_scores_are_calibrated():
    from anomalyhunt.stats import null_significances

    s1, s2 = _correlated_scores(np.random.default_rng(1), 200_000)
    z = null_significances(s1, s2, 0.005, n_splits=100, rng=2)
    assert abs(z.mean()) < 0.3 and 0.7 < z.std() < 1.3
    with pytest.raises(StatsInputError, match="n_splits"):
        null_significances(s1, s2, 0.005, n_splits=1)


def test_halvings_by_group_keep_copies_together():
    """Each event entered twice (two entries of one generated event, like two fake-lepton hypotheses). Halving by
    group keeps the copies together and shows what the copies do to Z: its counts are doubled, so the Poisson
    error is sqrt(2) too small and Z spreads by ~sqrt(2). Halving by entry hides that: copies on both sides make
    simulation and data agree more than independent halves would, and the two effects happen to cancel."""
    from anomalyhunt.stats import null_significances

    s1, s2 = _correlated_scores(np.random.default_rng(4), 100_000)
    s1, s2, groups = np.repeat(s1, 2), np.repeat(s2, 2), np.repeat(np.arange(100_000), 2)
    by_entry = null_significances(s1, s2, 0.005, n_splits=100, rng=3)
    by_group = null_significances(s1, s2, 0.005, n_splits=100, rng=3, groups=groups)
    assert 1.2 < by_group.std() < 1.8, by_group.std()
    assert by_entry.std() < 0.8 * by_group.std()
    with pytest.raises(StatsInputError, match="groups"):
        null_significances(s1, s2, 0.005, groups=groups[:10])
