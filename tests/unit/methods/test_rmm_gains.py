"""The RMM search's sensitivity-gain bookkeeping: Kish's effective count and the plain verdict sentence."""

import math

import numpy as np

from anomalyhunt.methods.rmm_autoencoder.run import _effective, gain_verdict


def test_effective_count_is_kish():
    assert _effective(np.ones(40)) == 40
    assert math.isclose(_effective(np.r_[1000.0, np.ones(9)]), 1009 ** 2 / (1000 ** 2 + 9), rel_tol=1e-12)
    assert _effective(np.zeros(0)) == 0.0


def _gain(value):
    return {"gain": value}


def test_verdict_says_plainly_when_no_region_improves():
    by_model = {"data": {"10pb": {"a": _gain(0.04), "b": _gain(float("nan"))}, "1pb": {"a": _gain(1.0)}},
                "clean": {"10pb": {"a": _gain(0.5)}}}
    text = gain_verdict(by_model)
    assert text.startswith("No anomaly region improves S/sqrt(B) on the inclusive search for any benchmark")
    assert "3 defined gains" in text


def test_verdict_names_what_improves():
    by_model = {"data": {"10pb": {"a": _gain(1.5), "b": _gain(0.2)}}, "clean": {"10pb": {"a": _gain(2.0)}}}
    text = gain_verdict(by_model)
    assert text.startswith("2 of 3 defined gains exceed 1")
    assert "a in 10pb (clean model)" in text and "a in 10pb (data model)" in text and "b in" not in text
