"""The supervised ceiling against the Neyman-Pearson optimum of a Gaussian toy, where max SIC is analytic."""

import numpy as np
import pytest
from scipy.stats import norm

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.methods import CeilingConfig, ceiling_entry, cross_fitted_scores, supervised_ceiling

MU = 1.5  # the signal is shifted along the first of four dimensions only


def _toy(n_bkg=20000, n_sig=4000, seed=0):
    rng = np.random.default_rng(seed)
    xb = rng.normal(size=(n_bkg, 4))
    xs = rng.normal(size=(n_sig, 4))
    xs[:, 0] += MU
    return xb, xs


def _analytic_max_sic(floor):
    # the optimal selection is x0 > t: efficiencies 1 - Phi(t - MU) and 1 - Phi(t), with fpr above the floor
    t = np.linspace(-3, norm.isf(floor), 4000)
    return float(np.max(norm.sf(t - MU) / np.sqrt(norm.sf(t))))


def test_cross_fitted_classifier_reaches_the_neyman_pearson_max_sic():
    xb, xs = _toy()
    x = np.concatenate([xb, xs])
    bkg = np.r_[np.ones(len(xb), bool), np.zeros(len(xs), bool)]
    optimal_score = x[:, 0]  # the likelihood ratio is monotone in x0
    random_score = np.random.default_rng(1).random(len(x))
    config = CeilingConfig(hidden=(16,), max_epochs=15, seed=3, seeds=1)
    best = supervised_ceiling(x, bkg, {"shifted": ~bkg}, optimal_score, config=config)["shifted"]
    # both classifiers reach the optimum here; the record says which won and what each gave over the seeds
    assert best["classifier"] in ("mlp", "hgb") and set(best["by_classifier"]) == {"mlp", "hgb"}
    for v in best["by_classifier"].values():
        assert len(v["values"]) == 1 and v["mean"] == pytest.approx(expected := _analytic_max_sic(10.0 / len(xb)),
                                                                     rel=0.15)
    assert best["max_sic_supervised"] == max(v["mean"] for v in best["by_classifier"].values())
    blind = supervised_ceiling(x, bkg, {"shifted": ~bkg}, random_score,
                               config=CeilingConfig(hidden=(16,), max_epochs=15, seed=3, classifiers=("mlp",),
                                                    seeds=1))["shifted"]
    expected = _analytic_max_sic(10.0 / len(xb))
    assert best["max_sic_supervised"] == pytest.approx(expected, rel=0.12)
    assert best["max_sic"] == pytest.approx(expected, rel=0.12)
    assert 0.85 < best["fraction"] < 1.15  # an optimal unsupervised score sits at the ceiling
    # a score that knows nothing keeps tpr = fpr, so its SIC = sqrt(fpr) <= 1, half the ceiling here
    assert blind["max_sic"] < 1.1 and blind["fraction"] < 0.6


class _Memoriser:
    """Stands in for the classifier: it remembers every training row and scores a row it has seen with that
    row's label, any other row 0.5. A cross-fitting that scored an event with a model trained on it would leak
    the label into the score."""

    fits = 0

    def __init__(self, *args, **kwargs):
        pass

    def fit(self, x, y, sample_weight=None):
        type(self).fits += 1
        self.seen = {row.tobytes(): float(label) for row, label in zip(x, y, strict=True)}
        return self

    def score_samples(self, x):
        return np.array([self.seen.get(row.tobytes(), 0.5) for row in x])


def test_scores_are_out_of_sample_and_cover_every_event(monkeypatch):
    import anomalyhunt.methods.ceiling as ceiling

    monkeypatch.setattr(ceiling, "ClassifierEnsemble", _Memoriser)
    rng = np.random.default_rng(2)
    xb, xs = rng.normal(size=(300, 3)), rng.normal(size=(200, 3))
    sb, ss = cross_fitted_scores(xb, xs, config=CeilingConfig(folds=3))
    assert sb.shape == (300,) and ss.shape == (200,)
    assert _Memoriser.fits == 3
    # every event was scored, and never by a model that had seen it
    assert np.all(np.r_[sb, ss] == 0.5)


