"""The settings of one data-versus-simulation classifier study (Krzyzanska & Nachman), validated when built."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...config import check_types
from ...detectors import DetectorSpec, build_classifier
from ...exceptions import ConfigError
from ...features import FOURLEPTON_INPUTS

__all__ = ["DataVsSimConfig", "DataVsSimModel", "LOSSES", "NULLS", "STATISTICS", "STATISTIC_EVENTS"]

LOSSES = ("mlc", "bce")
STATISTICS = ("mean_loss", "mean_score", "max_score", "std_score")
NULLS = ("bootstrap", "independent")
STATISTIC_EVENTS = ("data", "all")


@dataclass(frozen=True)
class DataVsSimModel:
    """The `classifier:` section: Krzyzanska & Nachman's networks (3 x 50 ReLU, 10 averaged, a fixed 20 epochs, Adam).
    The paper does not give the batch size or learning rate; 32 and 1e-3 are Keras' defaults."""

    hidden: tuple[int, ...] = (50, 50, 50)
    n_members: int = 10
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 1e-3

    def __post_init__(self) -> None:
        check_types(self)
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise ConfigError(f"hidden widths must be positive, got {list(self.hidden)}")
        for name in ("n_members", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")


@dataclass(frozen=True)
class DataVsSimConfig:
    """One Krzyzanska & Nachman study.

    Samples: `simulation` is the background sample the classifiers compare with (class 0); every other
    Standard-Model (label 0) sample in `samples` forms the background pool from which "data" is drawn (the
    observed data, independent toys, the background of each injection); every BSM (label 1) sample is a
    signal. A "data" set is Poisson(L x sigma_vis) background events (sigma_vis from the pool's weights, times
    `background_scale`, e.g. a K-factor for Pythia's leading-order cross sections) plus,
    for injections, exactly N_inj signal events; the simulation weighs N_exp / N_sim per event (NPLM).

    folds: statistics are computed on events the classifiers did not train on: the events of each dataset are
    split into `folds` parts, one ensemble is trained per part on the others and scores it (every event scored
    once). folds = 1 trains and evaluates on the same events (as NPLM's t).
    nulls: "bootstrap" (the paper's: "data" resampled with replacement from the simulation itself) and
    "independent" (toys drawn without replacement from the separate pool). `limit_null` sets the bands of the
    limits. `calibration_datasets`: background-only "data" sets whose p-values are tested for uniformity.
    statistic_events: the events the score statistics (mean, max, spread of the scores) run over: "data" (the
    "data" events only, ours) or "all" (data and simulation together, another reading of the paper, which does
    not say). The paper-like setting: statistic_events all, folds 1 (scored on the training events),
    limit_null bootstrap.
    """

    samples: tuple[str, ...]
    simulation: str = ""
    inputs: str = "masses"
    luminosity_fb: float = 150.0
    background_scale: float = 1.0
    classifier: DataVsSimModel = field(default_factory=DataVsSimModel)
    detector: DetectorSpec | None = None
    losses: tuple[str, ...] = LOSSES
    folds: int = 2
    statistic_events: str = "data"
    n_null: int = 100
    nulls: tuple[str, ...] = NULLS
    limit_null: str = "independent"
    band_sigma: float = 2.0
    injections: tuple[int, ...] = (10, 20, 40, 60, 80, 120, 160, 240)
    n_injections: int = 10
    calibration_datasets: int = 0
    group_size: int = 48
    device: str = "auto"
    seed: int = 3

    def __post_init__(self) -> None:
        check_types(self)
        if not self.samples:
            raise ConfigError("samples: need the simulation, a background pool and at least one signal")
        if not self.simulation:
            object.__setattr__(self, "simulation", self.samples[0])
        if self.simulation not in self.samples:
            raise ConfigError(f"simulation: {self.simulation!r} is not one of the samples {list(self.samples)}")
        if self.inputs not in FOURLEPTON_INPUTS:
            raise ConfigError(f"inputs must be one of {', '.join(FOURLEPTON_INPUTS)}, got {self.inputs!r}")
        if not self.luminosity_fb > 0 or not self.background_scale > 0:
            raise ConfigError(f"luminosity_fb and background_scale must be positive, got {self.luminosity_fb} "
                              f"and {self.background_scale}")
        for name, known in (("losses", LOSSES), ("nulls", NULLS)):
            values = getattr(self, name)
            if not values or len(set(values)) != len(values) or not set(values) <= set(known):
                raise ConfigError(f"{name} must be distinct values out of {list(known)}, got {list(values)}")
        if self.limit_null not in self.nulls:
            raise ConfigError(f"limit_null {self.limit_null!r} must be one of the nulls {list(self.nulls)}")
        if self.statistic_events not in STATISTIC_EVENTS:
            raise ConfigError(f"statistic_events must be one of {list(STATISTIC_EVENTS)}, got "
                              f"{self.statistic_events!r}")
        if not 1 <= self.folds <= 10:
            raise ConfigError(f"folds must be in 1..10, got {self.folds}")
        if self.n_null < 10:
            raise ConfigError(f"n_null must be at least 10 (it sets the background-only bands), got {self.n_null}")
        if not self.band_sigma > 0:
            raise ConfigError(f"band_sigma must be positive, got {self.band_sigma}")
        if not self.injections or any(n < 1 for n in self.injections) or \
                list(self.injections) != sorted(set(self.injections)):
            raise ConfigError(f"injections must be increasing positive event counts, got {list(self.injections)}")
        if self.n_injections < 3:
            raise ConfigError(f"n_injections must be at least 3 (median and 16/84% curves), got "
                              f"{self.n_injections}")
        if self.calibration_datasets < 0 or self.group_size < 1:
            raise ConfigError("calibration_datasets must be >= 0 and group_size positive")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed must be in [0, 2^32), got {self.seed}")
        if self.detector is not None:
            if self.detector.name == "classifier_ensemble" and not self.detector.params:
                object.__setattr__(self, "detector", None)  # the default, set by the classifier: section
            else:
                build_classifier(self.detector, seed=self.seed)  # names a bad class or param now
                if tuple(self.losses) != ("bce",):
                    raise ConfigError("losses: a classifier given by detector: is trained as it trains (its "
                                      "probabilities are a BCE-like output); set losses: [bce]")
