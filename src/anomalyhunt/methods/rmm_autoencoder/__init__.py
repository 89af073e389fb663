"""Anomaly regions at fixed cross sections and a bump hunt in nine two-body mass spectra, with any per-event
detector on RMMs or four-vectors; by default the RMM autoencoder of Chekanov & Hopkins, "Event-Based Anomaly
Detection for Searches for New Physics" (Universe 8 (2022) 494), and the ATLAS search with anomaly regions
(PRL 132 (2024) 081801)."""

from ..base import Method
from .config import RMMAutoencoderConfig

__all__ = ["METHOD", "RMMAutoencoderConfig"]

METHOD = Method(
    name="rmm_autoencoder",
    description="anomaly regions at fixed cross sections and a bump hunt in nine mass spectra; by default the "
                "RMM autoencoder (Chekanov & Hopkins 2022; ATLAS 2024)",
    config=RMMAutoencoderConfig,
    run="anomalyhunt.methods.rmm_autoencoder.run:run",
    result="anomalyhunt.methods.rmm_autoencoder.run:RMMAutoencoderResult",
    accepts=("flat",),
    detectors="any per-event detector on flat inputs (features: rmm or fourvec); default the autoencoder",
)
