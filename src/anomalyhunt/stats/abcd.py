"""ABCD background estimate on two (decorrelated) anomaly scores (Mikuni, Nachman & Shih)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import StatsInputError
from ..records import Readable

__all__ = ["ABCDResult", "TriggerEmulation", "abcd", "abcd_significance", "closure_scan", "emulate_trigger",
           "null_significances", "seed002_significance", "working_point"]


@dataclass(frozen=True, repr=False)
class ABCDResult(Readable):
    """Region counts (weighted) with '>' meaning above threshold: counts[(a, b)] for a, b in '<>'.

    observed = N(>,>), predicted = N(>,<) N(<,>) / N(<,<) with `predicted_error` its statistical error (sum of
    w^2 per control region, propagated), closure = observed / predicted with its error, `entry_weight` the
    weight of one effective event (sum w^2 / sum w over (>,<) and (<,>); 1 for counts). `significance` is
    `abcd_significance` with the statistical error only (no non-closure: see `abcd_significance`).
    """

    observed: float
    predicted: float
    closure: float
    closure_error: float
    predicted_error: float
    counts: dict
    significance: float
    thresholds: tuple[float, float]
    entry_weight: float = 1.0


def abcd_significance(observed: float, predicted: float, *, predicted_error: float = 0.0, entry_weight: float = 1.0,
                      closure: float = 1.0, closure_error: float = 0.0) -> float:
    """Signed significance of an ABCD excess, Z = (N - k B) / sqrt(r k B + (k sigma_B)^2 + (B sigma_k)^2).

    B +- sigma_B is the ABCD prediction with its statistical error (from the control regions), k +- sigma_k the
    non-closure measured where no signal is expected (N/B on background-only simulation at the same working
    point, or on a validation region): the prediction is corrected by k and its error enters. r k B is the
    variance of N under the background-only hypothesis, r the weight of one effective event (sum w^2 / sum w;
    1 for unweighted counts). Under the background-only hypothesis Z is ~N(0, 1) (tested on independent
    background-only datasets). Mikuni, Nachman & Shih used (N - B)/sqrt(N) (`seed002_significance`), which ignores every
    uncertainty of B and the non-closure.
    """
    expected = closure * predicted
    variance = entry_weight * expected + (closure * predicted_error) ** 2 + (predicted * closure_error) ** 2
    if not np.isfinite(variance) or variance <= 0:
        return 0.0
    return float((observed - expected) / np.sqrt(variance))


def seed002_significance(observed: float, predicted: float) -> float:
    """(N - B) / sqrt(N) if N > B else 0, as Mikuni, Nachman & Shih quotes it: no uncertainty of B, no non-closure.
    Kept for comparison only; `abcd_significance` is the calibrated statistic."""
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
    # weight of one effective event, from the two control regions next to the signal region (taken from the signal
    # region itself it would grow with an upward fluctuation of N and bias Z low)
    near = counts[(">", "<")] + counts[("<", ">")]
    entry_weight = (var[(">", "<")] + var[("<", ">")]) / near if near > 0 else float((w**2).sum() / w.sum())
    predicted_error = float(predicted * np.sqrt(rel2_pred))
    return ABCDResult(observed=d, predicted=predicted, closure=float(closure), closure_error=float(closure_error),
                      predicted_error=predicted_error, counts={"".join(k): v for k, v in counts.items()},
                      significance=abcd_significance(d, predicted, predicted_error=predicted_error,
                                                     entry_weight=entry_weight),
                      thresholds=(float(t1), float(t2)), entry_weight=float(entry_weight))


def null_significances(score1, score2, efficiency: float, *, n_splits: int = 200, rng=None,
                       weights=None, groups=None) -> np.ndarray:
    """ABCD significances of background-only scores over `n_splits` random halvings: each time one half plays
    the simulation (the non-closure k +- sigma_k is measured there), the other the data. The working point is
    the diagonal one of all events at `efficiency`, fixed once. Calibrated if the mean is ~0 and the standard
    deviation ~1 (the halvings reuse events, so this checks the statistic, not an independent ensemble).
    `groups` (one value per event): events sharing a value go to the same half, e.g. the entries made from one
    generated event."""
    s1 = np.asarray(score1, dtype=np.float64)
    s2 = np.asarray(score2, dtype=np.float64)
    w = np.ones_like(s1) if weights is None else np.asarray(weights, dtype=np.float64)
    if n_splits < 2:
        raise StatsInputError(f"n_splits must be at least 2, got {n_splits}")
    rng = np.random.default_rng(rng)
    if groups is None:
        inverse, n_groups = np.arange(len(s1)), len(s1)
    else:
        if len(groups) != len(s1):
            raise StatsInputError(f"groups has {len(groups)} entries for {len(s1)} events")
        unique, inverse = np.unique(np.asarray(groups), return_inverse=True)
        inverse, n_groups = inverse.reshape(-1), len(unique)
    t = working_point(s1, s2, efficiency, weights=w)
    out = np.empty(n_splits)
    for i in range(n_splits):
        sim = (rng.random(n_groups) < 0.5)[inverse]
        calib = abcd(s1[sim], s2[sim], thresholds=t, weights=w[sim])
        r = abcd(s1[~sim], s2[~sim], thresholds=t, weights=w[~sim])
        k, dk = (calib.closure, calib.closure_error) if np.isfinite(calib.closure) else (1.0, 1.0)
        out[i] = abcd_significance(r.observed, r.predicted, predicted_error=r.predicted_error,
                                   entry_weight=r.entry_weight, closure=k, closure_error=dk)
    return out


def _joint_efficiency(s1, s2, e1, e2, w):
    t1, t2 = np.quantile(s1, 1.0 - e1), np.quantile(s2, 1.0 - e2)
    return float(w[(s1 > t1) & (s2 > t2)].sum() / w.sum()), (float(t1), float(t2))


def working_point(score1, score2, efficiency: float, *, ratio: float = 1.0, weights=None,
                  iterations: int = 50, at_most: bool = False) -> tuple[float, float]:
    """Thresholds (t1, t2) on background scores such that the background efficiency of (>, >) is
    `efficiency`, with the per-score efficiencies in proportion e1 = ratio * e2.

    ratio = 1 is the "diagonal" cut of Mikuni, Nachman & Shih (the same background efficiency for each
    autoencoder); other ratios give the other working points with the same total efficiency used in the closure scan.

    Scores with ties (a fixed-point loss takes few distinct values) cannot reach every efficiency: the joint
    efficiency jumps past `efficiency`. By default the thresholds are the loosest step at or above it; with
    `at_most` the tightest step below it, as a trigger with a rate budget must choose (with continuous scores
    the two differ by about one event).
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
    joint, thresholds = _joint_efficiency(s1, s2, min(ratio * hi, 1.0), hi, w)
    if at_most and joint > efficiency:  # the step below: lo's joint efficiency is < efficiency
        return _joint_efficiency(s1, s2, min(ratio * lo, 1.0), lo, w)[1]
    return thresholds


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


@dataclass(frozen=True, repr=False)
class TriggerEmulation(Readable):
    """Online ABCD (Mikuni, Nachman & Shih section IV): every event of (>,>) is saved, each control region with a
    prescale.

    prescales: fraction kept per region ("<<", "><", "<>"; ">>" is 1); rate: saved / all events; predicted is
    the offline ABCD estimate from the prescaled control regions (each count divided by its prescale), with
    relative statistical error sqrt(1/n_A + 1/n_B + 1/n_C) on the saved counts; predicted_all is the same
    estimate from every control-region event (what an offline analysis of all data would get);
    signal_region_error = 1/sqrt(observed) for comparison; significance: `abcd_significance` with the prescaled
    prediction's statistical error (no non-closure).
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
        significance=abcd_significance(observed, predicted, predicted_error=float(predicted * rel)),
    )
