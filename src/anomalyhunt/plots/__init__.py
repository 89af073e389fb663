"""Figures from results (matplotlib + mplhep); nothing here computes physics."""

from .rmm import mean_rmm_figure

__all__ = ["mean_rmm_figure"]
