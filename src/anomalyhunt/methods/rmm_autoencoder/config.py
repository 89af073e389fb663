"""The settings of one RMM + autoencoder search, validated when built."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...config import check_types
from ...detectors import DetectorSpec, build_detector
from ...exceptions import ConfigError
from ...features import rmm_layout
from ...models import AUTOENCODER_PRESETS
from ..ceiling import CeilingConfig

__all__ = ["RMMAutoencoderConfig"]


@dataclass(frozen=True)
class RMMAutoencoderConfig:
    """One search: samples (dataset folders), what is injected into the data, model and statistics knobs.

    inject: BSM sample name -> factor on its cross section, added to the "data". rmm_files: RMMs precomputed with
    `anomalyhunt features --kind rmm`, one per sample in the same order (empty: computed in the run).
    features: what the detector sees, "rmm" (the flattened RMM) or "fourvec" (the padded four-vectors of the
    same objects). detector: any per-event detector on flat inputs (`anomalyhunt detectors`); none is the paper's
    autoencoder, set by `model_preset`, `max_epochs`, `patience` and `batch_size` (which a `detector:` ignores:
    its own `params` set it).
    regions_pb: visible cross sections of the anomaly regions, loosest first. Masses in GeV, luminosities in fb^-1.
    Toys for the global significance: `n_toys` first, doubled up to `max_toys` until `toy_precision` (relative
    precision of p_global) is reached; `toy_time_budget_s` caps their time (then the seed alone no longer fixes
    the result). Each spectrum's own p-value gets a tenth of the budget.
    """

    samples: tuple[str, ...]
    inject: dict[str, float] = field(default_factory=dict)
    rmm_preset: str = "T5N10"
    rmm_files: tuple[str, ...] = ()
    features: str = "rmm"
    detector: DetectorSpec | None = None
    model_preset: str = "chekanov2022"
    train_fraction: float = 0.3
    max_epochs: int = 300
    patience: int = 30
    batch_size: int = 100
    compare_fourvec: bool = True
    luminosity_fb: float = 140.0
    data_luminosity_fb: float | None = None
    regions_pb: tuple[float, ...] = (10.0, 1.0, 0.1)
    m_min: float = 200.0
    m_max: float = 6000.0
    n_toys: int = 1000
    max_toys: int = 512_000
    toy_precision: float = 0.3
    toy_time_budget_s: float | None = None
    min_events_to_fit: float = 50.0
    null_test: bool = True
    supervised_ceiling: bool = True  # train the truth-label classifier of the LHCO practice (methods.ceiling)
    ceiling: CeilingConfig | None = None  # the truth-label classifier's settings (methods.ceiling)
    seed: int = 1

    def __post_init__(self) -> None:
        check_types(self)
        if not self.samples:
            raise ConfigError("samples: a search needs at least one sample")
        if len(set(self.samples)) != len(self.samples):
            twice = sorted({s for s in self.samples if self.samples.count(s) > 1})
            raise ConfigError(f"samples: listed twice: {twice}")
        if self.rmm_files and len(self.rmm_files) != len(self.samples):
            raise ConfigError(f"rmm_files: give one file per sample ({len(self.samples)}), got {len(self.rmm_files)}")
        for name, factor in self.inject.items():
            if factor < 0:
                raise ConfigError(f"inject[{name!r}] must be >= 0, got {factor}")
        try:
            rmm_layout(self.rmm_preset)
        except ConfigError as exc:
            raise ConfigError(f"rmm_preset: {exc}") from None
        if self.features not in ("rmm", "fourvec"):
            raise ConfigError(f"features: expected rmm or fourvec, got {self.features!r}")
        if self.rmm_files and self.features != "rmm":
            raise ConfigError("rmm_files: precomputed RMMs only serve features: rmm")
        if self.detector is not None:
            build_detector(self.detector, accepts=("flat",), seed=self.seed)  # names a bad detector or param now
        if self.model_preset not in AUTOENCODER_PRESETS:
            raise ConfigError(f"model_preset: unknown {self.model_preset!r}; known: {', '.join(AUTOENCODER_PRESETS)}")
        if not 0 < self.train_fraction < 1:
            raise ConfigError(f"train_fraction must be in (0, 1), got {self.train_fraction}")
        if self.max_toys < self.n_toys:
            raise ConfigError(f"max_toys ({self.max_toys}) must be at least n_toys ({self.n_toys})")
        if not 0 < self.toy_precision < 1:
            raise ConfigError(f"toy_precision must be in (0, 1), got {self.toy_precision}")
        if self.toy_time_budget_s is not None and not self.toy_time_budget_s > 0:
            raise ConfigError(f"toy_time_budget_s must be positive, got {self.toy_time_budget_s}")
        for name in ("max_epochs", "patience", "batch_size", "n_toys"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("luminosity_fb", "m_min", "min_events_to_fit"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.data_luminosity_fb is not None and not self.data_luminosity_fb > 0:
            raise ConfigError(f"data_luminosity_fb must be positive, got {self.data_luminosity_fb}")
        if not self.m_min < self.m_max:
            raise ConfigError(f"m_min must be below m_max, got {self.m_min} and {self.m_max}")
        if not self.regions_pb:
            raise ConfigError("regions_pb: give at least one visible cross section")
        if any(r <= 0 for r in self.regions_pb) or list(self.regions_pb) != sorted(self.regions_pb, reverse=True) \
                or len(set(self.regions_pb)) != len(self.regions_pb):
            raise ConfigError(f"regions_pb must be positive and strictly decreasing (loosest first), got "
                              f"{list(self.regions_pb)}")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed must be in [0, 2^32), got {self.seed}")
