"""Detector metrics from anomaly scores: ROC, AUC, SIC, working points, sensitivity gain. Weighted."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import StatsInputError
from ..records import Readable

__all__ = ["RocCurve", "roc_curve", "auc", "sic_curve", "max_sic", "tpr_at_fpr", "rejection_at_efficiency",
           "sic_at_efficiency", "separation", "sensitivity_gain",
           "SensitivityGain"]


def _scores(background, signal, w_bkg, w_sig):
    background = np.asarray(background, dtype=np.float64)
    signal = np.asarray(signal, dtype=np.float64)
    if background.ndim != 1 or signal.ndim != 1 or not len(background) or not len(signal):
        raise StatsInputError("background and signal scores must be non-empty 1-D arrays")
    if not (np.all(np.isfinite(background)) and np.all(np.isfinite(signal))):
        raise StatsInputError("scores must be finite (found NaN or inf)")
    w_bkg = np.ones_like(background) if w_bkg is None else np.asarray(w_bkg, dtype=np.float64)
    w_sig = np.ones_like(signal) if w_sig is None else np.asarray(w_sig, dtype=np.float64)
    if w_bkg.shape != background.shape or w_sig.shape != signal.shape:
        raise StatsInputError("weights must match the scores in shape")
    if np.any(w_bkg < 0) or np.any(w_sig < 0):
        raise StatsInputError("weights must be non-negative")
    return background, signal, w_bkg, w_sig


@dataclass(frozen=True, repr=False)
class RocCurve(Readable):
    """Background (fpr) and signal (tpr) efficiencies above each threshold, thresholds descending."""

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray


def roc_curve(background, signal, *, weights_background=None, weights_signal=None) -> RocCurve:
    """Efficiencies of `score >= threshold` (higher score = more anomalous) over all distinct thresholds."""
    background, signal, wb, ws = _scores(background, signal, weights_background, weights_signal)
    scores = np.concatenate([background, signal])
    is_sig = np.concatenate([np.zeros(len(background)), np.ones(len(signal))])
    w = np.concatenate([wb, ws])
    order = np.argsort(-scores, kind="mergesort")
    scores, is_sig, w = scores[order], is_sig[order], w[order]
    last = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]  # last index of each distinct score
    tps = np.cumsum(w * is_sig)[last]
    fps = np.cumsum(w * (1 - is_sig))[last]
    tpr = np.r_[0.0, tps / max(ws.sum(), 1e-300)]
    fpr = np.r_[0.0, fps / max(wb.sum(), 1e-300)]
    return RocCurve(fpr=fpr, tpr=tpr, thresholds=np.r_[np.inf, scores[last]])


def auc(background, signal, *, weights_background=None, weights_signal=None) -> float:
    """Area under the ROC curve (trapezoids; ties count one half, as scikit-learn does)."""
    curve = roc_curve(background, signal, weights_background=weights_background, weights_signal=weights_signal)
    return float(np.trapezoid(curve.tpr, curve.fpr))


def sic_curve(curve: RocCurve, *, min_fpr: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(tpr, SIC = tpr / sqrt(fpr)) where fpr > min_fpr (SIC is undefined at fpr = 0)."""
    ok = curve.fpr > max(min_fpr, 0.0)
    return curve.tpr[ok], curve.tpr[ok] / np.sqrt(curve.fpr[ok])


def max_sic(background, signal, *, weights_background=None, weights_signal=None, min_fpr: float | None = None) -> float:
    """Largest SIC, ignoring background efficiencies below `min_fpr` (default: 10 background events' worth,
    10 / n_background, so a lone fluctuation in the tail cannot set it)."""
    curve = roc_curve(background, signal, weights_background=weights_background, weights_signal=weights_signal)
    floor = 10.0 / len(np.asarray(background)) if min_fpr is None else min_fpr
    _, sic = sic_curve(curve, min_fpr=floor)
    return float(sic.max()) if sic.size else 0.0


def tpr_at_fpr(background, signal, fpr: float, **weights) -> float:
    """Signal efficiency at a background efficiency (linear interpolation on the ROC curve)."""
    if not 0 < fpr <= 1:
        raise StatsInputError(f"fpr must be in (0, 1], got {fpr}")
    curve = roc_curve(background, signal, **weights)
    return float(np.interp(fpr, curve.fpr, curve.tpr))


def rejection_at_efficiency(background, signal, efficiency: float = 0.5, **weights) -> float:
    """Background rejection 1/fpr at a signal efficiency."""
    if not 0 < efficiency <= 1:
        raise StatsInputError(f"efficiency must be in (0, 1], got {efficiency}")
    curve = roc_curve(background, signal, **weights)
    fpr = float(np.interp(efficiency, curve.tpr, curve.fpr))
    return float(1.0 / fpr) if fpr > 0 else float("inf")


def sic_at_efficiency(background, signal, efficiency: float = 0.5, **weights) -> float:
    """SIC = eps_s / sqrt(eps_b) at the signal efficiency `efficiency` (the ROC interpolated)."""
    return float(efficiency * np.sqrt(rejection_at_efficiency(background, signal, efficiency, **weights)))


def separation(background, signal, *, efficiency: float = 0.5, weights_background=None, weights_signal=None,
               min_fpr: float | None = None) -> dict[str, float]:
    """The figures of a detector comparison from one ROC curve: AUC, background rejection 1/eps_b and SIC at the
    signal efficiency `efficiency`, and max SIC (with `max_sic`'s floor)."""
    if not 0 < efficiency <= 1:
        raise StatsInputError(f"efficiency must be in (0, 1], got {efficiency}")
    curve = roc_curve(background, signal, weights_background=weights_background, weights_signal=weights_signal)
    fpr = float(np.interp(efficiency, curve.tpr, curve.fpr))
    rejection = float(1.0 / fpr) if fpr > 0 else float("inf")
    floor = 10.0 / len(np.asarray(background)) if min_fpr is None else min_fpr
    _, sic = sic_curve(curve, min_fpr=floor)
    return {"auc": float(np.trapezoid(curve.tpr, curve.fpr)), "rejection": rejection,
            "sic": float(efficiency * np.sqrt(rejection)), "max_sic": float(sic.max()) if sic.size else 0.0}


@dataclass(frozen=True, repr=False)
class SensitivityGain(Readable):
    """S/sqrt(B) counted within mass +- sigma, before and after a selection, and their ratio."""

    s_before: float
    b_before: float
    s_after: float
    b_after: float
    significance_before: float
    significance_after: float
    gain: float


def sensitivity_gain(mass_background, mass_signal, *, selected_background, selected_signal, mass: float,
                     sigma: float, weights_background=None, weights_signal=None) -> SensitivityGain:
    """S/sqrt(B) within [mass - sigma, mass + sigma] without and with a cut (boolean masks `selected_*`)."""
    mb, ms, wb, ws = _scores(mass_background, mass_signal, weights_background, weights_signal)
    in_b = (np.abs(mb - mass) <= sigma)
    in_s = (np.abs(ms - mass) <= sigma)
    sel_b = np.asarray(selected_background, dtype=bool)
    sel_s = np.asarray(selected_signal, dtype=bool)
    s0, b0 = float(ws[in_s].sum()), float(wb[in_b].sum())
    s1, b1 = float(ws[in_s & sel_s].sum()), float(wb[in_b & sel_b].sum())
    z0 = s0 / np.sqrt(b0) if b0 > 0 else 0.0
    z1 = s1 / np.sqrt(b1) if b1 > 0 else 0.0
    return SensitivityGain(s0, b0, s1, b1, z0, z1, z1 / z0 if z0 > 0 else float("nan"))
