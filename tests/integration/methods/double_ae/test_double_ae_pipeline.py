"""The Mikuni, Nachman & Shih pipeline end to end on tiny Pythia samples: every output present and consistent."""

import json
import subprocess
import sys


def test_double_ae_run_writes_its_summary(disco_samples, tmp_path):
    """On the RMM (the method contract test runs the 57 published inputs), with the single autoencoder, the ONNX
    export and the closure over three halvings on."""
    config = tmp_path / "disco.yaml"
    config.write_text("method: double_ae\nfeatures: rmm\nsamples: [" + ", ".join(disco_samples) + "]\n"
                      "double_ae: {lam: 10, batch_size: 400, max_epochs: 3, patience: 3, single_ae_batch_size: 200}\n"
                      "signal_fraction: 0.05\nefficiencies: [0.05, 0.2]\ntrigger_efficiency: 0.1\n"
                      "ceiling: {seeds: 1, max_epochs: 10, hgb_iterations: 20}\n")
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "anomalyhunt.cli", "run", str(config), "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert 0 <= summary["dcor_background"] <= 1
    assert len(summary["closure"]) == 2 * 3
    assert all({"efficiency", "ratio", "error"} <= set(r) for r in summary["closure"])
    assert set(summary["max_sic"]) == {"a_4l_50", "h0_tautau_60"}
    assert set(summary["max_sic"]["a_4l_50"]) == {"ae1", "ae2", "diagonal", "single_ae"}
    assert set(summary["abcd_significance"]) == {"a_4l_50", "h0_tautau_60"}
    assert summary["abcd_significance"]["a_4l_50"]["n_injected"] > 0
    assert set(summary["trigger"]["runs"]) == {"background only", "a_4l_50", "h0_tautau_60"}
    assert summary["onnx"]["single_event_latency_us_median"] > 0
    assert summary["onnx"]["max_rel_diff_vs_torch"] < 1e-3
    for name in ("model.pt", "double_ae.onnx", "scores.npz", "report.html", "plots/closure.png",
                 "plots/sic_a_4l_50.png"):
        assert (out / name).exists(), name
    assert "dCor" in (out / "report.html").read_text()
    assert summary["training"]["inputs"] == 51 * 51


def test_unknown_method_and_fields_are_refused(tmp_path, cli):
    config = tmp_path / "bad.yaml"
    config.write_text("method: triple_ae\nsamples: [x]\n")
    code, _, err = cli("run", config)
    assert code == 2 and "unknown method 'triple_ae'" in err
    config.write_text("method: double_ae\nsamples: [x]\ndouble_ae: {lamda: 3}\n")
    code, _, err = cli("run", config)
    assert code == 2 and "unknown field(s) ['lamda']" in err
