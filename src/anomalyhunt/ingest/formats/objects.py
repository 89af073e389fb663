"""Building blocks every reader shares: contract collections from flat branches, overlap removal, unit checks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import awkward as ak
import numba
import numpy as np

from ...events.schema import COLLECTIONS, LEPTON_COLLECTIONS
from ...exceptions import EventFileError

__all__ = ["collection", "flat_collection", "empty_collection", "near_any", "near_any_flat", "assemble", "check_units",
           "require_branches"]


def collection(pt, eta, phi, mass, *, charge=None, scale: float = 1.0) -> ak.Array:
    """Jagged objects in the contract layout (float32, int8 charge), sorted by descending pT.

    `scale` converts the file's energy unit to GeV (1e-3 for MeV)."""
    fields = {"pt": pt * scale, "eta": eta, "phi": phi, "mass": mass * scale}
    fields = {k: ak.values_astype(v, np.float32) for k, v in fields.items()}
    if charge is not None:
        fields["charge"] = ak.values_astype(charge, np.int8)
    out = ak.zip(fields)
    return out[ak.argsort(out.pt, ascending=False, stable=True)]


def flat_collection(counts: np.ndarray, keep: np.ndarray, pt, eta, phi, mass, *, charge=None,
                    scale: float = 1.0) -> ak.Array:
    """Like `collection`, from flat per-object NumPy arrays and per-event `counts`, keeping the objects where
    `keep` is True: a NumPy sort by (event, -pT) instead of jagged operations, for the readers' inner loops."""
    event = np.repeat(np.arange(len(counts)), counts)[keep]
    pt = np.asarray(pt)[keep] * scale
    # Files usually store objects by descending pT already: sort only when some event is out of order.
    same_event = event[1:] == event[:-1]
    in_order = not np.any(same_event & (pt[1:] > pt[:-1]))
    order = slice(None) if in_order else np.lexsort((-pt, event))
    fields = {"pt": pt[order], "eta": np.asarray(eta)[keep][order], "phi": np.asarray(phi)[keep][order],
              "mass": (np.asarray(mass)[keep] * scale)[order]}
    fields = {k: v.astype(np.float32) for k, v in fields.items()}
    if charge is not None:
        fields["charge"] = np.asarray(charge)[keep][order].astype(np.int8)
    return ak.unflatten(ak.zip(fields), np.bincount(event, minlength=len(counts)))


@numba.njit(cache=True)
def _near_any_kernel(a_offsets, a_eta, a_phi, b_offsets, b_eta, b_phi, dr):  # pragma: no cover - compiled
    out = np.zeros(len(a_eta), dtype=np.bool_)
    dr2 = dr * dr
    for event in range(len(a_offsets) - 1):
        for i in range(a_offsets[event], a_offsets[event + 1]):
            for j in range(b_offsets[event], b_offsets[event + 1]):
                dphi = (a_phi[i] - b_phi[j] + np.pi) % (2 * np.pi) - np.pi
                if (a_eta[i] - b_eta[j]) ** 2 + dphi * dphi < dr2:
                    out[i] = True
                    break
    return out


def near_any_flat(a_counts, a_eta, a_phi, b_counts, b_eta, b_phi, dr: float) -> np.ndarray:
    """`near_any` on flat arrays with per-event counts (a compiled loop, no pair arrays in memory)."""
    offsets = [np.concatenate([[0], np.cumsum(c)]).astype(np.int64) for c in (a_counts, b_counts)]
    return _near_any_kernel(offsets[0], np.asarray(a_eta, np.float64), np.asarray(a_phi, np.float64), offsets[1],
                            np.asarray(b_eta, np.float64), np.asarray(b_phi, np.float64), float(dr))


def near_any(a: ak.Array, b: ak.Array, dr: float) -> ak.Array:
    """For each object of jagged `a`, whether an object of `b` in the same event lies within dR < `dr`."""
    def flat(x):
        return ak.to_numpy(ak.flatten(x))

    near = near_any_flat(ak.to_numpy(ak.num(a)), flat(a.eta), flat(a.phi), ak.to_numpy(ak.num(b)), flat(b.eta),
                         flat(b.phi), dr)
    return ak.unflatten(near, ak.num(a))


def empty_collection(n: int, *, leptons: bool = False) -> ak.Array:
    """`n` empty lists of contract objects (a collection the file does not have)."""
    zeros = np.zeros(0, dtype=np.float32)
    fields = {"pt": zeros, "eta": zeros, "phi": zeros, "mass": zeros}
    if leptons:
        fields["charge"] = np.zeros(0, dtype=np.int8)
    return ak.unflatten(ak.zip(fields), np.zeros(n, dtype=np.int64))


def assemble(objects: Mapping[str, ak.Array], met_pt, met_phi, weight, event_id, *, where: str = "") -> ak.Array:
    """One record per event in the contract; `process` and `label` are placeholders the importer sets."""
    n = len(weight)
    record = {name: objects[name] if name in objects else empty_collection(n, leptons=name in LEPTON_COLLECTIONS)
              for name in COLLECTIONS}
    record["met"] = ak.zip({"pt": np.asarray(met_pt, dtype=np.float32), "phi": np.asarray(met_phi, dtype=np.float32)})
    record["weight"] = np.asarray(weight, dtype=np.float64)
    record["process"] = ak.from_numpy(np.full(n, "unnamed"))
    record["label"] = np.zeros(n, dtype=np.int8)
    record["event_id"] = np.asarray(event_id, dtype=np.int64)
    return ak.zip(record, depth_limit=1)  # checked against the contract where it is written or returned


def check_units(path: Path, leading_jet_pt: np.ndarray, *, unit: str) -> None:
    """Refuse a file whose jet momenta look like the wrong unit: the median leading-jet pT of a real LHC file
    lies between about 20 GeV and a few hundred GeV, so a median above 2000 read as GeV means MeV, and a
    median below 2000 read as MeV (2 GeV) means GeV."""
    values = np.asarray(leading_jet_pt, dtype=np.float64)
    values = values[np.isfinite(values) & (values > 0)]
    if len(values) < 5:
        return
    median = float(np.median(values))
    if unit == "GeV" and median > 2000.0:
        raise EventFileError(f"{path}: the median leading-jet pT is {median:.4g} read as GeV; the file looks like "
                             "it stores MeV (a PHYSLITE file given as another format?)")
    if unit == "MeV" and median < 2000.0:
        raise EventFileError(f"{path}: the median leading-jet pT is {median:.4g} read as MeV ({median / 1000:.3g} "
                             "GeV); the file looks like it stores GeV, not MeV")


def require_branches(path: Path, tree, names, *, what: str) -> None:
    """One error naming every branch of `names` the tree lacks."""
    keys = set(tree.keys(recursive=True, full_paths=False)) | set(tree.keys())
    missing = [n for n in names if n not in keys]
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise EventFileError(f"{path}: not a readable {what} file: missing branch(es) {shown}")
