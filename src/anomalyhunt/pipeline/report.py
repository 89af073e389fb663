"""The run folder's plots and its self-contained report.html (images embedded)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

from ..events.io import atomic_write_text
from ..features import rmm
from ..plots import (
    limit_figure,
    loss_figure,
    mean_rmm_figure,
    roc_sic_figure,
    significance_scan_figure,
    spectrum_figure,
)
from ..plots._style import pyplot

__all__ = ["find_browser", "render_report", "save_figure", "table", "write_page", "write_report"]


def save_figure(fig, path: Path) -> Path:
    fig.savefig(path, dpi=100, bbox_inches="tight")
    pyplot().close(fig)
    return path


def _score_figure(score, process, weight, sm_test):
    plt = pyplot()
    fig, ax = plt.subplots()
    bins = np.linspace(np.percentile(score, 0.1), np.percentile(score, 99.9), 60)
    ax.hist(score[sm_test], bins=bins, weights=weight[sm_test], density=True, histtype="stepfilled", alpha=0.4,
            color="gray", label="SM (scored part)")
    for sample in sorted(set(process[weight > 0]) - set(process[sm_test])):
        sel = process == sample
        ax.hist(score[sel], bins=bins, weights=weight[sel], density=True, histtype="step", label=sample)
    ax.set_yscale("log")
    ax.set_xlabel("anomaly score ln(loss)")
    ax.set_ylabel("normalised")
    ax.legend(fontsize=8)
    return fig


def write_report(out: Path, summary: dict, *, model, score, process, weight, sm_test, events, curves, excesses,
                 sculpting, config, limits=()) -> Path:
    plots = out / "plots"
    images: list[tuple[str, Path]] = [
        ("Loss curves", save_figure(loss_figure(model.history_), plots / "loss.png")),
        ("Anomaly score: SM vs BSM", save_figure(_score_figure(score, process, weight, sm_test), plots / "scores.png")),
    ]
    if curves:
        images.append(("ROC and SIC", save_figure(roc_sic_figure(curves), plots / "roc_sic.png")))
    is_sm = np.asarray(events.label) == 0
    groups = {"SM mix": is_sm} | {s: process == s for s in sorted(set(process[~is_sm]))}
    for name, sel in groups.items():
        if sel.sum() == 0:
            continue
        fig = mean_rmm_figure(rmm(events[sel], preset=config.rmm_preset), weights=weight[sel],
                              preset=config.rmm_preset, title=f"mean RMM: {name}")
        images.append((f"Mean RMM: {name}", save_figure(fig, plots / f"rmm_{name.replace(' ', '_')}.png")))
    for x in excesses[:4]:
        hunt = x["_hunt"]
        tag = f"{x['channel']}_{x['region']}"
        images.append((f"{x['channel']} in region {x['region']}",
                       save_figure(spectrum_figure(hunt.fit, xlabel=f"{x['channel']} [GeV]", title=tag),
                             plots / f"spectrum_{tag}.png")))
        images.append((f"Significance scan {tag}",
                       save_figure(significance_scan_figure(hunt, xlabel=f"{x['channel']} [GeV]", title=tag),
                             plots / f"scan_{tag}.png")))
    lumi = summary["data_luminosity_fb"]
    for x in limits[:2]:
        tag = f"{x['channel']}_{x['region']}"
        images.append((f"Limits: {x['channel']} in region {x['region']}",
                       save_figure(limit_figure(x["_result"], luminosity_fb=lumi, xlabel=f"{x['channel']} [GeV]",
                                                title=tag), plots / f"limits_{tag}.png")))
    for channel, model in sculpting.items():
        if model.check is not None:
            tag = f"sculpting_{channel}_{model.region}"
            images.append((f"Sculpting check (weighted SM simulation): {channel}, region {model.region}",
                           save_figure(spectrum_figure(model.check.fit, xlabel=f"{channel} [GeV]", title=tag),
                                 plots / f"{tag}.png")))
    return _write_html(out / "report.html", summary, images)


def table(rows: list[list], head: list[str]) -> str:
    """An HTML table; floats to 4 significant digits, everything escaped."""
    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else html.escape(str(v))

    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + f"</tr>{body}</table>"


# Sets <body data-plots="N/M">: N of the M embedded plots decoded with a non-zero size (read by the screenshot
# check in `report_render`).
_RENDER_CHECK = (
    "<script>window.addEventListener('load',()=>{const im=[...document.images];"
    "document.body.dataset.plots=im.filter(i=>i.complete&&i.naturalWidth>0).length+'/'+im.length;});</script>"
)


def _write_html(path: Path, summary: dict, images: list[tuple[str, Path]]) -> Path:
    auc_rows = [[s, a, summary["auc_uncontaminated"].get(s, "-"), summary["auc_fourvec"].get(s, "-")]
                for s, a in summary["auc"].items()]
    z, null = summary["z_global"], summary["null_test"]
    parts = [
        f"<p>Training: {summary['training']['events']} events, {summary['training']['epochs']} epochs "
        f"(best {summary['training']['best_epoch']}), {summary['training']['seconds_per_epoch']:.2f} s/epoch on "
        f"{summary['training']['device']}, {summary['training']['inputs']} input cells, "
        f"{summary['training']['weights']}. Injected into data: {html.escape(str(summary['injected']) or 'nothing')}."
        "</p>",
        "<h2>Separation SM vs BSM (AUC)</h2>",
        table(auc_rows, ["sample", "AUC (RMM, trained on data)", "AUC (RMM, trained without injected signal)",
                          "AUC (four-vectors)"]),
        "<h2>Anomaly regions</h2>",
        table([[r["name"], r["threshold"], r["cross_section_pb"], r["efficiency"]] for r in summary["regions"]],
               ["region", "score threshold", "visible cross section [pb]", "efficiency"]),
        f"<p>Pseudo-data: {html.escape(summary['pseudo_data'])} at {summary['data_luminosity_fb']:g} fb<sup>-1"
        "</sup>.</p>",
        "<h2>Largest local excesses</h2>",
        table([[x["channel"], x["region"], x["mass"], x["width"], x["z_local"], x["fit_chi2_ndf"]]
                for x in summary["excesses"][:10]],
               ["channel", "region", "mass [GeV]", "width", "Z local", "fit chi2/ndf"]),
        "<p>Global: " + (f"largest Z_local = {z['z_local_max']:.2f} ({html.escape(z['channel'])}, "
                         f"{html.escape(z['region'])}, {z['mass']:.0f} GeV) over {z['n_spectra']} spectra; "
                         f"p_global = {z['p_global']:.3g} ({z['n_toys']} toys), Z_global = {z['z_global']:.2f}, "
                         f"asymptotic Z_global = {z['z_global_asymptotic']:.2f}" if z else "no spectrum to fit")
        + "</p>",
        "<p>Null test (model trained without the injected signal, background-only pseudo-data): "
        + (f"largest Z_local = {null['z_local_max']:.2f}, Z_global = {null['z_global']:.2f} over "
           f"{null['n_spectra']} spectra" if null else "not run") + "</p>",
        "<h2>Sensitivity gain of the loosest anomaly region</h2>",
        table([[k, v["channel"], v["mass"], v["significance_before"], v["significance_after"], v["gain"],
                v["signal_efficiency"], v["background_efficiency"]]
               for k, v in summary["sensitivity_gain"].items()],
              ["sample", "channel", "mass [GeV]", "S/sqrt(B) before", "after", "gain", "signal eff.",
               "background eff."]),
        "<p>S and B are counted within +-1 mass resolution of the signal's peak at the analysis "
        "luminosity; limits on every fitted spectrum are in summary.json (`limits`).</p>",
        "<h2>Background fits to the weighted SM simulation (sculpting check)</h2>",
        table([[v["channel"], v["region"], v["n_effective"],
                 *((v["chi2_ndf"], v["max_abs_pull"], v["smooth"]) if "skipped" not in v else ("-", "-", "-")),
                 v.get("skipped", "")]
                for v in summary["background_fits"]],
               ["spectrum", "region", "effective events", "chi2/ndf", "max |pull|", "smooth", "skipped"]),
    ]
    return write_page(path, "anomalyhunt: RMM + autoencoder search", parts, images)


def write_page(path: Path, title: str, parts: list[str], images: list[tuple[str, Path]]) -> Path:
    """A self-contained HTML page: a title, the given HTML blocks, then every image embedded as base64 PNG."""
    head = ("<!doctype html><html><head><meta charset='utf-8'><title>anomalyhunt run</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:3px 8px}img{max-width:100%}</style></head><body>")
    body = [head, f"<h1>{html.escape(title)}</h1>", *parts]
    for caption, image in images:
        data = base64.b64encode(image.read_bytes()).decode()
        label = html.escape(caption)
        body.append(f"<h3>{label}</h3><img alt='{label}' src='data:image/png;base64,{data}'>")
    body.append(_RENDER_CHECK + "</body></html>")
    atomic_write_text(path, "\n".join(body))
    return path


def find_browser() -> str | None:
    """A headless-capable Chromium on PATH, or None."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


