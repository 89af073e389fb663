"""Figures of statistics results: spectrum with fit and pulls, significance scan, ROC and SIC."""

from __future__ import annotations

import numpy as np

from ..exceptions import StatsInputError
from ..stats._checks import spectrum
from ..stats.bumphunt import BumpHuntResult
from ..stats.dijet import DijetFitResult
from ..stats.metrics import RocCurve, sic_curve
from ..stats.spectra import Spectrum
from ._style import experiment_label, pyplot

__all__ = ["limit_figure", "spectrum_figure", "significance_scan_figure", "roc_sic_figure", "score_figure"]


def _spectrum_parts(data, background):
    """(counts, edges, data errors, background, background error or None, legend title) of a DijetFitResult, a
    stats.Spectrum, or a data histogram object with a background histogram object (hist.Hist, a TH1)."""
    if isinstance(data, DijetFitResult):
        if background is not None:
            raise StatsInputError("a DijetFitResult brings its own background: give no `background`")
        title = f"chi2/ndf = {data.chi2:.1f}/{data.ndf}" + ("" if data.converged else " (NOT CONVERGED)")
        return (data.counts, data.edges, np.sqrt(data.counts * data.entry_weight), data.expected, None,
                f"{data.n_params}-par dijet fit", title)
    if isinstance(data, Spectrum):
        return (data.data, data.edges, np.sqrt(data.data), data.background, data.background_error, "background fit",
                data.description)
    if background is None:
        raise StatsInputError("a data histogram needs its `background` histogram")
    counts, edges, variances = spectrum(data)
    expected, bkg_edges, bkg_variances = spectrum(background)
    if not np.array_equal(edges, bkg_edges):
        raise StatsInputError("the data and background histograms have different binnings")
    errors = np.sqrt(variances if variances is not None else counts)
    return counts, edges, errors, expected, None if bkg_variances is None else np.sqrt(bkg_variances), \
        "background", ""


def spectrum_figure(fit, *, background=None, xlabel: str = "m [GeV]", title: str = "", signal=None,
                    label: dict | None = None):
    """A spectrum with its background (top, log scale; the fit uncertainty as a band when known) and pulls
    (bottom). `fit`: a DijetFitResult, a stats.Spectrum, or a data hist.Hist with `background` a hist.Hist.
    `signal`: optional (label, counts). `label`: experiment label keywords (see `experiment_label`)."""
    import mplhep

    counts, edges, errors, expected, band, name, legend_title = _spectrum_parts(fit, background)
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1), "hspace": 0.05})
    centres = 0.5 * (edges[1:] + edges[:-1])
    mplhep.histplot(counts, edges, ax=top, histtype="errorbar", yerr=errors, color="black", label="data")
    top.stairs(expected, edges, color="tab:red", label=name)
    if band is not None:
        top.stairs(expected + band, edges, baseline=np.maximum(expected - band, 0), fill=True, color="tab:red",
                   alpha=0.25, label="fit uncertainty")
    if signal is not None:
        top.stairs(signal[1], edges, color="tab:blue", linestyle="--", label=signal[0])
    top.set_yscale("log")
    positive = np.concatenate([counts[counts > 0], expected[expected > 0]])
    if positive.size:  # below the smallest content to above the largest, at most 7 decades: no empty ones
        top.set_ylim(max(positive.min() * 0.3, positive.max() * 1e-7), positive.max() * 5)
    top.set_ylabel("events / bin")
    top.legend(title=legend_title or None, fontsize=10)
    top.set_title(title, fontsize=12)
    if label is not None:
        experiment_label(top, **label)
    sigma = np.sqrt(np.maximum(expected, 1e-12) + (0 if band is None else band**2))
    pulls = (counts - expected) / sigma if not isinstance(fit, DijetFitResult) else fit.pulls
    bottom.bar(centres, pulls, width=np.diff(edges), color="tab:gray")
    bottom.axhline(0, color="black", lw=0.8)
    bottom.set_ylabel("pull")
    bottom.set_xlabel(xlabel)
    bottom.set_ylim(-4, 4)
    return fig


def significance_scan_figure(result: BumpHuntResult, *, xlabel: str = "m [GeV]", title: str = ""):
    """Local significance vs mass for every signal width, best excess marked."""
    plt = pyplot()
    fig, ax = plt.subplots()
    for label, z in result.z_scan.items():
        ax.plot(result.masses, z, label=f"width: {label}")
    ax.axvline(result.mass, color="gray", ls=":")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("local significance Z")
    ax.set_title(title, fontsize=12)
    g = result.significance
    z_global = f"Z_global {'>=' if g.is_bound else '='} {g.z_global:.2f} ({g.n_toys:,} toys)"
    ax.legend(title=f"max Z_local = {result.z_local:.2f}, {z_global}", fontsize=10)
    return fig


def roc_sic_figure(curves: dict[str, RocCurve], *, title: str = ""):
    """ROC (background rejection vs signal efficiency) and SIC curves for several signals."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    for label, curve in curves.items():
        ok = curve.fpr > 0
        left.plot(curve.tpr[ok], 1.0 / curve.fpr[ok], label=label)
        tpr, sic = sic_curve(curve)
        right.plot(tpr, sic, label=label)
    left.set_yscale("log")
    left.set_xlabel("signal efficiency")
    left.set_ylabel("background rejection 1/FPR")
    right.set_xlabel("signal efficiency")
    right.set_ylabel("SIC = TPR / sqrt(FPR)")
    left.legend(fontsize=9)
    fig.suptitle(title)
    return fig


def limit_figure(result, *, luminosity_fb: float, xlabel: str = "m [GeV]", title: str = ""):
    """95% CLs upper limits on a Gaussian signal's cross section x efficiency: observed, expected and bands."""
    plt = pyplot()
    fig, ax = plt.subplots()
    scale = 1.0 / (luminosity_fb * 1000.0)
    m = result.masses
    ax.fill_between(m, result.band_2sigma[:, 0] * scale, result.band_2sigma[:, 1] * scale, color="gold",
                    label="expected +-2 sigma")
    ax.fill_between(m, result.band_1sigma[:, 0] * scale, result.band_1sigma[:, 1] * scale, color="limegreen",
                    label="expected +-1 sigma")
    ax.plot(m, result.expected * scale, color="black", ls="--", label="expected")
    ax.plot(m, result.observed * scale, color="black", marker="o", ms=3, label="observed")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{result.cl:.0%} CLs limit on sigma x eff [pb]")
    ax.set_title(title, fontsize=12)
    ax.legend(fontsize=9, title=f"background: {result.background}", title_fontsize=8)
    return fig


def score_figure(score, process, weight, sm_test, *, xlabel: str = "anomaly score ln(loss)",
                 reference_label: str = "SM (scored part)", bins: int = 60):
    """Normalised anomaly-score distributions: the scored SM part and every other sample with weight."""
    plt = pyplot()
    fig, ax = plt.subplots()
    bins = np.linspace(np.percentile(score, 0.1), np.percentile(score, 99.9), bins)
    ax.hist(score[sm_test], bins=bins, weights=weight[sm_test], density=True, histtype="stepfilled", alpha=0.4,
            color="gray", label=reference_label)
    for sample in sorted(set(process[weight > 0]) - set(process[sm_test])):
        sel = process == sample
        ax.hist(score[sel], bins=bins, weights=weight[sel], density=True, histtype="step", label=sample)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("normalised")
    ax.legend(fontsize=8)
    return fig
