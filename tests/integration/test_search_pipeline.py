"""The search pipeline end to end on a tiny sample: one epoch's worth of training, all outputs present."""

import json
import subprocess
import sys

from anomalyhunt.pipeline import find_browser, render_report


def test_run_command_writes_a_complete_run_folder(search_samples, tmp_path):
    root, paths = search_samples
    config = tmp_path / "search.yaml"
    config.write_text("samples: [" + ", ".join(paths) + "]\ninject: {ssm_wprime_2000: 1.0}\nmax_epochs: 2\n"
                      "n_toys: 50\nmax_toys: 400\nmin_events_to_fit: 5\n")
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "anomalyhunt.cli", "run", str(config), "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["auc"]) == {"ssm_wprime_2000"}
    assert 0.0 <= summary["auc"]["ssm_wprime_2000"] <= 1.0
    assert set(summary["sculpting"]) == {"m_jj", "m_bb"}
    assert all("chi2_ndf" in v or "skipped" in v for v in summary["sculpting"].values())
    assert len(summary["background_fits"]) == 9 * 3  # nine channels x three regions, fitted or skipped
    assert set(summary["auc_uncontaminated"]) == {"ssm_wprime_2000"}
    assert isinstance(summary["excesses"], list)
    assert len(summary["limits"]) == len(summary["excesses"])
    for lim in summary["limits"]:
        assert len(lim["masses"]) == len(lim["observed_pb"]) > 0 and min(lim["expected_pb"]) > 0
    gain = summary["sensitivity_gain"]["ssm_wprime_2000"]
    assert gain["channel"] in ("m_jj", "m_jb", "m_bb", "m_je", "m_jmu", "m_jgamma", "m_be", "m_bmu", "m_bgamma")
    assert 0 <= gain["signal_efficiency"] <= 1
    assert gain["significance_before"] > 0 or gain["note"] == "no simulated background in the window"
    assert "z_global" in summary and summary["training"]["epochs"] <= 2
    for name in ("config.json", "model.pt", "scores.npz", "report.html", "plots/loss.png", "plots/scores.png"):
        assert (out / name).exists(), name
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3
    if find_browser() is not None:  # the report opens in headless Chromium with every plot decoded
        loaded, total = render_report(out / "report.html", out / "report.png")
        assert loaded == total >= 3
        assert (out / "report.png").stat().st_size > 10_000


def test_run_rejects_unknown_config_fields(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("samples: [x]\nepochz: 3\n")
    result = subprocess.run([sys.executable, "-m", "anomalyhunt.cli", "run", str(config)], capture_output=True,
                            text=True)
    assert result.returncode == 2
    assert "unknown field(s) ['epochz']" in result.stderr and "Traceback" not in result.stderr
