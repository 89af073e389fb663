"""Figures of the data-versus-simulation study (Krzyzanska & Nachman): the input spectra, signal-injection curves
against the background-only bands, null distributions with a chi^2 overlay, p-value histograms."""

from __future__ import annotations

import numpy as np

from ._style import pyplot

__all__ = ["injection_figure", "input_spectra_figure", "null_distribution_figure", "pvalue_figure"]

# held-out MLC losses and maximum scores have rare huge values (e^f far from the simulation): the histogram
# shows the bulk and says how many lie beyond
_HEAVY_TAILED = ("mean_loss", "max_score", "std_score", "t_nplm")
_LABELS = {"mean_loss": "mean loss", "mean_score": "mean score", "max_score": "max score",
           "std_score": "std of scores", "t_nplm": r"NPLM $t = -2L_{min}$"}


def _finish(fig, axes, n_used: int, title: str):
    """Blank the unused panels of a grid, one legend, the title."""
    for ax in list(axes.flat)[n_used:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    return fig


def input_spectra_figure(names: list[str], data: np.ndarray, simulation: np.ndarray, signals: dict[str, np.ndarray],
                         *, data_label: str = "data (background only)"):
    """One panel per input: data and simulation as counts, each signal as a dashed density scaled to the data."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4.5))
    axes = np.atleast_1d(axes)
    for i, (ax, name) in enumerate(zip(axes, names, strict=True)):
        lo, hi = np.percentile(np.concatenate([data[:, i], simulation[:, i]]), [0.5, 99.5])
        for x in signals.values():
            lo, hi = min(lo, np.percentile(x[:, i], 0.5)), max(hi, np.percentile(x[:, i], 99.5))
        edges = np.linspace(lo, hi, 51)
        ax.hist(simulation[:, i], edges, histtype="stepfilled", alpha=0.35, color="tab:blue",
                label=f"simulation ({len(simulation)})", weights=np.full(len(simulation), len(data) / len(simulation)))
        counts = np.histogram(data[:, i], edges)[0]
        ax.errorbar(0.5 * (edges[1:] + edges[:-1]), counts, yerr=np.sqrt(counts), fmt="k.", ms=4, label=data_label)
        for k, (label, x) in enumerate(signals.items()):
            ax.hist(x[:, i], edges, histtype="step", ls="--", color=f"C{k + 1}", label=f"{label} (shape)",
                    weights=np.full(len(x), len(data) / len(x) * 0.2))
        ax.set_xlabel(f"{name} [GeV]" if name.startswith("m") else name)
        ax.set_yscale("log")
        ax.set_ylabel("events / bin")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def injection_figure(levels, curves: dict[str, np.ndarray], null: np.ndarray, statistics: list[str], *,
                     luminosity_fb: float, title: str, zoom: float | None = None):
    """One panel per statistic: for each signal the median over injections and its 16-84% band against the
    number of injected events (top axis: cross section at `luminosity_fb`), with the null's mean +- 1 and 2
    standard deviations (green, yellow). curves: signal -> (n_levels, n_injections, n_stats); null: (n, n_stats).
    `zoom`: the largest injected count shown."""
    plt = pyplot()
    n = len(statistics)
    cols = 2
    fig, axes = plt.subplots((n + 1) // cols, cols, figsize=(11, 4.2 * ((n + 1) // cols)), squeeze=False)
    levels = np.asarray(levels, dtype=float)
    shown = levels <= (zoom if zoom else levels.max())
    shown[0] = True
    for j, (ax, stat) in enumerate(zip(axes.flat, statistics, strict=False)):
        finite = null[np.isfinite(null[:, j]), j]
        mean, std = finite.mean(), finite.std(ddof=1)
        x = np.concatenate([[0.0], levels[shown]])
        ax.fill_between(x, mean - 2 * std, mean + 2 * std, color="#ffdd33", label=r"background only $\pm 2\sigma$")
        ax.fill_between(x, mean - std, mean + std, color="#33cc33", label=r"background only $\pm 1\sigma$")
        for k, (signal, values) in enumerate(curves.items()):
            q16, q50, q84 = np.nanpercentile(values[shown, :, j], [16, 50, 84], axis=1)
            ax.plot(levels[shown], q50, color=f"C{k}", marker="o", ms=3, label=signal)
            ax.fill_between(levels[shown], q16, q84, color=f"C{k}", alpha=0.2)
        ax.set_xlabel("injected signal events")
        ax.set_ylabel(_LABELS.get(stat, stat))
        top = ax.secondary_xaxis("top", functions=(lambda v: v / luminosity_fb, lambda v: v * luminosity_fb))
        top.set_xlabel(f"injected cross section [fb] at {luminosity_fb:g} fb$^{{-1}}$", fontsize=9)
    return _finish(fig, axes, n, title)


def null_distribution_figure(nulls: dict[str, np.ndarray], statistics: list[str], *, observed: np.ndarray,
                             title: str, chi2_dof: dict[str, float] | None = None):
    """Histograms of each statistic under each null (bootstrap, independent), the observed background-only value
    as a line, and for NPLM's t the fitted chi^2 densities (chi2_dof: null -> dof)."""
    from scipy import stats as sps

    plt = pyplot()
    n = len(statistics)
    cols = 3 if n > 4 else 2
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4 * rows), squeeze=False)
    for j, (ax, stat) in enumerate(zip(axes.flat, statistics, strict=False)):
        values = np.concatenate([v[:, j] for v in nulls.values()])
        values = values[np.isfinite(values)]
        lo, hi = np.percentile(values, [0, 98]) if stat in _HEAVY_TAILED else (values.min(), values.max())
        edges = np.linspace(lo, max(hi, observed[j]) if np.isfinite(observed[j]) else hi, 26)
        beyond = int(np.sum(values > edges[-1]))
        if beyond:
            ax.text(0.97, 0.6, f"{beyond} beyond the axis", transform=ax.transAxes, ha="right", fontsize=8)
        for k, (kind, v) in enumerate(nulls.items()):
            v = v[np.isfinite(v[:, j])]
            ax.hist(v[:, j], edges, histtype="step", lw=1.8, color=f"C{k}", density=True, label=f"{kind} ({len(v)})")
        ax.axvline(observed[j], color="k", ls="--", label="observed (background only)")
        if stat == "t_nplm" and chi2_dof:
            grid = np.linspace(max(edges[0], 1e-6), edges[-1], 200)
            for k, (kind, dof) in enumerate(chi2_dof.items()):
                ax.plot(grid, sps.chi2.pdf(grid, dof), color=f"C{k}", ls=":", label=rf"$\chi^2$({dof:.1f}), {kind}")
        ax.set_xlabel(_LABELS.get(stat, stat))
        ax.set_ylabel("density")
    return _finish(fig, axes, n, title)


def pvalue_figure(pvalues: dict[str, np.ndarray], *, title: str):
    """Histograms of p-values over repeated background-only datasets (flat if the null is right)."""
    plt = pyplot()
    fig, ax = plt.subplots()
    edges = np.linspace(0, 1, 11)
    for k, (label, p) in enumerate(pvalues.items()):
        ax.hist(p[np.isfinite(p)], edges, histtype="step", lw=1.5, color=f"C{k % 10}", ls="-" if k < 10 else "--",
                label=label)
    n = len(next(iter(pvalues.values())))
    ax.axhline(n / 10, color="k", ls=":", label="uniform")
    ax.set_xlabel("p-value")
    ax.set_ylabel("datasets")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=6, ncol=2)
    return fig
