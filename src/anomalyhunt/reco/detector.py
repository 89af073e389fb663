"""Named reconstruction and detector presets (SPEC section 2), recorded in every event file's metadata."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..exceptions import ConfigError

__all__ = ["DetectorPreset", "PRESETS", "LEGACY_DEFAULTS", "LEPTON_RESOLUTIONS", "NSUBJETTINESS_AXES", "get_preset",
           "delphes_cms_electron_sigma", "delphes_cms_muon_sigma"]

LEPTON_RESOLUTIONS = ("parametric", "delphes_cms")
# fastjet contrib's axes for tau_N: exclusive kt (not minimised: tau_2 / tau_1 > 1 for some jets) and the
# minimised one-pass kt axes (tau_N <= tau_(N-1) up to the minimisation's precision)
NSUBJETTINESS_AXES = ("OnePass_KT_Axes", "KT_Axes", "WTA_KT_Axes", "OnePass_WTA_KT_Axes")
# Fields added to the presets after datasets were cached: the value a manifest without the field was made with.
LEGACY_DEFAULTS = {"nsubjettiness_axes": "KT_Axes", "mpi": True, "lepton_resolution": "parametric"}


@dataclass(frozen=True)
class DetectorPreset:
    """Object definitions, a parametric (Delphes-like) detector and an event selection.

    Energies and momenta in GeV. Resolutions: jets sigma(E)/E = jet_stochastic/sqrt(E) (+) jet_constant;
    e/gamma likewise with em_*; muons sigma(pT)/pT = mu_constant (+) mu_linear * pT. With
    lepton_resolution = "delphes_cms", muons and electrons follow Delphes' default CMS card by |eta| instead
    (`delphes_cms_muon_sigma`, `delphes_cms_electron_sigma`); photons keep em_*.
    mpi: Pythia's multiparton interactions (PartonLevel:MPI), on unless a preset reproduces a sample made
    without them. nsubjettiness_axes: the fastjet contrib axes of the large-R jets' tau_N.
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
    lepton_resolution: str = "parametric"
    mpi: bool = True
    nsubjettiness_axes: str = "OnePass_KT_Axes"
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
        if self.lepton_resolution not in LEPTON_RESOLUTIONS:
            raise ConfigError(f"detector preset {self.name!r}: lepton_resolution must be one of "
                              f"{', '.join(LEPTON_RESOLUTIONS)}, got {self.lepton_resolution!r}")
        if self.nsubjettiness_axes not in NSUBJETTINESS_AXES:
            raise ConfigError(f"detector preset {self.name!r}: nsubjettiness_axes must be one of "
                              f"{', '.join(NSUBJETTINESS_AXES)}, got {self.nsubjettiness_axes!r}")
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
        # the LHC Olympics R&D setting: anti-kt R = 1.0 jets with substructure, one with pT > 1.2 TeV; no
        # multiparton interactions, as the R&D sample was made (Pythia 8 + Delphes without pile-up or MPI, Kasieczka
        # et al., "The LHC Olympics 2020", arXiv:2101.08320): with MPI the W' -> X Y(100) signal's Y jet mass peaks
        # near 136 GeV instead of 100
        DetectorPreset("dijet_lhco", jet_pt_min=30.0, jet_eta_max=2.5, fatjet_r=1.0, fatjet_pt_min=100.0,
                       fatjet_eta_max=2.5, leading_fatjet_pt=1200.0, mpi=False),
        # ATLAS's Y -> X H search: R = 1.0 jets (|eta| < 2.0) with up to 30 constituents for the VRNN, D2 and a
        # truth b-hadron count; the leading one above 500 GeV
        DetectorPreset("yxh_atlas", jet_pt_min=30.0, jet_eta_max=2.5, btag_eff=0.77, fatjet_r=1.0,
                       fatjet_pt_min=200.0, fatjet_eta_max=2.0, fatjet_constituents=30, leading_fatjet_pt=500.0),
        # Krzyzanska & Nachman's detector: Delphes 3.4.2 with its default CMS card, whose lepton efficiencies
        # start at pT = 10 GeV; its e and mu momentum resolutions by |eta|
        DetectorPreset("fourlepton", jet_pt_min=30.0, lepton_pt_min=10.0, lepton_eta_max=2.5, four_lepton=True,
                       lepton_resolution="delphes_cms"),
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


# Delphes' default CMS card (delphes_card_CMS.tcl): sigma(pT)/pT = a (+) b pT by |eta| band (<= 0.5, <= 1.5, <= 2.5)
_CMS_MUON = ((0.5, 0.01, 1.0e-4), (1.5, 0.015, 1.5e-4), (2.5, 0.025, 3.5e-4))
_CMS_ELECTRON_TRACK = ((0.5, 0.03, 1.3e-3), (1.5, 0.05, 1.7e-3), (2.5, 0.15, 3.1e-3))


def _banded(pt, eta, bands):
    aeta = abs(eta)
    out = 0 * pt
    low = -1.0
    for edge, a, b in bands:
        out = out + ((aeta > low) & (aeta <= edge)) * (a**2 + (b * pt) ** 2) ** 0.5
        low = edge
    # beyond the last band: the last band's resolution (the presets' leptons stop at |eta| = 2.5)
    edge, a, b = bands[-1]
    return out + (aeta > edge) * (a**2 + (b * pt) ** 2) ** 0.5


def delphes_cms_muon_sigma(pt, eta):
    """Relative muon pT resolution of Delphes' CMS card, sigma(pT)/pT, by |eta| band (numpy or awkward arrays)."""
    return _banded(pt, eta, _CMS_MUON)


def delphes_cms_electron_sigma(pt, eta, e):
    """Relative electron energy resolution: the CMS card's track resolution (by |eta|) combined with its ECAL's,
    sigma(E) = f(eta) sqrt((0.008 E)^2 + 0.11^2 E + 0.40^2), f = 1 + 0.64 eta^2 (|eta| <= 1.5) or
    2.16 + 5.6 (|eta| - 2)^2 (1.5 < |eta| <= 2.5), in inverse quadrature (the two measurements weighted by their
    precision, as Delphes' energy flow merges an electron's track with its ECAL deposit)."""
    track = _banded(pt, eta, _CMS_ELECTRON_TRACK)
    aeta = abs(eta)
    shape = (aeta <= 1.5) * (1 + 0.64 * eta**2) + (aeta > 1.5) * (2.16 + 5.6 * (aeta - 2) ** 2)
    ecal = shape * ((0.008 * e) ** 2 + 0.11**2 * e + 0.40**2) ** 0.5 / e
    return 1 / (1 / track**2 + 1 / ecal**2) ** 0.5
