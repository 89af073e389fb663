"""Model files that never run code when opened: tensors plus JSON metadata in one torch file, read back with
`torch.load(weights_only=True)` (which refuses any pickled object other than tensors and plain containers).

Layout: {"format": "anomalyhunt-model", "version": 1, "estimator": class name, "meta": JSON text,
"tensors": {name: tensor}}. Written through a temporary name, so a killed job never leaves half a model.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from ..exceptions import ModelFileError

__all__ = ["FORMAT", "load_model_file", "save_model_file"]

FORMAT = "anomalyhunt-model"
VERSION = 1


def save_model_file(path: str | Path, *, estimator: str, meta: Mapping, tensors: Mapping[str, object]) -> Path:
    """Write one model file; `meta` must be JSON-serialisable, `tensors` tensors or NumPy arrays."""
    path = Path(path)
    payload = {"format": FORMAT, "version": VERSION, "estimator": estimator,
               "meta": json.dumps(dict(meta), default=_json_default),
               "tensors": {k: torch.as_tensor(np.asarray(v) if not isinstance(v, torch.Tensor) else v).cpu()
                           for k, v in tensors.items()}}
    tmp = path.with_name(f".{path.name}.part")
    try:
        torch.save(payload, tmp)
        tmp.replace(path)
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot write the model ({exc})") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a model file's metadata")


def load_model_file(path: str | Path, *, estimator: str) -> tuple[dict, dict[str, torch.Tensor]]:
    """(metadata, tensors) of a model file written for `estimator`, or one ModelFileError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - unpickling refusals, zip errors, truncation: all mean "not ours"
        # torch's own message advises turning the safety off: a user must never be told that, so it is not passed on
        if "GLOBAL" in str(exc) or "Unsupported global" in str(exc):
            raise ModelFileError(f"{path}: refused: the file holds Python objects other than tensors, and opening "
                                 "it could run code; only model files written by anomalyhunt are read") from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "weights_only" in str(exc) or isinstance(exc, pickle.UnpicklingError):
            first = "corrupt or not a torch file"
        raise ModelFileError(f"{path}: not a readable anomalyhunt model file ({first[:200]})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not an anomalyhunt model file (a torch file of another layout)")
    if payload.get("version") != VERSION:
        raise ModelFileError(f"{path}: model file version {payload.get('version')!r}; this anomalyhunt reads "
                             f"version {VERSION}")
    if payload.get("estimator") != estimator:
        raise ModelFileError(f"{path}: holds a {payload.get('estimator')} model, not a {estimator}")
    try:
        meta = json.loads(payload["meta"])
        tensors = dict(payload["tensors"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: damaged model metadata ({exc})") from None
    if not all(isinstance(t, torch.Tensor) for t in tensors.values()):
        raise ModelFileError(f"{path}: damaged model file (non-tensor weights)")
    return meta, tensors
