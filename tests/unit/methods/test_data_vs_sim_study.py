"""The trainings of the Krzyzanska & Nachman study on Gaussian toys: datasets as the config says, every event
scored once, trials independent of the group they are trained in, reproducible, and sensitive to an injected bump."""

import numpy as np
import pytest

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.methods.data_vs_sim import DataVsSimConfig, DataVsSimModel
from anomalyhunt.methods.data_vs_sim.study import Pools, Trial, train_group, trial_statistics_names

SMALL = DataVsSimModel(hidden=(16, 16), n_members=3, epochs=4, batch_size=32)


@pytest.fixture(scope="module")
def pools():
    rng = np.random.default_rng(5)
    return Pools(rng.normal(size=(400, 3)), rng.normal(size=(3000, 3)),
                 (rng.normal(size=(300, 3)) * 0.1 + 1.5,), 400.0)


def test_datasets_follow_their_kind(pools):
    seed = 11
    x, label, weight, fold = pools.dataset(Trial("bootstrap", 0), seed, 2)
    n_data = int(label.sum())
    assert (label[:400] == 0).all() and np.allclose(x[:400], pools.simulation)
    assert np.allclose(weight[:400], 400.0 / 400) and (weight[400:] == 1).all()
    # bootstrap "data" are copies of simulation events, with repeats
    sim = {tuple(r) for r in pools.simulation.astype(np.float32)}
    assert all(tuple(r) in sim for r in x[400:])
    assert len({tuple(r) for r in x[400:]}) < n_data
    # independent toys come from the pool without repeats; injections add exactly n_signal signal events
    x, label, _, _ = pools.dataset(Trial("independent", 0), seed, 2)
    assert len({tuple(r) for r in x[400:]}) == int(label.sum())
    x_inj, label_inj, _, fold_inj = pools.dataset(Trial("injection", 0, 0, 50), seed, 3)
    assert int(label_inj.sum()) == int(label.sum()) + 50  # same seed: same Poisson count, plus the signal
    assert np.sum(x_inj[:, 0] > 1.2) >= 50
    # folds split both classes evenly
    for cls in (0, 1):
        counts = np.bincount(fold_inj[label_inj == cls], minlength=3)
        assert counts.max() - counts.min() <= 1
    # the count is Poisson around N_exp
    counts = [pools.dataset(Trial("independent", i), Trial("independent", i).seed(1), 2)[1].sum()
              for i in range(200)]
    assert np.mean(counts) == pytest.approx(400, abs=5) and np.var(counts) == pytest.approx(400, rel=0.3)


def test_a_trial_does_not_depend_on_its_group(pools):
    trial = Trial("injection", 2, 0, 40)
    alone = train_group([trial], pools, SMALL, "mlc", 2, 7)
    grouped = train_group([Trial("bootstrap", 0), trial, Trial("independent", 3)], pools, SMALL, "mlc", 2, 7)
    again = train_group([trial], pools, SMALL, "mlc", 2, 7)
    np.testing.assert_array_equal(alone["statistics"][0], again["statistics"][0])  # reproducible
    np.testing.assert_allclose(grouped["statistics"][1], alone["statistics"][0], rtol=1e-4, atol=1e-5)
    assert alone["networks"] == 2 * 3 and grouped["networks"] == 3 * 2 * 3


@pytest.mark.parametrize("loss", ["mlc", "bce"])
def test_an_injected_bump_moves_every_statistic(pools, loss):
    model = DataVsSimModel(hidden=(32, 32), n_members=3, epochs=10, batch_size=32)
    trials = [Trial("independent", i) for i in range(6)] + [Trial("injection", i, 0, 120) for i in range(3)]
    out = train_group(trials, pools, model, loss, 2, 3)
    names = trial_statistics_names(loss)
    null, signal = out["statistics"][:6], out["statistics"][6:]
    for j, name in enumerate(names[:-1]):
        if name == "mean_loss":
            assert signal[:, j].max() < null[:, j].min(), name
        else:
            assert signal[:, j].min() > null[:, j].max(), name
    assert (signal[:, -1] >= 120).all()  # n_data includes the signal


def test_score_statistics_run_over_the_data_events_or_over_all_events():
    from anomalyhunt.methods.data_vs_sim.study import _statistics

    label = np.array([1, 1, 0, 0, 0], dtype=float)
    f = np.array([2.0, 0.0, -1.0, 5.0, 1.0])
    p = 1 / (1 + np.exp(-f))
    args = ("bce", label, np.ones(5), f, p, f, np.ones(5, dtype=bool))
    data = _statistics(*args)
    everything = _statistics(*args, "all")
    assert data[1:4] == pytest.approx([p[:2].mean(), p[:2].max(), p[:2].std()])
    assert everything[1:4] == pytest.approx([p.mean(), p.max(), p.std()])
    assert data[0] == everything[0] and data[-1] == everything[-1] == 2  # the loss and the data count as before
    with pytest.raises(ConfigError, match="statistic_events"):
        DataVsSimConfig(samples=("a", "b", "c"), statistic_events="some")


