"""Named reconstruction and detector presets (SPEC section 2), recorded in every event file's metadata."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..exceptions import ConfigError

__all__ = ["DetectorPreset", "PRESETS", "get_preset"]


@dataclass(frozen=True)
class DetectorPreset:
    """Object definitions, a parametric (Delphes-like) detector and an event selection.

    Energies and momenta in GeV. Resolutions: jets sigma(E)/E = jet_stochastic/sqrt(E) (+) jet_constant;
    e/gamma likewise with em_*; muons sigma(pT)/pT = mu_constant (+) mu_linear * pT.
    """

    name: str
    jet_r: float = 0.4
    jet_pt_min: float = 30.0
    jet_min_uses_et: bool = False
    jet_eta_max: float = 2.5
    lepton_pt_min: float = 10.0
    lepton_eta_max: float = 2.5
    photon_pt_min: float = 10.0
    photon_eta_max: float = 2.5
    iso_cone: float = 0.2
    iso_fraction: float = 0.9
    overlap_dr: float = 0.0
    btag_eff: float = 0.7
    btag_mistag: float = 0.01
    fake_mu: float = 0.0
    fake_e: float = 0.0
    jet_stochastic: float = 0.5
    jet_constant: float = 0.03
    em_stochastic: float = 0.1
    em_constant: float = 0.007
    mu_constant: float = 0.01
    mu_linear: float = 1e-4
    # large-R jets (`fatjets`, with N-subjettiness): made when fatjet_r > 0; up to fatjet_constituents
    # constituents (pt, eta, phi) stored per jet when > 0
    fatjet_r: float = 0.0
    fatjet_pt_min: float = 100.0
    fatjet_eta_max: float = 2.5
    fatjet_constituents: int = 0
    # event selection
    min_leptons: int = 0
    selection_lepton_pt: float = 0.0
    min_jets: int = 0
    selection_jet_pt: float = 0.0
    leading_jet_pt: float = 0.0
    leading_fatjet_pt: float = 0.0
    four_lepton: bool = False

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float | int) and not isinstance(value, bool) and value < 0:
                raise ConfigError(f"detector preset {self.name!r}: {f.name} must be >= 0, got {value}")
        for name in ("btag_eff", "btag_mistag", "fake_mu", "fake_e", "iso_fraction"):
            if getattr(self, name) > 1:
                raise ConfigError(f"detector preset {self.name!r}: {name} is a probability, got {getattr(self, name)}")
        if not 0 < self.jet_r <= 2:
            raise ConfigError(f"detector preset {self.name!r}: jet_r must be in (0, 2], got {self.jet_r}")
        if self.fatjet_r > 2:
            raise ConfigError(f"detector preset {self.name!r}: fatjet_r must be in [0, 2], got {self.fatjet_r}")
        if (self.leading_fatjet_pt or self.fatjet_constituents) and not self.fatjet_r:
            raise ConfigError(f"detector preset {self.name!r}: leading_fatjet_pt and fatjet_constituents need "
                              "large-R jets (fatjet_r > 0)")
        if not isinstance(self.fatjet_constituents, int) or isinstance(self.fatjet_constituents, bool):
            raise ConfigError(f"detector preset {self.name!r}: fatjet_constituents must be an integer, "
                              f"got {self.fatjet_constituents!r}")

    @property
    def selection(self) -> str:
        """One line describing the event selection, for metadata and reports."""
        parts = []
        if self.four_lepton:
            parts.append("exactly e+e-mu+mu-")
        if self.min_leptons:
            parts.append(f">= {self.min_leptons} e/mu pT > {self.selection_lepton_pt:g}")
        if self.min_jets:
            parts.append(f">= {self.min_jets} jets pT > {self.selection_jet_pt:g}")
        if self.leading_jet_pt:
            parts.append(f"leading jet pT > {self.leading_jet_pt:g}")
        if self.leading_fatjet_pt:
            parts.append(f"leading R = {self.fatjet_r:g} jet pT > {self.leading_fatjet_pt:g}, "
                         f"|eta| < {self.fatjet_eta_max:g}")
        return "; ".join(parts) or "none"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


PRESETS: dict[str, DetectorPreset] = {
    p.name: p
    for p in (
        DetectorPreset("chekanov2022", jet_pt_min=40.0, jet_min_uses_et=True, jet_eta_max=2.5,
                       fake_mu=1e-3, fake_e=1e-2, min_leptons=1, selection_lepton_pt=30.0,
                       min_jets=2, selection_jet_pt=30.0),
        DetectorPreset("atlas2024", jet_pt_min=30.0, jet_eta_max=2.4, lepton_pt_min=30.0, lepton_eta_max=2.4,
                       photon_pt_min=30.0, photon_eta_max=2.4, overlap_dr=0.4, btag_eff=0.77,
                       btag_mistag=0.01, min_leptons=1, selection_lepton_pt=60.0),
        # ADC2021-like: >= 1 e or mu above 23 GeV, jets to |eta| < 4. Jets fake electrons with probability 2e-5
        # and muons with 2e-6 (the e:mu ratio of chekanov2022). The size is calibrated, not measured: with the
        # qcd_fake_lepton process (pTHat > 20 GeV) it makes QCD ~34% of the selected SM (W, Z, ttbar, QCD), the
        # QCD share of the ADC2021 dataset (33.8%, Govorkova et al., arXiv:2107.02157).
        DetectorPreset("adc2021", jet_pt_min=15.0, jet_eta_max=4.0, lepton_pt_min=3.0, photon_pt_min=10.0,
                       fake_e=2e-5, fake_mu=2e-6, min_leptons=1, selection_lepton_pt=23.0),
        # the LHC Olympics R&D setting: anti-kt R = 1.0 jets with substructure, one with pT > 1.2 TeV
        DetectorPreset("dijet_lhco", jet_pt_min=30.0, jet_eta_max=2.5, fatjet_r=1.0, fatjet_pt_min=100.0,
                       fatjet_eta_max=2.5, leading_fatjet_pt=1200.0),
        # ATLAS's Y -> X H search: R = 1.0 jets (|eta| < 2.0) with up to 30 constituents for the VRNN, D2 and a
        # truth b-hadron count; the leading one above 500 GeV
        DetectorPreset("yxh_atlas", jet_pt_min=30.0, jet_eta_max=2.5, btag_eff=0.77, fatjet_r=1.0,
                       fatjet_pt_min=200.0, fatjet_eta_max=2.0, fatjet_constituents=30, leading_fatjet_pt=500.0),
        DetectorPreset("fourlepton", jet_pt_min=30.0, lepton_pt_min=7.0, lepton_eta_max=2.5, four_lepton=True),
    )
}


def get_preset(name: str | DetectorPreset) -> DetectorPreset:
    """The preset called `name` (a preset passes through)."""
    if isinstance(name, DetectorPreset):
        return name
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown detector preset {name!r}; known: {', '.join(PRESETS)}") from None
