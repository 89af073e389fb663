"""Sculpting check (Chekanov & Hopkins fig. 3): does a spectrum after an anomaly selection show structure beyond
statistical fluctuations around a smooth dijet fit?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from ..records import Readable
from ._checks import spectrum
from .bumphunt import bump_hunt
from .dijet import DijetFitResult, dijet_fit

__all__ = ["SculptingResult", "sculpting_check"]


@dataclass(frozen=True, repr=False)
class SculptingResult(Readable):
    """Goodness of fit and largest local excess of a smooth fit; `smooth` is the verdict.

    max_pull_p: probability that the largest |pull| over n bins is at least the observed one for Gaussian
    pulls; smooth = chi2 p-value > alpha and max_pull_p > alpha and the bump hunt's global p-value > alpha.
    For weighted simulation (variances given) there are no Poisson toys: the bump-hunt fields are NaN and the
    verdict rests on the chi-square and the largest pull.
    """

    chi2_ndf: float
    chi2_p_value: float
    max_abs_pull: float
    max_pull_p: float
    bump_z_local: float
    bump_p_global: float
    smooth: bool
    fit: DijetFitResult


def sculpting_check(counts, edges=None, *, alpha: float = 0.01, n_toys: int = 1000, rng=None,
                    min_expected: float = 1.0, variances=None) -> SculptingResult:
    """Fit, read off pulls (bins with at least `min_expected` events), and bump-hunt the spectrum.

    variances: sum of squared weights per bin when `counts` are weighted simulation (see `dijet_fit`); a weighted
    hist.Hist given alone as `counts` brings its own.
    """
    counts, edges, variances = spectrum(counts, edges, variances)
    fit = dijet_fit(counts, edges, n_params="auto", variances=variances)
    used = fit.expected / fit.entry_weight >= min_expected
    pulls = np.abs(fit.pulls[used]) if used.any() else np.abs(fit.pulls)
    max_pull = float(pulls.max())
    max_pull_p = float(1.0 - (1.0 - 2.0 * sps.norm.sf(max_pull)) ** len(pulls))
    if variances is None:
        hunt = bump_hunt(counts, edges, rng=rng, n_toys=n_toys, fit=fit)
        z_local, p_global = hunt.z_local, hunt.p_global
    else:
        z_local, p_global = float("nan"), float("nan")
    smooth = bool(fit.converged and fit.p_value > alpha and max_pull_p > alpha
                  and (variances is not None or p_global > alpha))
    return SculptingResult(fit.chi2_ndf, fit.p_value, max_pull, max_pull_p, z_local, p_global, smooth, fit)
