"""The event contract (SPEC section 1): one record per event, objects sorted by descending pT."""

from __future__ import annotations

import awkward as ak
import numpy as np

__all__ = [
    "OBJECT_FIELDS",
    "LEPTON_FIELDS",
    "COLLECTIONS",
    "LEPTON_COLLECTIONS",
    "EVENT_FIELDS",
    "FATJET_FIELDS",
    "CONSTITUENT_FIELDS",
    "FATJET_OPTIONAL_FIELDS",
    "schema_problems",
    "empty_events",
]

OBJECT_FIELDS: dict[str, str] = {"pt": "float32", "eta": "float32", "phi": "float32", "mass": "float32"}
LEPTON_FIELDS: dict[str, str] = {**OBJECT_FIELDS, "charge": "int8"}
COLLECTIONS = ("jets", "bjets", "muons", "electrons", "photons")
LEPTON_COLLECTIONS = ("muons", "electrons")
MET_FIELDS: dict[str, str] = {"pt": "float32", "phi": "float32"}
SCALAR_FIELDS: dict[str, str] = {"weight": "float64", "label": "int8", "event_id": "int64"}
EVENT_FIELDS = (*COLLECTIONS, "met", *SCALAR_FIELDS, "process")
# Optional: large-R jets with N-subjettiness (normalised measure, beta = 1, exclusive-kt axes), and, where the
# preset stores them, their leading constituents.
FATJET_FIELDS: dict[str, str] = {**OBJECT_FIELDS, "tau1": "float32", "tau2": "float32", "tau3": "float32"}
CONSTITUENT_FIELDS: dict[str, str] = {"pt": "float32", "eta": "float32", "phi": "float32"}
# Optional per large-R jet, checked when present: D2 (beta = 1) and the number of weakly decaying b hadrons within
# R of the axis (simulation truth, for a parametric double-b tag).
FATJET_OPTIONAL_FIELDS: dict[str, str] = {"d2": "float32", "n_b": "int8"}


def _record_problems(rtype, expected: dict[str, str], where: str) -> list[str]:
    if not isinstance(rtype, ak.types.RecordType):
        return [f"{where} should be a record of {sorted(expected)}, found {rtype}"]
    problems = []
    for name, dtype in expected.items():
        if name not in rtype.fields:
            problems.append(f"{where} has no field '{name}'")
            continue
        ftype = rtype.content(name)
        if not (isinstance(ftype, ak.types.NumpyType) and ftype.primitive == dtype):
            problems.append(f"{where}.{name} should be {dtype}, found {ftype}")
    return problems


def schema_problems(events: ak.Array) -> list[str]:
    """Every way in which `events` departs from the event contract (empty list: it conforms)."""
    if not isinstance(events, ak.Array):
        return [f"expected an awkward Array, got {type(events).__name__}"]
    top = events.type.content
    if not isinstance(top, ak.types.RecordType):
        return [f"events should be records, found {top}"]
    problems = [f"missing field '{name}'" for name in EVENT_FIELDS if name not in top.fields]
    for name in COLLECTIONS:
        if name not in top.fields:
            continue
        ctype = top.content(name)
        if not isinstance(ctype, ak.types.ListType):
            problems.append(f"'{name}' should be a variable-length list, found {ctype}")
            continue
        expected = LEPTON_FIELDS if name in LEPTON_COLLECTIONS else OBJECT_FIELDS
        problems += _record_problems(ctype.content, expected, name)
    if "fatjets" in top.fields:
        problems += _fatjet_problems(top.content("fatjets"))
    if "met" in top.fields:
        problems += _record_problems(top.content("met"), MET_FIELDS, "met")
    for name, dtype in SCALAR_FIELDS.items():
        if name in top.fields:
            ftype = top.content(name)
            if not (isinstance(ftype, ak.types.NumpyType) and ftype.primitive == dtype):
                problems.append(f"'{name}' should be {dtype}, found {ftype}")
    if "process" in top.fields:
        ptype = top.content("process")
        if ptype.parameter("__array__") != "string":
            problems.append(f"'process' should be a string, found {ptype}")
    return problems


def _fatjet_problems(ctype) -> list[str]:
    if not isinstance(ctype, ak.types.ListType):
        return [f"'fatjets' should be a variable-length list, found {ctype}"]
    problems = _record_problems(ctype.content, FATJET_FIELDS, "fatjets")
    if isinstance(ctype.content, ak.types.RecordType):
        present = {k: v for k, v in FATJET_OPTIONAL_FIELDS.items() if k in ctype.content.fields}
        problems += _record_problems(ctype.content, present, "fatjets")
    if isinstance(ctype.content, ak.types.RecordType) and "constituents" in ctype.content.fields:
        inner = ctype.content.content("constituents")
        if not isinstance(inner, ak.types.ListType):
            return [*problems, f"'fatjets.constituents' should be a variable-length list, found {inner}"]
        problems += _record_problems(inner.content, CONSTITUENT_FIELDS, "fatjets.constituents")
    return problems


def _objects(n: int, *, leptons: bool) -> ak.Array:
    fields = LEPTON_FIELDS if leptons else OBJECT_FIELDS
    content = ak.zip({k: np.zeros(0, dtype=v) for k, v in fields.items()})
    return ak.unflatten(content, np.zeros(n, dtype=np.int64))


def empty_events(n: int = 0) -> ak.Array:
    """`n` events with no objects, MET = 0 and unit weight: a building block for tests and fixtures."""
    record = {c: _objects(n, leptons=c in LEPTON_COLLECTIONS) for c in COLLECTIONS}
    record["met"] = ak.zip({k: np.zeros(n, dtype=v) for k, v in MET_FIELDS.items()})
    record["weight"] = np.ones(n, dtype=np.float64)
    record["process"] = ak.from_numpy(np.full(n, "empty"))
    record["label"] = np.zeros(n, dtype=np.int8)
    record["event_id"] = np.arange(n, dtype=np.int64)
    return ak.zip(record, depth_limit=1)