def test_groups_keep_the_entries_of_one_event_in_one_fold(monkeypatch):
    import anomalyhunt.methods.ceiling as ceiling

    monkeypatch.setattr(ceiling, "ClassifierEnsemble", _Memoriser)
    rng = np.random.default_rng(4)
    # every background event entered twice (as the fake-lepton entries of one QCD event share its jets)
    rows = rng.normal(size=(150, 3))
    xb, groups = np.repeat(rows, 2, axis=0), np.repeat(np.arange(150), 2)
    xs = rng.normal(size=(200, 3))
    leaky, _ = cross_fitted_scores(xb, xs, config=CeilingConfig(folds=2))
    assert np.mean(leaky == 0.0) > 0.3  # by entry, a copy trains the model that scores its twin
    sb, ss = cross_fitted_scores(xb, xs, groups_background=groups, config=CeilingConfig(folds=2))
    assert np.all(np.r_[sb, ss] == 0.5)
    # the same through supervised_ceiling, which takes one group id per event of x
    x = np.concatenate([xb, xs])
    bkg = np.r_[np.ones(len(xb), bool), np.zeros(len(xs), bool)]
    g = np.r_[groups, 1000 + np.arange(len(xs))]
    out = supervised_ceiling(x, bkg, {"s": ~bkg}, x[:, 0], groups=g,
                             config=CeilingConfig(folds=2, classifiers=("mlp",), seeds=1))
    assert out["s"]["max_sic_supervised"] == pytest.approx(1.0)  # a constant score keeps everything: SIC 1
    with pytest.raises(ConfigError, match="groups"):
        cross_fitted_scores(xb, xs, groups_background=groups[:-1])
    with pytest.raises(ConfigError, match="fewer than 2 groups"):
        cross_fitted_scores(xb, xs, groups_background=np.zeros(len(xb)))


def test_identical_classes_stay_inseparable_out_of_sample():
    rng = np.random.default_rng(2)
    xb, xs = rng.normal(size=(300, 3)), rng.normal(size=(300, 3))  # the classes are identical
    sb, ss = cross_fitted_scores(xb, xs, config=CeilingConfig(hidden=(64, 64), max_epochs=40, patience=40))
    assert np.isfinite(np.r_[sb, ss]).all()
    from anomalyhunt.stats import auc
    assert abs(auc(sb, ss) - 0.5) < 0.08


def test_refusals_and_entry():
    assert ceiling_entry(4.0, 2.0) == {"max_sic_supervised": 4.0, "max_sic": 2.0, "fraction": 0.5}
    assert np.isnan(ceiling_entry(0.0, 1.0)["fraction"])
    with pytest.raises(ConfigError, match="folds"):
        CeilingConfig(folds=1)
    with pytest.raises(ConfigError, match="classifiers"):
        CeilingConfig(classifiers=("mlp", "svm"))
    with pytest.raises(ConfigError, match="same columns"):
        cross_fitted_scores(np.zeros((10, 2)), np.zeros((10, 3)))
    with pytest.raises(ConfigError, match="either score or"):
        supervised_ceiling(np.zeros((10, 2)), np.ones(10, bool), {}, None)


def test_gradient_boosting_sees_what_one_mlp_seed_misses():
    """A signal in a narrow corner of one input (a 'mass window'): boosted trees cut there at once; the ceiling is
    the better classifier, with its spread over cross-fittings."""
    rng = np.random.default_rng(7)
    xb = rng.uniform(0, 1, size=(6000, 3))
    xs = rng.uniform(0, 1, size=(600, 3))
    xs[:, 1] = rng.uniform(0.50, 0.52, size=600)  # 2% of the background's range
    x = np.concatenate([xb, xs])
    bkg = np.r_[np.ones(len(xb), bool), np.zeros(len(xs), bool)]
    config = CeilingConfig(hidden=(8,), max_epochs=3, seeds=2, seed=1)
    out = supervised_ceiling(x, bkg, {"window": ~bkg}, None, unsupervised_max_sic={"window": 1.0},
                             config=config)["window"]
    mlp, hgb = out["by_classifier"]["mlp"], out["by_classifier"]["hgb"]
    # the optimal cut keeps the window: eps_s = 1, eps_b = 0.02, SIC = 7.1
    assert hgb["mean"] > 5.0 and hgb["mean"] > mlp["mean"]
    assert out["classifier"] == "hgb" and out["max_sic_supervised"] == hgb["mean"]
    assert out["fraction"] == pytest.approx(1.0 / hgb["mean"])
