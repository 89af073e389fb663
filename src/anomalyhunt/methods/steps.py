"""Steps every search shares: keeping a fitted detector (or saying why it is not kept) and recording what its
training did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..events.io import atomic_write_text
from ..exceptions import FitError
from ..models import Estimator

__all__ = ["finite_scores", "save_detector", "training_record"]


def save_detector(model: Estimator, path: Path) -> str:
    """Save a fitted detector to `path` when it can be saved safely; otherwise write `path` with suffix .json
    saying why it was not (a user's imported detector: we never pickle). Returns the file name written."""
    path = Path(path)
    if getattr(model, "saves_model", True):
        return model.save(path).name
    note = path.with_suffix(".json")
    atomic_write_text(note, json.dumps({"saved": False, "detector": repr(model)[:500],
                                        "why": "a user's detector cannot be saved without pickling, which "
                                               "anomalyhunt never does; its per-event scores are kept instead"},
                                       indent=2))
    return note.name


def training_record(model: Estimator, n_events: int, n_inputs: int) -> dict[str, Any]:
    """What training did: events; epochs, best epoch, time and device for a network with a history; the inputs
    it used; whether the event weights reached the loss."""
    h = getattr(model, "history_", None)
    record: dict[str, Any] = {"events": n_events}
    if h is not None:
        record |= {"epochs": len(h.train_loss), "best_epoch": h.best_epoch, "seconds_per_epoch": h.seconds_per_epoch,
                   "device": h.device}
    columns = getattr(model, "columns_", None)
    record["inputs"] = int(len(columns)) if columns is not None else int(n_inputs)
    used = getattr(model, "weights_used_", None)  # set by adapters of a user's detector
    record["weights"] = ("event weights in the loss" if used is None else
                         "event weights passed to its fit (sample_weight)" if used else
                         "event weights not used (the detector's fit takes none)")
    return record


def finite_scores(scores: np.ndarray, detector: str) -> np.ndarray:
    """`scores`, or a FitError naming the detector when some are NaN or infinite (a training that diverged),
    before any statistic is computed from them."""
    bad = ~np.isfinite(np.asarray(scores, dtype=np.float64))
    if bad.any():
        raise FitError(f"the detector {detector} gave {int(bad.sum())} non-finite scores of {bad.size}: its training "
                       "diverged (lower its learning_rate, or check its inputs)")
    return scores
