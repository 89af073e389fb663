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
from ..base import Report, Section
from ..base import html_table as table
from ..ceiling import ceiling_lines, ceiling_section

__all__ = ["report_sections", "summary_lines"]


def _cocktail(background: dict) -> str:
    fractions = background.get("cocktail_fraction", {})
    return ", ".join(f"{p} {n}" + (f" ({fractions[p]:.1%})" if p in fractions else "")
                     for p, n in background["cocktail"].items())


def report_sections(result, plots: Path) -> Report:
    """Figures saved into `plots`, and the report's sections."""
    summary = result.summary()
    return Report("Decorrelated double autoencoder + ABCD (Mikuni, Nachman & Shih 2022)", (
        _training_section(result, summary, plots), _sic_section(result, summary, plots),
        ceiling_section(summary.get("supervised_ceiling", {}), "the diagonal cut on both autoencoders"),
        _closure_section(result, summary, plots), _significance_section(summary, plots),
        Section("Online emulation", _trigger_table(summary["trigger"]) + _onnx_text(summary["onnx"]))))


def _training_section(result, summary: dict, plots: Path) -> Section:
    model, single = result.model, result.single
    images = [("Loss curves: double AE (MSE 1 + MSE 2 + lambda dCor^2)",
               save_figure(loss_figure(model.history_, title="double AE"), plots / "loss_double_ae.png"))]
    if single is not None:
        images.append(("Loss curves: single AE", save_figure(loss_figure(single.history_, title="single AE"),
                                                              plots / "loss_single_ae.png")))
    scores, test_idx, process = result.scores, result.test_idx, result.process
    b1, b2 = scores[test_idx, 0], scores[test_idx, 1]
    first = next(iter(result.sic_curves), None)
    signal = None
    if first is not None:
        sel = process == first
        signal = (first, scores[sel, 0], scores[sel, 1])
    eps = summary["trigger"]["efficiency"]
    images.append((f"Loss plane on test background, diagonal cut at {eps:g}",
                   save_figure(score_plane_figure(b1, b2, result.trigger_thresholds, signal=signal,
                                                  title=f"diagonal cut, background efficiency {eps:g}"),
                               plots / "loss_plane.png")))
    training = summary["training"]
    text = (f"<p>Training on {summary['background']['train']} background events ({html.escape(training['features'])}"
            f" features, {training['inputs']} inputs): {training['epochs']} epochs (best {training['best_epoch']}), "
            f"{training['seconds_per_epoch']:.2f} s/epoch on {html.escape(training['device'])}, lambda = "
            f"{training['lam']:g}, batch {training['batch_size']}. Background cocktail (unweighted, events and "
            f"share): {html.escape(_cocktail(summary['background']))}; test background "
            f"{summary['background']['test']} events.</p>"
            f"<p>Distance correlation dCor<sup>2</sup> of the two losses on test background: "
            f"<b>{summary['dcor_background']:.4f}</b>.</p>")
    return Section("Training and decorrelation", text, tuple(images))


def _sic_section(result, summary: dict, plots: Path) -> Section:
    images = tuple((f"SIC: {name}", save_figure(sic_comparison_figure(curves, title=name), plots / f"sic_{name}.png"))
                   for name, curves in result.sic_curves.items())
    return Section("Maximum SIC", table([[s, *(v.get(k, "-") for k in ("ae1", "ae2", "diagonal", "single_ae"))]
                                         for s, v in summary["max_sic"].items()],
                                        ["signal", "AE 1", "AE 2", "diagonal", "single AE"]), images)


def _closure_section(result, summary: dict, plots: Path) -> Section:
    return Section("ABCD closure on background only", table(
        [[r["efficiency"], r["split"], r["observed"], r["predicted"], r["ratio"], r["error"],
          (r["ratio"] - 1) / r["error"] if r["error"] and np.isfinite(r["error"]) else "-"]
         for r in summary["closure"]],
        ["efficiency", "e1/e2", "observed", "predicted", "ratio", "stat. error", "(ratio - 1)/error"]),
        (("ABCD closure on background", save_figure(closure_figure(result.closure_scan), plots / "closure.png")),))


def _significance_section(summary: dict, plots: Path) -> Section:
    m, null = summary["abcd_method"], summary["abcd_significance_background_only"]
    scans = {s: r["scan"] for s, r in summary["injection"].items()}
    images = (("ABCD significance with injected signal",
               save_figure(abcd_significance_figure(scans), plots / "abcd_significance.png")),) if scans else ()
    text = (
        f"<p>The test background is halved: {m['simulation_events']} events play the simulation, where the "
        f"non-closure k = observed/predicted is measured at each working point, and {m['data_events']} the data. "
        "Z = (N - kB) / sqrt(kB + (k sigma_B)<sup>2</sup> + (B sigma_k)<sup>2</sup>), with sigma_B the statistical "
        "error of the ABCD prediction from its control regions. The paper's (N - B)/sqrt(N) is shown for "
        "comparison: it ignores both uncertainties.</p>"
        + table([[s, v["n_injected"], v["efficiency"], v["significance"], v["significance_seed002"],
                  v["significance_true_background"]]
                 for s, v in summary["abcd_significance"].items()],
                ["signal", "events injected", "best efficiency", "Z (with non-closure)", "(N-B)/sqrt(N)",
                 "Z with true B"])
        + "<p>Background only (nothing injected), largest Z over the scan: "
        f"{null['significance']:.2f} at efficiency {null['efficiency']:g} (the paper's statistic: "
        f"{null['significance_seed002']:.2f}). Over repeated random halvings of the background-only test sample:"
        "</p>"
        + table([[e, v["mean"], v["std"], v["fraction_above_2"], v["n_splits"]]
                 for e, v in null["repeated_splits"].items()],
                ["efficiency", "mean Z", "std Z", "fraction Z > 2 (2.3% expected)", "halvings"]))
    return Section("ABCD significance with signal injected", text, images)


def _onnx_text(o: dict | None) -> str:
    if not o:
        return ""
    return (f"<p>ONNX export (both networks and the scaling, {o['file_bytes']} bytes): single-event "
            f"latency {o['single_event_latency_us_median']:.1f} us median "
            f"({o['single_event_latency_us_p99']:.1f} us p99), {o['throughput_events_per_s']:.3g} "
            f"events/s at batch {o['batch']}, onnxruntime {o['onnxruntime']} on {o['threads']} CPU "
            f"thread(s); largest relative difference to torch "
            f"{o.get('max_rel_diff_vs_torch', float('nan')):.2g}.</p>")


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
               f"{null['efficiency']:g} (Mikuni, Nachman & Shih's (N-B)/sqrt(N): {null['significance_seed002']:.2f}); "
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
