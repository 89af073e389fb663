"""The mean RMM of a sample as a labelled image."""

from __future__ import annotations

import numpy as np

from ..features.rmm import object_labels

__all__ = ["mean_rmm_figure"]


def mean_rmm_figure(matrices: np.ndarray, *, weights: np.ndarray | None = None, preset="T5N10", title: str = ""):
    """Figure of the (weighted) mean of `matrices` (n, D, D), log colour scale, axes labelled by object."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    mean = np.average(matrices, axis=0, weights=weights) if len(matrices) else np.zeros(matrices.shape[1:])
    labels = object_labels(preset)
    size = len(labels)
    fig, ax = plt.subplots(figsize=(0.19 * size + 2.5, 0.19 * size + 1.5))
    positive = mean[mean > 0]
    vmin = max(float(positive.min()), 1e-6) if positive.size else 1e-6
    image = ax.imshow(np.where(mean > 0, mean, np.nan), cmap="viridis", origin="upper",
                      norm=LogNorm(vmin=vmin, vmax=max(float(mean.max()), vmin * 10)))
    ax.set_xticks(range(size), labels, rotation=90, fontsize=6)
    ax.set_yticks(range(size), labels, fontsize=6)
    ax.set_title(title or "mean RMM", fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="mean cell value")
    fig.tight_layout()
    return fig


def rmm_difference_figure(difference: np.ndarray, *, preset="T5N10", title: str = "", label: str = "difference"):
    """Figure of a (D, D) per-cell difference of two mean RMMs, diverging colour scale centred on zero."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = object_labels(preset)
    size = len(labels)
    fig, ax = plt.subplots(figsize=(0.19 * size + 2.5, 0.19 * size + 1.5))
    limit = max(float(np.nanmax(np.abs(difference))), 1e-9)
    image = ax.imshow(difference, cmap="RdBu_r", vmin=-limit, vmax=limit, origin="upper")
    ax.set_xticks(range(size), labels, rotation=90, fontsize=6)
    ax.set_yticks(range(size), labels, fontsize=6)
    ax.set_title(title or "difference of mean RMMs", fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=label)
    fig.tight_layout()
    return fig
