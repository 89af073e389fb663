"""p-values against sampled null distributions, limits from injection curves, and the asymptotic chi^2 of a
likelihood-ratio statistic (Krzyzanska & Nachman, NPLM). Arrays in, numbers out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from ..exceptions import StatsInputError
from ..records import Readable
from ._checks import finite_1d

__all__ = ["Chi2Fit", "InjectionLimit", "empirical_pvalue", "fit_chi2", "injection_limit", "ks_uniform"]


def empirical_pvalue(null, observed: float, *, larger_is_anomalous: bool = True) -> float:
    """(1 + #{null at least as extreme}) / (1 + n): the p-value of `observed` against sampled null values; never
    0, so that it stays a valid p-value with a finite null sample."""
    null = finite_1d(null, "null")
    extreme = null >= observed if larger_is_anomalous else null <= observed
    return float((1 + np.count_nonzero(extreme)) / (1 + null.size))


def ks_uniform(pvalues) -> float:
    """The Kolmogorov-Smirnov p-value of a sample of p-values against the uniform distribution on [0, 1]."""
    return float(stats.kstest(finite_1d(pvalues, "p-values"), "uniform").pvalue)


@dataclass(frozen=True, repr=False)
class InjectionLimit(Readable):
    """Where an injection curve crosses a threshold: the injected amount at which the median (and the 16%/84%
    curves) of a statistic reach the background-only band. None where a curve stays inside over the scanned
    range. `minus`/`plus` are distances below/above `median`. `at_most`: the median is beyond the band already at
    the lowest injected amount, so the limit is not measured, only bounded: at most `median` (the scan should
    start lower)."""

    median: float | None
    minus: float | None
    plus: float | None
    at_most: bool = False

    def scaled(self, factor: float) -> InjectionLimit:
        return InjectionLimit(*(None if v is None else v * factor for v in (self.median, self.minus, self.plus)),
                              at_most=self.at_most)

    def as_dict(self) -> dict:
        return {"median": self.median, "minus": self.minus, "plus": self.plus, "at_most": self.at_most}


def _crossing(levels: np.ndarray, curve: np.ndarray, threshold: float, up: bool) -> float | None:
    """The first level where `curve` reaches `threshold` (from below if up), linearly interpolated."""
    beyond = curve >= threshold if up else curve <= threshold
    hits = np.flatnonzero(beyond)
    if hits.size == 0:
        return None
    i = hits[0]
    if i == 0:
        return float(levels[0])
    x0, x1, y0, y1 = levels[i - 1], levels[i], curve[i - 1], curve[i]
    return float(x0 + (threshold - y0) * (x1 - x0) / (y1 - y0)) if y1 != y0 else float(x1)


def injection_limit(levels, values, threshold: float, *, larger_is_anomalous: bool = True) -> InjectionLimit:
    """The 95% limit of Krzyzanska & Nachman: the injected amount where the median over repeated injections (`values`,
    shape (n_levels, n_repeats)) first crosses `threshold` (the edge of the background-only 2 sigma band), with
    the 16% and 84% curves giving the band of the limit. Levels must increase and include none below 0; NaN
    values (failed repeats) are left out of the quantiles."""
    levels = np.asarray(levels, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if levels.ndim != 1 or values.shape[0] != levels.size or values.ndim != 2:
        raise StatsInputError(f"values must have shape ({levels.size}, n_repeats), got {values.shape}")
    if np.any(np.diff(levels) <= 0) or levels[0] < 0:
        raise StatsInputError("levels must be non-negative and increasing")
    if np.isnan(values).all(axis=1).any():
        raise StatsInputError("every repeat of some level is NaN")
    up = larger_is_anomalous
    q16, q50, q84 = np.nanpercentile(values, [16, 50, 84], axis=1)
    early, late = (q84, q16) if up else (q16, q84)  # the curve that crosses first and the one that crosses last
    median = _crossing(levels, q50, threshold, up)
    first, last = _crossing(levels, early, threshold, up), _crossing(levels, late, threshold, up)
    at_most = bool(q50[0] >= threshold if up else q50[0] <= threshold)
    return InjectionLimit(median,
                          None if median is None or first is None else median - first,
                          None if median is None or last is None else last - median, at_most=at_most)


@dataclass(frozen=True, repr=False)
class Chi2Fit(Readable):
    """A chi^2 with `dof` degrees of freedom fitted (maximum likelihood) to a sample of a statistic t; `ks_pvalue`
    is the Kolmogorov-Smirnov p-value of the sample against it (optimistic, the dof being fitted on it) and
    `n_nonpositive` the values t <= 0 left out of the fit."""

    dof: float
    dof_error: float
    ks_pvalue: float
    n: int
    n_nonpositive: int

    def pvalue(self, t) -> np.ndarray:
        return stats.chi2.sf(np.asarray(t, dtype=np.float64), self.dof)


def fit_chi2(t) -> Chi2Fit:
    """Fit the degrees of freedom of a chi^2 to the positive values of `t` by maximum likelihood."""
    t = finite_1d(t, "t")
    positive = t[t > 0]
    if positive.size < 5:
        raise StatsInputError(f"need at least 5 positive values to fit a chi^2, got {positive.size}")

    def nll(k: float) -> float:
        return -float(np.sum(stats.chi2.logpdf(positive, k)))

    hi = max(10.0, 4 * float(positive.mean()) + 10.0)
    dof = float(optimize.minimize_scalar(nll, bounds=(1e-3, hi), method="bounded").x)
    h = 1e-3 * max(dof, 1.0)  # the curvature of the log likelihood gives the error
    curvature = (nll(dof + h) - 2 * nll(dof) + nll(max(dof - h, 1e-6))) / h**2
    err = float(1 / np.sqrt(curvature)) if curvature > 0 else float("nan")
    ks = float(stats.kstest(positive, "chi2", args=(dof,)).pvalue)
    return Chi2Fit(dof, err, ks, int(positive.size), int(t.size - positive.size))
