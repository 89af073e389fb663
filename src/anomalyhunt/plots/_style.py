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


def experiment_label(ax, *, data: bool = False, luminosity_fb: float | None = None, sqrt_s_tev: float = 13.0):
    """mplhep's label on `ax`: "Simulation", or "Open Data" for recorded collisions (`data`), with the
    centre-of-mass energy and, when given, the integrated luminosity. No experiment name: the tool is not one."""
    import mplhep

    return mplhep.label.exp_label(exp="", data=data, llabel="Open Data" if data else "Simulation",
                                  lumi=luminosity_fb, com=sqrt_s_tev, ax=ax, fontsize=11)
