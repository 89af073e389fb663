import numpy as np
import pytest

from anomalyhunt.exceptions import StatsInputError
from anomalyhunt.stats import dijet_expected, dijet_fit, dijet_function, resolution_binning

EDGES = resolution_binning(300.0, 3500.0)


def truth(total, params):
    b = dijet_expected(np.array([1.0, *params]), EDGES)
    return b * total / b.sum()


def test_dijet_function_values():
    x = np.array([0.1, 0.2])
    np.testing.assert_allclose(dijet_function(x, [2.0, 3.0, -1.0]), 2.0 * (1 - x) ** 3 * x**-1.0)
    np.testing.assert_allclose(dijet_function(x, [1.0, 3.0, -1.0, 0.5, 0.1]),
                               (1 - x) ** 3 * x ** (-1.0 + 0.5 * np.log(x) + 0.1 * np.log(x) ** 2))


def test_expected_counts_integrate_the_function():
    from scipy import integrate

    params = np.array([2.0, 8.0, -4.5, 0.1])
    mu = dijet_expected(params, EDGES)
    quad = [integrate.quad(lambda m: dijet_function(m / 13000.0, params), lo, hi)[0]
            for lo, hi in zip(EDGES[:-1], EDGES[1:], strict=True)]
    np.testing.assert_allclose(mu, quad, rtol=1e-7)


def test_three_parameter_fit_recovers_generating_parameters_within_errors():
    gen = np.array([9.0, -4.2])
    mu = truth(1e6, gen)
    fit = dijet_fit(np.random.default_rng(7).poisson(mu), EDGES, n_params=3)
    true_params = np.array([mu.sum() / dijet_expected(np.array([1.0, *gen]), EDGES).sum(), *gen])
    assert fit.converged
    assert np.all(np.abs((fit.params - true_params) / fit.errors) < 3)


def test_five_parameter_fit_holds_the_truth_in_its_joint_confidence_region():
    # The 5-parameter family is nearly degenerate (long curved valleys), so single-parameter Hesse errors
    # mean little; the generating point must lie inside the 95% joint region: deviance(truth) - min < 11.07.
    from anomalyhunt.stats.dijet import _deviance

    gen = np.array([9.0, -4.2, 0.15, 0.02])
    mu = truth(4e6, gen)
    counts = np.random.default_rng(7).poisson(mu)
    fit = dijet_fit(counts, EDGES, n_params=5)
    assert fit.converged
    assert 0 <= _deviance(counts, mu) - fit.chi2 < 11.07
    assert 0.6 < fit.chi2_ndf < 1.5


def test_auto_choice_stops_at_three_parameters_for_a_three_parameter_truth():
    counts = np.random.default_rng(3).poisson(truth(2e5, [10.0, -4.0]))
    fit = dijet_fit(counts, EDGES, n_params="auto")
    assert fit.n_params == 3
    assert set(fit.n_params_tests) == {3, 4, 5}
    assert fit.n_params_tests[3] - fit.n_params_tests[4] < 3.84


def test_auto_choice_adds_parameters_when_the_data_need_them():
    counts = np.random.default_rng(3).poisson(truth(5e6, [10.0, -4.0, 0.4]))
    assert dijet_fit(counts, EDGES, n_params="auto").n_params >= 4


def test_pulls_and_chi2_describe_the_fit():
    counts = np.random.default_rng(5).poisson(truth(1e5, [10.0, -4.0]))
    fit = dijet_fit(counts, EDGES, n_params=3)
    np.testing.assert_allclose(fit.pulls, (counts - fit.expected) / np.sqrt(fit.expected))
    assert fit.ndf == len(counts) - 3
    assert fit.expected.sum() == pytest.approx(counts.sum(), rel=1e-4)  # Poisson ML preserves the total


@pytest.mark.parametrize(
    ("counts", "edges", "message"),
    [
        (np.ones(3), np.arange(4.0) * 100 + 300, None),
        (-np.ones(3), np.array([300.0, 400, 500, 600]), "non-negative"),
        (np.ones(3), np.array([300.0, 400, 500]), "4 edges"),
        (np.zeros(3), np.array([300.0, 400, 500, 600]), "empty"),
        (np.array([1.0, np.nan, 1]), np.array([300.0, 400, 500, 600]), "finite"),
        (np.ones(3), np.array([300.0, 500, 400, 600]), "increasing"),
        (np.ones(3), np.array([300.0, 400, 500, 13001]), "sqrt_s"),
    ],
)
def test_bad_histograms_are_refused(counts, edges, message):
    if message is None:
        fit = dijet_fit(counts, edges, n_params=3)  # three bins, three parameters: nothing left to test
        assert fit.ndf == 0 and not fit.converged and "no degrees of freedom" in fit.message
        assert np.isnan(fit.chi2_ndf)
        return
    with pytest.raises(StatsInputError, match=message):
        dijet_fit(counts, edges)


def _weighted_sample(rng, n_events, params, heavy_fraction, heavy_weight):
    """Masses drawn from the dijet shape by inverse CDF, weights 1 or `heavy_weight` independent of mass."""
    fine = np.linspace(EDGES[0], EDGES[-1], 20001)
    cdf = np.concatenate([[0.0], np.cumsum(dijet_expected(np.array([1.0, *params]), fine))])
    cdf /= cdf[-1]
    masses = np.interp(rng.random(n_events), cdf, fine)
    weights = np.where(rng.random(n_events) < heavy_fraction, heavy_weight, 1.0)
    sumw = np.histogram(masses, EDGES, weights=weights)[0]
    sumw2 = np.histogram(masses, EDGES, weights=weights**2)[0]
    return sumw, sumw2


