"""The settings of one decorrelated double-autoencoder run (Mikuni, Nachman & Shih), validated when built."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...config import check_types
from ...exceptions import ConfigError
from ...features import rmm_layout
from ..ceiling import CeilingConfig

__all__ = ["DoubleAEConfig", "DoubleAEModel"]


@dataclass(frozen=True)
class DoubleAEModel:
    """The `double_ae:` section: the networks and their training. hidden: the encoder widths of each autoencoder
    (the decoder mirrors them), the paper's 256-128-64-32-5 by default; a smaller pair (e.g. for trigger
    firmware) is ours. The single comparison autoencoder keeps the paper's architecture."""

    hidden: tuple[int, ...] = (256, 128, 64, 32, 5)
    lam: float = 100.0
    decorrelate: str = "loss"
    batch_size: int = 10000
    max_epochs: int = 200
    patience: int = 10
    learning_rate: float = 1e-3
    single_ae: bool = True
    single_ae_batch_size: int = 1000

    def __post_init__(self) -> None:
        check_types(self)
        if not self.hidden or min(self.hidden) < 1:
            raise ConfigError(f"hidden must be positive layer widths, got {list(self.hidden)}")
        if self.lam < 0:
            raise ConfigError(f"lam must be >= 0, got {self.lam}")
        if self.decorrelate not in ("loss", "log_loss"):
            raise ConfigError(f"decorrelate must be 'loss' or 'log_loss', got {self.decorrelate!r}")
        if self.batch_size < 2:
            raise ConfigError(f"batch_size must be at least 2 (dCor is a batch statistic), got "
                              f"{self.batch_size}")
        for name in ("max_epochs", "patience", "single_ae_batch_size"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")


@dataclass(frozen=True)
class DoubleAEConfig:
    """One double-autoencoder run: samples, model settings, and the working points of the ABCD studies.

    Efficiencies are background efficiencies of the diagonal (>, >) region; closure_splits are per-AE efficiency
    ratios at the same total efficiency; signal_fraction is injected signal as a fraction of the data half of the
    test background (the other half measures the ABCD non-closure); null_splits: random halvings of the
    background-only test sample over which the ABCD significance's calibration (mean 0, width 1) is checked.
    `seed` fixes the events (unweighting, train/test split, injections); `training_seed` (default: `seed`) the
    networks' initialisation, validation split and batch order, so that changing it alone measures the spread of
    every trained figure on the same events (`benchmarks/double_ae_seeds.py`).
    """

    samples: tuple[str, ...]
    features: str = "adc2021"
    rmm_preset: str = "T5N10"
    double_ae: DoubleAEModel = field(default_factory=DoubleAEModel)
    train_fraction: float = 0.5
    signal_fraction: float = 0.001
    efficiencies: tuple[float, ...] = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
    closure_splits: tuple[float, ...] = (0.5, 1.0, 2.0)
    trigger_efficiency: float = 0.01
    null_splits: int = 100
    onnx: bool = True
    supervised_ceiling: bool = True  # train the truth-label classifier of the LHCO practice (methods.ceiling)
    ceiling: CeilingConfig | None = None  # the truth-label classifier's settings (methods.ceiling)
    seed: int = 1
    training_seed: int | None = None  # the networks' own seed (None: seed); alone it retrains on the same events

    def __post_init__(self) -> None:
        check_types(self)
        if not self.samples:
            raise ConfigError("samples: a run needs at least one sample")
        if self.features not in ("adc2021", "rmm"):
            raise ConfigError(f"features must be 'adc2021' or 'rmm', got {self.features!r}")
        try:
            rmm_layout(self.rmm_preset)
        except ConfigError as exc:
            raise ConfigError(f"rmm_preset: {exc}") from None
        if not 0 < self.train_fraction < 1:
            raise ConfigError(f"train_fraction must be in (0, 1), got {self.train_fraction}")
        if not 0 <= self.signal_fraction < 1:
            raise ConfigError(f"signal_fraction must be in [0, 1), got {self.signal_fraction}")
        if self.null_splits < 2:
            raise ConfigError(f"null_splits must be at least 2, got {self.null_splits}")
        if not self.efficiencies:
            raise ConfigError("efficiencies: give at least one working point")
        if not all(0 < e < 1 for e in (*self.efficiencies, self.trigger_efficiency)):
            raise ConfigError(f"efficiencies and trigger_efficiency must lie in (0, 1), got "
                              f"{list(self.efficiencies)} and {self.trigger_efficiency}")
        if not self.closure_splits or not all(r > 0 for r in self.closure_splits):
            raise ConfigError(f"closure_splits must be positive ratios, got {list(self.closure_splits)}")
        for name in ("seed", "training_seed"):
            value = getattr(self, name)
            if value is not None and not 0 <= value < 2**32:
                raise ConfigError(f"{name} must be in [0, 2^32), got {value}")
