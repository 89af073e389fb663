"""Delphes ROOT output: tree `Delphes`, branches `Jet.PT`, `Jet.Eta`, ... with counts `Jet_size`, GeV.

Delphes has already applied its card's efficiencies, isolation and overlap removal (UniqueObjectFinder), so the
preset `delphes` only cuts on kinematics:
- jets (`Jet`): PT > 30 GeV, |Eta| < 2.5; b-tagged when bit 0 of `Jet.BTag` is set (the card's first b-tagging
  working point; `btag_bit` picks another);
- electrons, muons (`Electron`, `Muon`, with `Charge`): PT > 10 GeV, |Eta| < 2.5, mass set to the lepton mass;
- photons (`Photon`): PT > 20 GeV, |Eta| < 2.5, mass 0;
- MET: `MissingET.MET`, `MissingET.Phi`; weight: `Event.Weight` (1 when the branch is absent).
No Delphes file written by Delphes itself was available when this reader was written: it is tested on a file
written with uproot in Delphes' branch names and counts (`Jet_size`, `Jet.PT`, ...), not on real Delphes output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from .base import FileSummary, Reader, Selection, open_root_tree
from .objects import assemble, check_units, collection, near_any, require_branches

__all__ = ["DelphesSelection", "DELPHES_SELECTIONS", "DELPHES"]

_LEPTON_MASS = {"Electron": 0.000511, "Muon": 0.10566}


@dataclass(frozen=True)
class DelphesSelection(Selection):
    """Kinematic thresholds for Delphes objects (GeV); see the module docstring."""

    jet_pt_min: float = 30.0
    jet_eta_max: float = 2.5
    btag_bit: int = 0
    lepton_pt_min: float = 10.0
    lepton_eta_max: float = 2.5
    photon_pt_min: float = 20.0
    photon_eta_max: float = 2.5
    overlap_dr: float = 0.0


DELPHES_SELECTIONS = {s.name: s for s in (DelphesSelection("delphes"),)}


def _required() -> list[str]:
    names = [f"Jet.{k}" for k in ("PT", "Eta", "Phi", "Mass", "BTag")]
    for lepton in ("Electron", "Muon"):
        names += [f"{lepton}.{k}" for k in ("PT", "Eta", "Phi", "Charge")]
    return names + [f"Photon.{k}" for k in ("PT", "Eta", "Phi")] + ["MissingET.MET", "MissingET.Phi"]


def _detect(path: Path) -> bool:
    import uproot

    try:
        with uproot.open(path) as handle:
            return "Delphes" in handle
    except Exception:
        return False


def _arrays(tree, names, start=None, stop=None):
    return tree.arrays(filter_name=names, entry_start=start, entry_stop=stop)


def _inspect(path: Path, selection: DelphesSelection) -> FileSummary:
    tree = open_root_tree(path, "Delphes", what="Delphes")
    require_branches(path, tree, _required(), what="Delphes")
    n = tree.num_entries
    keys = set(tree.keys(recursive=True, full_paths=False))
    notes = [] if "Event.Weight" in keys else [f"{path.name}: no Event.Weight: every event has weight 1"]
    sum_weights = float(n)
    if "Event.Weight" in keys:
        sum_weights = float(np.sum(_scalar(_arrays(tree, ["Event.Weight"])["Event.Weight"]), dtype=np.float64))
    lead = _arrays(tree, ["Jet.PT"], 0, min(n, 2000))["Jet.PT"]
    check_units(path, ak.to_numpy(ak.fill_none(ak.max(lead, axis=1), 0.0)), unit="GeV")
    return FileSummary(str(path), n, sum_weights, False, notes=tuple(notes))


def _scalar(values):
    return ak.to_numpy(ak.fill_none(ak.firsts(values), 0.0) if values.ndim > 1 else values)


def _read(path: Path, selection: DelphesSelection, start: int, stop: int, seed: int = 0) -> ak.Array:
    tree = open_root_tree(path, "Delphes", what="Delphes")
    keys = set(tree.keys(recursive=True, full_paths=False))
    names = _required() + (["Event.Weight"] if "Event.Weight" in keys else [])
    a = _arrays(tree, names, start, stop)
    s = selection
    out = {}
    for lepton, name in (("Electron", "electrons"), ("Muon", "muons")):
        pt, eta = a[f"{lepton}.PT"], a[f"{lepton}.Eta"]
        ok = (pt > s.lepton_pt_min) & (abs(eta) < s.lepton_eta_max)
        out[name] = collection(pt[ok], eta[ok], a[f"{lepton}.Phi"][ok], ak.ones_like(pt[ok]) * _LEPTON_MASS[lepton],
                               charge=a[f"{lepton}.Charge"][ok])
    pt, eta = a["Photon.PT"], a["Photon.Eta"]
    ok = (pt > s.photon_pt_min) & (abs(eta) < s.photon_eta_max)
    out["photons"] = collection(pt[ok], eta[ok], a["Photon.Phi"][ok], ak.zeros_like(pt[ok]))
    ok = (a["Jet.PT"] > s.jet_pt_min) & (abs(a["Jet.Eta"]) < s.jet_eta_max)
    jets = ak.zip({"pt": a["Jet.PT"], "eta": a["Jet.Eta"], "phi": a["Jet.Phi"], "mass": a["Jet.Mass"],
                   "tag": (a["Jet.BTag"] >> s.btag_bit) & 1})[ok]
    if s.overlap_dr > 0:
        others = ak.concatenate([o[["eta", "phi"]] for o in out.values()], axis=1)
        jets = jets[~near_any(jets, others, s.overlap_dr)]
    tagged = jets.tag == 1
    out["jets"] = collection(jets.pt[~tagged], jets.eta[~tagged], jets.phi[~tagged], jets.mass[~tagged])
    out["bjets"] = collection(jets.pt[tagged], jets.eta[tagged], jets.phi[tagged], jets.mass[tagged])
    n = len(a)
    weight = _scalar(a["Event.Weight"]).astype(np.float64) if "Event.Weight" in names else np.ones(n)
    return assemble(out, _scalar(a["MissingET.MET"]), _scalar(a["MissingET.Phi"]), weight,
                    np.arange(start, start + n), where=str(path))


DELPHES = Reader(
    name="delphes",
    description="Delphes ROOT output (tree Delphes, GeV)",
    units="GeV",
    selection_type=DelphesSelection,
    default_selection="delphes",
    detect=_detect,
    inspect=_inspect,
    read=_read,
    test_files="a file written with uproot in Delphes' branch layout (tests/unit/events)",
)
