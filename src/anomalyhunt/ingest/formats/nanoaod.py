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
NanoAOD generations name some IDs differently, and the reader takes what the file has, in this order:
- photon ID: `Photon_cutBased` (an integer level: v9, v12 and later; Fall17V2 in v6-v7), else
  `Photon_cutBasedBitmap` (bits 1/2/4 = loose/medium/tight: the v5-v7 productions), else `Photon_cutBased17Bitmap`
  (2016 v5-v7); with none of them the photons are left empty and the notes say so;
- electron ID: `Electron_cutBased` (all generations), else `Electron_cutBased_Fall17_V1` (v5-v7); with neither the
  electrons are left empty, with a note;
- jet ID: `Jet_jetId` (v5-v14); NanoAOD v15 dropped it (the ID is recomputed from the jet's energy fractions
  there): such files keep their jets without a jet ID, with a note.
Weights: `genWeight` (simulation); a file without `genWeight` is data (weight 1 per event before the importer's
1/luminosity). A b-tag score or muon ID flag that a file leaves unfilled is named in the dataset notes; preset
`cms_opendata2015` works around those of the CMS Open Data 2015 NanoAOD (CSVv2 b-tagging, no muon ID flag).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from .base import FileSummary, Reader, Selection, open_root_tree
from .objects import assemble, check_units, flat_collection, near_any_flat, require_branches

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
        NanoAODSelection("cms_nanoaod_chekanov2022", jet_pt_min=40.0, jet_eta_max=2.5, muon_eta_max=2.5,
                         photon_pt_min=10.0),
        # The CMS Open Data 2015 NanoAOD leaves the DeepJet/DeepCSV scores (-3000, -1) and every muon ID flag
        # unfilled: b-tag with CSVv2 at its medium working point (0.8484) and take isolated muons without an ID.
        NanoAODSelection("cms_opendata2015", btag_branch="Jet_btagCSVV2", btag_cut=0.8484, muon_id="none"),
    )
}

_KIN = ("pt", "eta", "phi", "mass")


# ID branches of each NanoAOD generation, preferred first: (branch, "level" integer or "bitmap" of levels)
_ID_BRANCHES = {
    "Photon": (("Photon_cutBased", "level"), ("Photon_cutBasedBitmap", "bitmap"),
               ("Photon_cutBased17Bitmap", "bitmap")),
    "Electron": (("Electron_cutBased", "level"), ("Electron_cutBased_Fall17_V1", "level")),
    "Jet": (("Jet_jetId", "bits"),),
}


def _id_branch(tree, collection: str) -> tuple[str, str] | None:
    """The ID branch of `collection` that this file has, and how to read it; None when it has none."""
    return next(((b, kind) for b, kind in _ID_BRANCHES[collection] if b in tree), None)


def _id_level(values: np.ndarray, kind: str) -> np.ndarray:
    """Cut-based ID levels 0-3 (fail, loose, medium, tight) from a level branch or a loose/medium/tight bitmap."""
    values = values.astype(np.int64)
    if kind == "level":
        return values
    return np.where(values & 4, 3, np.where(values & 2, 2, np.where(values & 1, 1, 0)))


def _branches(selection: NanoAODSelection, tree) -> tuple[list[str], list[str]]:
    """(required, optional) branch names for `selection`; the optional ones are those the file has."""
    required = [f"Jet_{k}" for k in _KIN] + [selection.btag_branch]
    required += [f"Muon_{k}" for k in _KIN] + ["Muon_charge", "Muon_pfRelIso04_all"]
    required += [f"Electron_{k}" for k in _KIN] + ["Electron_charge", "Electron_pfRelIso03_all"]
    required += [f"{selection.met}_pt", f"{selection.met}_phi"]
    if _MUON_ID[selection.muon_id]:
        required.append(_MUON_ID[selection.muon_id])
    optional = [f"Photon_{k}" for k in _KIN] + ["genWeight"]
    optional += [b for collection in _ID_BRANCHES for b, _ in _ID_BRANCHES[collection]]
    return required, [b for b in optional if b in tree]


