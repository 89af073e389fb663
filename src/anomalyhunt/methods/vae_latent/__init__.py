"""A KL-cut m_jj bump hunt with latent (z, m_jj) characterisation on LHC-Olympics-like dijets; by default the VAE
ensemble with a KL anomaly score and KL-peak epoch choice of Bortolato, Smolkovic, Dillon & Kamenik, "Bump
hunting in latent space" (PRD 105 (2022) 115009)."""

from ..base import Method
from .config import LatentCharacterisation, VAELatentConfig, VAEModel

__all__ = ["METHOD", "LatentCharacterisation", "VAELatentConfig", "VAEModel"]

METHOD = Method(
    name="vae_latent",
    description="m_jj bump hunt after an anomaly-score cut on large-R jet substructure, latent characterisation; "
                "by default the VAE ensemble with a KL score (Bortolato et al. 2022)",
    config=VAELatentConfig,
    run="anomalyhunt.methods.vae_latent.run:run",
    result="anomalyhunt.methods.vae_latent.run:VAELatentResult",
    accepts=("flat",),
    detectors="any per-event detector on the six dijet inputs; the latent characterisation runs only for the VAE",
)
