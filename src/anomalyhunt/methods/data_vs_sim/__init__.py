"""Data against simulation in e+e-mu+mu- events: classifier ensembles (BCE and MLC) with bootstrap and toy
p-values, signal-injection curves and limits, after Krzyzanska & Nachman, "Simulation-based Anomaly Detection for
Multileptons at the LHC"."""

from ..base import Method
from .config import DataVsSimConfig, DataVsSimModel

__all__ = ["METHOD", "DataVsSimConfig", "DataVsSimModel"]

METHOD = Method(
    name="data_vs_sim",
    description="classifier ensembles telling 'data' from simulation (BCE and MLC), bootstrap and independent-toy "
                "nulls, signal-injection limits, NPLM chi^2 (Krzyzanska & Nachman)",
    config=DataVsSimConfig,
    run="anomalyhunt.methods.data_vs_sim.run:run",
    result="anomalyhunt.methods.data_vs_sim.run:DataVsSimResult",
    accepts=("labelled",),
    detectors="its classifier: the batched ensemble (default) or any scikit-learn classifier with predict_proba "
              "through import: (BCE loss)",
    parallel=True,
)
