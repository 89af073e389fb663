"""Figures from results (matplotlib + mplhep); nothing here computes physics."""

from ._style import save_figure
from .abcd import (
    abcd_significance_figure,
    closure_figure,
    firmware_scan_figure,
    score_plane_figure,
    sic_comparison_figure,
)
from .compare import comparison_curves_figure, ranking_figure
from .injection import injection_figure, input_spectra_figure, null_distribution_figure, pvalue_figure
from .rmm import mean_rmm_figure, rmm_difference_figure
from .stats import limit_figure, roc_sic_figure, score_figure, significance_scan_figure, spectrum_figure
from .training import loss_figure

__all__ = ["abcd_significance_figure", "closure_figure", "comparison_curves_figure", "firmware_scan_figure",
           "injection_figure",
           "input_spectra_figure", "limit_figure", "loss_figure", "mean_rmm_figure", "null_distribution_figure",
           "pvalue_figure", "ranking_figure", "rmm_difference_figure", "roc_sic_figure", "save_figure",
           "score_figure", "score_plane_figure", "significance_scan_figure", "sic_comparison_figure",
           "spectrum_figure"]
