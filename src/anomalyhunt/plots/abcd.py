"""Figures of the decorrelated double autoencoder: SIC curves, the ABCD closure scan, the score plane and the
significance scan."""

from __future__ import annotations

import numpy as np

from ._style import pyplot

__all__ = ["closure_figure", "firmware_scan_figure", "score_plane_figure", "sic_comparison_figure",
           "abcd_significance_figure"]

_STYLES = {"ae1": ("AE 1", "tab:blue", "-"), "ae2": ("AE 2", "tab:orange", "-"),
           "diagonal": ("diagonal (AE 1 and AE 2)", "black", "-"), "single_ae": ("single AE", "tab:gray", "--")}


def sic_comparison_figure(curves: dict, *, title: str = ""):
    """curves: name -> (tpr, sic) for 'ae1', 'ae2', 'diagonal', 'single_ae' (any subset)."""
    plt = pyplot()
    fig, ax = plt.subplots()
    for name, (tpr, sic) in curves.items():
        label, color, style = _STYLES.get(name, (name, None, "-"))
        ax.plot(tpr, sic, color=color, linestyle=style, label=label)
    ax.axhline(1.0, color="gray", lw=0.6, ls=":")
    ax.set_xlabel("signal efficiency (TPR)")
    ax.set_ylabel(r"SIC = TPR / sqrt(FPR)")
    ax.set_title(title, fontsize=12)
    ax.legend(fontsize=9)
    return fig


def closure_figure(rows: list[dict], *, title: str = "ABCD closure on background"):
    """Observed / predicted vs background efficiency, one marker per per-AE efficiency split."""
    plt = pyplot()
    fig, ax = plt.subplots()
    splits = sorted({r["split"] for r in rows})
    for k, split in enumerate(splits):
        sel = [r for r in rows if r["split"] == split]
        eff = np.array([r["efficiency"] for r in sel]) * (1 + 0.04 * (k - len(splits) // 2))
        ax.errorbar(eff, [r["ratio"] for r in sel], yerr=[r["error"] for r in sel], fmt="o", ms=4,
                    label=f"e1/e2 = {split:g}")
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("background efficiency of the signal region")
    ax.set_ylabel("observed / ABCD prediction")
    ax.set_title(title, fontsize=12)
    ax.legend(fontsize=9)
    return fig


def score_plane_figure(s1, s2, thresholds, *, signal=None, title: str = ""):
    """Background density in the (AE 1, AE 2) loss plane (log axes), the diagonal cut, optional signal points."""
    plt = pyplot()
    fig, ax = plt.subplots()
    x, y = np.log10(np.maximum(s1, 1e-12)), np.log10(np.maximum(s2, 1e-12))
    ax.hist2d(x, y, bins=80, cmap="Greys", norm="log")
    if signal is not None:
        label, t1, t2 = signal
        ax.scatter(np.log10(np.maximum(t1, 1e-12)), np.log10(np.maximum(t2, 1e-12)), s=3, color="tab:red",
                   label=label)
        ax.legend(fontsize=9, loc="lower right")
    ax.axvline(np.log10(thresholds[0]), color="tab:blue")
    ax.axhline(np.log10(thresholds[1]), color="tab:blue")
    ax.set_xlabel("log10 loss AE 1")
    ax.set_ylabel("log10 loss AE 2")
    ax.set_title(title, fontsize=12)
    return fig


def abcd_significance_figure(scans: dict, *, title: str = "ABCD significance with injected signal"):
    """scans: signal -> list of {efficiency, significance, significance_true_background}."""
    plt = pyplot()
    fig, ax = plt.subplots()
    for k, (name, rows) in enumerate(scans.items()):
        eff = [r["efficiency"] for r in rows]
        color = f"C{k}"
        ax.plot(eff, [r["significance"] for r in rows], color=color, marker="o", ms=3, label=f"{name} (ABCD)")
        ax.plot(eff, [r["significance_true_background"] for r in rows], color=color, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel("background efficiency of the signal region")
    ax.set_ylabel(r"ABCD $Z$ (non-closure and prediction error included)")
    ax.set_title(title + " (dashed: true background)", fontsize=11)
    ax.legend(fontsize=8)
    return fig


def firmware_scan_figure(rows: list[dict], *, tolerance: float = 0.01,
                         title: str = "Fixed-point emulation against float"):
    """Per fixed-point width (the firmware scan's rows): each benchmark's signal efficiency at the trigger's
    background efficiency over float's, with the tolerance band; and each autoencoder's agreement with float
    (median relative difference of the loss, and 1 - Spearman's rank correlation), log scale. Rows of
    quantisation-aware training (`training`) are drawn dotted beside the post-training ones."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"post-training": ("o-", "s--", ""), "quantisation-aware": ("D:", "^:", " (QAT)")}
    for training, (line, dashed, suffix) in styles.items():
        part = [r for r in rows if r.get("training", "post-training") == training]
        if not part:
            continue
        widths = [r["width"] for r in part]
        for k, name in enumerate(part[0]["signal_efficiency_over_float"]):
            left.plot(widths, [r["signal_efficiency_over_float"][name] for r in part], line, color=f"C{k}",
                      label=name + suffix)
        for k, ae in enumerate(("ae1", "ae2")):
            right.semilogy(widths, [max(r["agreement"][ae]["median_rel_diff"], 1e-9) for r in part], line,
                           color=f"C{k}", label=f"{ae}{suffix}: median |loss - float| / float")
            right.semilogy(widths, [max(1 - r["agreement"][ae]["rank_correlation"], 1e-9) for r in part], dashed,
                           color=f"C{k + 2}", label=f"{ae}{suffix}: 1 - rank correlation")
    left.axhspan(1 - tolerance, 1 + tolerance, color="0.85", label=f"float +- {tolerance:.0%}")
    left.axhline(1.0, color="k", lw=0.8)
    left.set_xlabel("ap_fixed total width [bits]")
    left.set_ylabel("signal efficiency / float")
    left.legend(fontsize=8)
    right.set_xlabel("ap_fixed total width [bits]")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.invert_xaxis()
    fig.suptitle(title)
    fig.tight_layout()
    return fig
