"""CMS NanoAOD (and PFNano, which is NanoAOD plus candidates): tree `Events`, one branch per field, GeV.

Object selection (preset `cms_nanoaod`, every number a field of `NanoAODSelection`):
- jets: `Jet_pt` > 30 GeV, |eta| < 2.4, jet ID `tight` (bit 2 of `Jet_jetId`); b-tagged when `Jet_btagDeepFlavB`
  exceeds 0.2783 (DeepJet medium working point of UL2018); jets within dR < 0.4 of a selected lepton or photon
  are removed (NanoAOD jets are clustered from all PF candidates, leptons included);
- muons: pT > 10 GeV, |eta| < 2.4, `Muon_tightId`, `Muon_pfRelIso04_all` < 0.15;
- electrons: pT > 10 GeV, |eta| < 2.5, `Electron_cutBased` >= 3 (medium, Fall17V2 / Run-3 cut-based ID, which
  includes isolation), and `Electron_pfRelIso03_all` < 0.15;
- photons: pT > 20 GeV, |eta| < 2.5, `Photon_cutBased` >= 2 (medium); a file without `Photon_*` branches
  (skimmed NanoAOD) gets no photons, and the dataset metadata says so;
- MET: `MET_pt`, `MET_phi` (`PuppiMET` with met=PuppiMET).
Weights: `genWeight` (simulation); a file without `genWeight` is data (weight 1 per event before the importer's
1/luminosity).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from ...exceptions import EventFileError
from .base import FileSummary, Reader, Selection, open_root_tree
from .objects import assemble, check_units, collection, near_any, require_branches

__all__ = ["NanoAODSelection", "NANOAOD_SELECTIONS", "NANOAOD"]

_JET_ID_BITS = {"none": 0, "loose": 1, "tight": 2, "tightlepveto": 4}
_ELECTRON_LEVELS = {"none": 0, "veto": 1, "loose": 2, "medium": 3, "tight": 4}
_PHOTON_LEVELS = {"none": 0, "loose": 1, "medium": 2, "tight": 3}
_MUON_ID = {"none": None, "loose": "Muon_looseId", "medium": "Muon_mediumId", "tight": "Muon_tightId"}


@dataclass(frozen=True)
class NanoAODSelection(Selection):
    """Object definitions for NanoAOD (GeV); see the module docstring for what each field cuts on."""

    jet_pt_min: float = 30.0
    jet_eta_max: float = 2.4
    jet_id: str = "tight"
    btag_branch: str = "Jet_btagDeepFlavB"
    btag_cut: float = 0.2783
    muon_pt_min: float = 10.0
    muon_eta_max: float = 2.4
    muon_id: str = "tight"
    muon_iso_max: float = 0.15
    electron_pt_min: float = 10.0
    electron_eta_max: float = 2.5
    electron_id: str = "medium"
    electron_iso_max: float = 0.15
    photon_pt_min: float = 20.0
    photon_eta_max: float = 2.5
    photon_id: str = "medium"
    overlap_dr: float = 0.4
    met: str = "MET"

    CHOICES = {"jet_id": tuple(_JET_ID_BITS), "muon_id": tuple(_MUON_ID), "electron_id": tuple(_ELECTRON_LEVELS),
               "photon_id": tuple(_PHOTON_LEVELS), "met": ("MET", "PuppiMET", "ChsMET", "RawMET")}


NANOAOD_SELECTIONS = {
    s.name: s for s in (
        NanoAODSelection("cms_nanoaod"),
        # Object thresholds of the chekanov2022 generation preset, for comparisons with generated events.
        NanoAODSelection("cms_nanoaod_chekanov2022", jet_pt_min=40.0, jet_eta_max=2.5),
    )
}

_KIN = ("pt", "eta", "phi", "mass")


def _branches(selection: NanoAODSelection, tree) -> tuple[list[str], list[str]]:
    """(required, optional) branch names for `selection`."""
    required = [f"Jet_{k}" for k in _KIN] + ["Jet_jetId", selection.btag_branch]
    required += [f"Muon_{k}" for k in _KIN] + ["Muon_charge", "Muon_pfRelIso04_all"]
    required += [f"Electron_{k}" for k in _KIN] + ["Electron_charge", "Electron_cutBased", "Electron_pfRelIso03_all"]
    required += [f"{selection.met}_pt", f"{selection.met}_phi"]
    if _MUON_ID[selection.muon_id]:
        required.append(_MUON_ID[selection.muon_id])
    optional = [f"Photon_{k}" for k in _KIN] + ["Photon_cutBased", "genWeight"]
    return required, [b for b in optional if b in tree]


def _detect(path: Path) -> bool:
    import uproot

    try:
        with uproot.open(path) as handle:
            return "Events" in handle and "nJet" in handle["Events"] and "Jet_pt" in handle["Events"]
    except Exception:
        return False


def _inspect(path: Path, selection: NanoAODSelection) -> FileSummary:
    tree = open_root_tree(path, "Events", what="CMS NanoAOD")
    required, optional = _branches(selection, tree)
    require_branches(path, tree, required, what="CMS NanoAOD")
    notes = []
    if "Photon_pt" not in optional:
        notes.append(f"{path.name}: no Photon_* branches (a skimmed NanoAOD): photons left empty")
    n = tree.num_entries
    is_data = "genWeight" not in optional
    sum_weights = float(n) if is_data else float(np.sum(tree["genWeight"].array(library="np"), dtype=np.float64))
    lead = ak.to_numpy(ak.fill_none(ak.max(tree["Jet_pt"].array(entry_stop=min(n, 2000)), axis=1), 0.0))
    check_units(path, lead, unit="GeV")
    return FileSummary(str(path), n, sum_weights, is_data, notes=tuple(notes))


def _read(path: Path, selection: NanoAODSelection, start: int, stop: int, seed: int = 0) -> ak.Array:
    tree = open_root_tree(path, "Events", what="CMS NanoAOD")
    required, optional = _branches(selection, tree)
    a = tree.arrays(required + optional, entry_start=start, entry_stop=stop)
    s = selection

    mu_ok = (a.Muon_pt > s.muon_pt_min) & (abs(a.Muon_eta) < s.muon_eta_max) & (a.Muon_pfRelIso04_all < s.muon_iso_max)
    if _MUON_ID[s.muon_id]:
        mu_ok = mu_ok & a[_MUON_ID[s.muon_id]]
    el_ok = (a.Electron_pt > s.electron_pt_min) & (abs(a.Electron_eta) < s.electron_eta_max)
    el_ok = el_ok & (a.Electron_cutBased >= _ELECTRON_LEVELS[s.electron_id])
    el_ok = el_ok & (a.Electron_pfRelIso03_all < s.electron_iso_max)
    muons = collection(a.Muon_pt[mu_ok], a.Muon_eta[mu_ok], a.Muon_phi[mu_ok], a.Muon_mass[mu_ok],
                       charge=a.Muon_charge[mu_ok])
    electrons = collection(a.Electron_pt[el_ok], a.Electron_eta[el_ok], a.Electron_phi[el_ok],
                           a.Electron_mass[el_ok], charge=a.Electron_charge[el_ok])
    objects = {"muons": muons, "electrons": electrons}
    if "Photon_pt" in optional:
        ph_ok = (a.Photon_pt > s.photon_pt_min) & (abs(a.Photon_eta) < s.photon_eta_max)
        ph_ok = ph_ok & (a.Photon_cutBased >= _PHOTON_LEVELS[s.photon_id])
        objects["photons"] = collection(a.Photon_pt[ph_ok], a.Photon_eta[ph_ok], a.Photon_phi[ph_ok],
                                        a.Photon_mass[ph_ok])

    jet_ok = (a.Jet_pt > s.jet_pt_min) & (abs(a.Jet_eta) < s.jet_eta_max)
    if _JET_ID_BITS[s.jet_id]:
        jet_ok = jet_ok & ((a.Jet_jetId & _JET_ID_BITS[s.jet_id]) != 0)
    jets = ak.zip({"pt": a.Jet_pt, "eta": a.Jet_eta, "phi": a.Jet_phi, "mass": a.Jet_mass,
                   "tag": a[s.btag_branch]})[jet_ok]
    if s.overlap_dr > 0:
        leptons = ak.concatenate([o[["eta", "phi"]] for o in objects.values()], axis=1)
        jets = jets[~near_any(jets, leptons, s.overlap_dr)]
    tagged = jets.tag > s.btag_cut
    objects["jets"] = collection(jets.pt[~tagged], jets.eta[~tagged], jets.phi[~tagged], jets.mass[~tagged])
    objects["bjets"] = collection(jets.pt[tagged], jets.eta[tagged], jets.phi[tagged], jets.mass[tagged])

    n = len(a)
    weight = ak.to_numpy(a.genWeight).astype(np.float64) if "genWeight" in optional else np.ones(n)
    met = a[f"{s.met}_pt"], a[f"{s.met}_phi"]
    return assemble(objects, ak.to_numpy(met[0]), ak.to_numpy(met[1]), weight, np.arange(start, start + n),
                    where=str(path))


def _checked_read(path: Path, selection: NanoAODSelection, start: int, stop: int, seed: int = 0) -> ak.Array:
    try:
        return _read(path, selection, start, stop, seed)
    except (KeyError, ValueError, OSError) as exc:
        if isinstance(exc, EventFileError):
            raise
        raise EventFileError(f"{path}: could not read entries {start}-{stop} ({type(exc).__name__}: {exc})") from exc


NANOAOD = Reader(
    name="nanoaod",
    description="CMS NanoAOD / PFNano (tree Events, GeV)",
    units="GeV",
    selection_type=NanoAODSelection,
    default_selection="cms_nanoaod",
    detect=_detect,
    inspect=_inspect,
    read=_checked_read,
    test_files="nanoAOD_2015_CMS_Open_Data_ttbar.root, nano_tt_v12.root, pfnano.root",
)