def _missing_id_notes(path: Path, tree, selection: NanoAODSelection) -> list[str]:
    """What a file of another NanoAOD generation lacks, in words: collections left empty, cuts not applied."""
    notes = []
    if "Photon_pt" in tree and _id_branch(tree, "Photon") is None and _PHOTON_LEVELS[selection.photon_id]:
        notes.append(f"{path.name}: no photon ID branch ({', '.join(b for b, _ in _ID_BRANCHES['Photon'])}): "
                     "photons left empty")
    if _id_branch(tree, "Electron") is None and _ELECTRON_LEVELS[selection.electron_id]:
        notes.append(f"{path.name}: no electron ID branch ({', '.join(b for b, _ in _ID_BRANCHES['Electron'])}): "
                     "electrons left empty")
    if _id_branch(tree, "Jet") is None and _JET_ID_BITS[selection.jet_id]:
        notes.append(f"{path.name}: no Jet_jetId (NanoAOD v15 and later drop it): jets taken without a jet ID")
    return notes


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
    notes += _missing_id_notes(path, tree, selection)
    n = tree.num_entries
    is_data = "genWeight" not in optional
    sum_weights = float(n) if is_data else float(np.sum(tree["genWeight"].array(library="np"), dtype=np.float64))
    head = tree.arrays(["Jet_pt", selection.btag_branch, "Muon_pt"] + ([_MUON_ID[selection.muon_id]]
                       if _MUON_ID[selection.muon_id] else []), entry_stop=min(n, 2000))
    check_units(path, ak.to_numpy(ak.fill_none(ak.max(head.Jet_pt, axis=1), 0.0)), unit="GeV")
    notes += _unfilled(path, head, selection)
    return FileSummary(str(path), n, sum_weights, is_data, notes=tuple(notes))


def _unfilled(path: Path, head: ak.Array, selection: NanoAODSelection) -> list[str]:
    """Branches that exist but carry no information in this file (a constant sentinel, a flag never set)."""
    notes = []
    tags = ak.to_numpy(ak.flatten(head[selection.btag_branch]))
    if len(tags) > 10 and np.all(tags == tags[0]):
        notes.append(f"{path.name}: {selection.btag_branch} is not filled (every jet has {tags[0]:g}): no jet is "
                     "b-tagged; choose another btag_branch (the cms_opendata2015 preset uses Jet_btagCSVV2)")
    flag = _MUON_ID[selection.muon_id]
    if flag:
        hard = head.Muon_pt > 20
        if ak.sum(hard) >= 10 and not ak.any(head[flag][hard]):
            notes.append(f"{path.name}: {flag} is false for all {ak.sum(hard)} muons above 20 GeV (not filled?): "
                         "no muon is kept; muon_id=none keeps isolated muons")
    return notes


def _flat(a: ak.Array, name: str) -> np.ndarray:
    return ak.to_numpy(ak.flatten(a[name]))


def _passes_id(f: dict[str, np.ndarray], tree, collection: str, level: int) -> np.ndarray:
    """Objects of `collection` at or above ID `level`; without an ID branch, none (unless no ID is asked)."""
    found = _id_branch(tree, collection)
    n = len(f[f"{collection}_pt"])
    if level == 0:
        return np.ones(n, dtype=bool)
    if found is None:
        return np.zeros(n, dtype=bool)
    return _id_level(f[found[0]], found[1]) >= level


