import awkward as ak
import numpy as np
import pytest

from anomalyhunt.events import empty_events


def make_events(objects_per_event, *, met=None, weight=None):
    """Events in the contract from a list of dicts {collection: [(pt, eta, phi, mass[, charge]), ...]}."""
    n = len(objects_per_event)
    base = empty_events(n)
    fields = {name: base[name] for name in base.fields}
    for coll in ("jets", "bjets", "muons", "electrons", "photons"):
        rows = [ev.get(coll, []) for ev in objects_per_event]
        counts = np.array([len(r) for r in rows], dtype=np.int64)
        width = 5 if coll in ("muons", "electrons") else 4
        flat = np.array([o for r in rows for o in r], dtype=np.float64).reshape(-1, width)
        rec = {k: flat[:, i].astype(np.float32) for i, k in enumerate(("pt", "eta", "phi", "mass"))}
        if coll in ("muons", "electrons"):
            rec["charge"] = flat[:, 4].astype(np.int8)
        fields[coll] = ak.unflatten(ak.zip(rec), counts)
    if met is not None:
        met = np.asarray(met, dtype=np.float32).reshape(n, 2)
        fields["met"] = ak.zip({"pt": np.ascontiguousarray(met[:, 0]), "phi": np.ascontiguousarray(met[:, 1])})
    if weight is not None:
        fields["weight"] = np.asarray(weight, dtype=np.float64)
    return ak.zip(fields, depth_limit=1)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
