"""Data against simulation: classifier ensembles (BCE and MLC) with bootstrap and toy p-values, signal-injection
curves and limits, in e+e-mu+mu- events (seed 003)."""

from ..base import Method
from .config import DataVsSimConfig, DataVsSimModel

__all__ = ["METHOD", "DataVsSimConfig", "DataVsSimModel"]

METHOD = Method(
    name="data_vs_sim",
    description="classifier ensembles telling 'data' from simulation (BCE and MLC), bootstrap and independent-toy "
                "nulls, signal-injection limits, NPLM chi^2 (seed 003)",
    config=DataVsSimConfig,
    run="anomalyhunt.methods.data_vs_sim.run:run",
    summary_keys=("limits_fb", "null_pvalues", "bootstrap_null", "independent_null", "null_comparison",
                  "calibration_ks", "best_statistic", "timing"),
    report_sections=("95% limits", "p-values of the observed background-only data",
                     "Bootstrap against independent null", "NPLM t against a fitted chi^2"),
    parallel=True,
)
