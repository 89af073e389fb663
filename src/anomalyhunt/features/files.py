"""Reading back the feature files that `anomalyhunt features` writes (.npy + .json sidecar).

The one piece of file reading in `features/`: it lets a method take precomputed inputs instead of computing them,
and checks that they are the features it needs, of the events it reads, before any training starts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..exceptions import EventFileError
from .spec import FeatureSpec

__all__ = ["load_feature_file"]


def load_feature_file(path: str | os.PathLike, *, spec: FeatureSpec | None = None,
                      source_files: list[Path] | None = None) -> tuple[np.ndarray, FeatureSpec]:
    """The (memory-mapped) feature array of `path` and what it holds.

    With `spec`, the file must hold those features (kind, preset, columns); with `source_files`, it must have been
    computed from exactly those event files. Either mismatch is an EventFileError naming the file.
    """
    path = Path(path)
    sidecar = path.with_suffix(".json")
    try:
        meta = json.loads(sidecar.read_text())
        stored = FeatureSpec.from_dict(meta["spec"])
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError as exc:
        raise EventFileError(f"{path}: feature file or its sidecar {sidecar.name} is missing ({exc.filename})") \
            from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EventFileError(f"{path}: not a readable anomalyhunt feature file ({type(exc).__name__}: {exc})") \
            from None
    if spec is not None and (why := spec.mismatch(stored)):
        raise EventFileError(f"{path}: holds other features than this run needs: {why.replace('trained on', 'needs')}")
    if source_files is not None:
        wanted = [str(Path(f).resolve()) for f in source_files]
        if list(meta.get("files", [])) != wanted:
            stored = list(meta.get("files", []))
            differ = next((f"{a} instead of {b}" for a, b in zip(stored, wanted, strict=False) if a != b),
                          f"{len(stored)} files instead of {len(wanted)}")
            raise EventFileError(f"{path}: computed from other event files than the sample it stands for ({differ})")
    if len(array) != int(np.sum(meta.get("events_per_file", [len(array)]))):
        raise EventFileError(f"{path}: holds {len(array)} events, its sidecar says {sum(meta['events_per_file'])}")
    return array, stored
