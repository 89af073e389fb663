"""Every registered detector, an IsolationForest through `import:` and a model through `onnx:`, through the
estimator checks (generated from the registry, the way scikit-learn's parametrize_with_checks is): fit returns
self, clone, NotFittedError, save/load gives identical scores (or the detector says it is not saved), and higher =
more anomalous on a toy with a known outlier."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.base

from anomalyhunt.detectors import BUILTIN_DETECTORS, DetectorSpec, build_detector
from anomalyhunt.exceptions import ConfigError, ModelFileError, NotFittedError

# a few epochs and small ensembles: enough to put a far outlier on top, quick on two cores
FAST = {"autoencoder": {"max_epochs": 40, "patience": None, "batch_size": 64},
        "autoencoder_atlas2024": {"max_epochs": 10, "patience": None, "batch_size": 64},
        "autoencoder_disco2022": {"max_epochs": 30, "patience": None, "batch_size": 64},
        "vae_kl": {"n_members": 2, "max_epochs": 15, "batch_size": 64, "hidden": [16, 16]},
        "vae_reco": {"n_members": 2, "max_epochs": 15, "batch_size": 64, "hidden": [16, 16]},
        "vrnn": {"max_epochs": 8, "hidden": 8, "latent": 2, "features": 8, "batch_size": 64},
        "classifier_ensemble": {"n_members": 2, "max_epochs": 5, "hidden": [16]},
        "double_ae": {"max_epochs": 10, "batch_size": 128, "lam": 1.0}}

UNSUPERVISED = [name for name, entry in BUILTIN_DETECTORS.items() if entry.accepts != "labelled"]


def _toy(accepts: str, n: int = 400, seed: int = 0) -> tuple[np.ndarray, int]:
    """Inputs with one far outlier, and its row."""
    rng = np.random.default_rng(seed)
    if accepts == "jet_sequence":  # (pt share, delta eta, delta phi) of 5 constituents, flattened
        pt = np.sort(rng.dirichlet(np.ones(5), n), axis=1)[:, ::-1]
        angles = rng.normal(0.0, 0.1, (n, 5, 2))
        x = np.concatenate([pt[..., None], angles], axis=2)
        x[7, :, 1:] = 3.0
        return x.reshape(n, 15).astype(np.float32), 7
    x = rng.normal(size=(n, 6)).astype(np.float32)
    x[7] = 8.0
    return x, 7


def _spec(name: str) -> DetectorSpec:
    return DetectorSpec(name=name, params=FAST.get(name, {}))


def test_every_builtin_has_a_fast_setting_here():
    assert set(FAST) == set(BUILTIN_DETECTORS), "add the new detector to FAST (and so to these checks)"


@pytest.mark.parametrize("name", list(BUILTIN_DETECTORS))
def test_builtin_estimator_checks(name, tmp_path):
    entry = BUILTIN_DETECTORS[name]
    model = build_detector(_spec(name), accepts=(entry.accepts,), seed=3, device="cpu")
    clone = sklearn.base.clone(model)
    assert clone.get_params() == model.get_params() and clone is not model
    x, outlier = _toy("jet_sequence" if entry.accepts == "jet_sequence" else "flat")
    with pytest.raises(NotFittedError):
        model.score_samples(x)
    if entry.accepts == "labelled":
        y = (x[:, 0] > 0).astype(np.float32)
        assert model.fit(x, y) is model
        score = model.score_samples(x)
        assert score.shape == (len(x),) and np.all((score >= 0) & (score <= 1))
    else:
        assert model.fit(x) is model
        score = model.score_samples(x)  # (n,), or (n, 2) for the score pair
        assert score.shape[0] == len(x) and np.isfinite(score).all()
        for column in (score.T if score.ndim == 2 else [score]):  # higher = more anomalous: the outlier on top
            assert column[outlier] > np.quantile(column, 0.99), name
    model.save(tmp_path / "m.pt")
    loaded = type(model).load(tmp_path / "m.pt", device="cpu")
    np.testing.assert_allclose(loaded.score_samples(x), model.score_samples(x), rtol=1e-5, atol=1e-7)


def test_isolation_forest_through_import(tmp_path):
    spec = DetectorSpec.from_config({"import": "sklearn.ensemble:IsolationForest", "params": {"n_estimators": 50}})
    model = build_detector(spec, seed=5)
    assert sklearn.base.clone(model).get_params() == model.get_params()
    x, outlier = _toy("flat")
    with pytest.raises(NotFittedError):
        model.score_samples(x)
    assert model.fit(x, np.ones(len(x))) is model
    assert model.weights_used_  # IsolationForest.fit takes sample_weight
    assert model.detector_.random_state == 5  # the run's seed reaches the user's class
    score = model.score_samples(x)
    # scikit-learn's outlier scores are higher = more normal; turned, the outlier is on top
    assert score[outlier] == score.max()
    np.testing.assert_allclose(score, -model.detector_.score_samples(x))
    assert not model.saves_model
    with pytest.raises(ModelFileError, match="cannot be saved safely"):
        model.save(tmp_path / "m.pt")
    turned = build_detector(DetectorSpec(import_="sklearn.ensemble:IsolationForest", higher_is_anomalous=True,
                                         params={"n_estimators": 50}), seed=5).fit(x, np.ones(len(x)))
    np.testing.assert_allclose(turned.score_samples(x), -score)


def test_a_detector_without_scores_and_bad_params_are_refused_when_built():
    with pytest.raises(ConfigError, match="neither score_samples nor decision_function"):
        build_detector(DetectorSpec(import_="sklearn.linear_model:LinearRegression"))
    with pytest.raises(ConfigError, match="params do not fit"):
        build_detector(DetectorSpec(import_="sklearn.ensemble:IsolationForest", params={"n_trees": 3}))
    with pytest.raises(ConfigError, match="cannot import"):
        build_detector(DetectorSpec(import_="no_such_package.mod:Thing"))
    with pytest.raises(ConfigError, match="has no parameter"):
        build_detector(DetectorSpec(name="vae_kl", params={"depth": 3}))
    with pytest.raises(ConfigError, match="takes jet_sequence inputs"):
        build_detector(DetectorSpec(name="vrnn"), accepts=("flat",))
    with pytest.raises(ConfigError, match="exactly one of"):
        DetectorSpec.from_config({"name": "vae_kl", "onnx": "x.onnx"})
    with pytest.raises(ConfigError, match="unknown field"):
        DetectorSpec.from_config({"name": "vae_kl", "parameters": {}})


def _onnx_norm(path, width: int) -> None:
    """An ONNX model scoring each row by its squared norm (higher = further out), built with onnx.helper."""
    import onnx
    from onnx import TensorProto, helper

    node = helper.make_node("ReduceSumSquare", ["x"], ["score"], axes=[1], keepdims=0)
    graph = helper.make_graph([node], "norm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", width])],
                              [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["n"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def test_onnx_detector_scores_checks_width_and_round_trips(tmp_path):
    path = tmp_path / "norm.onnx"
    _onnx_norm(path, 6)
    x, outlier = _toy("flat")
    model = build_detector(DetectorSpec(onnx=str(path)))
    with pytest.raises(NotFittedError):
        model.score_samples(x)
    assert model.fit(x) is model
    np.testing.assert_allclose(model.score_samples(x), (x.astype(np.float64) ** 2).sum(1), rtol=1e-5)
    assert model.score_samples(x)[outlier] == model.score_samples(x).max()
    with pytest.raises(ConfigError, match="takes 6 inputs"):
        build_detector(DetectorSpec(onnx=str(path))).fit(x[:, :4])
    model.save(tmp_path / "m.pt")
    path.unlink()  # the model file carries the graph itself
    loaded = type(model).load(tmp_path / "m.pt")
    np.testing.assert_allclose(loaded.score_samples(x), model.score_samples(x))


def test_scores_of_an_imported_detector_are_batched(monkeypatch):
    spec = DetectorSpec(import_="sklearn.ensemble:IsolationForest", params={"n_estimators": 20})
    model = build_detector(spec, seed=1)
    x, _ = _toy("flat")
    model.fit(x)
    np.testing.assert_allclose(model.score_samples(x, batch_size=37), model.score_samples(x))


def test_a_users_detector_that_fails_is_one_line_naming_it():
    from anomalyhunt.exceptions import FitError

    x = np.zeros((50, 3), dtype=np.float32)  # every event the same: a mixture's covariances collapse
    spec = DetectorSpec(import_="sklearn.mixture:GaussianMixture", higher_is_anomalous=False,
                        params={"n_components": 3, "reg_covar": 0.0})
    with pytest.raises(FitError, match=r"sklearn.mixture:GaussianMixture failed to fit: "):
        build_detector(spec).fit(x)
