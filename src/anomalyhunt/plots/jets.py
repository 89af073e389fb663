"""ATLAS Y -> X H figures: jet-tagger ROC/SIC per signal, anomaly-score distributions, the H-candidate mass
with its regions, and the (m_Y, m_X) significance map."""

from __future__ import annotations

import numpy as np

from ..stats import sic_curve
from ._style import pyplot

__all__ = ["h_mass_regions_figure", "jet_score_figure", "significance_map_figure", "tagger_roc_figure"]


def tagger_roc_figure(curves: dict, *, title: str = ""):
    """curves[signal][tagger] = RocCurve: background rejection (left) and SIC (right) against signal efficiency,
    one panel row per signal, one line per tagger."""
    plt = pyplot()
    fig, axes = plt.subplots(len(curves), 2, figsize=(12, 4.2 * len(curves)), squeeze=False)
    for row, (signal, by_tagger) in zip(axes, curves.items(), strict=True):
        for tagger, curve in by_tagger.items():
            ok = curve.fpr > 0
            row[0].plot(curve.tpr[ok], 1.0 / curve.fpr[ok], label=tagger)
            tpr, sic = sic_curve(curve, min_fpr=1e-3)
            row[1].plot(tpr, sic, label=tagger)
        row[0].set_yscale("log")
        row[0].set_ylabel("1 / background eff.")
        row[1].set_ylabel("SIC")
        row[1].axhline(1.0, color="grey", lw=0.8)
        row[0].set_title(signal, fontsize=11)
        row[0].legend(fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("signal efficiency")
    fig.suptitle(title)
    return fig


def jet_score_figure(scores: dict[str, tuple[np.ndarray, np.ndarray]], *, threshold: float, title: str = ""):
    """Normalised anomaly-score distributions, scores[label] = (values, weights); the working point dashed."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 5))
    bins = np.linspace(0.0, 1.0, 41)
    for label, (values, weights) in scores.items():
        ax.hist(values, bins=bins, weights=weights, density=True, histtype="step", lw=1.5, label=label)
    ax.axvline(threshold, color="k", ls="--", lw=1)
    ax.set_xlabel("VRNN anomaly score")
    ax.set_ylabel("normalised")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=12)
    return fig


def h_mass_regions_figure(masses: dict[str, tuple[np.ndarray, np.ndarray]], regions: dict[str, tuple[float, float]],
                          *, title: str = ""):
    """H-candidate mass per category (masses[label] = (values, weights), normalised), regions shaded."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 5))
    bins = np.linspace(40.0, 260.0, 45)
    colours = ("#dddddd", "#c6dbef", "#fdd0a2")
    for (name, (low, high)), colour in zip(regions.items(), colours, strict=False):
        ax.axvspan(low, high, color=colour, alpha=0.6, lw=0)
        ax.text(0.5 * (low + high), 0.97, name, ha="center", va="top", fontsize=8,
                transform=ax.get_xaxis_transform())
    for label, (values, weights) in masses.items():
        ax.hist(values, bins=bins, weights=weights, density=True, histtype="step", lw=1.5, label=label)
    ax.set_xlabel("H-candidate mass [GeV]")
    ax.set_ylabel("normalised")
    ax.legend(fontsize=8, loc="center right")
    ax.set_title(title, fontsize=12)
    return fig


def significance_map_figure(z_local: np.ndarray, m_y_edges, m_x_edges, *, observed=None, predicted=None,
                            title: str = ""):
    """Local significance of the excess over the (m_Y, m_X) grid (0: none; cells without a prediction blank),
    with observed / predicted written in each cell."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 6))
    z = np.ma.masked_invalid(z_local.T)
    finite = z_local[np.isfinite(z_local)]
    limit = max(3.0, float(finite.max()) if finite.size else 3.0)
    mesh = ax.pcolormesh(m_y_edges, m_x_edges, z, cmap="Reds", vmin=0.0, vmax=limit)
    fig.colorbar(mesh, ax=ax, label=r"local $Z$")
    if observed is not None and predicted is not None:
        for i in range(len(m_y_edges) - 1):
            for j in range(len(m_x_edges) - 1):
                if predicted[i, j] > 0 or observed[i, j] > 0:
                    ax.text(0.5 * (m_y_edges[i] + m_y_edges[i + 1]), 0.5 * (m_x_edges[j] + m_x_edges[j + 1]),
                            f"{observed[i, j]:.0f}/{predicted[i, j]:.1f}", ha="center", va="center", fontsize=7)
    ax.set_xlabel(r"$m_Y$ = $m_{JJ}$ [GeV]")
    ax.set_ylabel(r"$m_X$ [GeV]")
    ax.set_title(title, fontsize=12)
    return fig
