"""The settings of one detector comparison, validated when built."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...config import check_types
from ...detectors import DetectorSpec, build_detector
from ...exceptions import ConfigError
from ...features import rmm_layout
from ..ceiling import CeilingConfig

__all__ = ["FEATURE_KINDS", "CompareConfig"]

# what a comparison can feed its detectors: one flat row per event
FEATURE_KINDS = ("rmm", "fourvec", "dijet")


@dataclass(frozen=True)
class CompareConfig:
    """Detectors compared on the same events.

    samples: Standard-Model datasets (label 0: the background, at their weights) and BSM datasets (label 1: each
    a signal). features: one or more of rmm (flattened RMM, `rmm_preset`), fourvec (padded four-vectors of the
    same objects) and dijet (mass and N-subjettiness ratios of the two leading large-R jets; events without two
    are dropped). detectors: built-in names or `import:` / `onnx:` specs (`anomalyhunt detectors`), each
    trained `n_seeds` times. signal_fractions: signal injected into the training data, as a fraction of the
    training background's summed weight, one signal at a time (0: trained on background only). train_fraction:
    the background (and signal) events that may train, split by generated event; the rest are the test events
    every figure is measured on. efficiency: the signal efficiency of 1/eps_b and SIC. ceiling: the supervised
    classifiers (`methods.ceiling`); `supervised_ceiling: false` skips them. max_train: cap on the training
    events of one detector (a seeded subset), to bound the cost of slow detectors on large samples.
    """

    samples: tuple[str, ...]
    features: tuple[str, ...] = ("rmm",)
    rmm_preset: str = "T5N10"
    detectors: tuple[DetectorSpec, ...] = (DetectorSpec(name="autoencoder"),)
    signal_fractions: tuple[float, ...] = (0.0,)
    n_seeds: int = 3
    train_fraction: float = 0.5
    efficiency: float = 0.5
    max_train: int = 200_000
    supervised_ceiling: bool = True
    ceiling: CeilingConfig = field(default_factory=CeilingConfig)
    seed: int = 1

    def __post_init__(self) -> None:
        check_types(self)
        if not self.samples:
            raise ConfigError("samples: give the background datasets and at least one signal dataset")
        if len(set(self.samples)) != len(self.samples):
            twice = sorted({s for s in self.samples if self.samples.count(s) > 1})
            raise ConfigError(f"samples: listed twice: {twice}")
        if not self.features or not set(self.features) <= set(FEATURE_KINDS) or \
                len(set(self.features)) != len(self.features):
            raise ConfigError(f"features must be distinct kinds out of {list(FEATURE_KINDS)}, got "
                              f"{list(self.features)}")
        try:
            rmm_layout(self.rmm_preset)
        except ConfigError as exc:
            raise ConfigError(f"rmm_preset: {exc}") from None
        if not self.detectors:
            raise ConfigError("detectors: name at least one detector")
        labels = [d.label for d in self.detectors]
        if len(set(labels)) != len(labels):
            raise ConfigError(f"detectors: two detectors share a name {labels}; a built-in can be listed once "
                              "(compare other settings in separate runs)")
        for spec in self.detectors:
            build_detector(spec, accepts=("flat",), seed=self.seed)  # names a bad detector or param now
        if not self.signal_fractions or any(not 0 <= f < 1 for f in self.signal_fractions) or \
                len(set(self.signal_fractions)) != len(self.signal_fractions):
            raise ConfigError(f"signal_fractions must be distinct values in [0, 1), got {list(self.signal_fractions)}")
        if not 1 <= self.n_seeds <= 100:
            raise ConfigError(f"n_seeds must be in 1..100, got {self.n_seeds}")
        if not 0 < self.train_fraction < 1:
            raise ConfigError(f"train_fraction must be in (0, 1), got {self.train_fraction}")
        if not 0 < self.efficiency < 1:
            raise ConfigError(f"efficiency must be in (0, 1), got {self.efficiency}")
        if self.max_train < 100:
            raise ConfigError(f"max_train must be at least 100, got {self.max_train}")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed must be in [0, 2^32), got {self.seed}")
