"""Bortolato et al. figures: KL vs reconstruction-error performance, its evolution over epochs, and the latent (z, m_jj)
characterisation (heat maps with signal/background contours, marginals, median differences)."""

from __future__ import annotations

import numpy as np

from ._style import pyplot

__all__ = ["epoch_auc_figure", "latent_heatmaps_figure", "latent_marginals_figure", "latent_medians_figure",
           "sic_band_figure"]


def sic_band_figure(curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]], *, paper=None):
    """SIC against signal efficiency per S/B: curves[tag][score] = (eps_s grid, SIC per member (K, n)); the
    line is the member mean, the band (first score only) its standard deviation; the first score is drawn solid,
    the others dotted. paper: (eps_s, SIC, +error) of Bortolato et al. fig. 4."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 5.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (tag, by_score) in enumerate(curves.items()):
        for j, (score, (eff, sic)) in enumerate(by_score.items()):
            mean, std = sic.mean(0), sic.std(0)
            ax.plot(eff, mean, "-" if j == 0 else ":", color=colours[i % len(colours)],
                    label=f"S/B = {tag}, {score.upper()}")
            if j == 0 and len(sic) > 1:
                ax.fill_between(eff, mean - std, mean + std, color=colours[i % len(colours)], alpha=0.2)
    if paper is not None:
        ax.errorbar([paper[0]], [paper[1]], yerr=[[0.0], [paper[2]]], fmt="k*", ms=12,
                    label="Bortolato et al. (S/B = 0.1%)")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xlabel(r"signal efficiency $\epsilon_s$")
    ax.set_ylabel(r"SIC = $\epsilon_s\,/\,\epsilon_b^{1/2}$")
    ax.set_xlim(0, 1)
    ax.legend(fontsize=8, ncol=2)
    return fig


def epoch_auc_figure(epoch_auc: np.ndarray, best_epochs, *, n_show: int = 5, title: str = ""):
    """AUC of the KL and of the reconstruction error per epoch for `n_show` members (Bortolato et al. fig. 2 in kind);
    a dot marks the epoch each member keeps. epoch_auc: (epochs, K, 2)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    epochs = np.arange(len(epoch_auc))
    for j, (ax, name) in enumerate(zip(axes, ("KL divergence", "reconstruction error"), strict=True)):
        for m in range(min(n_show, epoch_auc.shape[1])):
            line, = ax.plot(epochs, epoch_auc[:, m, j], lw=1.2)
            b = int(best_epochs[m])
            if 0 <= b < len(epoch_auc):
                ax.plot([b], [epoch_auc[b, m, j]], "o", color=line.get_color())
        ax.set_title(f"{name} as score", fontsize=11)
        ax.set_xlabel("epoch")
    axes[0].set_ylabel("AUC (test events)")
    if title:
        fig.suptitle(title, fontsize=12)
    return fig


def _hpd_levels(h: np.ndarray, fractions=(0.68, 0.95)) -> list[float]:
    """Density thresholds of a 2-D histogram enclosing the given fractions of its content (highest first)."""
    flat = np.sort(h.ravel())[::-1]
    cum = np.cumsum(flat) / max(flat.sum(), 1e-300)
    return sorted({float(flat[min(np.searchsorted(cum, f), len(flat) - 1)]) for f in fractions})


def latent_heatmaps_figure(grid_z, grid_m, reconstructed, names, *, signal=None, background=None, title=""):
    """Each decoded observable over the (m_jj, z) grid (Bortolato et al. fig. 7), with the 68% and 95% regions of the
    signal (red) and background (black) test events, signal/background: (m_jj, z) arrays."""
    plt = pyplot()
    n = reconstructed.shape[-1]
    fig, axes = plt.subplots(2, (n + 1) // 2, figsize=(5.2 * ((n + 1) // 2), 9), squeeze=False)
    mm, zz = np.meshgrid(grid_m / 1000.0, grid_z, indexing="xy")
    for j, ax in enumerate(axes.ravel()):
        if j >= n:
            ax.axis("off")
            continue
        values = reconstructed[:, :, j]
        mesh = ax.pcolormesh(mm, zz, values, shading="auto", cmap="viridis")
        ax.contour(mm, zz, values, levels=6, colors="white", linewidths=0.6)
        fig.colorbar(mesh, ax=ax)
        for points, colour in ((background, "black"), (signal, "red")):
            if points is None or len(points[0]) < 20:
                continue
            h, xe, ye = np.histogram2d(points[0] / 1000.0, points[1], bins=(40, 40),
                                       range=((grid_m[0] / 1000.0, grid_m[-1] / 1000.0), (grid_z[0], grid_z[-1])))
            levels = _hpd_levels(h)
            if len(levels) == 2 and levels[0] < levels[1]:
                xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
                ax.contour(xc, yc, h.T, levels=levels, colors=colour, linestyles=[":", "--"], linewidths=1.2)
        ax.set_title(names[j], fontsize=11)
        ax.set_xlabel(r"$m_{jj}$ [TeV]", fontsize=10)
        ax.set_ylabel(r"$z$", fontsize=10)
    if title:
        fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    return fig


def latent_marginals_figure(grid_m, marginal, control, names, *, window, title=""):
    """<O>_z(m_jj) / <O>_{z,m_jj} (Bortolato et al. fig. 9 in kind): the run with signal (member mean, line) against the
    background-only run (member mean +- std, band). marginal/control: (K, len(grid_m), n_observables)."""
    plt = pyplot()
    n = marginal.shape[-1]
    fig, axes = plt.subplots(2, (n + 1) // 2, figsize=(5 * ((n + 1) // 2), 8), squeeze=False, sharex=True)
    m = grid_m / 1000.0
    for j, ax in enumerate(axes.ravel()):
        if j >= n:
            ax.axis("off")
            continue
        c_mean, c_std = control[:, :, j].mean(0), control[:, :, j].std(0)
        ax.fill_between(m, c_mean - c_std, c_mean + c_std, color="grey", alpha=0.4, label="S/B = 0 (members)")
        ax.plot(m, marginal[:, :, j].mean(0), color="C3", label="with signal")
        ax.axvspan(window[0] / 1000.0, window[1] / 1000.0, color="C1", alpha=0.15)
        ax.set_title(names[j], fontsize=11)
        ax.set_xlabel(r"$m_{jj}$ [TeV]", fontsize=10)
    axes[0, 0].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    return fig


def latent_medians_figure(medians: dict[str, np.ndarray], names):
    """(median(reconstructed) - median(input)) / std(input) per observable, mean +- std over members (Bortolato et al.
    fig. 6 inset), for signal and background test events."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    x = np.arange(len(names))
    for i, (name, values) in enumerate(medians.items()):
        ax.errorbar(x + (i - 0.5) * 0.2, values.mean(0), yerr=values.std(0), fmt="o", capsize=3, label=name)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xticks(x, names, fontsize=9)
    ax.set_ylabel(r"$\Delta$ median / $\sigma$")
    ax.legend(fontsize=9)
    return fig
