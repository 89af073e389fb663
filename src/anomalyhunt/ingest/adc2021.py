"""Reader and writer for the public ADC2021 HDF5 files ("Unsupervised New Physics detection at 40 MHz").

Layout: dataset `Particles`, shape (N, 19, 4), last axis [pT, eta, phi, class]; row 0 is MET (class 1),
rows 1-4 electrons (class 2), 5-8 muons (class 3), 9-18 jets (class 4); an empty slot is all zeros (class 0).
Optional `Particles_Names` / `Particles_Classes` describe this; `EvtId` is present in the black-box file.

What the format does not carry is filled in and said so: masses are set to 0 (the files store none), lepton
charges to 0 (unknown), there are no b-jets or photons, and every event has weight cross_section_pb / N
(1 / N pb when no cross section is given).
"""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np

from ..events.schema import schema_problems
from ..exceptions import EventFileError

__all__ = ["ADC2021_ROWS", "ADC2021_SLOTS", "adc2021_names", "adc2021_slots", "read_adc2021", "write_adc2021"]

# (collection, first row, number of rows, class id)
ADC2021_ROWS = (("met", 0, 1, 1), ("electrons", 1, 4, 2), ("muons", 5, 4, 3), ("jets", 9, 10, 4))
ADC2021_SLOTS = (("met", 1), ("electrons", 4), ("muons", 4), ("jets", 10))


def adc2021_slots(events: ak.Array) -> np.ndarray:
    """The ADC2021 layout: (pT, eta, phi) of MET (eta = 0), 4 electrons, 4 muons and 10 jets (b-jets merged in,
    by descending pT), zero-padded: shape (n, 57), float32."""
    n = len(events)
    parts = [np.stack([ak.to_numpy(events.met.pt), np.zeros(n), ak.to_numpy(events.met.phi)], axis=1)]
    jets = ak.concatenate([events.jets, events.bjets], axis=1)
    collections = {"electrons": events.electrons, "muons": events.muons, "jets": jets}
    for name, count in ADC2021_SLOTS[1:]:
        objs = collections[name]
        objs = objs[ak.argsort(objs.pt, ascending=False, stable=True)]
        cols = [ak.to_numpy(ak.fill_none(ak.pad_none(objs[f], count, axis=1, clip=True), 0.0))
                for f in ("pt", "eta", "phi")]
        parts.append(np.stack(cols, axis=2).reshape(n, 3 * count))
    return np.concatenate(parts, axis=1).astype(np.float32)


def adc2021_names() -> list[str]:
    names = []
    for name, count in ADC2021_SLOTS:
        for k in range(count):
            label = "MET" if name == "met" else f"{name[:-1]}{k + 1}"
            names += [f"pt({label})", f"eta({label})", f"phi({label})"]
    return names


def _objects(block: np.ndarray, *, leptons: bool) -> ak.Array:
    """(N, k, 4) slots -> var * {pt, eta, phi, mass[, charge]} keeping the filled ones, in stored order."""
    filled = block[:, :, 0] > 0
    counts = filled.sum(axis=1)
    flat = block[filled]
    fields = {"pt": flat[:, 0], "eta": flat[:, 1], "phi": flat[:, 2], "mass": np.zeros(len(flat))}
    fields = {k: v.astype(np.float32) for k, v in fields.items()}
    if leptons:
        fields["charge"] = np.zeros(len(flat), dtype=np.int8)
    return ak.unflatten(ak.zip(fields), counts)


def _empty(n: int, *, leptons: bool = False) -> ak.Array:
    return _objects(np.zeros((n, 0, 4)), leptons=leptons)


def read_adc2021(path: str | Path, *, process: str | None = None, label: int = 0,
                 cross_section_pb: float | None = None, start: int = 0, stop: int | None = None) -> ak.Array:
    """Events [start:stop] of an ADC2021 file in the event contract (see the module docstring for what is
    filled in). `process` defaults to the file name without suffix."""
    import h5py

    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            if "Particles" not in f:
                raise EventFileError(f"{path}: no 'Particles' dataset (found {sorted(f.keys())})")
            data = f["Particles"]
            if data.ndim != 3 or data.shape[1:] != (19, 4):
                raise EventFileError(f"{path}: 'Particles' must have shape (N, 19, 4), found {data.shape}")
            block = np.asarray(data[start:stop], dtype=np.float64)
            ids = np.asarray(f["EvtId"][start:stop], dtype=np.int64) if "EvtId" in f else None
    except OSError as exc:
        raise EventFileError(f"{path}: cannot read as HDF5 ({exc})") from exc
    n = len(block)
    for name, first, count, cls in ADC2021_ROWS:
        classes = block[:, first:first + count, 3]
        wrong = (classes != cls) & (classes != 0)
        if wrong.any():
            raise EventFileError(f"{path}: rows {first}-{first + count - 1} should hold {name} (class {cls}), "
                                 f"found class {int(classes[wrong][0])}")
    if not np.isfinite(block).all():
        raise EventFileError(f"{path}: 'Particles' holds NaN or inf")
    total = float(cross_section_pb) if cross_section_pb is not None else 1.0
    record = {
        "jets": _objects(block[:, 9:19], leptons=False),
        "bjets": _empty(n),
        "muons": _objects(block[:, 5:9], leptons=True),
        "electrons": _objects(block[:, 1:5], leptons=True),
        "photons": _empty(n),
        "met": ak.zip({"pt": block[:, 0, 0].astype(np.float32), "phi": block[:, 0, 2].astype(np.float32)}),
        "weight": np.full(n, total / max(n, 1)),
        "label": np.full(n, label, dtype=np.int8),
        "event_id": ids if ids is not None else np.arange(start, start + n, dtype=np.int64),
        "process": ak.from_numpy(np.full(n, process or path.stem)),
    }
    events = ak.Array(record)
    problems = schema_problems(events)
    if problems:  # pragma: no cover - guards the construction above
        raise EventFileError(f"{path}: " + "; ".join(problems))
    return events


def write_adc2021(events: ak.Array, path: str | Path) -> Path:
    """Write events in the ADC2021 layout (b-jets merged into jets, objects by descending pT, at most 4 e,
    4 mu, 10 jets; photons dropped), float64 as in the public files."""
    import h5py

    slots = adc2021_slots(events).astype(np.float64).reshape(len(events), 19, 3)
    classes = np.zeros((len(events), 19, 1))
    for _, first, count, cls in ADC2021_ROWS:
        classes[:, first:first + count, 0] = np.where(slots[:, first:first + count, 0] > 0, cls, 0)
    classes[:, 0, 0] = 1  # MET is always present
    path = Path(path)
    tmp = path.with_name(f".{path.name}.part")
    with h5py.File(tmp, "w") as f:
        f.create_dataset("Particles", data=np.concatenate([slots, classes], axis=2), compression="gzip")
        f.create_dataset("Particles_Names", data=[b"Pt", b"Eta", b"Phi", b"Class"])
        f.create_dataset("Particles_Classes",
                         data=[b"MET_class_1", b"Four_Ele_class_2", b"Four_Mu_class_3", b"Ten_Jet_class_4"])
    tmp.replace(path)
    return path
