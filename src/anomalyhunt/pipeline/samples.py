"""Loading several datasets as one "data" sample, with the weights of repeated processes merged."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import awkward as ak
import numpy as np

from .. import events as event_io
from ..exceptions import EventFileError

__all__ = ["load_samples"]


def _n_generated(path: str) -> int | None:
    try:
        return int(event_io.read_manifest(path)["n_generated"])
    except (EventFileError, KeyError, TypeError, ValueError):
        return None


def load_samples(paths: tuple[str, ...] | list[str]) -> tuple[ak.Array, np.ndarray]:
    """Concatenated events of every dataset and their `process` strings as an object array.

    Each dataset's weights sum to its process's selected cross section. When one process comes in several
    datasets (two seeds of W -> l nu, say), each dataset's weights are scaled by its share of the generated
    events, n_i / sum n, so that the process still sums to its cross section instead of a multiple of it.
    Datasets without a manifest (single files) count their selected events instead.
    """
    parts = [event_io.read(path) for path in paths]
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
