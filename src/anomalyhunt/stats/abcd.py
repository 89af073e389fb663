"""ABCD background estimate on two (decorrelated) anomaly scores (seed 002)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import StatsInputError

__all__ = ["ABCDResult", "TriggerEmulation", "abcd", "abcd_significance", "closure_scan", "emulate_trigger",
           "working_point"]


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


def _joint_efficiency(s1, s2, e1, e2, w):
    t1, t2 = np.quantile(s1, 1.0 - e1), np.quantile(s2, 1.0 - e2)
    return float(w[(s1 > t1) & (s2 > t2)].sum() / w.sum()), (float(t1), float(t2))


def working_point(score1, score2, efficiency: float, *, ratio: float = 1.0, weights=None,
                  iterations: int = 50) -> tuple[float, float]:
    """Thresholds (t1, t2) on background scores such that the background efficiency of (>, >) is
    `efficiency`, with the per-score efficiencies in proportion e1 = ratio * e2.

    ratio = 1 is the "diagonal" cut of seed 002 (the same background efficiency for each autoencoder); other
    ratios give the other working points with the same total efficiency used in the closure scan.
    """
    s1 = np.asarray(score1, dtype=np.float64)
    s2 = np.asarray(score2, dtype=np.float64)
    if s1.shape != s2.shape or s1.ndim != 1 or len(s1) < 2:
        raise StatsInputError("the two scores must be 1-D of equal length (>= 2)")
    if not 0 < efficiency < 1 or ratio <= 0:
        raise StatsInputError(f"need 0 < efficiency < 1 and ratio > 0, got {efficiency}, {ratio}")
    w = np.ones_like(s1) if weights is None else np.asarray(weights, dtype=np.float64)
    # e2 in [efficiency, min(1, 1/ratio)]: the joint efficiency grows with e2 from <= efficiency upwards
    lo, hi = efficiency / max(ratio, 1.0), min(1.0, 1.0 / ratio)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        joint, _ = _joint_efficiency(s1, s2, min(ratio * mid, 1.0), mid, w)
        lo, hi = (mid, hi) if joint < efficiency else (lo, mid)
    return _joint_efficiency(s1, s2, min(ratio * hi, 1.0), hi, w)[1]


def closure_scan(score1, score2, efficiencies, *, ratios=(0.5, 1.0, 2.0), weights=None) -> list[dict]:
    """ABCD closure on (background-only) scores over working points: for each background efficiency and
    each per-score efficiency ratio, {efficiency, ratio, thresholds, closure, error, observed, predicted}."""
    rows = []
    for eff in efficiencies:
        for ratio in ratios:
            t = working_point(score1, score2, eff, ratio=ratio, weights=weights)
            r = abcd(score1, score2, thresholds=t, weights=weights)
            rows.append({"efficiency": float(eff), "split": float(ratio), "thresholds": list(r.thresholds),
                         "ratio": r.closure, "error": r.closure_error, "observed": r.observed,
                         "predicted": r.predicted})
    return rows


@dataclass(frozen=True)
class TriggerEmulation:
    """Online ABCD (seed 002 section IV): every event of (>,>) is saved, each control region with a prescale.

    prescales: fraction kept per region ("<<", "><", "<>"; ">>" is 1); rate: saved / all events; predicted is
    the offline ABCD estimate from the prescaled control regions (each count divided by its prescale), with
    relative statistical error sqrt(1/n_A + 1/n_B + 1/n_C) on the saved counts; predicted_all is the same
    estimate from every control-region event (what an offline analysis of all data would get);
    signal_region_error = 1/sqrt(observed) for comparison.
    """

    thresholds: tuple[float, float]
    prescales: dict
    saved: dict
    rate: float
    observed: float
    predicted: float
    predicted_error: float
    predicted_all: float
    signal_region_error: float
    significance: float


def emulate_trigger(score1, score2, thresholds: tuple[float, float], *, events_per_control: float,
                    rng: np.random.Generator | int | None = None) -> TriggerEmulation:
    """Prescale each control region so that it saves about `events_per_control` events on average.

    With a signal-region background efficiency epsilon on N events, events_per_control = epsilon N makes the
    trigger rate about 4 epsilon; k epsilon N buys a prediction error about sqrt(3/k) times the signal
    region's own statistical error.
    """
    s1 = np.asarray(score1, dtype=np.float64)
    s2 = np.asarray(score2, dtype=np.float64)
    if s1.shape != s2.shape or s1.ndim != 1 or not len(s1):
        raise StatsInputError("the two scores must be 1-D of equal, non-zero length")
    if events_per_control <= 0:
        raise StatsInputError(f"events_per_control must be positive, got {events_per_control}")
    rng = np.random.default_rng(rng)
    t1, t2 = thresholds
    above1, above2 = s1 > t1, s2 > t2
    regions = {">>": above1 & above2, "><": above1 & ~above2, "<>": ~above1 & above2, "<<": ~above1 & ~above2}
    prescales, saved = {">>": 1.0}, {">>": float(regions[">>"].sum())}
    for name in ("<<", "><", "<>"):
        n = int(regions[name].sum())
        p = min(1.0, events_per_control / n) if n else 1.0
        prescales[name] = p
        saved[name] = float(rng.binomial(n, p))
    if min(saved["<<"], saved["><"], saved["<>"]) <= 0:
        raise StatsInputError("a prescaled control region saved no event: raise events_per_control")
    estimate = {k: saved[k] / prescales[k] for k in ("<<", "><", "<>")}
    predicted = estimate["><"] * estimate["<>"] / estimate["<<"]
    rel = np.sqrt(sum(1.0 / saved[k] for k in ("<<", "><", "<>")))
    all_counts = {k: float(m.sum()) for k, m in regions.items()}
    observed = saved[">>"]
    return TriggerEmulation(
        thresholds=(float(t1), float(t2)), prescales=prescales, saved=saved,
        rate=float(sum(saved.values()) / len(s1)), observed=observed, predicted=float(predicted),
        predicted_error=float(predicted * rel),
        predicted_all=float(all_counts["><"] * all_counts["<>"] / all_counts["<<"]),
        signal_region_error=float(1.0 / np.sqrt(observed)) if observed > 0 else float("inf"),
        significance=abcd_significance(observed, predicted),
    )