def _read(path: Path, selection: NanoAODSelection, start: int, stop: int, seed: int = 0) -> ak.Array:
    tree = open_root_tree(path, "Events", what="CMS NanoAOD")
    required, optional = _branches(selection, tree)
    a = tree.arrays(required + optional, entry_start=start, entry_stop=stop)
    s = selection
    # Work on flat NumPy arrays per collection (NanoAOD's branches of one collection share their counts).
    f = {name: _flat(a, name) for name in a.fields if a[name].ndim == 2}
    counts = {c: ak.to_numpy(ak.num(a[f"{c}_pt"])) for c in ("Jet", "Muon", "Electron", "Photon") if f"{c}_pt" in f}

    mu_ok = (f["Muon_pt"] > s.muon_pt_min) & (np.abs(f["Muon_eta"]) < s.muon_eta_max)
    mu_ok &= f["Muon_pfRelIso04_all"] < s.muon_iso_max
    if _MUON_ID[s.muon_id]:
        mu_ok &= f[_MUON_ID[s.muon_id]].astype(bool)
    el_ok = (f["Electron_pt"] > s.electron_pt_min) & (np.abs(f["Electron_eta"]) < s.electron_eta_max)
    el_ok &= _passes_id(f, tree, "Electron", _ELECTRON_LEVELS[s.electron_id])
    el_ok &= f["Electron_pfRelIso03_all"] < s.electron_iso_max
    kept = {"Muon": mu_ok, "Electron": el_ok}
    if "Photon" in counts:
        ph_ok = (f["Photon_pt"] > s.photon_pt_min) & (np.abs(f["Photon_eta"]) < s.photon_eta_max)
        kept["Photon"] = ph_ok & _passes_id(f, tree, "Photon", _PHOTON_LEVELS[s.photon_id])
    objects = {}
    for prefix, name in (("Muon", "muons"), ("Electron", "electrons"), ("Photon", "photons")):
        if prefix in kept:
            objects[name] = flat_collection(counts[prefix], kept[prefix], f[f"{prefix}_pt"], f[f"{prefix}_eta"],
                                            f[f"{prefix}_phi"], f[f"{prefix}_mass"],
                                            charge=f[f"{prefix}_charge"] if prefix != "Photon" else None)

    jet_ok = (f["Jet_pt"] > s.jet_pt_min) & (np.abs(f["Jet_eta"]) < s.jet_eta_max)
    if _JET_ID_BITS[s.jet_id] and _id_branch(tree, "Jet") is not None:
        jet_ok &= (f["Jet_jetId"].astype(np.int64) & _JET_ID_BITS[s.jet_id]) != 0
    if s.overlap_dr > 0:  # selected leptons and photons, grouped by event, as flat arrays
        event = np.concatenate([np.repeat(np.arange(len(a)), counts[p])[k] for p, k in kept.items()])
        eta = np.concatenate([f[f"{p}_eta"][k] for p, k in kept.items()])
        phi = np.concatenate([f[f"{p}_phi"][k] for p, k in kept.items()])
        order = np.argsort(event, kind="stable")
        near = near_any_flat(counts["Jet"], f["Jet_eta"], f["Jet_phi"], np.bincount(event, minlength=len(a)),
                             eta[order], phi[order], s.overlap_dr)
        jet_ok &= ~near
    tagged = f[s.btag_branch] > s.btag_cut
    jet = [f["Jet_pt"], f["Jet_eta"], f["Jet_phi"], f["Jet_mass"]]
    objects["jets"] = flat_collection(counts["Jet"], jet_ok & ~tagged, *jet)
    objects["bjets"] = flat_collection(counts["Jet"], jet_ok & tagged, *jet)

    n = len(a)
    weight = ak.to_numpy(a.genWeight).astype(np.float64) if "genWeight" in optional else np.ones(n)
    return assemble(objects, ak.to_numpy(a[f"{s.met}_pt"]), ak.to_numpy(a[f"{s.met}_phi"]), weight,
                    np.arange(start, start + n), where=str(path))


NANOAOD = Reader(
    name="nanoaod",
    description="CMS NanoAOD / PFNano (tree Events, GeV)",
    units="GeV",
    selection_type=NanoAODSelection,
    default_selection="cms_nanoaod",
    detect=_detect,
    inspect=_inspect,
    read=_read,
    test_files="nanoAOD_2015_CMS_Open_Data_ttbar.root, nano_tt_v12.root, pfnano.root",
)
