"""ABCD background estimate on two (decorrelated) anomaly scores (seed 002)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import StatsInputError

__all__ = ["ABCDResult", "abcd", "abcd_significance"]


@dataclass(frozen=True)
class ABCDResult:
    """Region counts (weighted) with '>' meaning above threshold: counts[(a, b)] for a, b in '<>'.

    observed = N(>,>), predicted = N(>,<) N(<,>) / N(<,<), closure = observed / predicted with its
    statistical uncertainty (sum of w^2 per region, propagated), significance (N - B)/sqrt(N) if N > B else 0.
    """

    observed: float
    predicted: float
    closure: float
    closure_error: float
    predicted_error: float
    counts: dict
    significance: float
    thresholds: tuple[float, float]


def abcd_significance(observed: float, predicted: float) -> float:
    """(N - B) / sqrt(N) if N > B else 0 (seed 002)."""
    return float((observed - predicted) / np.sqrt(observed)) if observed > predicted and observed > 0 else 0.0


def abcd(score1, score2, *, thresholds: tuple[float, float], weights=None) -> ABCDResult:
    """The ABCD estimate for the signal region score1 > t1 and score2 > t2."""
    s1 = np.asarray(score1, dtype=np.float64)
    s2 = np.asarray(score2, dtype=np.float64)
    if s1.shape != s2.shape or s1.ndim != 1 or not len(s1):
        raise StatsInputError(f"the two scores must be 1-D of equal, non-zero length, got {s1.shape}, {s2.shape}")
    if not (np.all(np.isfinite(s1)) and np.all(np.isfinite(s2))):
        raise StatsInputError("scores must be finite")
    w = np.ones_like(s1) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != s1.shape:
        raise StatsInputError("weights must match the scores in shape")
    t1, t2 = thresholds
    above1, above2 = s1 > t1, s2 > t2
    regions = {(">", ">"): above1 & above2, (">", "<"): above1 & ~above2,
               ("<", ">"): ~above1 & above2, ("<", "<"): ~above1 & ~above2}
    counts = {k: float(w[m].sum()) for k, m in regions.items()}
    var = {k: float((w[m] ** 2).sum()) for k, m in regions.items()}
    a, b, c, d = counts[("<", "<")], counts[(">", "<")], counts[("<", ">")], counts[(">", ">")]
    if a <= 0:
        raise StatsInputError("the control region (<,<) is empty: choose lower thresholds")
    predicted = b * c / a
    rel2_pred = sum(var[k] / counts[k] ** 2 for k in (("<", "<"), (">", "<"), ("<", ">")) if counts[k] > 0)
    if predicted > 0 and d > 0:
        closure = d / predicted
        closure_error = closure * np.sqrt(rel2_pred + var[(">", ">")] / d**2)
    else:
        closure, closure_error = float("nan"), float("nan")
    return ABCDResult(observed=d, predicted=predicted, closure=float(closure), closure_error=float(closure_error),
                      predicted_error=float(predicted * np.sqrt(rel2_pred)),
                      counts={"".join(k): v for k, v in counts.items()},
                      significance=abcd_significance(d, predicted), thresholds=(float(t1), float(t2)))
