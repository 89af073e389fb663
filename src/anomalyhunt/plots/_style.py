"""Matplotlib set-up shared by the figures: a headless backend and the mplhep style."""

from __future__ import annotations


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    plt.style.use(mplhep.style.ROOT)
    plt.rcParams.update({"figure.figsize": (7, 5), "font.size": 12})
    return plt


def save_figure(fig, path):
    """Save `fig` as PNG at `path` and close it; returns the path."""
    fig.savefig(path, dpi=100, bbox_inches="tight")
    pyplot().close(fig)
    return path
