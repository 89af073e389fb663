"""Building blocks every reader shares: contract collections from flat branches, overlap removal, unit checks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import awkward as ak
import numpy as np

from ...exceptions import EventFileError
from ..schema import COLLECTIONS, LEPTON_COLLECTIONS, schema_problems

__all__ = ["collection", "empty_collection", "near_any", "assemble", "check_units", "require_branches"]


def collection(pt, eta, phi, mass, *, charge=None, scale: float = 1.0) -> ak.Array:
    """Jagged objects in the contract layout (float32, int8 charge), sorted by descending pT.

    `scale` converts the file's energy unit to GeV (1e-3 for MeV)."""
    fields = {"pt": pt * scale, "eta": eta, "phi": phi, "mass": mass * scale}
    fields = {k: ak.values_astype(v, np.float32) for k, v in fields.items()}
    if charge is not None:
        fields["charge"] = ak.values_astype(charge, np.int8)
    out = ak.zip(fields)
    return out[ak.argsort(out.pt, ascending=False, stable=True)]


def empty_collection(n: int, *, leptons: bool = False) -> ak.Array:
    """`n` empty lists of contract objects (a collection the file does not have)."""
    zeros = np.zeros(0, dtype=np.float32)
    fields = {"pt": zeros, "eta": zeros, "phi": zeros, "mass": zeros}
    if leptons:
        fields["charge"] = np.zeros(0, dtype=np.int8)
    return ak.unflatten(ak.zip(fields), np.zeros(n, dtype=np.int64))


def near_any(a: ak.Array, b: ak.Array, dr: float) -> ak.Array:
    """For each object of `a`, whether an object of `b` in the same event lies within dR < `dr`."""
    pairs = ak.cartesian({"a": a, "b": b}, nested=True)
    dphi = (pairs.a.phi - pairs.b.phi + np.pi) % (2 * np.pi) - np.pi
    return ak.any(np.sqrt((pairs.a.eta - pairs.b.eta) ** 2 + dphi**2) < dr, axis=2)


def assemble(objects: Mapping[str, ak.Array], met_pt, met_phi, weight, event_id, *, where: str) -> ak.Array:
    """One record per event in the contract; `process` and `label` are placeholders the importer sets."""
    n = len(weight)
    record = {name: objects[name] if name in objects else empty_collection(n, leptons=name in LEPTON_COLLECTIONS)
              for name in COLLECTIONS}
    record["met"] = ak.zip({"pt": np.asarray(met_pt, dtype=np.float32), "phi": np.asarray(met_phi, dtype=np.float32)})
    record["weight"] = np.asarray(weight, dtype=np.float64)
    record["process"] = ak.from_numpy(np.full(n, "unnamed"))
    record["label"] = np.zeros(n, dtype=np.int8)
    record["event_id"] = np.asarray(event_id, dtype=np.int64)
    events = ak.zip(record, depth_limit=1)
    problems = schema_problems(events)
    if problems:  # pragma: no cover - guards the readers' construction
        raise EventFileError(f"{where}: " + "; ".join(problems))
    return events


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
