"""The comparison's report sections (tables, curves with bands over seeds, the ranking) and its terminal lines."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from ...plots import comparison_curves_figure, ranking_figure, save_figure
from ..base import Report, Section
from ..base import html_table as table
from ..ceiling import ceiling_section
from .run import TPR_GRID

__all__ = ["report_sections", "summary_lines"]


def _pm(mean, std) -> str:
    if mean is None or not np.isfinite(mean):
        return str(mean)
    return f"{mean:.3g} +- {std:.2g}" if np.isfinite(std) else f"{mean:.3g}"


def _table(rows: list[dict]) -> str:
    return table([[r["detector"], r["signal"], _pm(r["auc_mean"], r["auc_std"]),
                   _pm(r["rejection_mean"], r["rejection_std"]), _pm(r["sic_mean"], r["sic_std"]),
                   _pm(r["max_sic_mean"], r["max_sic_std"]),
                   "-" if r["fraction_of_ceiling"] is None else f"{r['fraction_of_ceiling']:.0%}",
                   f"{r['train_us_per_event']:.3g}", f"{r['score_us_per_event']:.3g}"] for r in rows],
                 ["detector", "signal", "AUC", "1/eps_b", "SIC", "max SIC", "of ceiling", "train us/event",
                  "score us/event"])


def report_sections(result, plots: Path) -> Report:
    summary, config = result.summary(), result.config
    eff = summary["efficiency"]
    sections = [Section("The comparison", (
        f"<p>{len(summary['detectors'])} detectors, each trained {summary['n_seeds']} times (seeds) on "
        f"{summary['events']['background_train']} training background events (weighted) and measured on "
        f"{summary['events']['background_test']} test background events and every signal's test events: the same "
        f"events, split by generated event, for every detector. 1/eps_b and SIC at eps_s = {eff:g}; max SIC above "
        "a background efficiency of 10 test events' worth. Entries are mean +- standard deviation over the seeds; "
        "a lead inside the spreads is not a ranking.</p>"
        + table([[b["features"], b["signal"], f"{b['signal_fraction']:g}", b["detector"],
                  _pm(b["max_sic_mean"], b["max_sic_std"]), b["runner_up"] or "-",
                  "yes" if b["ahead_beyond_spread"] else "no"] for b in summary["best"]],
                ["features", "signal", "signal in training", "best (max SIC)", "max SIC", "next",
                 "ahead beyond the spreads"])))]
    for kind in config.features:
        rows = [r for r in summary["rows"] if r["features"] == kind and r["signal_fraction"] == 0]
        ceiling = {s: c["max_sic_supervised"] for s, c in summary["ceiling"].get(kind, {}).items()}
        images = []
        if rows:
            images.append((f"{kind}: max SIC of each detector (mean +- std over seeds), supervised ceiling in black",
                           save_figure(ranking_figure(rows, ceiling, title=f"{kind}, trained on background only"),
                                       plots / f"ranking_{kind}.png")))
        for signal in sorted({r["signal"] for r in rows}):
            curves = {det: fpr for (det, k, s, f), fpr in result.curves.items() if k == kind and s == signal and f == 0}
            floor = 10.0 / max(summary["events"]["background_test"], 1)
            images.append((f"{kind}, {signal}: background rejection and SIC against signal efficiency, mean over "
                           "seeds with its standard deviation", save_figure(
                               comparison_curves_figure(curves, TPR_GRID, min_fpr=floor, title=f"{kind}: {signal}"),
                               plots / f"curves_{kind}_{signal}.png")))
        text = _table(rows) if rows else "<p>No training on background only (signal_fractions has no 0).</p>"
        sections.append(Section(f"Features: {kind}", text, tuple(images)))
        if summary["ceiling"].get(kind):
            section = ceiling_section(summary["ceiling"][kind], "each detector's max SIC (the table above)")
            sections.append(Section(f"Supervised ceiling on {kind}", section.html))
    injected = [r for r in summary["rows"] if r["signal_fraction"] > 0]
    if injected:
        sections.append(Section("Signal in the training data", "<p>Each detector trained with one signal injected "
                                "at the given fraction of the training weight, measured on that signal.</p>"
                                + table([[r["features"], f"{r['signal_fraction']:g}", r["detector"], r["signal"],
                                          _pm(r["auc_mean"], r["auc_std"]), _pm(r["max_sic_mean"], r["max_sic_std"])]
                                         for r in injected],
                                        ["features", "fraction", "detector", "signal", "AUC", "max SIC"])))
    names = ", ".join(html.escape(d["name"]) for d in summary["detectors"])
    return Report(f"Detectors compared on the same events: {names}", tuple(sections))


def summary_lines(summary: dict) -> list[str]:
    lines = [f"{len(summary['rows'])} rows over {summary['n_seeds']} seeds (max SIC mean +- std; best per signal):"]
    for b in summary["best"]:
        lines.append(f"  {b['features']:<8} {b['signal']:<24} fraction {b['signal_fraction']:<6g} best {b['detector']} "
                     f"{_pm(b['max_sic_mean'], b['max_sic_std'])}"
                     + ("" if b["ahead_beyond_spread"] else f" (within the spread of {b['runner_up']})"))
    for kind, by_signal in summary["ceiling"].items():
        for s, c in by_signal.items():
            lines.append(f"  ceiling {kind:<8} {s:<24} {_pm(c['max_sic_supervised'], c['max_sic_supervised_std'])} "
                         f"({c['classifier']})")
    return lines
