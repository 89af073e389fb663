"""Background models from weighted simulation, pseudo-data and the bump hunt, on spectra with known truth."""

import dataclasses

import numpy as np
import pytest

from anomalyhunt.stats import (
    SpectrumModel,
    ToyBudget,
    background_models,
    dijet_expected,
    dijet_fit,
    hunt,
    resolution_binning,
    sideband_check,
    skipped_models,
)

EDGES = resolution_binning(300.0, 4000.0)


def _simulation(rng, n_events=40_000):
    """Weighted 'SM simulation': masses from a dijet shape, weights 1 or 10 (a skewed, biased-sample mix)."""
    fine = np.linspace(EDGES[0], EDGES[-1], 20001)
    cdf = np.concatenate([[0.0], np.cumsum(dijet_expected(np.array([1.0, 10.0, -4.0]), fine))])
    masses = np.interp(rng.random(n_events), cdf / cdf[-1], fine)
    weight = np.where(rng.random(n_events) < 0.2, 10.0, 1.0) * 1e-4  # pb per event
    return masses, weight


def _signal(mass, events, *, width=0.05):
    mu = np.histogram(np.random.default_rng(0).normal(mass, width * mass, 200_000), EDGES)[0]
    return mu * events / mu.sum()


@pytest.fixture(scope="module")
def models():
    masses, weight = _simulation(np.random.default_rng(1))
    select = np.ones(len(masses), bool)
    return background_models({"m_jj": masses}, weight, {"all": select}, EDGES, luminosity_fb=1.0)


def test_background_model_describes_the_simulation(models):
    (model,) = models
    assert model.check is not None and model.check.smooth
    assert 0.5 < model.check.chi2_ndf < 1.6
    # 40k events with 20% of weight 10: Kish effective size is (sum w)^2 / sum w^2
    assert model.n_effective == pytest.approx((0.8 + 0.2 * 10) ** 2 / (0.8 + 0.2 * 100) * 40_000, rel=0.05)


def test_injected_signal_is_found_at_its_mass_and_the_null_is_not_significant(models):
    (model,) = models
    injected = hunt(models, {("m_jj", "all"): _signal(1500.0, 1500.0)}, rng=np.random.default_rng(2),
                    toys=ToyBudget(300), background_scale=100.0)
    excesses, z_global, skipped = injected
    assert skipped == []
    assert excesses[0].channel == "m_jj"
    assert abs(excesses[0].mass - 1500.0) < 0.1 * 1500.0
    assert excesses[0].z_local > 5 and z_global["z_global_asymptotic"] > 3
    assert set(excesses[0].record()) == {"channel", "region", "mass", "width", "z_local", "signal",
                                         "p_global_spectrum", "p_global_spectrum_is_bound", "n_toys_spectrum",
                                         "fit_chi2_ndf", "fit_n_params"}
    assert z_global["z_global_is_bound"] and z_global["n_toys"] == 300 and z_global["skipped"] == []
    null_z = [hunt(models, {}, rng=np.random.default_rng(seed), toys=ToyBudget(100),
                   background_scale=100.0)[1]["z_global"] for seed in range(5)]
    assert max(null_z) < 3


def test_sparse_spectra_are_skipped_with_a_reason():
    masses, weight = _simulation(np.random.default_rng(3), n_events=30)
    (model,) = background_models({"m_jj": masses}, weight, {"all": np.ones(30, bool)}, EDGES, luminosity_fb=1.0)
    assert model.check is None and "too few simulated events" in model.skipped
    assert hunt([model], {}, rng=np.random.default_rng(0)) == ([], None, [])


def _with_tail(mass, events):
    """A resonance as a dijet search sees it: a Gaussian core at the mass resolution and a third of the events in
    a low-mass tail (final-state radiation, jets outside the cone)."""
    rng = np.random.default_rng(0)
    core = rng.normal(mass, 0.05 * mass, 140_000)
    tail = mass * (1 - rng.exponential(0.18, 70_000))
    mu = np.histogram(np.concatenate([core, tail]), EDGES)[0].astype(float)
    return mu * events / mu.sum()


