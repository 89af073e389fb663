"""The run folder's plots and its self-contained report.html (images embedded)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

from ..events.io import atomic_write_text
from ..features import rmm
from ..plots import mean_rmm_figure, roc_sic_figure, significance_scan_figure, spectrum_figure
from ..plots._style import pyplot

__all__ = ["write_report"]


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=100, bbox_inches="tight")
    pyplot().close(fig)
    return path


def _loss_figure(history):
    plt = pyplot()
    fig, ax = plt.subplots()
    ax.plot(history.train_loss, label="training")
    ax.plot(history.val_loss, label="validation")
    ax.axvline(history.best_epoch, color="gray", ls=":", label=f"best epoch {history.best_epoch}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("weighted mean loss")
    ax.legend()
    return fig


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
                 sculpting, config) -> Path:
    plots = out / "plots"
    images: list[tuple[str, Path]] = [
        ("Loss curves", _save(_loss_figure(model.history_), plots / "loss.png")),
        ("Anomaly score: SM vs BSM", _save(_score_figure(score, process, weight, sm_test), plots / "scores.png")),
    ]
    if curves:
        images.append(("ROC and SIC", _save(roc_sic_figure(curves), plots / "roc_sic.png")))
    is_sm = np.asarray(events.label) == 0
    groups = {"SM mix": is_sm} | {s: process == s for s in sorted(set(process[~is_sm]))}
    for name, sel in groups.items():
        if sel.sum() == 0:
            continue
        fig = mean_rmm_figure(rmm(events[sel], preset=config.rmm_preset), weights=weight[sel],
                              preset=config.rmm_preset, title=f"mean RMM: {name}")
        images.append((f"Mean RMM: {name}", _save(fig, plots / f"rmm_{name.replace(' ', '_')}.png")))
    for x in excesses[:4]:
        hunt = x["_hunt"]
        tag = f"{x['channel']}_{x['region']}"
        images.append((f"{x['channel']} in region {x['region']}",
                       _save(spectrum_figure(hunt.fit, xlabel=f"{x['channel']} [GeV]", title=tag),
                             plots / f"spectrum_{tag}.png")))
        images.append((f"Significance scan {tag}",
                       _save(significance_scan_figure(hunt, xlabel=f"{x['channel']} [GeV]", title=tag),
                             plots / f"scan_{tag}.png")))
    for channel, result in sculpting.items():
        if "_fit" in result:
            tag = f"sculpting_{channel}"
            images.append((f"Sculpting check (SM only): {channel}",
                           _save(spectrum_figure(result["_fit"], xlabel=f"{channel} [GeV]", title=tag),
                                 plots / f"{tag}.png")))
    return _write_html(out / "report.html", summary, images)


def _table(rows: list[list], head: list[str]) -> str:
    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else html.escape(str(v))

    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + f"</tr>{body}</table>"


def _write_html(path: Path, summary: dict, images: list[tuple[str, Path]]) -> Path:
    auc_rows = [[s, a, summary["auc_fourvec"].get(s, "-")] for s, a in summary["auc"].items()]
    z = summary["z_global"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>anomalyhunt run</title><style>"
        "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px}img{max-width:100%}</style></head><body>",
        "<h1>anomalyhunt: RMM + autoencoder search</h1>",
        f"<p>Training: {summary['training']['events']} events, {summary['training']['epochs']} epochs "
        f"(best {summary['training']['best_epoch']}), {summary['training']['seconds_per_epoch']:.2f} s/epoch on "
        f"{summary['training']['device']}, {summary['training']['inputs']} input cells, "
        f"{summary['training']['weights']}. Injected into data: {html.escape(str(summary['injected']) or 'nothing')}."
        "</p>",
        "<h2>Separation SM vs BSM (AUC)</h2>", _table(auc_rows, ["sample", "AUC (RMM)", "AUC (four-vectors)"]),
        "<h2>Anomaly regions</h2>",
        _table([[r["name"], r["threshold"], r["cross_section_pb"], r["efficiency"]] for r in summary["regions"]],
               ["region", "score threshold", "visible cross section [pb]", "efficiency"]),
        "<h2>Largest local excesses</h2>",
        _table([[x["channel"], x["region"], x["mass"], x["width"], x["z_local"], x["fit_chi2_ndf"]]
                for x in summary["excesses"][:10]],
               ["channel", "region", "mass [GeV]", "width", "Z local", "fit chi2/ndf"]),
        "<p>Global: " + (f"largest Z_local = {z['z_local_max']:.2f} ({html.escape(z['channel'])}, "
                         f"{html.escape(z['region'])}, {z['mass']:.0f} GeV) over {z['n_spectra']} spectra; "
                         f"p_global = {z['p_global']:.3g} ({z['n_toys']} toys), Z_global = {z['z_global']:.2f}, "
                         f"asymptotic Z_global = {z['z_global_asymptotic']:.2f}" if z else "no spectrum to fit")
        + "</p>",
        "<h2>Sculpting check (SM only)</h2>",
        _table([[k, *(v.get(f, v.get("skipped", "-")) for f in ("chi2_ndf", "max_abs_pull", "bump_p_global",
                                                                  "smooth"))]
                for k, v in summary["sculpting"].items()],
               ["spectrum", "chi2/ndf", "max |pull|", "bump p_global", "smooth"]),
    ]
    for title, image in images:
        data = base64.b64encode(image.read_bytes()).decode()
        label = html.escape(title)
        parts.append(f"<h3>{label}</h3><img alt='{label}' src='data:image/png;base64,{data}'>")
    parts.append("</body></html>")
    atomic_write_text(path, "\n".join(parts))
    return path
