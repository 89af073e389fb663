"""ATLAS PHYSLITE (the ATLAS open data for research format): tree `CollectionTree`, `...AuxDyn.<field>`, MeV.

Object selection (preset `atlas_physlite`, fields of `PhysliteSelection`), using the derivation decorations:
- jets (`AnalysisJets`, calibrated EMPFlow): pT > 30 GeV, |eta| < 2.5; `NNJvtPass` required for pT < 60 GeV and
  |eta| < 2.4; b-tagged when the DL1dv01 discriminant ln(p_b / (f_c p_c + (1 - f_c) p_u)), f_c = 0.018, of the
  linked `BTagging_AntiKt4EMPFlow` object exceeds 2.456 (the 77% working point; check it against the
  calibration file of your release); jets within dR < 0.4 of a selected lepton or photon are removed;
- electrons: pT > 10 GeV, |eta| < 2.47, `DFCommonElectronsLHMedium`, track isolation
  ptvarcone30_Nonprompt_All_MaxWeightTTVALooseCone_pt1000 / pT < 0.15;
- muons: pT > 10 GeV, |eta| < 2.5, `quality` <= 1 (medium or tight), track isolation
  ptvarcone30_Nonprompt_All_MaxWeightTTVA_pt1000 / pT < 0.15; mass set to the muon mass (no `m` is stored);
- photons: pT > 20 GeV, |eta| < 2.37, `DFCommonPhotonsIsEMTight` and `DFCommonPhotonsCleaning`;
- events failing `EventInfoAuxDyn.DFCommonJets_eventClean_LooseBad` are dropped;
- MET: the `Final` term of `MET_Core_AnalysisMET` when the file has it. PHYSLITE files usually store only the
  core (soft) terms, so otherwise MET is rebuilt as minus the vector sum of the selected objects plus the
  `PVSoftTrkCore` term (track soft term), and the dataset metadata says so.
A decoration the file lacks is not applied, and the metadata names it. Weights: `mcEventWeights[0]`; a file
without it is data. Large-R jets (`AnalysisLargeRJets`) are not read yet: the event contract has no
large-R collection so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from .base import FileSummary, Reader, Selection, open_root_tree
from .objects import assemble, check_units, collection, near_any, require_branches

__all__ = ["PhysliteSelection", "PHYSLITE_SELECTIONS", "PHYSLITE"]

_MEV = 1e-3
_MUON_MASS = 105.658  # MeV
_MUON_QUALITY = {"tight": 0, "medium": 1, "loose": 2, "veryloose": 3, "none": 99}
_ELECTRON_ISO = "ptvarcone30_Nonprompt_All_MaxWeightTTVALooseCone_pt1000"
_MUON_ISO = "ptvarcone30_Nonprompt_All_MaxWeightTTVA_pt1000"
_BTAG = "BTagging_AntiKt4EMPFlowAuxDyn"
_MET = "MET_Core_AnalysisMETAuxDyn"


@dataclass(frozen=True)
class PhysliteSelection(Selection):
    """Object definitions for PHYSLITE (thresholds in GeV); see the module docstring."""

    jet_pt_min: float = 30.0
    jet_eta_max: float = 2.5
    jvt: bool = True
    btagger: str = "DL1dv01"
    btag_cut: float = 2.456
    btag_fc: float = 0.018
    electron_pt_min: float = 10.0
    electron_eta_max: float = 2.47
    electron_id: str = "LHMedium"
    electron_iso_max: float = 0.15
    muon_pt_min: float = 10.0
    muon_eta_max: float = 2.5
    muon_quality: str = "medium"
    muon_iso_max: float = 0.15
    photon_pt_min: float = 20.0
    photon_eta_max: float = 2.37
    photon_id: str = "Tight"
    photon_cleaning: bool = True
    overlap_dr: float = 0.4
    event_cleaning: bool = True

    CHOICES = {"btagger": ("DL1dv01", "GN2v00"), "electron_id": ("none", "LHLoose", "LHLooseBL", "LHMedium", "LHTight"),
               "muon_quality": tuple(_MUON_QUALITY), "photon_id": ("none", "Loose", "Tight")}


PHYSLITE_SELECTIONS = {s.name: s for s in (PhysliteSelection("atlas_physlite"),)}


def _kin(prefix: str, mass: bool = True) -> list[str]:
    return [f"{prefix}.{k}" for k in ("pt", "eta", "phi", *(("m",) if mass else ()))]


def _required() -> list[str]:
    return (_kin("AnalysisJetsAuxDyn") + _kin("AnalysisElectronsAuxDyn") + ["AnalysisElectronsAuxDyn.charge"]
            + _kin("AnalysisMuonsAuxDyn", mass=False) + ["AnalysisMuonsAuxDyn.charge"] + _kin("AnalysisPhotonsAuxDyn")
            + [f"{_MET}.name", f"{_MET}.mpx", f"{_MET}.mpy"])


def _decorations(s: PhysliteSelection) -> dict[str, str]:
    """{what it is for: branch} of every decoration the selection would use."""
    wanted = {}
    if s.jvt:
        wanted["jet JVT"] = "AnalysisJetsAuxDyn.NNJvtPass"
    wanted["b-tagging link"] = "AnalysisJetsAuxDyn.btaggingLink"
    for flavour in ("pb", "pc", "pu"):
        wanted[f"b-tagging {flavour}"] = f"{_BTAG}.{s.btagger}_{flavour}"
    if s.electron_id != "none":
        wanted["electron ID"] = f"AnalysisElectronsAuxDyn.DFCommonElectrons{s.electron_id}"
    wanted["electron isolation"] = f"AnalysisElectronsAuxDyn.{_ELECTRON_ISO}"
    if s.muon_quality != "none":
        wanted["muon quality"] = "AnalysisMuonsAuxDyn.quality"
    wanted["muon isolation"] = f"AnalysisMuonsAuxDyn.{_MUON_ISO}"
    if s.photon_id != "none":
        wanted["photon ID"] = f"AnalysisPhotonsAuxDyn.DFCommonPhotonsIsEM{s.photon_id}"
    if s.photon_cleaning:
        wanted["photon cleaning"] = "AnalysisPhotonsAuxDyn.DFCommonPhotonsCleaning"
    if s.event_cleaning:
        wanted["event cleaning"] = "EventInfoAuxDyn.DFCommonJets_eventClean_LooseBad"
    wanted["MC event weight"] = "EventInfoAuxDyn.mcEventWeights"
    return wanted


def _detect(path: Path) -> bool:
    import uproot

    try:
        with uproot.open(path) as handle:
            return "CollectionTree" in handle and "AnalysisJetsAuxDyn.pt" in handle["CollectionTree"]
    except Exception:
        return False


def _present(tree, names: dict[str, str]) -> dict[str, str]:
    keys = set(tree.keys())
    return {what: b for what, b in names.items() if b in keys}


def _inspect(path: Path, selection: PhysliteSelection) -> FileSummary:
    tree = open_root_tree(path, "CollectionTree", what="ATLAS PHYSLITE")
    require_branches(path, tree, _required(), what="ATLAS PHYSLITE")
    wanted = _decorations(selection)
    present = _present(tree, wanted)
    notes = [f"{path.name}: no {branch}: {what} not applied" for what, branch in wanted.items()
             if what not in present and what != "MC event weight"]
    n = tree.num_entries
    names = tree[f"{_MET}.name"].array(entry_stop=min(n, 50))
    if not ak.any(names == "Final"):
        notes.append(f"{path.name}: no 'Final' MET term (only {sorted(set(ak.flatten(names).tolist()))}): MET rebuilt "
                     "from the selected objects and the PVSoftTrkCore soft term")
    is_data = "MC event weight" not in present
    if is_data:
        sum_weights = float(n)
    else:
        weights = tree["EventInfoAuxDyn.mcEventWeights"].array()
        sum_weights = float(ak.sum(ak.fill_none(ak.firsts(weights), 1.0)))
    lead = ak.to_numpy(ak.fill_none(ak.max(tree["AnalysisJetsAuxDyn.pt"].array(entry_stop=min(n, 2000)), axis=1), 0))
    check_units(path, lead, unit="MeV")
    return FileSummary(str(path), n, sum_weights, is_data, notes=tuple(notes))


def _btag_discriminant(a, s: PhysliteSelection):
    """Per jet, ln(p_b / (f_c p_c + (1 - f_c) p_u)) of the BTagging object its link points to; -99 for a jet
    whose link points nowhere or whose probabilities give no finite value."""
    link = a["AnalysisJetsAuxDyn.btaggingLink"]
    index = link[link.fields[-1]] if link.fields else link
    n_jets, n_tags = ak.to_numpy(ak.num(index)), ak.to_numpy(ak.num(a[f"{_BTAG}.{s.btagger}_pb"]))
    local = ak.to_numpy(ak.flatten(index)).astype(np.int64)
    first_tag = np.repeat(np.concatenate([[0], np.cumsum(n_tags)[:-1]]), n_jets)
    valid = local < np.repeat(n_tags, n_jets)
    pb, pc, pu = (ak.to_numpy(ak.flatten(a[f"{_BTAG}.{s.btagger}_{f}"])).astype(np.float64)[(first_tag + local)[valid]]
                  for f in ("pb", "pc", "pu"))
    disc = np.full(len(local), -99.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        disc[valid] = np.log(pb / (s.btag_fc * pc + (1 - s.btag_fc) * pu))
    disc[~np.isfinite(disc)] = -99.0
    return ak.unflatten(disc, n_jets)


def _read(path: Path, selection: PhysliteSelection, start: int, stop: int, seed: int = 0) -> ak.Array:
    tree = open_root_tree(path, "CollectionTree", what="ATLAS PHYSLITE")
    s = selection
    present = _present(tree, _decorations(s))
    a = tree.arrays(_required() + list(present.values()), entry_start=start, entry_stop=stop)
    n = len(a)
    weight = np.ones(n)
    if "MC event weight" in present:
        weight = ak.to_numpy(ak.fill_none(ak.firsts(a["EventInfoAuxDyn.mcEventWeights"]), 1.0)).astype(np.float64)
    keep_event = np.ones(n, dtype=bool)
    if "event cleaning" in present:
        keep_event = ak.to_numpy(a[present["event cleaning"]] != 0)

    def col(name):
        return a[f"{name}"]

    el_pt = col("AnalysisElectronsAuxDyn.pt")
    el_ok = (el_pt > s.electron_pt_min / _MEV) & (abs(col("AnalysisElectronsAuxDyn.eta")) < s.electron_eta_max)
    if "electron ID" in present:
        el_ok = el_ok & (a[present["electron ID"]] != 0)
    if "electron isolation" in present:
        el_ok = el_ok & (a[present["electron isolation"]] < s.electron_iso_max * el_pt)
    mu_pt = col("AnalysisMuonsAuxDyn.pt")
    mu_ok = (mu_pt > s.muon_pt_min / _MEV) & (abs(col("AnalysisMuonsAuxDyn.eta")) < s.muon_eta_max)
    if "muon quality" in present:
        mu_ok = mu_ok & (a[present["muon quality"]] <= _MUON_QUALITY[s.muon_quality])
    if "muon isolation" in present:
        mu_ok = mu_ok & (a[present["muon isolation"]] < s.muon_iso_max * mu_pt)
    ph_pt = col("AnalysisPhotonsAuxDyn.pt")
    ph_ok = (ph_pt > s.photon_pt_min / _MEV) & (abs(col("AnalysisPhotonsAuxDyn.eta")) < s.photon_eta_max)
    for what in ("photon ID", "photon cleaning"):
        if what in present:
            ph_ok = ph_ok & (a[present[what]] != 0)

    def objects(prefix, ok, charge=False, mass=None):
        m = ak.ones_like(a[f"{prefix}.pt"]) * mass if mass is not None else a[f"{prefix}.m"]
        return collection(a[f"{prefix}.pt"][ok], a[f"{prefix}.eta"][ok], a[f"{prefix}.phi"][ok], m[ok],
                          charge=a[f"{prefix}.charge"][ok] if charge else None, scale=_MEV)

    out = {"electrons": objects("AnalysisElectronsAuxDyn", el_ok, charge=True),
           "muons": objects("AnalysisMuonsAuxDyn", mu_ok, charge=True, mass=_MUON_MASS),
           "photons": objects("AnalysisPhotonsAuxDyn", ph_ok)}

    jet_pt, jet_eta = col("AnalysisJetsAuxDyn.pt"), col("AnalysisJetsAuxDyn.eta")
    jet_ok = (jet_pt > s.jet_pt_min / _MEV) & (abs(jet_eta) < s.jet_eta_max)
    if "jet JVT" in present:
        jvt_region = (jet_pt < 60.0 / _MEV) & (abs(jet_eta) < 2.4)
        jet_ok = jet_ok & (~jvt_region | (a[present["jet JVT"]] != 0))
    has_btag = all(k in present for k in ("b-tagging link", "b-tagging pb", "b-tagging pc", "b-tagging pu"))
    tag = _btag_discriminant(a, s) if has_btag else ak.zeros_like(jet_pt) - 99.0
    jets = collection(jet_pt, jet_eta, col("AnalysisJetsAuxDyn.phi"), col("AnalysisJetsAuxDyn.m"), scale=_MEV)
    order = ak.argsort(jet_pt, ascending=False, stable=True)
    jets = ak.with_field(jets, tag[order], "tag")[jet_ok[order]]
    if s.overlap_dr > 0:
        others = ak.concatenate([o[["eta", "phi"]] for o in out.values()], axis=1)
        jets = jets[~near_any(jets, others, s.overlap_dr)]
    tagged = jets.tag > s.btag_cut
    out["jets"] = jets[~tagged][["pt", "eta", "phi", "mass"]]
    out["bjets"] = jets[tagged][["pt", "eta", "phi", "mass"]]

    names = a[f"{_MET}.name"]
    final = names == "Final"
    if ak.all(ak.any(final, axis=1)):
        mpx = ak.to_numpy(ak.sum(a[f"{_MET}.mpx"][final], axis=1)) * _MEV
        mpy = ak.to_numpy(ak.sum(a[f"{_MET}.mpy"][final], axis=1)) * _MEV
    else:
        soft = names == "PVSoftTrkCore"
        mpx = ak.to_numpy(ak.sum(a[f"{_MET}.mpx"][soft], axis=1)) * _MEV
        mpy = ak.to_numpy(ak.sum(a[f"{_MET}.mpy"][soft], axis=1)) * _MEV
        for objs in out.values():
            mpx = mpx - ak.to_numpy(ak.sum(objs.pt * np.cos(objs.phi), axis=1))
            mpy = mpy - ak.to_numpy(ak.sum(objs.pt * np.sin(objs.phi), axis=1))
    events = assemble(out, np.hypot(mpx, mpy), np.arctan2(mpy, mpx), weight, np.arange(start, start + n),
                      where=str(path))
    return events[keep_event]


PHYSLITE = Reader(
    name="physlite",
    description="ATLAS PHYSLITE (tree CollectionTree, MeV)",
    units="MeV",
    selection_type=PhysliteSelection,
    default_selection="atlas_physlite",
    detect=_detect,
    inspect=_inspect,
    read=_read,
    test_files="PHYSLITE_example.root",
)
