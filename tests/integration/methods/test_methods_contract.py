"""Every registered method on a tiny sample: its summary keys, its report sections, a run folder that is whole or
absent (also under kill -9, on the search), refusal to overwrite and --overwrite, provenance, and samples generated
on demand."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from anomalyhunt.methods import get_method, method_names
from anomalyhunt.methods.base import summary_fields
from anomalyhunt.pipeline import find_browser, render_report

CLI = [sys.executable, "-m", "anomalyhunt.cli"]


def _rmm_autoencoder(search_samples, tmp_path):
    _, paths = search_samples
    # the W' at 3 TeV comes from a `generate:` section: made by the run itself, in process; the four-vector
    # comparison on (the search's defaults). Long training: the contract test kills this run and reruns it shorter.
    return ("method: rmm_autoencoder\n"
            f"generate: [{{process: ssm_wprime, params: {{mass: 3000}}, events: 200, seed: 9, chunk_size: 200, "
            f"out: {tmp_path / 'wprime3000'}}}]\n"
            f"samples: [{', '.join(paths)}, {tmp_path / 'wprime3000'}]\n"
            "inject: {ssm_wprime_2000: 1.0}\nmax_epochs: 300\npatience: 300\nn_toys: 50\nmax_toys: 400\n"
            "min_events_to_fit: 5\nceiling: {seeds: 1, max_epochs: 10, hgb_iterations: 20}\n")


def _double_ae(disco_samples, tmp_path):
    return (f"method: double_ae\nsamples: [{', '.join(disco_samples)}]\n"
            "double_ae: {lam: 10, batch_size: 400, max_epochs: 2, patience: 2, single_ae: false}\n"
            "signal_fraction: 0.05\nefficiencies: [0.05]\nclosure_splits: [1.0]\ntrigger_efficiency: 0.1\n"
            "onnx: false\nceiling: {seeds: 1, max_epochs: 10, hgb_iterations: 20}\n")


def _data_vs_sim(fourlepton_samples, tmp_path):
    return (f"method: data_vs_sim\nsamples: [{', '.join(fourlepton_samples)}]\nluminosity_fb: 10\n"
            "classifier: {hidden: [16, 16], n_members: 2, epochs: 2}\nn_null: 10\ninjections: [10, 20]\n"
            "n_injections: 3\ncalibration_datasets: 4\n")


def _vae_latent(dijet_samples, tmp_path):
    return (f"method: vae_latent\nsamples: [{', '.join(dijet_samples)}]\nsignal_fractions: [0.01]\n"
            "vae: {n_members: 2, max_epochs: 2, batch_size: 100}\n"
            "characterisation: {signal_fraction: 0.01, max_epochs: 2, grid: 10}\nn_toys: 20\nm_min: 2400\n"
            "ceiling: {seeds: 1, max_epochs: 10, hgb_iterations: 20}\n")


def _vrnn_yxh(yxh_samples, tmp_path):
    return (f"method: vrnn_yxh\nsamples: [{', '.join(yxh_samples)}]\nvrnn: {{max_epochs: 2}}\n"
            "double_b: {mistag: 0.3}\nreweighting: {max_epochs: 3}\nn_toys: 20\n"
            "inject: yxh_qq_2000\ninject_events: 20\nceiling: {seeds: 1, max_epochs: 10, hgb_iterations: 20}\n"
            "calibrate: true\n")  # two epochs: raw KLs below the trained scale (see test_vrnn_yxh.py)


def _compare(search_samples, tmp_path):
    _, paths = search_samples
    return (f"method: compare\nsamples: [{', '.join(paths)}]\nfeatures: [rmm]\n"
            "detectors: [{name: autoencoder, params: {max_epochs: 2}}, "
            "{import: 'sklearn.ensemble:IsolationForest', params: {n_estimators: 20}}]\n"
            "n_seeds: 2\nceiling: {seeds: 1, max_epochs: 2, hgb_iterations: 20}\n")


# each method's tiny configuration and the one sample fixture it reads: a case generates only its own samples
# (the longest runs first: `contract_runs` starts them in this order)
CASES = {"rmm_autoencoder": ("search_samples", _rmm_autoencoder), "double_ae": ("disco_samples", _double_ae),
         "vrnn_yxh": ("yxh_samples", _vrnn_yxh), "vae_latent": ("dijet_samples", _vae_latent),
         "data_vs_sim": ("fourlepton_samples", _data_vs_sim), "compare": ("search_samples", _compare)}


def test_every_registered_method_has_a_case():
    assert set(CASES) == set(method_names()), "add a tiny configuration for the new method to CASES"


# the runs go two at a time (each mostly one core) with one thread each for torch and OpenMP
_ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def contract_runs(request, tmp_path_factory):
    """method -> (run folder, arguments, future of the CLI run) for every method whose contract test was collected:
    started two at a time as soon as each method's samples are ready, so that one method's run goes on while the
    other's test checks it. The search's run is first killed in training (see `_kill_during_training`)."""
    from concurrent.futures import ThreadPoolExecutor

    wanted = {item.callspec.params["method"] for item in request.session.items
              if getattr(item, "originalname", None) == "test_every_method_honours_the_protocol"}
    runs = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for method in [m for m in CASES if m in wanted]:
            fixture, make_config = CASES[method]
            tmp_path = tmp_path_factory.mktemp(method)
            config = tmp_path / "run.yaml"
            config.write_text(make_config(request.getfixturevalue(fixture), tmp_path))
            out = tmp_path / "runs" / "one"
            args = [*CLI, "run", str(config), "--out", str(out), "--workers", "0"]
            runs[method] = (out, args, pool.submit(_contract_run, method, args, out, config))
        yield runs


def _contract_run(method, args, out, config) -> subprocess.CompletedProcess:
    if method == "rmm_autoencoder":  # kill -9 in training first: nothing but the hidden partial folder is left
        _kill_during_training(args, out)
        config.write_text(config.read_text().replace("max_epochs: 300\npatience: 300", "max_epochs: 2\npatience: 2"))
    return subprocess.run(args, capture_output=True, text=True, env=_ONE_THREAD)


@pytest.mark.parametrize("method", [pytest.param(m, marks=pytest.mark.samples(CASES[m][0])) if m in CASES else m
                                    for m in method_names()])
def test_every_method_honours_the_protocol(method, contract_runs, cli):
    spec = get_method(method)
    out, args, future = contract_runs[method]
    result = future.result()
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    # summary.json is the result's fields, plus what the pipeline adds (samples read, render check, exports)
    assert set(summary) - {"samples", "report_render", "exports"} == set(summary_fields(spec.result_type()))
    if method in ("rmm_autoencoder", "vae_latent"):  # the searches that fit spectra export them
        import uproot

        assert summary["exports"]["spectra"] and "spectra.root" in summary["exports"]["files"], summary["exports"]
        with uproot.open(out / "spectra.root") as f:
            assert f"{summary['exports']['spectra'][0]}/data" in f
    report = (out / "report.html").read_text()
    assert report.count("<h2>") >= 3 and report.count("data:image/png;base64,") >= 2
    resolved = json.loads((out / "config.json").read_text())
    assert resolved["method"] == method
    provenance = json.loads((out / "provenance.json").read_text())
    assert {"command_line", "packages", "device", "seeds", "started", "finished"} <= set(provenance)
    assert provenance["packages"]["torch"] and provenance["device"]["torch"] in ("cpu", "cuda")
    assert sorted(p.name for p in out.parent.iterdir()) == ["one"]  # no partial folder left beside it
    if method == "rmm_autoencoder":
        _assert_complete_search_run(out, cli)
    if method == "double_ae":  # the run folder is the pipeline's, the same for every method: checked on the quickest
        assert summary["training"]["inputs"] == 57  # the published inputs (test_double_ae_pipeline runs the RMM)
        code, _, err = cli(*args[len(CLI):])  # the refusal comes before any work: in process
        assert code == 2 and "--overwrite" in err and "Traceback" not in err
        (out / "stale.png").write_text("from an older run")
        replaced = subprocess.run([*args, "--overwrite"], capture_output=True, text=True, env=_ONE_THREAD)
        assert replaced.returncode == 0, replaced.stderr[-2000:]
        assert not (out / "stale.png").exists()
        assert json.loads((out / "summary.json").read_text()).keys() == summary.keys()
        assert sorted(p.name for p in out.parent.iterdir()) == ["one"]


def _kill_during_training(args, out):
    """Start the run, kill -9 its process group once it has generated its own sample (its yield table is in the
    partial folder; the search then reads and trains for 300 epochs), and check that only the hidden partial folder
    is left."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=_ONE_THREAD)
    deadline = time.time() + 180
    partial = None
    while time.time() < deadline and partial is None and proc.poll() is None:
        partial = next((p for p in out.parent.glob(f".{out.name}.partial-*") if (p / "yields.txt").exists()), None)
        time.sleep(0.2)
    assert partial is not None, "the run never got past generating its sample"
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    assert [p.name.startswith(f".{out.name}.partial-") for p in out.parent.iterdir()] == [True]


