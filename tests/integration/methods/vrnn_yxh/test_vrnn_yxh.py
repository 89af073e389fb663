"""The ATLAS Y -> X H method on tiny generated samples: the selection and candidates, the score normalisation,
the run's summary, and the refusals that must come before any training."""

import json
import math

import numpy as np
import pytest

from anomalyhunt.config import from_mapping
from anomalyhunt.exceptions import ConfigError
from anomalyhunt.methods.vrnn_yxh import VRNNYXHConfig
from anomalyhunt.methods.vrnn_yxh.run import load_arrays, normalise_score, run
from anomalyhunt.models import VRNN


def _config(paths, **kw):
    base = dict(samples=tuple(paths), vrnn={"max_epochs": 2}, double_b={"mistag": 0.3},
                reweighting={"max_epochs": 3}, n_toys=20, ceiling={"seeds": 1, "max_epochs": 10, "hgb_iterations": 20})
    base.update(kw)
    return from_mapping(VRNNYXHConfig, base)


def test_selection_candidates_and_categories(yxh_samples):
    config = _config(yxh_samples)
    arrays = load_arrays(config, np.random.default_rng(0))
    flow = list(arrays.selected.values())
    assert flow == sorted(flow, reverse=True) and flow[-1] == len(arrays.label)
    n = len(arrays.label)
    assert arrays.sequences.shape == (n, 20, 3) and np.all(arrays.sequences[:, :2, 0] > 0)
    # the H candidate is the one of the two jets closer to 125 GeV
    assert np.all(np.abs(arrays.h_mass - 125.0) <= np.abs(arrays.x_mass - 125.0))
    sig = (arrays.label == 1) & (arrays.process == "yxh_qq_2000")
    assert abs(np.median(arrays.h_mass[sig]) - 125.0) < 25 and abs(np.median(arrays.x_mass[sig]) - 200.0) < 40
    assert abs(np.median(arrays.m_y[sig]) - 2000.0) < 250
    # real b hadrons make the signal's H candidate double-b tagged far more often than QCD's
    qcd = arrays.process == "qcd"
    assert np.mean(arrays.category[sig] == 1) > 2 * np.mean(arrays.category[qcd] == 1)
    assert set(np.unique(arrays.category)) <= {-1, 0, 1}


def test_score_normalisation_puts_the_training_mean_at_one_half():
    rng = np.random.default_rng(2)
    kl = rng.exponential(0.3, 5000)
    w = rng.uniform(0.5, 2.0, 5000)
    high, scale = normalise_score(kl, kl, w, invert=False)
    assert np.average(high, weights=w) == pytest.approx(0.5, abs=1e-9)
    np.testing.assert_allclose(high, 1 - np.exp(-kl / scale))
    low, _ = normalise_score(kl, kl, w, invert=True)
    assert np.average(low, weights=w) == pytest.approx(0.5, abs=1e-9)
    assert np.corrcoef(low, kl)[0, 1] < 0 < np.corrcoef(high, kl)[0, 1]