def render_report(report: str | Path, screenshot: str | Path | None = None, *, browser: str | None = None,
                  timeout: float = 120.0) -> tuple[int, int]:
    """Open `report` in headless Chromium; returns (plots decoded with a non-zero size, plots in the page).

    With `screenshot`, also writes a full-page PNG there. Raises AnomalyHuntError when no browser is found or
    the page does not report its plots.
    """
    import re
    import subprocess

    from ..exceptions import AnomalyHuntError

    browser = browser or find_browser()
    if browser is None:
        raise AnomalyHuntError("no Chromium found on PATH (Debian: apt-get install chromium)")
    uri = Path(report).resolve().as_uri()
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--virtual-time-budget=20000"]
    try:
        dom = subprocess.run([*base, "--dump-dom", uri], capture_output=True, text=True, timeout=timeout)
        match = re.search(r'data-plots="(\d+)/(\d+)"', dom.stdout)
        if match is None:
            raise AnomalyHuntError(f"{report}: the page did not report its plots (is it an anomalyhunt report?)")
        if screenshot is not None:
            subprocess.run([*base, f"--screenshot={Path(screenshot).resolve()}", "--window-size=1200,5000", uri],
                           capture_output=True, timeout=timeout, check=True)
    except (subprocess.TimeoutExpired, subprocess.CalledProcessError, OSError) as err:
        raise AnomalyHuntError(f"headless Chromium failed on {report}: {err}") from None
    return int(match.group(1)), int(match.group(2))
