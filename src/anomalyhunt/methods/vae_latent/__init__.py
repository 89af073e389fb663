"""VAE with a KL anomaly score, KL-peak epoch choice, an m_jj bump hunt and latent (z, m_jj) characterisation on
LHC-Olympics-like dijets (seed 004)."""

from ..base import Method
from .config import LatentCharacterisation, VAELatentConfig, VAEModel

__all__ = ["METHOD", "LatentCharacterisation", "VAELatentConfig", "VAEModel"]

METHOD = Method(
    name="vae_latent",
    description="VAE ensemble with a KL anomaly score on large-R jet substructure, m_jj bump hunt after a KL cut, "
                "latent-space characterisation (seed 004)",
    config=VAELatentConfig,
    run="anomalyhunt.methods.vae_latent.run:run",
    summary_keys=("auc", "sic_at_half", "sic_at_half_ensemble", "rejection_at_half", "auc_members",
                  "paper_sic_at_half", "supervised_ceiling", "training", "bump_hunt", "sculpting", "latent_grid",
                  "latent_bump", "latent_medians", "events", "signal", "device", "seconds"),
    report_sections=("KL divergence against reconstruction error", "Supervised ceiling",
                     "Bump hunt in m_jj after the KL cut", "Sculpting check on background only",
                     "Latent characterisation"),
)