def test_run_writes_what_summary_json_promises(yxh_samples, tmp_path):
    # calibrated score: after two epochs the raw KLs are not yet of the trained scale, and Kahn's 1 - exp(-KL)
    # would leave the "X anomalous" regions empty; the calibration puts the working point near half the jets
    # the mass-dependent transfer factor here (the contract test runs the flat one)
    # (the supervised ceiling off: the contract test runs it)
    result = run(_config(yxh_samples, inject="yxh_qq_2000", inject_events=20, calibrate=True,
                         transfer_factor="mass_dependent", transfer_bins=2, supervised_ceiling=False), tmp_path)
    s = json.loads(json.dumps(result.summary(), default=float))
    md = s["mass_dependence"]
    assert -1 <= md["qcd_score_mass_rank_correlation"] <= 1
    assert set(md["auc_in_x_mass_bins"]) == set(s["jet_auc"])
    for bins in md["auc_in_x_mass_bins"].values():
        assert [b["x_mass"] for b in bins] == [[50, 100], [100, 150], [150, 250], [250, 400], [400, 600]]
        assert all(math.isnan(b["auc"]) or 0 <= b["auc"] <= 1 for b in bins)
    assert s["direction"]["published"] == "high KL is anomalous" and s["direction"]["calibrated"] is True
    assert set(s["jet_auc"]) == {"yxh_qq_2000", "yxh_dark_2000"}
    for aucs in s["jet_auc"].values():
        assert set(aucs) == {"vrnn", "d2", "tau21", "mass"} and all(0 <= v <= 1 for v in aucs.values())
    assert set(s["sb_gain"]) == set(s["jet_auc"]) and all(v >= 0 for v in s["sb_gain"].values())
    assert {"observed", "predicted", "error", "pull"} <= set(s["closure"])
    c = s["closure"]
    assert c["events_observed"] > 0 and c["predicted"] > 0  # the validation region is populated
    assert c["error"] == pytest.approx(np.hypot(c["observed_error"], c["predicted_error"]))
    assert c["pull"] == pytest.approx((c["observed"] - c["predicted"]) / c["error"])
    # each sideband predicted from the other, both ways; the window from the fit over both
    for name in ("low_sideband", "high_sideband"):
        side = c["sidebands"][name]
        assert side["flat"]["predicted"] > 0 and side["observed"] >= 0
        md = side["mass_dependent"]
        assert md["predicted"] > 0 and md["predicted_fit_error"] > 0 and len(md["fit"]["mass"]) == 2
        assert md["error"] == pytest.approx(np.sqrt(side["observed_error"] ** 2 + md["predicted_stat_error"] ** 2
                                                    + md["predicted_fit_error"] ** 2))
    assert c["transfer_factor"] == "mass_dependent" and len(c["transfer_fit"]["mass"]) == 4
    # the signal region's SM truth against both normalisations; the grid's cells hold part of that prediction
    truth = c["signal_region_truth"]
    assert truth["observed"] >= 0 and truth["flat"]["predicted"] > 0 and truth["mass_dependent"]["predicted"] > 0
    assert truth["mass_dependent"]["predicted_fit_error"] > 0
    assert 0 < s["grid"]["background_only"]["predicted_total"] <= truth["mass_dependent"]["predicted"] * (1 + 1e-9)
    assert c["nonclosure"] == c["sidebands"]["low_sideband"]["mass_dependent"]["nonclosure"]
    assert set(s["grid"]) == {"background_only", "injected"}
    assert np.isfinite(s["z_global"]) and s["z_global"] == s["grid"]["background_only"]["z_global"]
    # the injected events are in the second search only
    g = s["grid"]
    assert g["background_only"]["injected_in_signal_region"] == 0 and g["injected"]["injected_in_signal_region"] <= 20
    assert g["injected"]["observed_total"] == (g["background_only"]["observed_total"]
                                               + g["injected"]["injected_in_signal_region"])  # one SM draw
    assert s["training"]["seconds_per_epoch"] > 0 and s["scoring"]["jets_per_second"] > 0
    loaded = VRNN.load(tmp_path / "vrnn.pt", device="cpu")
    flat = result.arrays.sequences.reshape(len(result.arrays.label), -1).astype(np.float32)
    np.testing.assert_allclose(loaded.score_samples(flat[:50]), result.model.score_samples(flat[:50]), rtol=1e-6)
    assert (tmp_path / "reweighting_background_only.pt").exists()
    report = result.report(tmp_path)
    assert report.titles == ("Anomalous-jet tagging", "Supervised ceiling", "Background estimate and its closure",
                             "Significance over the (m_Y, m_X) grid")
    assert all(p.exists() for _, p in report.images) and len(report.images) >= 5


def test_refusals_before_training(yxh_samples, dijet_samples, tmp_path):
    with pytest.raises(ConfigError, match="constituents"):
        load_arrays(_config(dijet_samples), np.random.default_rng(0))
    with pytest.raises(ConfigError, match="signal"):
        load_arrays(_config(yxh_samples[:2]), np.random.default_rng(0))
    with pytest.raises(ConfigError, match="inject"):
        load_arrays(_config(yxh_samples, inject="nope", inject_events=5), np.random.default_rng(0))
    with pytest.raises(ConfigError, match="too few to learn weights"):  # before the VRNN trains
        run(_config(yxh_samples, double_b={"mistag": 0.0}, high_sideband=(190.0, 200.0)), tmp_path)
    with pytest.raises(ConfigError, match="overlap"):
        _config(yxh_samples, high_sideband=(140.0, 200.0))
    with pytest.raises(ConfigError, match="go together"):
        _config(yxh_samples, inject="yxh_qq_2000")
    with pytest.raises(ConfigError, match="direction"):
        _config(yxh_samples, direction="up")
    with pytest.raises(ConfigError, match="transfer_factor"):
        _config(yxh_samples, transfer_factor="linear")
    with pytest.raises(ConfigError, match="transfer-factor bin"):  # an empty mass bin, before the VRNN trains
        run(_config(yxh_samples, transfer_factor="mass_dependent", transfer_bins=20), tmp_path)


def test_b_hadrons_are_counted_once_and_the_three_prong_signal_generates(yxh_samples, tmp_path):
    import awkward as ak

    from anomalyhunt.generate import GenerationConfig, generate
    from anomalyhunt.ingest import load_samples

    events, _ = load_samples([yxh_samples[2]])  # Y -> X H(bb)
    fj = events.fatjets[ak.num(events.fatjets) >= 2][:, :2]
    h_like = ak.to_numpy(ak.argmin(abs(fj.mass - 125.0), axis=1))
    n_b = ak.to_numpy(fj.n_b)[np.arange(len(h_like)), h_like]
    # H -> b bbar: two weakly decaying b hadrons, not four (B* -> B gamma and B0 mixing are not new b hadrons)
    assert np.mean(n_b == 2) > 0.5 and np.mean(n_b > 2) < 0.05
    out = tmp_path / "ggg"
    generate(GenerationConfig("yxh_ggg", 60, seed=3, preset="yxh_atlas", chunk_size=60), out, workers=0)
    ggg, process = load_samples([str(out)])
    assert set(process) == {"yxh_ggg_2000"} and len(ggg) > 40
    assert "constituents" in ggg.fatjets.fields and ak.all(ak.num(ggg.fatjets.constituents, axis=2) <= 30)
