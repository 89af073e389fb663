"""`anomalyhunt trigger`: the refusals (one line, before anything long) and, slow, the precision scan on a tiny
double_ae run (two widths; hls4ml compiles each autoencoder with g++)."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "anomalyhunt.cli", *map(str, args)], capture_output=True, text=True)


def test_the_command_refuses_another_methods_run_folder_in_one_line(tmp_path, cli):
    run = tmp_path / "rmm_run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"method": "rmm_autoencoder", "samples": []}))
    (run / "provenance.json").write_text("{}")
    code, _, err = cli("trigger", run, "--out", tmp_path / "scan")
    assert code != 0
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1 and "a rmm_autoencoder run" in lines[0] and "double_ae" in lines[0]
    assert not (tmp_path / "scan").exists()
    from anomalyhunt.exceptions import ConfigError
    from anomalyhunt.methods.double_ae.firmware import FirmwareScanConfig
    from anomalyhunt.pipeline.trigger import trigger_study

    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(ConfigError, match="not a run folder"):
        trigger_study(plain, tmp_path / "scan")
    with pytest.raises(ConfigError, match="widths"):
        FirmwareScanConfig(widths=(18, 3))
    with pytest.raises(ConfigError, match="qat_epochs"):
        FirmwareScanConfig(quantisation_aware=True, qat_epochs=0)
    with pytest.raises(ConfigError, match="input_max"):
        FirmwareScanConfig(input_max=0)


@pytest.mark.slow
def test_the_precision_scan_of_a_tiny_double_ae_run(disco_samples, tmp_path):
    pytest.importorskip("hls4ml")
    config = tmp_path / "disco.yaml"
    config.write_text("method: double_ae\nsamples: [" + ", ".join(disco_samples) + "]\n"
                      "double_ae: {lam: 10, hidden: [16, 8, 3], batch_size: 400, max_epochs: 3, patience: 3, "
                      "single_ae: false}\nsignal_fraction: 0.05\nefficiencies: [0.05, 0.2]\n"
                      "trigger_efficiency: 0.1\nsupervised_ceiling: false\nonnx: false\n")
    run = tmp_path / "run"
    assert _cli("run", config, "--out", run).returncode == 0
    began = time.monotonic()
    result = _cli("trigger", run, "--out", tmp_path / "scan", "--widths", "24,6", "--max-events", "400")
    wall = time.monotonic() - began
    assert result.returncode == 0, result.stderr[-2000:]
    # the emulation's progress reaches a log file (no terminal here): the count of every width, to the end
    summary = json.loads((tmp_path / "scan" / "summary.json").read_text())
    total = 2 * sum(summary["events"].values())
    assert 0 < summary["seconds"] < wall
    # how many events of each class have an input the input type cannot hold (they saturate)
    assert set(summary["events_with_clipped_inputs"]) == set(summary["events"])
    assert all(0 <= n <= summary["events"][k] for k, n in summary["events_with_clipped_inputs"].items())
    for width in (24, 6):
        assert f"ap_fixed width {width}: emulating: {total}/{total} events" in result.stderr
    wide, narrow = summary["scan"]
    assert wide["width"] == 24 and narrow["width"] == 6
    # 24 bits: the emulated losses rank the events as float does and keep the signal efficiency
    assert wide["agreement"]["ae1"]["rank_correlation"] > 0.999
    assert all(abs(r - 1) < 0.02 for r in wide["signal_efficiency_over_float"].values())
    assert narrow["agreement"]["ae1"]["median_rel_diff"] > wide["agreement"]["ae1"]["median_rel_diff"]
    layers = 57 * 16 + 16 * 8 + 8 * 3
    # the loss computed in the firmware (the default): its squares are one more stage of the estimate
    assert summary["resources"]["loss"] == "firmware" and set(wide["types"][0]) >= {"difference", "square"}
    assert summary["resources"]["autoencoders"][0]["multiplications"] == 2 * layers + 57
    # the recalibrated thresholds keep at most the trigger's background efficiency (a rate budget)
    assert all(r["background_efficiency"] <= 0.1 for r in (summary["float_reference"], wide, narrow))
    # every scored event's losses, float and per width, beside the summary: the float ones are the run's scores
    scores = np.load(tmp_path / "scan" / "scores.npz", allow_pickle=False)
    assert {"float/background", "w24/background", "w6/background", "index/background"} <= set(scores.files)
    run_scores = np.load(run / "scores.npz", allow_pickle=False)["scores"]
    np.testing.assert_allclose(scores["float/background"], run_scores[scores["index/background"]], rtol=1e-4)
    assert scores["w6/background"].shape == (summary["events"]["background"], 2)
    assert (tmp_path / "scan" / "plots" / "firmware_scan.png").exists()
    assert "| float |" in (tmp_path / "scan" / "scan.md").read_text()
    assert "computed in fixed point" in (tmp_path / "scan" / "scan.md").read_text()
    # quantisation-aware training at 6 bits, the loss from the emulated reconstruction: the fine-tuned model's
    # fixed-point forward (what it trained with) is what the emulation computes, event by event
    qat = _cli("trigger", run, "--out", tmp_path / "qat", "--widths", "6", "--max-events", "400", "--loss", "float",
               "--quantisation-aware", "--qat-epochs", "2")
    assert qat.returncode == 0, qat.stderr[-2000:]
    assert "quantisation-aware: " in qat.stdout
    summary = json.loads((tmp_path / "qat" / "summary.json").read_text())
    before, after = summary["scan"]
    assert (before["training"], after["training"]) == ("post-training", "quantisation-aware")
    assert after["fine_tuning"]["epochs"] <= 2 and len(after["fine_tuning"]["result_bits"]) == 2
    for ae in ("ae1", "ae2"):
        assert after["simulation_agreement"][ae]["median_rel_diff"] < 1e-5
        assert after["simulation_agreement"][ae]["rank_correlation"] > 0.9999
    scores = np.load(tmp_path / "qat" / "scores.npz", allow_pickle=False)
    assert {"w6/background", "qat_w6/background"} <= set(scores.files)
    assert not np.array_equal(scores["w6/background"], scores["qat_w6/background"])
    from anomalyhunt.models import DoubleDisCoAE

    tuned = DoubleDisCoAE.load(tmp_path / "qat" / "models" / "qat_w6.pt", device="cpu")
    assert tuned.fixed_point_width == 6
    table = (tmp_path / "qat" / "scan.md").read_text()
    assert "6 QAT" in table and "- (another model)" in table
