"""The double-autoencoder run's report sections (figures and tables) and its lines for the terminal."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from ...plots import (
    abcd_significance_figure,
    closure_figure,
    loss_figure,
    save_figure,
    score_plane_figure,
    sic_comparison_figure,
)
from ..base import Report
from ..base import html_table as table
from ..ceiling import ceiling_html, ceiling_lines

__all__ = ["report_sections", "summary_lines"]



def _cocktail(background: dict) -> str:
    fractions = background.get("cocktail_fraction", {})
    return ", ".join(f"{p} {n}" + (f" ({fractions[p]:.1%})" if p in fractions else "")
                     for p, n in background["cocktail"].items())

def report_sections(result, plots: Path) -> Report:
    """Figures saved into `plots`, and the HTML sections of the report."""
    summary, model, single = result.summary_data, result.model, result.single
    sic_curves, closure, scores = result.sic_curves, result.closure, result.scores
    test_idx, process, threshold = result.test_idx, result.process, result.trigger_thresholds
    images = [("Loss curves: double AE (MSE 1 + MSE 2 + lambda dCor^2)",
               save_figure(loss_figure(model.history_, title="double AE"), plots / "loss_double_ae.png"))]
    if single is not None:
        images.append(("Loss curves: single AE", save_figure(loss_figure(single.history_, title="single AE"),
                                                              plots / "loss_single_ae.png")))
    b1, b2 = scores[test_idx, 0], scores[test_idx, 1]
    first = next(iter(sic_curves), None)
    signal = None
    if first is not None:
        sel = process == first
        signal = (first, scores[sel, 0], scores[sel, 1])
    eps = summary["trigger"]["efficiency"]
    images.append((f"Loss plane on test background, diagonal cut at {eps:g}",
                   save_figure(score_plane_figure(b1, b2, threshold, signal=signal,
                                                  title=f"diagonal cut, background efficiency {eps:g}"),
                               plots / "loss_plane.png")))
    for name, curves in sic_curves.items():
        images.append((f"SIC: {name}", save_figure(sic_comparison_figure(curves, title=name),
                                                   plots / f"sic_{name}.png")))
    images.append(("ABCD closure on background", save_figure(closure_figure(closure), plots / "closure.png")))
    scans = {s: r["scan"] for s, r in summary["injection"].items()}
    if scans:
        images.append(("ABCD significance with injected signal",
                       save_figure(abcd_significance_figure(scans), plots / "abcd_significance.png")))

    training = summary["training"]
    m, null = summary["abcd_method"], summary["abcd_significance_background_only"]
    parts = [
        f"<p>Training on {summary['background']['train']} background events ({html.escape(training['features'])}"
        f" features, {training['inputs']} inputs): {training['epochs']} epochs (best {training['best_epoch']}), "
        f"{training['seconds_per_epoch']:.2f} s/epoch on {html.escape(training['device'])}, lambda = "
        f"{training['lam']:g}, batch {training['batch_size']}. Background cocktail (unweighted, events and "
        f"share): {html.escape(_cocktail(summary['background']))}; test background "
        f"{summary['background']['test']} events.</p>",
        f"<p>Distance correlation dCor<sup>2</sup> of the two losses on test background: "
        f"<b>{summary['dcor_background']:.4f}</b>.</p>",
        "<h2>Maximum SIC</h2>",
        table([[s, *(v.get(k, "-") for k in ("ae1", "ae2", "diagonal", "single_ae"))]
               for s, v in summary["max_sic"].items()], ["signal", "AE 1", "AE 2", "diagonal", "single AE"]),
        ceiling_html(summary.get("supervised_ceiling", {}), "the diagonal cut on both autoencoders"),
        "<h2>ABCD closure on background only</h2>",
        table([[r["efficiency"], r["split"], r["observed"], r["predicted"], r["ratio"], r["error"],
                (r["ratio"] - 1) / r["error"] if r["error"] and np.isfinite(r["error"]) else "-"]
               for r in summary["closure"]],
              ["efficiency", "e1/e2", "observed", "predicted", "ratio", "stat. error", "(ratio - 1)/error"]),
        "<h2>ABCD significance with signal injected</h2>",
        f"<p>The test background is halved: {m['simulation_events']} events play the simulation, where the "
        f"non-closure k = observed/predicted is measured at each working point, and {m['data_events']} the data. "
        "Z = (N - kB) / sqrt(kB + (k sigma_B)<sup>2</sup> + (B sigma_k)<sup>2</sup>), with sigma_B the statistical "
        "error of the ABCD prediction from its control regions. Seed 002's (N - B)/sqrt(N) is shown for "
        "comparison: it ignores both uncertainties.</p>",
        table([[s, v["n_injected"], v["efficiency"], v["significance"], v["significance_seed002"],
                v["significance_true_background"]]
               for s, v in summary["abcd_significance"].items()],
              ["signal", "events injected", "best efficiency", "Z (with non-closure)", "(N-B)/sqrt(N)",
               "Z with true B"]),
        "<p>Background only (nothing injected), largest Z over the scan: "
        f"{null['significance']:.2f} at efficiency {null['efficiency']:g} (seed 002's statistic: "
        f"{null['significance_seed002']:.2f}). Over repeated random halvings of the background-only test sample:"
        "</p>",
        table([[e, v["mean"], v["std"], v["fraction_above_2"], v["n_splits"]]
               for e, v in null["repeated_splits"].items()],
              ["efficiency", "mean Z", "std Z", "fraction Z > 2 (2.3% expected)", "halvings"]),
        "<h2>Online emulation</h2>", _trigger_table(summary["trigger"]),
    ]
    if summary["onnx"]:
        o = summary["onnx"]
        parts.append(f"<p>ONNX export (both networks and the scaling, {o['file_bytes']} bytes): single-event "
                     f"latency {o['single_event_latency_us_median']:.1f} us median "
                     f"({o['single_event_latency_us_p99']:.1f} us p99), {o['throughput_events_per_s']:.3g} "
                     f"events/s at batch {o['batch']}, onnxruntime {o['onnxruntime']} on {o['threads']} CPU "
                     f"thread(s); largest relative difference to torch "
                     f"{o.get('max_rel_diff_vs_torch', float('nan')):.2g}.</p>")
    return Report("anomalyhunt: decorrelated double autoencoder + ABCD", tuple(parts), tuple(images))


def _trigger_table(trigger: dict) -> str:
    rows = []
    for name, entries in trigger["runs"].items():
        for k, e in entries.items():
            if "error" in e:
                rows.append([name, k, e["error"], "-", "-", "-", "-", "-"])
                continue
            rows.append([name, k, e["rate"], e["observed"], e["predicted"], e["predicted_rel_error"],
                         e["signal_region_rel_error"], e["significance"]])
    return (f"<p>Signal region at background efficiency {trigger['efficiency']:g}; control regions prescaled to "
            "k x (efficiency x events) saved events each.</p>"
            + table(rows, ["data", "k", "trigger rate", "observed", "predicted (prescaled)", "pred. rel. error",
                           "SR rel. error", "Z (prescaled B error, no non-closure)"]))


def summary_lines(summary: dict) -> list[str]:
    """The run's figures for the terminal."""
    out = ["", f"dCor^2 of the two losses on test background: {summary['dcor_background']:.4f}",
           "max SIC (AE 1 / AE 2 / diagonal / single AE):"]
    for s, v in summary["max_sic"].items():
        out.append(f"  {s:<20} " + " / ".join(f"{v[k]:.2f}" if k in v else "-"
                                              for k in ("ae1", "ae2", "diagonal", "single_ae")))
    out += ceiling_lines(summary.get("supervised_ceiling", {}))
    worst = max(summary["closure"], key=lambda r: abs(r["ratio"] - 1) / r["error"] if r["error"] else 0)
    out.append(f"ABCD closure on background: {len(summary['closure'])} working points, largest deviation "
               f"{worst['ratio']:.3f} +- {worst['error']:.3f} at efficiency {worst['efficiency']:g}")
    null = summary["abcd_significance_background_only"]
    spread = [f"{v['mean']:+.2f} +- {v['std']:.2f}" for v in null["repeated_splits"].values()]
    out.append(f"  {'background only':<20} ABCD Z {null['significance']:.2f} at efficiency "
               f"{null['efficiency']:g} (seed 002's (N-B)/sqrt(N): {null['significance_seed002']:.2f}); "
               f"over repeated halvings, mean +- std per efficiency: {', '.join(spread)}")
    for s, v in summary["abcd_significance"].items():
        out.append(f"  {s:<20} ABCD Z {v['significance']:.2f} ((N-B)/sqrt(N) {v['significance_seed002']:.2f}, "
                   f"true B {v['significance_true_background']:.2f}) at efficiency {v['efficiency']:g}, "
                   f"{v['n_injected']} events injected")
    if summary["onnx"]:
        o = summary["onnx"]
        out.append(f"ONNX: {o['single_event_latency_us_median']:.1f} us per event, "
                   f"{o['throughput_events_per_s']:.3g} events/s at batch {o['batch']}")
    return out
