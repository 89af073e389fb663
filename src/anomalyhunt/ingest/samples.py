"""Loading several datasets as one "data" sample (weights of repeated processes merged), unweighting, and the
per-sample summary that `anomalyhunt info` prints."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from ..events import io as event_io
from ..exceptions import EventFileError
from .reading import read

__all__ = ["SampleSummary", "dataset_summary", "load_samples", "unweight"]


def _n_generated(path: str) -> int | None:
    try:
        return int(event_io.read_manifest(path)["n_generated"])
    except (EventFileError, KeyError, TypeError, ValueError):
        return None


def load_samples(paths: tuple[str, ...] | list[str], *, allow_incomplete: bool = False
                 ) -> tuple[ak.Array, np.ndarray]:
    """Concatenated events of every dataset and their `process` strings as an object array.

    Each dataset's weights sum to its process's selected cross section. When one process comes in several
    datasets (two seeds of W -> l nu, say), each dataset's weights are scaled by its share of the generated
    events, n_i / sum n, so that the process still sums to its cross section instead of a multiple of it.
    Datasets without a manifest (single files) count their selected events instead.
    """
    parts = [read(path, allow_incomplete=allow_incomplete) for path in paths]
    procs = [np.asarray(ev.process.to_list() if len(ev) else [], dtype=object) for ev in parts]
    repeated = Counter(name for proc in procs for name in set(proc))
    if any(count > 1 for count in repeated.values()):
        sizes = [_n_generated(p) if Path(p).is_dir() else None for p in paths]
        sizes = [n if n is not None else len(ev) for n, ev in zip(sizes, parts, strict=True)]
        for name, count in repeated.items():
            if count < 2:
                continue
            holders = [i for i, proc in enumerate(procs) if name in set(proc)]
            total = sum(sizes[i] for i in holders)
            for i in holders:
                scale = np.where(procs[i] == name, sizes[i] / total, 1.0)
                parts[i] = ak.with_field(parts[i], np.asarray(parts[i].weight) * scale, "weight")
    events = ak.concatenate(parts) if len(parts) > 1 else parts[0]
    return events, np.concatenate(procs) if procs else np.zeros(0, dtype=object)


def unweight(weight: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Accept-reject unweighting: keep event i with probability w_i / max(w); returns the kept mask."""
    weight = np.asarray(weight, dtype=np.float64)
    if not len(weight):
        return np.zeros(0, dtype=bool)
    return rng.random(len(weight)) < weight / weight.max()


@dataclass(frozen=True)
class SampleSummary:
    """One process in a file or dataset: events, summed weight (pb) and the fraction of negative weights."""

    process: str
    n_events: int
    cross_section_pb: float
    negative_weight_fraction: float
    normalisation: str = ""  # how the weights were set when they are not a cross section ("" when they are)


def _normalisation(path: str) -> str:
    """What the weights of an imported dataset mean when the import was given no cross section."""
    folder = Path(path)
    if not (folder / event_io.MANIFEST).is_file():
        return ""
    manifest = event_io.read_manifest(folder)
    if str(manifest.get("generator", "")).startswith("import:") and manifest.get("sigma_pb") is None:
        return "no cross section given at import: weights normalised to 1 pb, shapes only"
    return ""


def dataset_summary(path: str) -> tuple[tuple[int, int] | None, list[SampleSummary]]:
    """(incompleteness, per-process summaries) of a file or dataset; incompleteness is (chunks done, chunks
    planned) for a dataset whose generation did not finish, else None. Incomplete datasets are read anyway."""
    status = event_io.completeness(path)
    data = read(path, allow_incomplete=True)
    process = np.asarray(data.process.to_list() if len(data) else [], dtype=object)
    weights = np.asarray(data.weight, dtype=np.float64)
    out = []
    normalisation = _normalisation(path)
    for name in sorted(set(process)):
        sel = process == name
        out.append(SampleSummary(str(name), int(sel.sum()), float(weights[sel].sum()),
                                 float(np.mean(weights[sel] < 0)), normalisation))
    return status, out
