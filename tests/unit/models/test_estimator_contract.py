"""Every estimator through the base contract, and model files that never run code when opened."""

import pickle
import zipfile

import numpy as np
import pytest
import torch
from sklearn.base import clone

from anomalyhunt.detectors import BUILTIN_DETECTORS
from anomalyhunt.exceptions import ConfigError, ModelFileError, NotFittedError
from anomalyhunt.features import FeatureSpec, feature_spec
from anomalyhunt.models import VRNN, Autoencoder, ClassifierEnsemble, DoubleDisCoAE, Estimator, VAEEnsemble

from .test_autoencoder import low_rank_data

SPEC = FeatureSpec("custom", "toy", tuple(f"x{i}" for i in range(30)))


# small settings per estimator class; the classes come from the detector registry, so a new one fails here
# until it is given settings (and so goes through the contract)
_SMALL = {Autoencoder: [{"max_epochs": 2, "patience": 2, "seed": 1},
                        {"preset": "atlas2024", "max_epochs": 2, "scale": "minmax", "seed": 2}],
          DoubleDisCoAE: [{"lam": 10.0, "hidden": (16, 4), "batch_size": 200, "max_epochs": 2, "seed": 3}],
          ClassifierEnsemble: [{"n_members": 3, "hidden": (8, 8), "max_epochs": 2, "seed": 4}],
          VAEEnsemble: [{"n_members": 2, "hidden": (8,), "max_epochs": 2, "batch_size": 100, "seed": 5},
                        {"n_members": 2, "hidden": (8,), "max_epochs": 2, "batch_size": 100, "score": "reco"}],
          VRNN: [{"hidden": 4, "latent": 2, "features": 4, "max_epochs": 2, "seed": 6}]}


def _estimators():
    classes = {entry.estimator for entry in BUILTIN_DETECTORS.values()}
    assert classes == set(_SMALL), f"give the contract small settings for {classes - set(_SMALL)}"
    return [(cls(**params), cls is ClassifierEnsemble) for cls in _SMALL for params in _SMALL[cls]]


def _fit(est, supervised, x):
    if supervised:
        return est.fit(x, (np.arange(len(x)) % 2).astype(int), features=SPEC)
    return est.fit(x, features=SPEC)


@pytest.mark.parametrize(("est", "supervised"), _estimators(), ids=lambda e: type(e).__name__)
def test_estimator_contract(est, supervised, rng, tmp_path):
    x = low_rank_data(rng, n=500)
    if isinstance(est, VRNN):  # a jet sequence: the first number of each constituent (its pT share) is positive
        x = np.abs(x) + 0.01
    assert isinstance(est, Estimator)
    # hyperparameters are the constructor's arguments; clone gives an unfitted twin
    params = est.get_params(deep=True)
    twin = clone(est)
    assert twin.get_params() == params and twin is not est
    with pytest.raises(NotFittedError) as err:
        est.score_samples(x)
    assert isinstance(err.value, ValueError) and isinstance(err.value, AttributeError)
    with pytest.raises(NotFittedError):
        est.save(tmp_path / "unfitted.pt")
    assert _fit(est, supervised, x) is est
    scores = est.score_samples(x)
    assert len(scores) == len(x) and np.isfinite(scores).all()
    # no events in: no scores out, in the per-event shape of a non-empty call ((0,) or (0, 2))
    empty = est.score_samples(x[:0])
    assert empty.shape == (0, *scores.shape[1:]) and empty.dtype == scores.dtype
    est.save(tmp_path / "model.pt")
    back = type(est).load(tmp_path / "model.pt")
    np.testing.assert_array_equal(back.score_samples(x, features=SPEC), scores)
    assert back.get_params() == {**params, "device": "auto"}
    assert back.features_ == SPEC
    # features of the right width but another layout are refused
    other = FeatureSpec("custom", "toy", tuple(f"y{i}" for i in range(30)))
    with pytest.raises(ConfigError, match="do not fit the model"):
        back.score_samples(x, features=other)
    with pytest.raises(ConfigError, match="has no parameter"):
        clone(est).set_params(no_such_thing=1)


def test_set_params_validates():
    with pytest.raises(ConfigError, match="preset"):
        Autoencoder().set_params(preset="vae")
    assert Autoencoder().set_params(max_epochs=7).max_epochs == 7


def test_scoring_rmm_features_with_a_four_vector_model_is_refused(rng):
    spec = feature_spec("fourvec", "T5N10")
    x = rng.uniform(0, 1, (200, len(spec.names))).astype(np.float32)
    model = Autoencoder(max_epochs=1, scale="minmax").fit(x, features=spec)
    rmm_like = FeatureSpec("rmm", "T5N10", spec.names)  # same width, another kind
    with pytest.raises(ConfigError, match=r"trained on fourvec \(T5N10"):
        model.score_samples(x, features=rmm_like)


class _Payload:
    def __reduce__(self):
        import os

        return os.system, (f"touch {self.path}",)


def test_a_crafted_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    payload = _Payload()
    payload.path = marker
    evil = tmp_path / "evil.pt"
    torch.save({"format": "anomalyhunt-model", "params": payload}, evil, pickle_protocol=2)
    with pytest.raises(ModelFileError, match="could run code") as refused:
        Autoencoder.load(evil)
    assert not marker.exists()
    assert "weights_only" not in str(refused.value)  # torch's advice to switch the safety off is never passed on
    raw = tmp_path / "evil.pkl"
    raw.write_bytes(pickle.dumps(payload))
    with pytest.raises(ModelFileError) as refused:
        Autoencoder.load(raw)
    assert not marker.exists() and "weights_only" not in str(refused.value)


def test_corrupt_and_foreign_files_give_one_clear_error(rng, tmp_path):
    noise = tmp_path / "noise.pt"
    noise.write_bytes(np.random.default_rng(0).bytes(5000))
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.zeros(3)}}, foreign)
    for path, message in ((noise, "not a readable"), (foreign, "another layout"),
                          (tmp_path / "missing.pt", "no such model file")):
        with pytest.raises(ModelFileError, match=message):
            Autoencoder.load(path)
    model = Autoencoder(max_epochs=1).fit(low_rank_data(rng, n=100))
    model.save(tmp_path / "ae.pt")
    with pytest.raises(ModelFileError, match="holds a Autoencoder model, not a DoubleDisCoAE"):
        DoubleDisCoAE.load(tmp_path / "ae.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes((tmp_path / "ae.pt").read_bytes()[:300])
    with pytest.raises(ModelFileError):
        Autoencoder.load(truncated)
    assert zipfile.is_zipfile(tmp_path / "ae.pt")  # torch's own container, tensors + JSON inside
