"""Figures of a detector comparison: mean ROC and SIC curves with their spread over training seeds, and a
ranking of the detectors by max SIC with the supervised ceiling drawn."""

from __future__ import annotations

import warnings

import numpy as np

from ._style import pyplot

__all__ = ["comparison_curves_figure", "ranking_figure"]


def comparison_curves_figure(fpr_by_detector: dict[str, np.ndarray], tpr: np.ndarray, *, min_fpr: float = 0.0,
                             title: str = ""):
    """Background rejection 1/eps_b and SIC = eps_s / sqrt(eps_b) against the signal efficiency eps_s, per
    detector: the mean over seeds (line) and its standard deviation (band). fpr_by_detector[name]: (seeds,
    len(tpr)) background efficiencies at the signal efficiencies `tpr`; points with fpr <= min_fpr are not drawn
    (the max-SIC floor)."""
    plt = pyplot()
    fig, (ax_rej, ax_sic) = plt.subplots(1, 2, figsize=(13, 5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, fpr) in enumerate(fpr_by_detector.items()):
        fpr = np.where(fpr > min_fpr, fpr, np.nan)
        colour = colours[i % len(colours)]
        for ax, values in ((ax_rej, 1.0 / fpr), (ax_sic, tpr / np.sqrt(fpr))):
            with warnings.catch_warnings():  # efficiencies below the floor for every seed are left out (NaN)
                warnings.simplefilter("ignore", RuntimeWarning)
                mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
            ax.plot(tpr, mean, color=colour, label=f"{name} ({len(fpr)} seeds)")
            ax.fill_between(tpr, mean - std, mean + std, color=colour, alpha=0.2)
    ax_rej.plot(tpr, 1.0 / tpr, ":", color="grey", label="random")
    ax_rej.set_yscale("log")
    ax_rej.set_ylabel(r"background rejection $1/\epsilon_b$")
    ax_sic.axhline(1.0, color="grey", ls=":")
    ax_sic.set_ylabel(r"SIC = $\epsilon_s\,/\,\epsilon_b^{1/2}$")
    for ax in (ax_rej, ax_sic):
        ax.set_xlabel(r"signal efficiency $\epsilon_s$")
        ax.set_xlim(0, 1)
    ax_rej.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def ranking_figure(rows: list[dict], ceiling: dict[str, float], *, title: str = ""):
    """Max SIC (mean +- std over seeds) of every detector, grouped by signal; the supervised ceiling of each
    signal as a black bar. rows: dicts with detector, signal, max_sic_mean, max_sic_std."""
    plt = pyplot()
    signals = sorted({r["signal"] for r in rows})
    detectors = list(dict.fromkeys(r["detector"] for r in rows))
    fig, ax = plt.subplots(figsize=(max(7, 1.6 * len(signals) + 3), 5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    width = 0.8 / max(len(detectors), 1)
    for j, det in enumerate(detectors):
        xs, ys, es = [], [], []
        for i, s in enumerate(signals):
            r = next((r for r in rows if r["signal"] == s and r["detector"] == det), None)
            if r is not None:
                xs.append(i - 0.4 + width * (j + 0.5))
                ys.append(r["max_sic_mean"])
                es.append(r["max_sic_std"] if np.isfinite(r["max_sic_std"]) else 0.0)
        ax.errorbar(xs, ys, yerr=es, fmt="o", color=colours[j % len(colours)], label=det, capsize=3)
    for i, s in enumerate(signals):
        if s in ceiling and ceiling[s] is not None:
            ax.hlines(ceiling[s], i - 0.45, i + 0.45, color="black", lw=2,
                      label="supervised ceiling" if i == 0 else None)
    ax.axhline(1.0, color="grey", ls=":")
    ax.set_xticks(range(len(signals)))
    ax.set_xticklabels(signals, rotation=20, ha="right", fontsize=9)
    ax.set_ylabel("max SIC (mean +- std over seeds)")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=11)
    return fig
