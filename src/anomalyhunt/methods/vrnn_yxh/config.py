"""The settings of one ATLAS Y -> X H run (VRNN anomalous-jet tagging), validated when built."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...config import check_types
from ...detectors import DetectorSpec, build_detector
from ...exceptions import ConfigError
from ...models import VRNN
from ..ceiling import CeilingConfig

__all__ = ["DoubleB", "Reweighting", "VRNNModel", "VRNNYXHConfig"]


@dataclass(frozen=True)
class VRNNModel:
    """The `vrnn:` section (Kahn et al.'s values by default): GRU hidden 16, latent 2, KL weight 0.1, Adam,
    batch 256, up to `max_length` constituents, the KL weighted per position by the mean pT fraction there
    (`position_weights: kahn`); training stops at the lowest validation loss. Ours, off or away from the paper
    by default: `standardise` (scale the step features) and `position_weights: normalised` (weights of mean 1,
    which multiplies the KL term by ~max_length and collapsed the posterior; see models.VRNN)."""

    hidden: int = 16
    latent: int = 2
    features: int = 16
    kl_weight: float = 0.1
    batch_size: int = 256
    learning_rate: float = 1e-3
    max_epochs: int = 50
    patience: int = 5
    validation_fraction: float = 0.2
    max_length: int = 20
    standardise: bool = False
    position_weights: str = "kahn"

    def __post_init__(self) -> None:

        check_types(self)
        if self.max_length < 2:
            raise ConfigError(f"max_length must be at least 2, got {self.max_length}")
        if not 0 < self.validation_fraction < 1:
            raise ConfigError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}")
        VRNN(hidden=self.hidden, latent=self.latent, features=self.features, kl_weight=self.kl_weight,
             batch_size=self.batch_size, learning_rate=self.learning_rate, max_epochs=self.max_epochs,
             patience=self.patience, validation_fraction=self.validation_fraction,
             position_weights=self.position_weights)


@dataclass(frozen=True)
class DoubleB:
    """The `double_b:` section: a parametric double-b tag of the H candidate. Its two leading subjets are taken
    to carry min(n_b, 2) b hadrons (n_b: weakly decaying b hadrons within R of the jet axis, simulation truth);
    each b subjet is tagged with `efficiency`, each other one with `mistag`. Category 1: both tagged; 0: none."""

    efficiency: float = 0.77
    mistag: float = 0.01

    def __post_init__(self) -> None:
        check_types(self)
        if not 0 < self.efficiency <= 1 or not 0 <= self.mistag < 1:
            raise ConfigError(f"double_b needs 0 < efficiency <= 1 and 0 <= mistag < 1, got {self.efficiency}, "
                              f"{self.mistag}")


@dataclass(frozen=True)
class Reweighting:
    """The `reweighting:` section: the classifier (3 x 20 by default) that learns the 0-tag -> 2-tag weights in the
    high H-mass sideband (HSB0 -> HSB1) from the H candidate's pT, eta, tau21 and tau32."""

    hidden: tuple[int, ...] = (20, 20, 20)
    batch_size: int = 256
    learning_rate: float = 1e-3
    max_epochs: int = 200
    patience: int = 10

    def __post_init__(self) -> None:
        check_types(self)
        if not self.hidden or min(self.hidden) < 1 or self.batch_size < 1 or self.max_epochs < 1 \
                or self.patience < 1 or not self.learning_rate > 0:
            raise ConfigError(f"reweighting needs positive widths, batch_size, max_epochs, patience and "
                              f"learning_rate, got {self}")


@dataclass(frozen=True)
class VRNNYXHConfig:
    """One Y -> X H run (the ATLAS anomalous-jet search, PRD 108 (2023) 052009).

    samples: Standard-Model datasets (QCD, ttbar: the "data") and one or more BSM datasets (the signals the
    tagger never sees in training), all with large-R jets and their constituents (`yxh_atlas`).
    train_fraction: the SM events whose X jets train the VRNN; the rest are the test jets of the ROC curves.
    Every SM event is then searched (the published tagger was trained on the data it searched).
    detector: any per-jet detector on the flattened constituent sequences (`anomalyhunt detectors`: vrnn, or a
    flat-input one such as an autoencoder or an imported IsolationForest) in place of the `vrnn:` section's VRNN.
    direction: "high" (the score grows with the KL: the published behaviour), "low" (it falls with it: ours, never
    the paper's) or "auto" (the direction in which the first signal's jet AUC is above 1/2: model-dependent,
    reported as such). calibrate: our option, in neither the ATLAS talk nor Kahn et al.'s code: the score
    1 - exp(-KL / c) with c set so that the training jets' mean score is 1/2 (which fixes the working point's
    background efficiency near 0.46 by construction); off, the score is Kahn's 1 - exp(-KL).
    x_mass_bins: X-candidate mass bins (GeV) in which the jet AUCs are also measured, since the KL depends on the
    jet mass (the QCD score-vs-mass rank correlation is recorded beside them).
    Selection: two large-R jets, the leading one above `leading_pt`, both heavier than `min_jet_mass`; the H
    candidate is the one of the two whose mass is closer to 125 GeV, the X candidate the other.
    Regions in the H candidate's mass: `low_sideband` (validation), `higgs_window` (CR0 -> SR), `high_sideband`
    (where the weights are learnt). nonclosure_systematic: the validation region's non-closure |1 - observed /
    predicted| is added to every signal-region prediction as a relative uncertainty. inject: a signal dataset's
    process name whose `inject_events` events join the searched data (empty: background only).
    transfer_factor: "flat" (the published estimate: one normalisation, the high sideband's double-b over
    reweighted no-tag yield) or "mass_dependent" (ours: that ratio fitted as exp(a + b (m_H - m_window)) in
    `transfer_bins` bins of each sideband and carried into the window with its fit uncertainty; the low sideband's
    closure is then predicted from the high sideband's fit alone). Both closures are recorded either way.
    """

    samples: tuple[str, ...]
    train_fraction: float = 0.5
    vrnn: VRNNModel = field(default_factory=VRNNModel)
    detector: DetectorSpec | None = None
    double_b: DoubleB = field(default_factory=DoubleB)
    reweighting: Reweighting = field(default_factory=Reweighting)
    direction: str = "high"
    calibrate: bool = False
    x_mass_bins: tuple[float, ...] = (50.0, 100.0, 150.0, 250.0, 400.0, 600.0)
    score_threshold: float = 0.5
    d2_cut: float = 1.2
    leading_pt: float = 500.0
    min_jet_mass: float = 50.0
    low_sideband: tuple[float, float] = (50.0, 75.0)
    higgs_window: tuple[float, float] = (75.0, 145.0)
    high_sideband: tuple[float, float] = (145.0, 200.0)
    m_y_edges: tuple[float, ...] = (1000.0, 1250.0, 1500.0, 1750.0, 2000.0, 2400.0, 3000.0, 4000.0)
    m_x_edges: tuple[float, ...] = (50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 600.0)
    nonclosure_systematic: bool = True
    transfer_factor: str = "flat"
    transfer_bins: int = 3
    inject: str = ""
    inject_events: int = 0
    n_toys: int = 2000
    supervised_ceiling: bool = True  # train the truth-label classifier of the LHCO practice (methods.ceiling)
    ceiling: CeilingConfig | None = None  # the truth-label classifier's settings (methods.ceiling)
    seed: int = 1

    def __post_init__(self) -> None:
        check_types(self)
        if self.detector is not None:  # names a bad detector or param now
            build_detector(self.detector, accepts=("jet_sequence", "flat"), seed=self.seed)
        if not self.samples:
            raise ConfigError("samples: give the Standard-Model datasets and at least one signal dataset")
        if not 0 < self.train_fraction < 1:
            raise ConfigError(f"train_fraction must be in (0, 1), got {self.train_fraction}")
        if self.direction not in ("high", "low", "auto"):
            raise ConfigError(f"direction must be 'high', 'low' or 'auto', got {self.direction!r}")
        if not 0 < self.score_threshold < 1:
            raise ConfigError(f"score_threshold must be in (0, 1), got {self.score_threshold}")
        if not self.d2_cut > 0 or not self.leading_pt >= 0 or not self.min_jet_mass >= 0:
            raise ConfigError("d2_cut must be positive, leading_pt and min_jet_mass >= 0")
        regions = (self.low_sideband, self.higgs_window, self.high_sideband)
        for name, (low, high) in zip(("low_sideband", "higgs_window", "high_sideband"), regions, strict=True):
            if not 0 <= low < high:
                raise ConfigError(f"{name} must be [low, high] in GeV with low < high, got {[low, high]}")
        if not (self.low_sideband[1] <= self.higgs_window[0] and self.higgs_window[1] <= self.high_sideband[0]):
            raise ConfigError(f"the H-mass regions must not overlap and must be ordered: low_sideband "
                              f"{list(self.low_sideband)}, higgs_window {list(self.higgs_window)}, high_sideband "
                              f"{list(self.high_sideband)}")
        if self.low_sideband[0] < self.min_jet_mass:
            raise ConfigError(f"low_sideband starts at {self.low_sideband[0]:g} GeV, below min_jet_mass "
                              f"{self.min_jet_mass:g}: those events are not selected")
        for name in ("m_y_edges", "m_x_edges"):
            edges = getattr(self, name)
            if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                raise ConfigError(f"{name} must be at least two increasing bin edges (GeV), got {list(edges)}")
        if self.transfer_factor not in ("flat", "mass_dependent"):
            raise ConfigError(f"transfer_factor must be 'flat' or 'mass_dependent', got {self.transfer_factor!r}")
        if not 2 <= self.transfer_bins <= 20:
            raise ConfigError(f"transfer_bins (mass bins per sideband) must be in 2..20, got {self.transfer_bins}")
        if bool(self.inject) != (self.inject_events > 0):
            raise ConfigError("inject and inject_events go together: a signal process name and a positive "
                              f"number of events (got {self.inject!r}, {self.inject_events})")
        if self.n_toys < 10:
            raise ConfigError(f"n_toys must be at least 10, got {self.n_toys}")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed must be in [0, 2^32), got {self.seed}")
