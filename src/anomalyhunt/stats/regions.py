"""Anomaly regions: score thresholds at fixed visible cross section or fixed efficiency (ATLAS)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import StatsInputError
from ..records import Readable

__all__ = ["AnomalyRegion", "regions_by_cross_section", "region_by_efficiency"]


@dataclass(frozen=True, repr=False)
class AnomalyRegion(Readable):
    """Events with score >= threshold; `cross_section_pb` is the selected sum of weights (x scale)."""

    name: str
    threshold: float
    cross_section_pb: float
    efficiency: float


def _sorted(scores, weights):
    scores = np.asarray(scores, dtype=np.float64)
    weights = np.ones_like(scores) if weights is None else np.asarray(weights, dtype=np.float64)
    if scores.shape != weights.shape or scores.ndim != 1 or not len(scores):
        raise StatsInputError("scores and weights must be non-empty 1-D arrays of equal length")
    order = np.argsort(-scores, kind="mergesort")
    return scores[order], np.cumsum(weights[order]), float(weights.sum())


def regions_by_cross_section(scores, weights, *, targets_pb=(10.0, 1.0, 0.1), scale: float = 1.0
                             ) -> list[AnomalyRegion]:
    """Thresholds whose selected visible cross section (scale x sum of weights above) reaches each target.

    `scale` corrects for a subsample (1 / fraction of the data that was scored). A target above the total
    gives the whole sample.
    """
    s, cum, total = _sorted(scores, weights)
    out = []
    for target in targets_pb:
        if target <= 0:
            raise StatsInputError(f"target cross sections must be positive, got {target}")
        k = int(np.searchsorted(cum * scale, target))
        k = min(k, len(s) - 1)
        out.append(AnomalyRegion(f"{target:g}pb", float(s[k]), float(cum[k] * scale), float(cum[k] / total)))
    return out


def region_by_efficiency(scores, weights, efficiency: float) -> AnomalyRegion:
    """Threshold that keeps the given (weighted) fraction of events."""
    if not 0 < efficiency <= 1:
        raise StatsInputError(f"efficiency must be in (0, 1], got {efficiency}")
    s, cum, total = _sorted(scores, weights)
    k = min(int(np.searchsorted(cum, efficiency * total)), len(s) - 1)
    return AnomalyRegion(f"eff{efficiency:g}", float(s[k]), float(cum[k]), float(cum[k] / total))
