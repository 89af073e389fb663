"""Figures from results (matplotlib + mplhep); nothing here computes physics."""

from .rmm import mean_rmm_figure
from .stats import roc_sic_figure, significance_scan_figure, spectrum_figure

__all__ = ["mean_rmm_figure", "roc_sic_figure", "significance_scan_figure", "spectrum_figure"]
