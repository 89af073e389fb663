"""The steps every search shares: non-finite scores stop a run with the detector's name; a detector that cannot
be saved safely leaves a note instead of a pickle; the training record says what training did."""

import json

import numpy as np
import pytest

from anomalyhunt.detectors import DetectorSpec, build_detector
from anomalyhunt.exceptions import FitError
from anomalyhunt.methods.steps import finite_scores, save_detector, training_record
from anomalyhunt.models import Autoencoder


def test_non_finite_scores_name_the_detector():
    scores = np.array([0.1, np.nan, 0.3, np.inf])
    with pytest.raises(FitError, match="vae_kl gave 2 non-finite scores of 4: its training diverged"):
        finite_scores(scores, "vae_kl")
    np.testing.assert_array_equal(finite_scores(np.arange(3.0), "x"), np.arange(3.0))


def test_saving_a_users_detector_leaves_a_note_and_no_pickle(tmp_path):
    x = np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32)
    forest = build_detector(DetectorSpec(import_="sklearn.ensemble:IsolationForest",
                                         params={"n_estimators": 10})).fit(x)
    assert save_detector(forest, tmp_path / "model.pt") == "model.json"
    assert not (tmp_path / "model.pt").exists()
    note = json.loads((tmp_path / "model.json").read_text())
    assert note["saved"] is False and "never" in note["why"]
    record = training_record(forest, 200, 4)
    assert record == {"events": 200, "inputs": 4, "weights": "event weights passed to its fit (sample_weight)"}
    ocsvm = build_detector(DetectorSpec(import_="sklearn.svm:OneClassSVM")).fit(x, np.ones(len(x)))
    assert training_record(ocsvm, 200, 4)["weights"] == "event weights passed to its fit (sample_weight)"
    mixture = build_detector(DetectorSpec(import_="sklearn.mixture:GaussianMixture", higher_is_anomalous=False,
                                          params={"n_components": 2})).fit(x, np.ones(len(x)))
    assert training_record(mixture, 200, 4)["weights"] == "event weights not used (the detector's fit takes none)"
    ae = Autoencoder(max_epochs=2, patience=None).fit(x, np.ones(len(x)))
    assert save_detector(ae, tmp_path / "ae.pt") == "ae.pt" and (tmp_path / "ae.pt").exists()
    record = training_record(ae, 200, 4)
    assert record["epochs"] == 2 and record["weights"] == "event weights in the loss" and record["inputs"] == 4
