"""p-values against sampled nulls, limits from injection curves, and the chi^2 fit of NPLM's t."""

import numpy as np
import pytest
from scipy import stats

from anomalyhunt.exceptions import StatsInputError
from anomalyhunt.stats import empirical_pvalue, fit_chi2, injection_limit, ks_uniform


def test_empirical_pvalue_counts_the_observed_as_one_of_the_null():
    null = np.arange(1.0, 100.0)  # 99 values
    assert empirical_pvalue(null, 1000.0) == pytest.approx(1 / 100)  # never 0
    assert empirical_pvalue(null, 0.0) == 1.0
    assert empirical_pvalue(null, 90.0) == pytest.approx(11 / 100)  # 90..99 at least as large
    assert empirical_pvalue(null, 10.0, larger_is_anomalous=False) == pytest.approx(11 / 100)
    with pytest.raises(StatsInputError, match="finite"):
        empirical_pvalue([1.0, np.nan], 0.5)


def test_empirical_pvalues_of_null_draws_are_uniform(rng):
    # exchangeable draws: the rank of a new value among 199 null values of its own is uniform
    p = np.array([empirical_pvalue(rng.normal(size=199), v) for v in rng.normal(size=400)])
    assert ks_uniform(p) > 0.01
    assert ks_uniform(rng.uniform(size=400) ** 2) < 1e-6  # and a skewed sample is caught


def test_injection_limit_finds_the_analytic_crossing():
    # median rises as 0.1 n, the 16/84% curves as 0.1 n -+ 1: threshold 3 is crossed at n = 30 (median),
    # 20 (the 84% curve) and 40 (the 16% curve)
    levels = np.array([0, 10, 20, 30, 40, 50, 60])
    spread = stats.norm.ppf(np.linspace(0.005, 0.995, 201))  # quantiles of a unit normal
    values = 0.1 * levels[:, None] + spread[None, :]
    limit = injection_limit(levels, values, 3.0)
    assert limit.median == pytest.approx(30.0, abs=0.1)
    assert limit.minus == pytest.approx(10.0 * stats.norm.ppf(0.84), abs=0.2)
    assert limit.plus == pytest.approx(10.0 * stats.norm.ppf(0.84), abs=0.2)
    assert limit.scaled(1 / 150).median == pytest.approx(0.2, abs=1e-3)  # events -> fb at 150 fb^-1
    # a falling statistic (the loss) crosses from above
    low = injection_limit(levels, -values, -3.0, larger_is_anomalous=False)
    assert low.median == pytest.approx(30.0, abs=0.1)
    never = injection_limit(levels, values, 100.0)
    assert never.median is None and never.minus is None and never.plus is None
    assert not limit.at_most and not never.at_most


def test_a_curve_beyond_the_band_at_the_lowest_injection_gives_a_bound_not_a_limit():
    levels = np.array([20.0, 40.0, 80.0])
    values = np.array([[5.0, 6.0, 7.0], [8.0, 9.0, 10.0], [11.0, 12.0, 13.0]])
    bound = injection_limit(levels, values, 3.0)
    assert bound.at_most and bound.median == 20.0
    assert bound.scaled(0.5).at_most and bound.scaled(0.5).median == 10.0
    assert bound.as_dict()["at_most"] is True
    falling = injection_limit(levels, -values, -3.0, larger_is_anomalous=False)
    assert falling.at_most
    # only the 84% curve beyond at the lowest level: the median's crossing is measured
    crossing = injection_limit(levels, np.array([[2.0, 2.5, 3.5], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]), 3.0)
    assert not crossing.at_most and 20.0 < crossing.median < 40.0


def test_injection_limit_refuses_unordered_levels():
    with pytest.raises(StatsInputError, match="increasing"):
        injection_limit([10, 5], np.zeros((2, 3)), 1.0)
    with pytest.raises(StatsInputError, match="shape"):
        injection_limit([5, 10], np.zeros((3, 3)), 1.0)


@pytest.mark.parametrize("dof", [3.0, 40.0])
def test_fit_chi2_recovers_the_degrees_of_freedom(dof, rng):
    t = stats.chi2.rvs(dof, size=2000, random_state=rng)
    fit = fit_chi2(t)
    # maximum likelihood with scipy's own fitter (location 0, scale 1 fixed) as the independent reference
    reference = stats.chi2.fit(t, floc=0, fscale=1)[0]
    assert fit.dof == pytest.approx(reference, rel=1e-3)
    assert abs(fit.dof - dof) < 4 * fit.dof_error
    assert fit.ks_pvalue > 0.01 and fit.n_nonpositive == 0
    assert fit.pvalue(stats.chi2.isf(0.01, fit.dof)) == pytest.approx(0.01)


def test_fit_chi2_sees_a_wrong_shape(rng):
    t = rng.normal(30.0, 1.0, size=2000)  # far narrower than any chi^2 with mean 30
    assert fit_chi2(t).ks_pvalue < 1e-6
