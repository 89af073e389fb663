"""RMM + autoencoder anomaly detection with a bump hunt in anomaly regions (seeds 000 and 001)."""

from ..base import Method
from .config import RMMAutoencoderConfig

__all__ = ["METHOD", "RMMAutoencoderConfig"]

METHOD = Method(
    name="rmm_autoencoder",
    description="RMM + autoencoder, anomaly regions at fixed cross sections, bump hunt in nine mass spectra "
                "(seeds 000/001)",
    config=RMMAutoencoderConfig,
    run="anomalyhunt.methods.rmm_autoencoder.run:run",
    summary_keys=("auc", "auc_fourvec", "auc_uncontaminated", "regions", "sculpting", "background_fits", "excesses",
                  "z_global", "null_test", "limits", "sensitivity_gain", "sensitivity_gain_clean",
                  "sensitivity_gain_by_region", "sensitivity_gain_verdict", "supervised_ceiling", "training",
                  "injected", "luminosity_fb", "data_luminosity_fb", "pseudo_data"),
    report_sections=("Separation SM vs BSM (AUC)", "Anomaly regions", "Largest local excesses",
                     "Sensitivity gain of the anomaly regions", "Supervised ceiling",
                     "Background fits to the weighted SM simulation (sculpting check)"),
)
