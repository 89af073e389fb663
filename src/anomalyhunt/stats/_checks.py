"""Validation of histograms and score arrays shared by the statistics functions."""

from __future__ import annotations

import numpy as np

from ..exceptions import StatsInputError


def histogram(counts, edges, *, allow_empty: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Counts and edges as float arrays, or a StatsInputError saying what is wrong."""
    counts = np.asarray(counts, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.float64)
    if counts.ndim != 1 or edges.ndim != 1:
        raise StatsInputError(f"counts and edges must be 1-D, got shapes {counts.shape} and {edges.shape}")
    if len(edges) != len(counts) + 1:
        raise StatsInputError(f"{len(counts)} bins need {len(counts) + 1} edges, got {len(edges)}")
    if not (np.all(np.isfinite(counts)) and np.all(np.isfinite(edges))):
        raise StatsInputError("counts and edges must be finite (found NaN or inf)")
    if np.any(counts < 0):
        raise StatsInputError(f"counts must be non-negative, found {counts.min():g}")
    if np.any(np.diff(edges) <= 0):
        raise StatsInputError("edges must be strictly increasing")
    if not allow_empty and counts.sum() <= 0:
        raise StatsInputError("the histogram is empty")
    return counts, edges


def finite_1d(values, name: str) -> np.ndarray:
    """`values` as a non-empty 1-D float array of finite numbers, or a StatsInputError naming `name`."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise StatsInputError(f"{name} must be a non-empty 1-D array, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise StatsInputError(f"{name} must be finite (found NaN or inf)")
    return values