def test_a_resonance_with_tails_on_a_described_background_is_hunted(models):
    """A signal the background-only fit cannot absorb (chi2/ndf well above 1 over the whole spectrum) and whose
    tail reaches beyond the resolution-wide window: outside the 15%-wide window the background is described, so
    the spectrum is hunted and the signal found."""
    (model,) = models
    signal = _with_tail(1500.0, 15_000.0)
    counts = np.random.default_rng(5).poisson(model.background * 100.0 + signal).astype(float)
    fit = dijet_fit(counts, EDGES, n_params="auto")
    assert fit.chi2_ndf > 2  # the full background-only fit is poor: the old rule would have had to judge this
    assert not sideband_check(counts, fit, widths=("resolution",)).passed  # the narrow window leaves the tail in
    check = sideband_check(counts, fit)
    assert check.passed, check.reason
    assert check.window[0] < 1500.0 < check.window[1]
    excesses, summary, skipped = hunt(models, {("m_jj", "all"): signal}, rng=np.random.default_rng(2),
                                      toys=ToyBudget(100), background_scale=100.0)
    assert skipped == [] and excesses[0].z_local > 5 and abs(excesses[0].mass - 1500.0) < 300.0


def _runaway(fit):
    """The fit as it came out of the small search that reported Z_local = 190: rising to ~100 events per bin
    above 2.5 TeV where the data are empty (the 5-parameter function's log terms turning up)."""
    centres = 0.5 * (fit.edges[1:] + fit.edges[:-1])
    return dataclasses.replace(fit, expected=fit.expected + 100.0 * (centres > 2500.0))


def test_a_fit_that_runs_away_where_the_data_are_empty_is_never_hunted(models, monkeypatch):
    """The failed-fit spectrum: its pseudo-data end at 2.5 TeV and its fit does not; it is skipped with the
    reason, gives no Z_local and is marked in the models, while the well-described spectrum beside it is hunted."""
    import sys

    hunt_module = sys.modules["anomalyhunt.stats.hunt"]
    (good,) = models
    centres = 0.5 * (EDGES[1:] + EDGES[:-1])
    fit = dataclasses.replace(good.check.fit, expected=good.check.fit.expected * (centres < 2500.0))
    bad = SpectrumModel("m_jj", "broken", good.n_effective, dataclasses.replace(good.check, fit=fit))
    real_fit = hunt_module.dijet_fit

    def fitted(counts, edges, **options):
        result = real_fit(counts, edges, **options)
        return _runaway(result) if counts[centres > 2600].sum() == 0 else result

    monkeypatch.setattr(hunt_module, "dijet_fit", fitted)
    excesses, summary, skipped = hunt([good, bad], {}, rng=np.random.default_rng(4), toys=ToyBudget(100),
                                      background_scale=100.0)
    assert [(s["channel"], s["region"]) for s in skipped] == [("m_jj", "broken")]
    assert "where the data hold none" in skipped[0]["reason"] and "a fit run away" in skipped[0]["reason"]
    assert all(x.region != "broken" for x in excesses) and summary["n_spectra"] == 1
    assert summary["skipped"] == skipped
    marked = {m.region: m for m in skipped_models([good, bad], skipped)}
    assert marked["broken"].check is None and marked["broken"].skipped.startswith("pseudo-data: the background fit")
    assert marked["broken"].record()["skipped"] and marked["all"].check is good.check


def test_a_background_model_failing_outside_every_window_is_not_hunted(models):
    """Two separate structures the dijet function cannot follow (a dip and a step): whichever window is left
    out, the rest is not described, and the check says so with the chi2 of the most significant hypothesis."""
    (model,) = models
    centres = 0.5 * (EDGES[1:] + EDGES[:-1])
    shape = model.background * 100.0 * np.where((centres > 800) & (centres < 1000), 0.6, 1.0)
    shape = shape * np.where(centres > 2200, 3.0, 1.0)
    counts = np.random.default_rng(6).poisson(shape).astype(float)
    check = sideband_check(counts, dijet_fit(counts, EDGES, n_params="auto"))
    assert not check.passed and "background model fails outside the most significant window" in check.reason


def test_a_background_model_off_by_a_little_everywhere_is_refused_on_its_chi2(models):
    """A wiggle of 2.5 Poisson errors every other bin: no single pull beyond 5, but the chi-square outside any
    window is far from its degrees of freedom, so the model fails on its p-value alone."""
    (model,) = models
    background = model.background * 10
    wiggle = 2.5 * np.sqrt(background) * np.sin(np.pi * np.arange(len(background)) / 2 + 0.5)
    counts = np.random.default_rng(8).poisson(np.maximum(background + wiggle, 0)).astype(float)
    check = sideband_check(counts, dijet_fit(counts, EDGES, n_params="auto"))
    assert not check.passed and check.max_abs_pull < 5 and check.p_value < 1e-10
    assert "chi2/ndf" in check.reason
