"""A transfer factor that depends on a mass: the ratio of a tagged to an untagged (reweighted) yield fitted as a
smooth function of the mass across sidebands and carried, with its fit uncertainty, into another mass region.

The ATLAS Y -> X H estimate moves 0-tag events into the 2-tag region with weights learnt in one H-mass sideband;
when the double-b / no-tag ratio itself rises with the H-candidate mass (it does: b hadrons from gluon splitting
grow with the jet mass), one normalisation from one sideband cannot be right in the other or in the window.
Here c(m) = exp(a + b (m - m_ref)) is fitted to the binned ratio N_tag(m) / N_source(m) (weighted yields, N_source
already reweighted) by weighted least squares on the ratios (scipy's curve_fit with absolute sigma), and
a prediction is sum_i v_i c(m_i) over the source events, with the fit's covariance propagated linearly.
The exponential keeps c positive; with two parameters it is the smallest smooth form that can carry a slope.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit

from ..exceptions import ConfigError
from ..records import Readable

__all__ = ["MassTransferFit", "fit_mass_transfer"]


@dataclass(frozen=True, repr=False)
class MassTransferFit(Readable):
    """c(m) = exp(a + b (m - m_ref)), fitted to `ratio` (+- `ratio_error`) at the bin centres `mass`."""

    a: float
    b: float
    covariance: np.ndarray  # of (a, b)
    m_ref: float
    mass: np.ndarray
    ratio: np.ndarray
    ratio_error: np.ndarray
    chi2: float
    ndof: int

    def factor(self, m) -> np.ndarray:
        """c at mass(es) m."""
        return np.exp(self.a + self.b * (np.asarray(m, dtype=np.float64) - self.m_ref))

    def predict(self, weights: np.ndarray, m: np.ndarray) -> tuple[float, float, float]:
        """sum_i weights_i c(m_i): (value, statistical error from the weights, fit error from the covariance)."""
        weights, m = np.asarray(weights, dtype=np.float64), np.asarray(m, dtype=np.float64)
        c = self.factor(m)
        value = float(np.sum(weights * c))
        stat = float(np.sqrt(np.sum((weights * c) ** 2)))
        gradient = np.array([value, float(np.sum(weights * c * (m - self.m_ref)))])
        fit = float(np.sqrt(max(gradient @ self.covariance @ gradient, 0.0)))
        return value, stat, fit

    def record(self) -> dict:
        """JSON-ready: the fitted form, parameters with errors, and the fitted points."""
        return {"form": "exp(a + b (m - m_ref))", "a": self.a, "b": self.b,
                "a_error": float(np.sqrt(self.covariance[0, 0])), "b_error": float(np.sqrt(self.covariance[1, 1])),
                "m_ref": self.m_ref, "chi2": self.chi2, "ndof": self.ndof, "mass": self.mass.tolist(),
                "ratio": self.ratio.tolist(), "ratio_error": self.ratio_error.tolist()}


def fit_mass_transfer(mass: np.ndarray, tagged: np.ndarray, source: np.ndarray, weights: np.ndarray,
                      edges: np.ndarray, *, m_ref: float) -> MassTransferFit:
    """Fit c(m) to the ratio of the `tagged` to the `source` yield in the mass bins `edges`.

    mass: per event (GeV); tagged, source: boolean masks (disjoint); weights: per event, the source events'
    already multiplied by any per-event reweighting. Bins are given as edges, possibly with gaps between
    sidebands: pass them as a (n_bins, 2) array of [low, high) pairs. Every bin needs a positive tagged and
    source yield; at least two bins.
    """
    mass, weights = np.asarray(mass, dtype=np.float64), np.asarray(weights, dtype=np.float64)
    bins = np.asarray(edges, dtype=np.float64).reshape(-1, 2)
    if len(bins) < 2:
        raise ConfigError(f"a mass-dependent transfer factor needs at least two mass bins, got {len(bins)}")
    centre, ratio, error = [], [], []
    for low, high in bins:
        inside = (mass >= low) & (mass < high)
        num, den = weights[inside & tagged], weights[inside & source]
        if num.sum() <= 0 or den.sum() <= 0:
            raise ConfigError(f"the transfer-factor bin [{low:g}, {high:g}) GeV has no tagged or no source "
                              f"events ({num.sum():.3g}, {den.sum():.3g}): use fewer bins or more background")
        r = num.sum() / den.sum()
        rel2 = (num**2).sum() / num.sum() ** 2 + (den**2).sum() / den.sum() ** 2
        centre.append(float(np.average(mass[inside & (tagged | source)])))
        ratio.append(r)
        error.append(r * np.sqrt(rel2))
    centre, ratio, error = np.array(centre), np.array(ratio), np.array(error)

    def model(m, a, b):
        return np.exp(a + b * (m - m_ref))

    start = (float(np.log(np.average(ratio, weights=error**-2))), 0.0)
    params, cov = curve_fit(model, centre, ratio, p0=start, sigma=error, absolute_sigma=True, maxfev=10000)
    chi2 = float(np.sum(((ratio - model(centre, *params)) / error) ** 2))
    return MassTransferFit(float(params[0]), float(params[1]), np.asarray(cov), float(m_ref), centre, ratio, error,
                           chi2, len(bins) - 2)