def _assert_complete_search_run(out, cli):
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["auc"]) == set(summary["auc_fourvec"]) == {"ssm_wprime_2000", "ssm_wprime_3000"}
    assert 0.0 <= summary["auc"]["ssm_wprime_2000"] <= 1.0
    assert set(summary["sculpting"]) == {"m_jj", "m_bb"}
    assert all("chi2_ndf" in v or "skipped" in v for v in summary["sculpting"].values())
    assert len(summary["background_fits"]) == 9 * 3  # nine channels x three regions, fitted or skipped
    assert set(summary["auc_uncontaminated"]) == {"ssm_wprime_2000", "ssm_wprime_3000"}
    # one record per fitted spectrum, most significant first
    z_local = [x["z_local"] for x in summary["excesses"]]
    assert len(z_local) == sum("skipped" not in v for v in summary["background_fits"]) and z_local == sorted(
        z_local, reverse=True)
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
    assert (out / "report.html").read_text().count("data:image/png;base64,") >= 3
    _assert_exports(out, summary, cli)


def _assert_exports(out, summary, cli):
    """spectra.root opens with uproot and holds what spectra.json holds; each workspace loads in pyhf; `export`
    writes the same again elsewhere."""
    import pyhf
    import uproot

    spectra = json.loads((out / "spectra.json").read_text())["spectra"]
    assert [f"{sp['region']}_{sp['observable']}" for sp in spectra] == summary["exports"]["spectra"]
    assert len(spectra) == len(summary["excesses"]) > 0
    with uproot.open(out / "spectra.root") as f:
        for sp in spectra:
            name = f"{sp['region']}_{sp['observable']}"
            data = f[f"{name}/data"]
            assert data.values().tolist() == sp["data"] and data.axis().edges().tolist() == sp["edges"]
            assert f[f"{name}/background"].errors().tolist() == pytest.approx(
                np.sqrt(np.square(sp["background_modes"]).sum(axis=0)).tolist())
            assert f"{name}/signal_ssm_wprime_2000" in f or not sp["signals"]
        assert "scores/score_standard_model" in f
    for sp in spectra:
        ws = pyhf.Workspace(json.loads((out / "workspaces" / f"{sp['region']}_{sp['observable']}.json").read_text()))
        assert ws.observations[f"{sp['region']}_{sp['observable']}"] == sp["data"]
        assert f"mu_{next(iter(sp['limit_templates']))}" in ws.model().config.par_names
    again = out.parent / "exported"
    code, _, err = cli("export", out, "--format", "pyhf", "--out", again)
    assert code == 0, err
    assert sorted(p.name for p in (again / "workspaces").iterdir()) == sorted(p.name for p in
                                                                              (out / "workspaces").iterdir())
    code, _, err = cli("export", again, "--format", "root")
    assert code == 2 and "no spectra.json" in err and "Traceback" not in err
    if find_browser() is not None:  # the report opens in headless Chromium with every plot decoded
        loaded, total = render_report(out / "report.html", out / "report.png")
        assert loaded == total >= 3
        assert (out / "report.png").stat().st_size > 10_000


def test_methods_command_lists_every_method_and_its_detectors(cli):
    code, out, _ = cli("methods")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[::2]] == list(method_names())
    assert all(line.split()[0] == "detector:" for line in lines[1::2])