def test_held_out_loss_shows_no_learning_under_the_null_while_the_training_loss_does(pools):
    # With no signal nothing can be learnt: on held-out events the MLC loss is no better than f = 0 (where it
    # is exactly 0), while on the training events the networks fit fluctuations and push it below 0.
    trials = [Trial("independent", i) for i in range(6)]
    model = DataVsSimModel(hidden=(32, 32), n_members=2, epochs=10)
    mean_loss = trial_statistics_names("mlc").index("mean_loss")
    held = train_group(trials, pools, model, "mlc", 2, 1)["statistics"][:, mean_loss]
    in_sample = train_group(trials, pools, model, "mlc", 1, 1)["statistics"][:, mean_loss]
    assert held.mean() > 0 > in_sample.mean()
    assert in_sample.mean() < held.mean() - 3 * held.std() / np.sqrt(len(held))


def test_config_refuses_what_cannot_run():
    with pytest.raises(ConfigError, match="simulation"):
        DataVsSimConfig(samples=("a", "b"), simulation="c")
    with pytest.raises(ConfigError, match="losses"):
        DataVsSimConfig(samples=("a",), losses=("mse",))
    with pytest.raises(ConfigError, match="injections"):
        DataVsSimConfig(samples=("a",), injections=(40, 20))
    with pytest.raises(ConfigError, match="limit_null"):
        DataVsSimConfig(samples=("a",), nulls=("bootstrap",))
    assert DataVsSimConfig(samples=("a", "b")).simulation == "a"


def test_analysis_limits_pvalues_and_a_diverged_training(rng):
    # statistics made up so that every number is known: the null is N(0, 1) for every statistic (the loss
    # mirrored), injections shift the median by n / 20, so the median crosses mean + 2 std near n = 40
    from anomalyhunt.methods.data_vs_sim.run import SampleArrays, analyse

    config = DataVsSimConfig(samples=("sim", "pool", "sig"), n_null=400, injections=(10, 20, 40, 60, 80),
                             n_injections=51, calibration_datasets=200, losses=("mlc",), luminosity_fb=150.0)
    arrays = SampleArrays(["m_ee", "m_mumu", "m_4l"], np.zeros((1, 3)), np.zeros((1, 3)),
                          {"scalar_4l_150": np.zeros((1, 3))}, 10.0)
    sign = np.array([-1.0, 1, 1, 1, 1])  # the loss falls with signal, everything else rises

    def row() -> np.ndarray:
        return np.append(rng.normal(size=5), 1500.0)

    trained = {"mlc": {}}
    for kind in ("bootstrap", "independent"):
        for i in range(400):
            trained["mlc"][Trial(kind, i)] = row()
    trained["mlc"][Trial("bootstrap", 7)][2] = np.nan  # one diverged training
    trained["mlc"][Trial("observed", 0)] = row()
    for i in range(200):
        trained["mlc"][Trial("calibration", i)] = row()
    for n in config.injections:
        for i in range(51):
            trained["mlc"][Trial("injection", i, 0, n)] = np.append(sign * (n / 20 + (i - 25) / 2500), 1500.0)
    summary, statistics, injections = analyse(config, arrays, trained)
    assert summary["nonfinite_trials"]["mlc"]["bootstrap"] == 1
    assert summary["bootstrap_null"]["mlc"]["max_score"]["n"] == 399
    for st, limit in summary["limits_events"]["mlc"].items():
        # the median is n / 20: it reaches the threshold (about 2) at n ~ 40
        assert limit["scalar_4l_150"]["median"] == pytest.approx(40.0, abs=6.0), st
        assert summary["limits_fb"]["mlc"][st]["scalar_4l_150"]["median"] == pytest.approx(
            limit["scalar_4l_150"]["median"] / 150.0)
    assert all(p > 1e-3 for p in summary["calibration_ks"]["mlc"]["independent"].values()), \
        summary["calibration_ks"]
    assert injections["mlc"]["scalar_4l_150"].shape == (5, 51, 6)


def test_a_scikit_learn_classifier_in_place_of_the_ensemble(pools):
    """`detector: {import: ...}`: one classifier per trial and fold; the same statistics, and the injected bump
    moves them as the ensemble's do."""
    from anomalyhunt.detectors import DetectorSpec
    from anomalyhunt.methods.data_vs_sim.study import train_group_classifier

    spec = DetectorSpec(import_="sklearn.ensemble:HistGradientBoostingClassifier", params={"max_iter": 30})
    trials = [Trial("independent", 0), Trial("injection", 0, 0, 200)]
    out = train_group_classifier(trials, pools, spec, 2, 7)
    stats = out["statistics"]
    assert stats.shape == (2, len(trial_statistics_names("bce"))) and np.isfinite(stats).all()
    assert out["networks"] == 4  # two trials x two folds
    names = trial_statistics_names("bce")
    assert stats[1, names.index("max_score")] > stats[0, names.index("max_score")]
    again = train_group_classifier(trials[:1], pools, spec, 2, 7)["statistics"]
    np.testing.assert_allclose(again[0], stats[0])  # a trial's numbers depend on its name and the seed alone
    with pytest.raises(ConfigError, match="losses: a classifier given by detector"):
        DataVsSimConfig(samples=("a", "b", "c"), detector=spec)
    assert DataVsSimConfig(samples=("a", "b", "c"), detector=spec, losses=("bce",)).detector == spec
    with pytest.raises(ConfigError, match="no predict_proba"):
        DataVsSimConfig(samples=("a", "b", "c"), losses=("bce",),
                        detector=DetectorSpec(import_="sklearn.ensemble:IsolationForest"))
