"""95% CL upper limits on a Gaussian signal over a fitted background: CLs with asymptotic formulae
(Cowan, Cranmer, Gross, Vitells 2011), background fixed to its fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from ..exceptions import StatsInputError
from ._checks import histogram
from .bumphunt import local_scan, signal_templates
from .dijet import DijetFitResult, dijet_fit

__all__ = ["LimitResult", "upper_limits", "cross_section_limit"]


@dataclass(frozen=True)
class LimitResult:
    """Upper limits on signal events per scanned mass: observed, expected median and +-1, +-2 sigma bands."""

    masses: np.ndarray
    width: str
    observed: np.ndarray
    expected: np.ndarray
    band_1sigma: np.ndarray  # (M, 2)
    band_2sigma: np.ndarray
    cl: float


def _nll(n, b, t, s):
    mu = b + s * t
    return float(np.sum(mu - np.where(n > 0, n * np.log(mu), 0.0)))


def _q_mu(n, b, t, s_hat, mu):
    """q~_mu for upper limits (0 when s_hat > mu; s_hat >= 0 by construction)."""
    if s_hat >= mu:
        return 0.0
    return max(2.0 * (_nll(n, b, t, mu) - _nll(n, b, t, s_hat)), 0.0)


def upper_limits(counts, edges, *, width="resolution", cl: float = 0.95, fit: DijetFitResult | None = None,
                 n_params: int | str = "auto") -> LimitResult:
    """CLs upper limits on the number of signal events of a Gaussian at every scanned mass."""
    counts, edges = histogram(counts, edges)
    if not 0 < cl < 1:
        raise StatsInputError(f"cl must be in (0, 1), got {cl}")
    fit = fit or dijet_fit(counts, edges, n_params=n_params)
    b = np.maximum(fit.expected, 1e-12)
    templates = signal_templates(edges, widths=(width,))
    s_hat, _ = local_scan(counts[None], b[None], templates, iterations=20)
    alpha = 1 - cl
    observed, expected, band1, band2 = [], [], [], []
    for k in range(len(templates.masses)):
        t = np.zeros(len(b))
        t[templates.index[k]] += templates.fraction[k]
        obs, bands = _limit_at(counts, b, t, float(s_hat[0, k]), alpha)
        observed.append(obs)
        expected.append(bands[0])
        band1.append((bands[-1], bands[1]))
        band2.append((max(bands[-2], 0.0), bands[2]))
    label = width if isinstance(width, str) else f"{width:g}m"
    return LimitResult(templates.masses, label, np.array(observed), np.array(expected), np.array(band1),
                       np.array(band2), cl)


def _limit_at(counts, b, t, s_hat: float, alpha: float) -> tuple[float, dict]:
    """Observed CLs limit and expected limits at N = -2..2 sigma for one template t over background b."""
    scale = float(np.sqrt(np.sum(b * t) / np.sum(t * t))) + 1.0  # rough size of a limit, for brackets

    def cls(mu):
        q, qa = _q_mu(counts, b, t, s_hat, mu), _q_mu(b, b, t, 0.0, mu)
        p_mu = special.ndtr(-np.sqrt(q))
        one_minus_pb = special.ndtr(np.sqrt(qa) - np.sqrt(q))
        return p_mu / max(one_minus_pb, 1e-300) - alpha

    sigma_a = scale / np.sqrt(max(_q_mu(b, b, t, 0.0, scale), 1e-300))  # sigma of s_hat from Asimov data
    # expected limit at N sigma: mu_N = sigma_A (Phi^-1(1 - alpha Phi(N)) + N)
    bands = {n: float(sigma_a * (special.ndtri(1 - alpha * special.ndtr(n)) + n)) for n in (-2, -1, 0, 1, 2)}
    return _solve(cls, scale), bands


def _solve(func, scale: float) -> float:
    hi = scale
    for _ in range(60):
        if func(hi) < 0:
            break
        hi *= 2.0
    else:
        return float("inf")
    lo = 0.0 if func(0.0) > 0 else None
    if lo is None:
        return 0.0
    return float(optimize.brentq(func, lo, hi, xtol=1e-6 * scale))


def cross_section_limit(events_limit, *, luminosity_fb: float, efficiency: float = 1.0):
    """Signal-event limit -> limit on cross section x efficiency in pb."""
    if luminosity_fb <= 0 or not 0 < efficiency <= 1:
        raise StatsInputError(f"need luminosity_fb > 0 and 0 < efficiency <= 1, got {luminosity_fb}, {efficiency}")
    return np.asarray(events_limit, dtype=np.float64) / (luminosity_fb * 1000.0 * efficiency)

