"""The Bortolato et al. method on tiny generated dijet samples: the inputs, the splits and injection, the summary's
promised keys, and the refusals that must come before any training."""

import json

import numpy as np
import pytest

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.methods.vae_latent import VAELatentConfig
from anomalyhunt.methods.vae_latent.run import _split, _training_data, load_arrays, run
from anomalyhunt.stats import sic_at_efficiency


def _config(paths, **kw):
    base = dict(samples=tuple(paths), signal_fractions=(0.1, 0.01), n_toys=20, m_min=2400.0,
                vae={"n_members": 2, "max_epochs": 2, "batch_size": 100},
                characterisation={"signal_fraction": 0.01, "max_epochs": 2, "grid": 10},
                ceiling={"seeds": 1, "max_epochs": 10})
    base.update(kw)
    from anomalyhunt.config import from_mapping

    return from_mapping(VAELatentConfig, base)


def test_arrays_split_and_injection_by_weight(dijet_samples):
    config = _config(dijet_samples)
    arrays = load_arrays(config)
    assert arrays.x.shape[1] == 6 and arrays.signal_name == "wprime_xy_3500"
    assert np.all(arrays.x[:, 0] >= arrays.x[:, 3])  # heavier jet first
    sig = arrays.label == 1
    assert abs(np.median(arrays.mjj[sig]) - 3500) < 300 and abs(np.median(arrays.x[sig, 0]) - 500) < 80
    split = _split(arrays, config, np.random.default_rng(0))
    assert not set(split.train_bkg) & set(split.test_bkg)
    assert not set(split.inject_pool) & set(split.test_sig)
    idx, w = _training_data(arrays, split, 0.1)
    is_sig = arrays.label[idx] == 1
    # S/B by weight: the injected signal's weight over the QCD weight is the asked fraction
    assert w[is_sig].sum() / w[~is_sig].sum() == pytest.approx(round(0.1 * len(split.train_bkg)) /
                                                               len(split.train_bkg), rel=1e-9)
    with pytest.raises(ConfigError, match="generate more signal"):
        _split(arrays, _config(dijet_samples, signal_fractions=(0.9, 0.01)), np.random.default_rng(0))


def test_sic_at_half_efficiency_is_read_off_the_roc():
    rng = np.random.default_rng(1)
    bkg, sig = rng.normal(0, 1, 20000), rng.normal(1.5, 1, 20000)
    # eps_s = 0.5 at threshold 1.5: eps_b = P(N(0,1) > 1.5)
    from scipy.stats import norm

    assert sic_at_efficiency(bkg, sig) == pytest.approx(0.5 / np.sqrt(norm.sf(1.5)), rel=0.05)


def test_run_writes_what_summary_json_promises(dijet_samples, tmp_path):
    result = run(_config(dijet_samples, signal_fractions=(0.01,)), tmp_path)
    s = json.loads(json.dumps(result.summary(), default=float))
    assert set(s["auc"]) == {"0", "0.01"} and set(s["auc"]["0.01"]) == {"kl", "reco"}
    assert all(0 <= v <= 1 for a in s["auc"].values() for v in a.values())
    assert set(s["sic_at_half"]["0.01"]) == {"mean", "std"}
    assert set(s["sculpting"]["m_jj"]) == {"inclusive", "kl_cut"}
    assert s["latent_grid"]["heat_maps"].endswith(".png") and len(s["latent_grid"]["z_range"]) == 2
    assert (tmp_path / "vae_sb0.01.pt").exists()
    for tag in ("0", "0.01"):  # each member's QCD centre and spread in its latent space
        offsets = s["latent_offsets"][tag]
        assert np.shape(offsets["mean"]) == np.shape(offsets["spread"]) == (2, 1)  # 2 members, latent 1
        assert np.all(np.asarray(offsets["spread"]) > 0) and offsets["offset_over_spread_median"] >= 0
    report = result.report(tmp_path)
    assert (tmp_path / s["latent_grid"]["heat_maps"]).exists() and len(report.images) >= 8
    assert any("S/B" in line for line in result.lines())


def test_config_refusals():
    with pytest.raises(ConfigError, match="characterisation.signal_fraction"):
        _config(["a", "b"], characterisation={"signal_fraction": 0.05})
    with pytest.raises(ConfigError, match="signal_fractions"):
        _config(["a", "b"], signal_fractions=(0.0,))
    with pytest.raises(ConfigError, match="signal_window"):
        _config(["a", "b"], characterisation={"signal_fraction": 0.01, "signal_window": [1000, 1500]})
