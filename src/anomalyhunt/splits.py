"""Train/test splits that keep the entries of one generated event together (the hypotheses of one four-lepton
event, the jets of one dijet event), so that nothing of an event seen in training is scored as unseen."""

from __future__ import annotations

import numpy as np

__all__ = ["group_split"]


def group_split(groups: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """A random mask holding about `fraction` of the entries, taken a whole group at a time: entries with the
    same `groups` value all land on one side. With every group of one entry it is an ordinary random split; the
    mask holds at most round(fraction x n) entries."""
    groups = np.asarray(groups)
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    unique, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    order = rng.permutation(len(unique))
    n_groups = int(np.searchsorted(np.cumsum(counts[order]), round(fraction * len(groups)), side="right"))
    chosen = np.zeros(len(unique), dtype=bool)
    chosen[order[:n_groups]] = True
    return chosen[inverse.reshape(-1)]
