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


def is_histogram_object(value) -> bool:
    """Whether `value` is a histogram object of the UHI protocol (hist.Hist, boost-histogram, uproot's TH1)."""
    return hasattr(value, "axes") and callable(getattr(value, "values", None))


def spectrum(counts, edges=None, variances=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(counts, edges, variances) from either `counts, edges` arrays or one 1-D histogram object (any UHI
    histogram: hist.Hist with a regular or variable axis and Double or Weight storage, uproot's TH1) given as
    `counts` with no `edges`. A weighted histogram's sum of squared weights becomes `variances` unless given;
    one whose variances equal its counts (unit weights, or Double storage) is read as counts."""
    if is_histogram_object(counts):
        if edges is not None:
            raise StatsInputError("give a histogram object alone, or counts and edges, not both")
        h = counts
        if len(h.axes) != 1:
            raise StatsInputError(f"a spectrum is a 1-D histogram, got {len(h.axes)} axes")
        values = np.asarray(h.values(), dtype=np.float64)
        axis = h.axes[0]
        edges = axis.edges() if callable(getattr(axis, "edges", None)) else getattr(axis, "edges", None)
        if edges is None:  # the plain UHI axis protocol: (low, high) per bin
            edges = [low for low, _ in axis] + [axis[len(axis) - 1][1]]
        edges = np.asarray(edges, dtype=np.float64)
        if variances is None and (stored := h.variances()) is not None:
            stored = np.asarray(stored, dtype=np.float64)
            if not np.allclose(stored, values):
                variances = stored
        counts = values
    elif edges is None:
        raise StatsInputError("edges are missing: give counts and edges, or one histogram object (hist.Hist)")
    counts, edges = histogram(counts, edges)
    return counts, edges, variances


def finite_1d(values, name: str) -> np.ndarray:
    """`values` as a non-empty 1-D float array of finite numbers, or a StatsInputError naming `name`."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise StatsInputError(f"{name} must be a non-empty 1-D array, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise StatsInputError(f"{name} must be finite (found NaN or inf)")
    return values
