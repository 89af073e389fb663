"""The LHC Olympics 2020 HDF5 files (the R&D set and the black boxes): one pandas "fixed"-format table per file,
key `df`, whose `block0_values` hold one row per event: up to 700 hadrons as (pT, eta, phi) triplets in GeV,
zero-padded, and in the R&D set a last column with the truth label (1 = signal).

The files hold 1.1M events (~8 GB); they are read with h5py in row ranges (the importer's chunks), never whole,
and need neither pandas nor PyTables. Every chunk's hadrons (massless) are clustered with fastjet's anti-kt into
large-R jets (`fatjets`, R = 1.0 by default, with tau_1..3 and D2 from their constituents, through
`reco.substructure`) and R = 0.4 jets (`jets`); the files carry no leptons, photons or b-tags (empty), and MET is
the negative vector sum of the hadrons' pT. The objects are those of the files' Delphes simulation, so no further
smearing is applied. The R&D set's label column becomes the event label: the importer names label-1 events
`<process>_signal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import fastjet
import numpy as np
import vector

from ...exceptions import EventFileError
from ...native_output import swallow_fastjet_banner
from ...reco.detector import NSUBJETTINESS_AXES
from ...reco.substructure import d2, nsubjettiness
from .base import FileSummary, Reader, Selection

__all__ = ["LHCO", "LHCO_SELECTIONS", "LHCOSelection", "is_lhco_file"]

_KEY, _VALUES, _PARTICLES = "df", "block0_values", 700


@dataclass(frozen=True)
class LHCOSelection(Selection):
    """Jets built from the files' hadrons: large-R anti-kt jets of radius `fatjet_r` above `fatjet_pt_min` within
    `fatjet_eta_max` (with up to `fatjet_constituents` constituents kept, 0 for none) and small-R jets of radius
    `jet_r` above `jet_pt_min` within `jet_eta_max`. The default follows this project's `dijet_lhco` detector
    preset (R = 1.0 above 100 GeV, |eta| < 2.5; R = 0.4 above 30 GeV); tau_N on `nsubjettiness_axes` (fastjet
    contrib's, minimised one-pass kt axes by default, as the preset)."""

    CHOICES = {"nsubjettiness_axes": NSUBJETTINESS_AXES}

    fatjet_r: float = 1.0
    fatjet_pt_min: float = 100.0
    fatjet_eta_max: float = 2.5
    fatjet_constituents: int = 0
    jet_r: float = 0.4
    jet_pt_min: float = 30.0
    jet_eta_max: float = 2.5
    nsubjettiness_axes: str = "OnePass_KT_Axes"


LHCO_SELECTIONS = {"lhco_dijet": LHCOSelection("lhco_dijet")}


def is_lhco_file(path: Path) -> bool:
    """An HDF5 file whose `df/block0_values` is a 2-D table of 2100 (black box) or 2101 (R&D) columns."""
    if path.suffix.lower() not in (".h5", ".hdf5"):
        return False
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            values = handle.get(f"{_KEY}/{_VALUES}")
            return values is not None and values.ndim == 2 and values.shape[1] in (3 * _PARTICLES, 3 * _PARTICLES + 1)
    except OSError:
        return False


def _inspect(path: Path, selection: Selection) -> FileSummary:
    if not is_lhco_file(path):
        raise EventFileError(f"{path}: not an LHC Olympics 2020 file: no '{_KEY}/{_VALUES}' table of 2100 or 2101 "
                             "columns")
    import h5py

    with h5py.File(path, "r") as handle:
        n, columns = handle[f"{_KEY}/{_VALUES}"].shape
    if n == 0:
        raise EventFileError(f"{path}: the table holds no events")
    labelled = columns == 3 * _PARTICLES + 1
    note = ("R&D set: the last column is the truth label (label-1 events become <process>_signal)" if labelled
            else "black box: no truth label")
    return FileSummary(str(path), int(n), float(n), False, sqrt_s=13000.0, notes=(f"{path.name}: {note}",))


def _momenta(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, counts: np.ndarray) -> ak.Array:
    """Massless four-momenta (px, py, pz, E) of the hadrons, one list per event."""
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = pt * np.cosh(eta)
    return ak.unflatten(ak.zip({"px": px, "py": py, "pz": pz, "E": e}), counts)


def _kinematics(jets: ak.Array) -> dict[str, ak.Array]:
    """pt, eta, phi, mass of fastjet's (px, py, pz, E) records through `vector`; the mass of a one-hadron jet,
    negative by rounding, is set to 0."""
    v = vector.zip({"px": jets.px, "py": jets.py, "pz": jets.pz, "E": jets.E})
    return {"pt": v.pt, "eta": v.eta, "phi": v.phi, "mass": np.maximum(v.mass, 0.0)}


def _as_float32(record: dict[str, ak.Array]) -> ak.Array:
    return ak.zip({k: ak.values_astype(v, np.float32) for k, v in record.items()})


def _fatjets(momenta: ak.Array, selection: LHCOSelection) -> ak.Array:
    swallow_fastjet_banner()
    sequence = fastjet.ClusterSequence(momenta, fastjet.JetDefinition(fastjet.antikt_algorithm, selection.fatjet_r))
    jets = sequence.inclusive_jets(min_pt=selection.fatjet_pt_min)
    constituents = sequence.constituents(min_pt=selection.fatjet_pt_min)
    kin = _kinematics(jets)
    order = ak.argsort(kin["pt"], axis=1, ascending=False)
    keep = (np.abs(kin["eta"]) < selection.fatjet_eta_max)[order]
    kin = {k: v[order][keep] for k, v in kin.items()}
    constituents = constituents[order][keep]
    counts = ak.num(kin["pt"])
    per_jet = ak.flatten(constituents, axis=1)  # one list of particles per jet
    flat = ak.zip({"px": per_jet.px, "py": per_jet.py, "pz": per_jet.pz, "e": per_jet.E})
    taus = nsubjettiness(flat, r0=selection.fatjet_r, axes=selection.nsubjettiness_axes)
    fields = dict(kin)
    for i in range(3):
        fields[f"tau{i + 1}"] = ak.unflatten(taus[:, i], counts)
    fields["d2"] = ak.unflatten(d2(flat), counts)
    out = _as_float32(fields)
    if selection.fatjet_constituents:
        cpt = np.hypot(flat.px, flat.py)
        parts = ak.zip({"pt": cpt, "eta": np.arcsinh(flat.pz / np.maximum(cpt, 1e-12)),
                        "phi": np.arctan2(flat.py, flat.px)})
        parts = parts[ak.argsort(parts.pt, axis=1, ascending=False)][:, :selection.fatjet_constituents]
        out = ak.with_field(out, ak.unflatten(_as_float32({k: parts[k] for k in ("pt", "eta", "phi")}), counts),
                            "constituents")
    return out


def _jets(momenta: ak.Array, selection: LHCOSelection) -> ak.Array:
    sequence = fastjet.ClusterSequence(momenta, fastjet.JetDefinition(fastjet.antikt_algorithm, selection.jet_r))
    kin = _kinematics(sequence.inclusive_jets(min_pt=selection.jet_pt_min))
    order = ak.argsort(kin["pt"], axis=1, ascending=False)
    keep = (np.abs(kin["eta"]) < selection.jet_eta_max)[order]
    return _as_float32({k: v[order][keep] for k, v in kin.items()})


def _empty(n: int, charged: bool) -> ak.Array:
    fields = {k: ak.values_astype(ak.unflatten(np.zeros(0), np.zeros(n, dtype=np.int64)), np.float32)
              for k in ("pt", "eta", "phi", "mass")}
    if charged:
        fields["charge"] = ak.values_astype(ak.unflatten(np.zeros(0), np.zeros(n, dtype=np.int64)), np.int8)
    return ak.zip(fields)


def _read(path: Path, selection: Selection, start: int, stop: int, seed: int = 0) -> ak.Array:
    import h5py

    with h5py.File(path, "r") as handle:
        rows = np.asarray(handle[f"{_KEY}/{_VALUES}"][start:stop], dtype=np.float64)
    n = len(rows)
    triplets = rows[:, : 3 * _PARTICLES].reshape(n, _PARTICLES, 3)
    present = triplets[:, :, 0] > 0  # zero-padded: a hadron has pT > 0
    counts = present.sum(axis=1)
    pt, eta, phi = (triplets[:, :, k][present] for k in range(3))
    momenta = _momenta(pt, eta, phi, counts)
    met_x = -np.bincount(np.repeat(np.arange(n), counts), weights=pt * np.cos(phi), minlength=n)
    met_y = -np.bincount(np.repeat(np.arange(n), counts), weights=pt * np.sin(phi), minlength=n)
    events = {
        "jets": _jets(momenta, selection), "bjets": _empty(n, False), "muons": _empty(n, True),
        "electrons": _empty(n, True), "photons": _empty(n, False),
        "met": ak.zip({"pt": np.hypot(met_x, met_y).astype(np.float32),
                       "phi": np.arctan2(met_y, met_x).astype(np.float32)}),
        "fatjets": _fatjets(momenta, selection),
        "weight": np.ones(n), "event_id": np.arange(start, stop, dtype=np.int64),
    }
    if rows.shape[1] == 3 * _PARTICLES + 1:
        events["truth_label"] = rows[:, -1].astype(np.int8)
    return ak.zip(events, depth_limit=1)


LHCO = Reader("lhco", "LHC Olympics 2020 HDF5 (R&D set and black boxes: 700 hadrons x (pT, eta, phi))", "GeV",
              LHCOSelection, "lhco_dijet", is_lhco_file, _inspect, _read,
              test_files="a file written in the R&D layout by the tests")