def test_weighted_fit_gives_unit_pulls_and_chi2_for_skewed_weights():
    # An independent check of the variance treatment: with weights spanning 30x the chi2/ndf over repeated
    # samples averages to 1 only if sum w^2 is the right per-bin variance (a Poisson deviance on the sum of
    # weights would come out near the mean of w^2/w, here ~10).
    rng = np.random.default_rng(11)
    chi2_ndf, pulls = [], []
    for _ in range(12):
        sumw, sumw2 = _weighted_sample(rng, 60_000, (10.0, -4.0), 0.1, 30.0)
        fit = dijet_fit(sumw, EDGES, n_params=3, variances=sumw2)
        assert fit.converged
        chi2_ndf.append(fit.chi2_ndf)
        pulls.append(fit.pulls[fit.expected > 50])
    assert 0.75 < np.mean(chi2_ndf) < 1.3
    assert 0.8 < np.std(np.concatenate(pulls)) < 1.2
    poisson = dijet_fit(sumw, EDGES, n_params=3)
    assert poisson.chi2_ndf > 4 * fit.chi2_ndf


def test_weighted_fit_with_unit_weights_agrees_with_the_poisson_fit():
    counts = np.random.default_rng(4).poisson(truth(2e5, [10.0, -4.0]))
    weighted = dijet_fit(counts, EDGES, n_params=3, variances=counts)
    poisson = dijet_fit(counts, EDGES, n_params=3)
    np.testing.assert_allclose(weighted.params[1:], poisson.params[1:], atol=2 * poisson.errors[1:].max())


def test_weighted_sculpting_check_flags_a_bump_and_passes_a_smooth_spectrum():
    from anomalyhunt.stats import sculpting_check

    rng = np.random.default_rng(2)
    sumw, sumw2 = _weighted_sample(rng, 80_000, (10.0, -4.0), 0.05, 20.0)
    smooth = sculpting_check(sumw, EDGES, variances=sumw2)
    assert smooth.smooth and np.isnan(smooth.bump_p_global)
    centre = np.searchsorted(EDGES, 800.0)
    sculpted, sculpted2 = sumw.copy(), sumw2.copy()
    sculpted[centre - 1:centre + 2] *= 1.5  # the events in three bins counted 1.5 times
    sculpted2[centre - 1:centre + 2] *= 1.5**2
    assert not sculpting_check(sculpted, EDGES, variances=sculpted2).smooth


def test_weighted_fit_refuses_mismatched_variances():
    with pytest.raises(StatsInputError, match="variances must match"):
        dijet_fit(np.ones(3), np.array([300.0, 400, 500, 600]), variances=np.ones(2))
    with pytest.raises(StatsInputError, match="zero variance"):
        dijet_fit(np.ones(3), np.array([300.0, 400, 500, 600]), variances=np.array([1.0, 0.0, 1.0]))


@pytest.mark.parametrize("kind", ["regular", "variable", "weighted", "root"])
def test_statistics_take_a_histogram_object_as_they_take_counts_and_edges(tmp_path, kind):
    """dijet_fit, bump_hunt, upper_limits and the global significance on a hist.Hist (regular or variable axis,
    Double or Weight storage) or a TH1 read back with uproot give what they give on (counts, edges); a weighted
    histogram is fitted as weighted simulation with its own variances."""
    import hist
    import uproot

    from anomalyhunt.stats import bump_hunt, global_significance, upper_limits

    axis = hist.axis.Variable(np.geomspace(400.0, 3000.0, 41)) if kind == "variable" \
        else hist.axis.Regular(40, 400.0, 3000.0)
    edges = np.asarray(axis.edges)
    mu = dijet_expected(np.array([1.0, 10.0, -4.0]), edges)
    mu *= 2e4 / mu.sum()
    counts = np.random.default_rng(3).poisson(mu).astype(float)
    if kind == "weighted":
        h = hist.Hist(axis, storage=hist.storage.Weight())
        h.view().value, h.view().variance = counts * 0.5, counts * 0.25  # events of weight 0.5
        fit_h, fit_a = dijet_fit(h, n_params=3), dijet_fit(counts * 0.5, edges, n_params=3, variances=counts * 0.25)
        np.testing.assert_allclose(fit_h.expected, fit_a.expected)
        assert fit_h.entry_weight == pytest.approx(0.5)
        return
    h = hist.Hist(axis)
    h.view()[:] = counts
    if kind == "root":
        with uproot.recreate(tmp_path / "spectra.root") as f:
            f["m_jj"] = h
        h = uproot.open(tmp_path / "spectra.root")["m_jj"]
    np.testing.assert_allclose(dijet_fit(h, n_params=3).expected, dijet_fit(counts, edges, n_params=3).expected,
                               rtol=1e-8)
    on_hist, on_arrays = bump_hunt(h, n_toys=50, rng=1), bump_hunt(counts, edges, n_toys=50, rng=1)
    # a TH1 keeps its axis as (nbins, low, high): its edges may differ from hist's in the last digit
    assert on_hist.mass == pytest.approx(on_arrays.mass, rel=1e-12) and on_hist.p_global == on_arrays.p_global
    assert on_hist.z_local == pytest.approx(on_arrays.z_local, rel=1e-8)
    masses = [1000.0, 2000.0]
    np.testing.assert_allclose(upper_limits(h, masses=masses).observed,
                               upper_limits(counts, edges, masses=masses).observed, rtol=1e-6)
    assert global_significance([h], n_toys=50, rng=2).p_global == global_significance([(counts, edges)], n_toys=50,
                                                                                       rng=2).p_global
    with pytest.raises(StatsInputError, match="not both"):
        dijet_fit(h, edges)
