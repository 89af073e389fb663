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
    assert r.significance == pytest.approx((3 - 0.5) / np.sqrt(3))


def test_abcd_closes_on_independent_scores(rng):
    s1, s2 = rng.exponential(1, 200_000), rng.exponential(1, 200_000)
    for t in (0.5, 1.0, 2.0):
        r = abcd(s1, s2, thresholds=(t, t))
        assert abs(r.closure - 1) < 3 * r.closure_error


def test_expected_limit_follows_the_asymptotic_formula():
    edges = resolution_binning(300.0, 3000.0)
    b = dijet_expected(np.array([1.0, 10.0, -4.0]), edges)
    b *= 1e5 / b.sum()
    limits = upper_limits(b, edges)  # Asimov data: observed = expected median
    from anomalyhunt.stats import signal_templates

    templates = signal_templates(edges, widths=("resolution",))
    for k in (3, 15, 30):
        t = np.zeros_like(b)
        t[templates.index[k]] += templates.fraction[k]
        sigma = 1 / np.sqrt(np.sum(t * t / b))
        assert limits.expected[k] == pytest.approx(1.96 * sigma, rel=0.05)
        assert limits.observed[k] == pytest.approx(limits.expected[k], rel=0.05)
        lo, hi = limits.band_1sigma[k]
        assert lo < limits.expected[k] < hi
