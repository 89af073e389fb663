"""`anomalyhunt run --scale S`: every generated sample S times larger, in its own folder, and the method follows."""

import pytest

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.pipeline import build_run_config


def _run_config():
    return build_run_config({
        "method": "vae_latent",
        "generate": [{"process": "qcd", "params": {"pthat_min": 1000}, "events": 4000, "seed": 1,
                      "preset": "dijet_lhco", "out": "data/q"},
                     {"process": "wprime_xy", "events": 800, "seed": 2, "preset": "dijet_lhco", "out": "data/w"}],
        "signal_fractions": [0.01], "characterisation": {"signal_fraction": 0.01}})


def test_scaled_run_moves_every_generated_sample_and_the_method_follows():
    base = _run_config()
    scaled = base.scaled(2.5)
    assert [(r.events, r.out) for r in scaled.generate] == [(10000, "data/q-x2.5"), (2000, "data/w-x2.5")]
    assert scaled.config.samples == ("data/q-x2.5", "data/w-x2.5")
    assert [r.seed for r in scaled.generate] == [1, 2] and scaled.config.seed == base.config.seed
    assert base.scaled(1) is base and base.config.samples == ("data/q", "data/w")  # the original is untouched
    with pytest.raises(ConfigError, match="scale must be positive"):
        base.scaled(0)
