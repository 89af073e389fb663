"""Counting experiments with a background predicted from a control sample: the local significance of each cell
of a grid (Z_Bi) and the global significance of its largest excess from pseudo-experiments.

Z_Bi (Cousins, Linnemann & Tucker, NIM A 595 (2008) 480): a prediction b +- sigma_b is read as n_off = (b /
sigma_b)^2 control events scaled by 1 / tau, tau = b / sigma_b^2; the p-value of n_on observed events is the
binomial tail P(X >= n_on), X ~ Binomial(n_on + n_off, 1 / (1 + tau)), continued to non-integer n_off by the
regularised incomplete beta function. It is exact for on/off counting and tends to the Poisson tail as
sigma_b -> 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ..exceptions import StatsInputError
from ..records import Readable
from .bumphunt import p_to_z

__all__ = ["GridSignificance", "grid_significance", "z_bi"]


def z_bi(observed, predicted, predicted_error) -> np.ndarray:
    """One-sided significance of an excess of `observed` counts over `predicted` +- `predicted_error` (arrays
    broadcast): Z = Phi^-1(1 - p), and 0 where there is no excess (p >= 1/2), as a discovery test reports it.
    Where the prediction has no error the Poisson tail is used."""
    n = np.asarray(observed, dtype=np.float64)
    b = np.asarray(predicted, dtype=np.float64)
    s = np.asarray(predicted_error, dtype=np.float64)
    n, b, s = np.broadcast_arrays(n, b, s)
    if np.any(n < 0) or np.any(b <= 0) or np.any(s < 0) or not (np.isfinite(b).all() and np.isfinite(s).all()):
        raise StatsInputError("z_bi needs observed >= 0, predicted > 0 and predicted_error >= 0 (finite)")
    p = np.ones_like(b)
    on = n > 0
    with_error = on & (s > 0)
    tau = b[with_error] / s[with_error] ** 2
    n_off = b[with_error] * tau
    p[with_error] = special.betainc(n[with_error], n_off + 1.0, 1.0 / (1.0 + tau))
    exact = on & (s == 0)
    p[exact] = special.gammainc(n[exact], b[exact])  # Poisson P(N >= n | b)
    return np.maximum(p_to_z(np.minimum(p, 0.5)), 0.0)


@dataclass(frozen=True, repr=False)
class GridSignificance(Readable):
    """Local Z of every cell (NaN where nothing is predicted), the largest one and where, and its global
    significance: the fraction of background-only pseudo-experiments whose largest local Z over the grid is at
    least as large (each toy draws the observation from Poisson(b) and the prediction from its uncertainty),
    capped at 1/2 (Z_global = 0: no excess); `toys_above` keeps the uncapped count."""

    z_local: np.ndarray
    max_z_local: float
    cell: tuple[int, ...]
    p_global: float
    z_global: float
    n_toys: int
    toys_above: int
    cells_tested: int


def grid_significance(observed, predicted, predicted_error, *, n_toys: int = 2000,
                      rng: np.random.Generator | None = None) -> GridSignificance:
    """Local and global significance over a grid of counting cells (any shape). Cells with no prediction are not
    tested."""
    rng = np.random.default_rng() if rng is None else rng
    n = np.asarray(observed, dtype=np.float64)
    b = np.asarray(predicted, dtype=np.float64)
    s = np.asarray(predicted_error, dtype=np.float64)
    if not n.shape == b.shape == s.shape:
        raise StatsInputError(f"observed, predicted and errors differ in shape: {n.shape}, {b.shape}, {s.shape}")
    if n_toys < 10:
        raise StatsInputError(f"n_toys must be at least 10, got {n_toys}")
    tested = b > 0
    if not tested.any():
        raise StatsInputError("no cell has a background prediction")
    z = np.full(b.shape, np.nan)
    z[tested] = z_bi(n[tested], b[tested], s[tested])
    flat = int(np.nanargmax(z))
    best = float(z.flat[flat])
    bt, st = b[tested], s[tested]
    # pseudo-experiments: N ~ Poisson(b); the prediction as a Gamma-distributed measurement of b with its error
    # (shape (b / sigma)^2, mean b); a prediction without error stays fixed
    uncertain = st > 0
    shape = np.where(uncertain, (bt / np.where(uncertain, st, 1.0)) ** 2, 1.0)
    maxima = np.empty(n_toys)
    for i in range(n_toys):
        toy_n = rng.poisson(bt)
        toy_b = np.maximum(np.where(uncertain, rng.gamma(shape, bt / shape), bt), 1e-9)
        maxima[i] = np.max(z_bi(toy_n, toy_b, np.where(uncertain, toy_b / np.sqrt(shape), 0.0)))
    above = int(np.sum(maxima >= best - 1e-12))
    p_global = min((above + 1) / (n_toys + 1), 0.5)  # p >= 1/2 is no excess at all: Z_global = 0
    return GridSignificance(z, best, tuple(int(i) for i in np.unravel_index(flat, b.shape)), float(p_global),
                            float(p_to_z(p_global)) + 0.0, n_toys, above, int(tested.sum()))
