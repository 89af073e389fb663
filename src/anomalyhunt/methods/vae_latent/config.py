"""The settings of one Bortolato et al. run (VAE with a KL anomaly score and latent characterisation), validated when
built."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...config import check_types
from ...detectors import DetectorSpec, build_detector
from ...exceptions import ConfigError
from ...models import VAEEnsemble
from ..ceiling import CeilingConfig

__all__ = ["LatentCharacterisation", "VAELatentConfig", "VAEModel"]


@dataclass(frozen=True)
class VAEModel:
    """The `vae:` section: the networks, their training and the ensemble (Bortolato et al.'s values by default).

    reference_steps_per_epoch: Keras' Adadelta (lr 1e-3, eps 1e-7) moves each weight by about
    lr x sqrt(eps) per step whatever the gradient, so what the paper's training did depends on its number of
    steps (~1000 an epoch on the 1M-event LHCO set). With fewer events an epoch has fewer steps; the learning rate
    is then multiplied by reference / steps-per-epoch so that an epoch moves the weights as far as the paper's
    (0 turns this off; the rate used is in summary.json).
    scaler: the paper's `maxabs` (all-positive inputs stay all-positive, so each member's whole QCD sample can sit
    off-centre in the latent space), or ours, `maxabs_centred` (the training sample's mean subtracted first) and
    `standard`; the members' latent offsets are recorded in summary.json (`latent_offsets`) whichever is used."""

    n_members: int = 20
    latent_dim: int = 1
    hidden: tuple[int, ...] = (64, 64, 64)
    alpha: float = 5000.0
    batch_size: int = 1000
    max_epochs: int = 100
    rise: int = 5
    fall: int = 5
    learning_rate: float = 1e-3
    reference_steps_per_epoch: int = 1000
    validation_fraction: float = 0.2
    scaler: str = "maxabs"

    def __post_init__(self) -> None:
        check_types(self)
        if self.reference_steps_per_epoch < 0:
            raise ConfigError(f"reference_steps_per_epoch must be >= 0, got {self.reference_steps_per_epoch}")
        VAEEnsemble(n_members=self.n_members, latent_dim=self.latent_dim, hidden=self.hidden, alpha=self.alpha,
                    batch_size=self.batch_size, max_epochs=self.max_epochs, rise=self.rise, fall=self.fall,
                    learning_rate=self.learning_rate, validation_fraction=self.validation_fraction,
                    scaler=self.scaler)


@dataclass(frozen=True)
class LatentCharacterisation:
    """The `characterisation:` section: a new decoder per member on (z ~ N(mean, sigma), m ~ N(m_jj,
    mass_resolution x m_jj)) with the encoders frozen (Adam, until the validation loss stops improving), scanned
    over a (z, m_jj) grid. z_range: [low, high], or empty for the populated range (1st-99th percentile of the
    encoder means); signal_window: the m_jj window (GeV) where the bump is looked for in the marginals."""

    signal_fraction: float = 0.01
    mass_resolution: float = 0.025
    z_range: tuple[float, ...] = ()
    mjj_range: tuple[float, float] = (2000.0, 8000.0)
    grid: int = 60
    max_epochs: int = 100
    patience: int = 5
    learning_rate: float = 1e-3
    signal_window: tuple[float, float] = (3300.0, 3700.0)

    def __post_init__(self) -> None:
        check_types(self)
        if not 0 < self.mass_resolution < 1:
            raise ConfigError(f"mass_resolution must be in (0, 1), got {self.mass_resolution}")
        if self.z_range and (len(self.z_range) != 2 or not self.z_range[0] < self.z_range[1]):
            raise ConfigError(f"z_range must be [low, high] with low < high, or empty, got {list(self.z_range)}")
        for name in ("mjj_range", "signal_window"):
            low, high = getattr(self, name)
            if not 0 < low < high:
                raise ConfigError(f"{name} must be [low, high] in GeV with 0 < low < high, got {[low, high]}")
        if not self.mjj_range[0] <= self.signal_window[0] < self.signal_window[1] <= self.mjj_range[1]:
            raise ConfigError(f"signal_window {list(self.signal_window)} must lie inside mjj_range "
                              f"{list(self.mjj_range)}")
        if self.grid < 5 or self.max_epochs < 1 or self.patience < 1:
            raise ConfigError(f"grid >= 5, max_epochs >= 1 and patience >= 1 needed, got {self.grid}, "
                              f"{self.max_epochs}, {self.patience}")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")
        step = (self.mjj_range[1] - self.mjj_range[0]) / (self.grid - 1)
        first = self.mjj_range[0] + step * np.ceil((self.signal_window[0] - self.mjj_range[0]) / step - 1e-9)
        if first > self.signal_window[1]:  # the marginals would have no point in the window to look at
            raise ConfigError(f"grid: {self.grid} points over mjj_range {list(self.mjj_range)} are {step:.0f} GeV "
                              f"apart, and none falls in the signal_window {list(self.signal_window)}: raise grid")


@dataclass(frozen=True)
class VAELatentConfig:
    """One Bortolato et al. run.

    samples: Standard-Model (QCD) dataset(s) and one BSM dataset, with large-R jets (`dijet_lhco`).
    signal_fractions: S/B values (signal weight over background weight) injected into the training data; an
    ensemble is also trained on background only (S/B = 0: the anti-QCD tagger limit, the sculpting check and the
    characterisation's control). train_fraction: the QCD events that make the training data; the rest, with the
    signal events never injected, are the labelled test set. kl_efficiency: background efficiency of the KL cut
    before the m_jj bump hunt and in the sculpting check. m_min/m_max: the bump-hunt m_jj range (GeV).
    """

    samples: tuple[str, ...]
    signal_fractions: tuple[float, ...] = (0.1, 0.01, 0.001)
    train_fraction: float = 0.5
    vae: VAEModel = field(default_factory=VAEModel)
    detector: DetectorSpec | None = None
    characterisation: LatentCharacterisation = field(default_factory=LatentCharacterisation)
    kl_efficiency: float = 0.1
    m_min: float = 2600.0
    m_max: float = 6000.0
    n_toys: int = 500
    supervised_ceiling: bool = True  # train the truth-label classifier of the LHCO practice (methods.ceiling)
    ceiling: CeilingConfig | None = None  # the truth-label classifier's settings (methods.ceiling)
    seed: int = 4

    def __post_init__(self) -> None:
        check_types(self)
        if not self.samples:
            raise ConfigError("samples: give the QCD dataset(s) and one signal dataset")
        if not self.signal_fractions or not all(0 < f < 1 for f in self.signal_fractions):
            raise ConfigError(f"signal_fractions must be S/B values in (0, 1), got {list(self.signal_fractions)}")
        if len(set(self.signal_fractions)) != len(self.signal_fractions):
            raise ConfigError(f"signal_fractions repeats a value: {list(self.signal_fractions)}")
        chosen = self.characterisation.signal_fraction
        if chosen not in self.signal_fractions:
            raise ConfigError(f"characterisation.signal_fraction {chosen} must be one of signal_fractions "
                              f"{list(self.signal_fractions)}")
        if not 0 < self.train_fraction < 1:
            raise ConfigError(f"train_fraction must be in (0, 1), got {self.train_fraction}")
        if not 0 < self.kl_efficiency < 1:
            raise ConfigError(f"kl_efficiency must be in (0, 1), got {self.kl_efficiency}")
        if not 0 < self.m_min < self.m_max:
            raise ConfigError(f"need 0 < m_min < m_max, got {self.m_min}, {self.m_max}")
        if self.n_toys < 10:
            raise ConfigError(f"n_toys must be at least 10, got {self.n_toys}")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed must be in [0, 2^32), got {self.seed}")
        if self.detector is not None:
            build_detector(self.detector, accepts=("flat",), seed=self.seed)  # names a bad detector or param now
