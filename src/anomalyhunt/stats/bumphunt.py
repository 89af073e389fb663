"""Bump hunt: Gaussian signal templates scanned over mass on a dijet-fit background, with local and global
significance from vectorised pseudo-experiments and the Gross-Vitells up-crossing approximation.

Test statistic at mass m and width w: q0 = 2 [ln L(s_hat, b) - ln L(0, b_hat)] with s >= 0, Z_local = sqrt(q0).
b_hat is the background-only dijet fit of the same histogram; under the signal hypothesis the background
parameters are profiled to first order (see `local_scan`): with the background held at b_hat, a signal that the
background-only fit partly absorbed would be under-estimated (15% of an injected signal in the benchmark of
docs/results.md) and q0 with it. Each pseudo-experiment is drawn from the background-only fit of the
observed spectrum, refitted (batched Fisher scoring from the observed fit's parameters) and scanned in exactly
the same way, so observed and toy statistics are computed alike.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
from scipy import special

from ..exceptions import FitError, StatsInputError
from ..records import Readable
from ._checks import is_histogram_object, spectrum
from .dijet import DijetFitResult, DijetShape, dijet_fit, mass_resolution

__all__ = ["BumpHuntResult", "GlobalSignificance", "bump_hunt", "describe_z_global", "global_significance",
           "signal_templates", "local_scan", "profile_factors", "z_to_p", "p_to_z", "gross_vitells"]

WIDTH_15 = 0.15
# Newton on a template's signal stops when its next step could raise q0 by less than this (see _scan_kernel)
_Q0_TOLERANCE = 1e-8


def z_to_p(z):
    """One-sided p-value of a significance."""
    return special.ndtr(-np.asarray(z, dtype=np.float64))


def p_to_z(p):
    """Significance of a one-sided p-value (p >= 0.5 gives 0 or less)."""
    return -special.ndtri(np.clip(np.asarray(p, dtype=np.float64), 1e-300, 1.0))


def _sigma(mass, width) -> np.ndarray:
    if width == "resolution":
        return mass_resolution(mass)
    if isinstance(width, int | float) and width > 0:
        return float(width) * np.asarray(mass, dtype=np.float64)
    raise StatsInputError(f"a width is 'resolution' or a positive fraction of the mass, got {width!r}")


@dataclass(frozen=True)
class Templates:
    """Gaussian signal shapes, truncated to +-3 sigma: bin indices (M, W), fractions (M, W), masses (M,)."""

    masses: np.ndarray
    widths: np.ndarray  # width label index per template
    index: np.ndarray
    fraction: np.ndarray
    length: np.ndarray  # bins actually used by each template (the rest of its row is padding)

    def dense(self, n_bins: int) -> np.ndarray:
        """The templates as full rows over the spectrum's bins: (M, n_bins), each row summing to 1."""
        out = np.zeros((len(self.masses), n_bins))
        for m, n in enumerate(self.length):
            out[m, self.index[m, :n]] = self.fraction[m, :n]
        return out


def signal_templates(edges, *, widths=("resolution", WIDTH_15), masses=None) -> Templates:
    """Normalised Gaussian templates at every scanned mass (bin centres but the outermost) and width."""
    edges = np.asarray(edges, dtype=np.float64)
    centres = 0.5 * (edges[1:] + edges[:-1])
    masses = centres[1:-1] if masses is None else np.asarray(masses, dtype=np.float64)
    all_masses, width_ids, rows = [], [], []
    for w_id, width in enumerate(widths):
        sigma = _sigma(masses, width)
        cdf = special.ndtr((edges[None, :] - masses[:, None]) / sigma[:, None])
        frac = np.diff(cdf, axis=1)
        frac /= np.maximum(frac.sum(axis=1, keepdims=True), 1e-300)
        inside = np.abs(centres[None, :] - masses[:, None]) < 3 * sigma[:, None] + np.diff(edges)[None, :]
        for k in range(len(masses)):
            rows.append((np.flatnonzero(inside[k]), frac[k, inside[k]]))
        all_masses.append(masses)
        width_ids.append(np.full(len(masses), w_id))
    size = max(len(r[0]) for r in rows)
    index = np.zeros((len(rows), size), dtype=np.int64)
    fraction = np.zeros((len(rows), size))
    for k, (idx, fr) in enumerate(rows):
        index[k, : len(idx)] = idx
        fraction[k, : len(idx)] = fr
    length = np.array([len(r[0]) for r in rows], dtype=np.int64)
    return Templates(np.concatenate(all_masses), np.concatenate(width_ids), index, fraction, length)


def profile_factors(fit: DijetFitResult, templates: Templates) -> np.ndarray:
    """Per template, I_ss / (I_ss - I_sq I_qq^-1 I_qs): how much Fisher information on the signal is lost when the
    background parameters q float (the Schur complement), at the background-only fit. Multiplying the
    fixed-background q0 and s_hat by it profiles the background to first order: it undoes the part of a signal
    that the background-only fit absorbed. Capped at 20 (a template the background can mimic almost entirely
    is not a search target)."""
    shape = DijetShape.of(fit)
    b, jac = shape.expectation(DijetShape.start(fit))
    b = np.maximum(b, 1e-12)
    fisher_inv = np.linalg.pinv((jac.T / b) @ jac, hermitian=True)
    dense = templates.dense(len(b))
    i_ss = np.sum(dense**2 / b, axis=1)
    i_sq = (dense / b) @ jac
    explained = np.einsum("mk,kl,ml->m", i_sq, fisher_inv, i_sq)
    return i_ss / np.maximum(i_ss - explained, i_ss / 20.0)


def local_scan(counts: np.ndarray, background: np.ndarray, templates: Templates, *, iterations: int = 30,
               factors: np.ndarray | None = None):
    """Signal fit at every template for a batch of histograms.

    counts, background: (T, B). Returns (s_hat, z) of shape (T, M), s_hat >= 0 and z = sqrt(q0). Newton steps
    stop when s_hat moves by less than 1e-7 of itself, or after `iterations`.
    factors: (M,) from `profile_factors`; given, q0 and s_hat of the fixed-background Poisson fit are multiplied
    by them (the background profiled to first order); without, the background is held fixed.
    """
    counts = np.ascontiguousarray(counts, dtype=np.float64)
    background = np.ascontiguousarray(np.maximum(background, 1e-12), dtype=np.float64)
    factors = np.ones(len(templates.masses)) if factors is None else np.asarray(factors, dtype=np.float64)
    s_hat = np.zeros((len(counts), len(templates.masses)))
    z = np.zeros_like(s_hat)
    _scan_kernel(counts, background, templates.index, templates.fraction, templates.length, iterations, factors,
                 s_hat, z)
    return s_hat, z


# Sums may be reassociated (vectorised): it moves z by ~1e-13. NaN and inf are not assumed away.
@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract", "arcp", "nsz"})
def _scan_kernel(counts, background, index, fraction, length, iterations, factors, s_out,
                 z_out):  # pragma: no cover
    """Per (histogram, template): start from the Gaussian-approximation estimate, then Newton steps on the
    score g(s) = sum n t / (b + s t) - sum t (convex and decreasing), clamped at s = 0; then q0, both scaled by
    the template's profile factor.

    Newton stops when the step it would take next can raise q0 by less than _Q0_TOLERANCE: near the maximum
    q0(s_hat) - q0(s) = g(s)^2 / g'(s) to leading order (q0 is twice the log-likelihood ratio), so the q0 returned
    is within that tolerance of the converged one (Z within tolerance / (2 Z)) whatever the step size. One
    division per bin and step: 1 / b once per histogram, 1 / mu shared by the score and its derivative. q0's
    logarithms, half the scan's time, are a series where the argument is small (see the bound beside it)."""
    n_hist, n_tmpl = counts.shape[0], index.shape[0]
    inv_b = np.empty(counts.shape[1])
    for h in range(n_hist):
        for k in range(counts.shape[1]):
            inv_b[k] = 1.0 / background[h, k]
        for m in range(n_tmpl):
            width = length[m]
            num = 0.0
            den = 0.0
            t_sum = 0.0
            for w in range(width):
                t = fraction[m, w]
                k = index[m, w]
                num += (counts[h, k] * inv_b[k] - 1.0) * t
                den += t * t * inv_b[k]
                t_sum += t
            if num <= 0.0:  # g(0) <= 0: no excess, s_hat = 0 and q0 = 0
                continue
            s = num / den
            for _ in range(iterations):
                grad = -t_sum
                curv = 0.0
                for w in range(width):
                    t = fraction[m, w]
                    k = index[m, w]
                    inv_mu = 1.0 / (background[h, k] + s * t)
                    rt = counts[h, k] * inv_mu * t
                    grad += rt
                    curv += rt * t * inv_mu
                if curv <= 0.0 or grad * grad < _Q0_TOLERANCE * curv:
                    break
                s = max(s + grad / curv, 0.0)  # from the right of the root the tangent may cross below 0
            q0 = -s * t_sum
            for w in range(width):
                n = counts[h, index[m, w]]
                if n > 0.0:
                    x = s * fraction[m, w] * inv_b[index[m, w]]
                    if x < 0.1:  # the series of log1p to x^9: error below x^10 / 10 <= 1e-11 of n (q0 to 1e-11 n)
                        q0 += n * x * (1.0 - x * (0.5 - x * (1.0 / 3.0 - x * (0.25 - x * (0.2 - x * (
                            1.0 / 6.0 - x * (1.0 / 7.0 - x * (0.125 - x / 9.0))))))))
                    else:
                        q0 += n * np.log1p(x)
            s_out[h, m] = s * factors[m]
            z_out[h, m] = np.sqrt(max(2.0 * q0 * factors[m], 0.0))


@numba.njit(cache=True, nogil=True)
def _crossing_kernel(z, widths, n_widths, u0, u1, out0, out1):  # pragma: no cover
    """Up-crossings of q0 = u0 and u1 along mass per toy and width (templates of one width are contiguous)."""
    for h in range(z.shape[0]):
        for m in range(1, z.shape[1]):
            if widths[m] != widths[m - 1]:
                continue
            q_prev = z[h, m - 1] * z[h, m - 1]
            q = z[h, m] * z[h, m]
            if q > u0 and q_prev <= u0:
                out0[h, widths[m]] += 1.0
            if q > u1 and q_prev <= u1:
                out1[h, widths[m]] += 1.0


def _refit_batch(counts: np.ndarray, fit: DijetFitResult, iterations: int = 10, tolerance: float = 1e-3,
                 shape: DijetShape | None = None) -> np.ndarray:
    """Background-only dijet fits of many histograms at once: Fisher scoring from the observed fit's parameters
    until no bin's expectation moves by more than `tolerance` of its Poisson error (three to four steps for
    5-parameter fits, whose parameters move along long correlated valleys; a fixed two steps left a few toys
    0.2 in Z away from their converged fit). A step that would leave the expectation non-finite or non-positive
    is not taken. Returns the expectation (T, B).

    Every toy starts at the observed fit, where the expectation, the Jacobian and the Fisher matrix are the same
    for all: the first step is one matrix product, F0^-1 J0' W0 (n - mu0), with no per-toy matrix built or
    solved. Each later step evaluates the dijet function at the Gauss-Legendre nodes of every bin (one NumPy
    exponential for all toys) and builds the expectation, Fisher matrix and score of every toy from it in one
    pass (`_fisher_kernel`), without storing Jacobians. A toy stops as soon as it is converged (see below); the
    others go on alone."""
    shape = shape or DijetShape.of(fit)
    k = fit.n_params
    n_bins, n_nodes = shape.weight.shape
    q0 = DijetShape.start(fit)
    mu0, jac0 = shape.expectation(q0)
    first = (jac0 / mu0[:, None]) @ np.linalg.solve((jac0.T / mu0) @ jac0 + 1e-12 * np.eye(k), np.eye(k))
    q = q0[None] + (counts - mu0) @ first
    node_basis = np.ascontiguousarray(shape.node_basis)
    mu = np.empty_like(counts)
    fisher = np.empty((len(counts), k, k))
    score = np.empty((len(counts), k))
    _fisher_kernel(_node_values(shape, q), node_basis, counts, mu, fisher, score)
    good = np.all(np.isfinite(mu), axis=1) & np.all(mu > 0, axis=1)
    if not good.all():  # the first step would break these toys: they start again from the observed fit
        bad = np.flatnonzero(~good)
        q[bad] = q0
        sub_mu, sub_f, sub_s = mu[bad], fisher[bad], score[bad]  # copies: the kernel fills them
        _fisher_kernel(_node_values(shape, q[bad]), node_basis, counts[bad], sub_mu, sub_f, sub_s)
        mu[bad], fisher[bad], score[bad] = sub_mu, sub_f, sub_s
    moved = np.max(np.abs(mu - mu0) / np.sqrt(mu0), axis=1)  # per toy, in Poisson errors
    previous = np.full(len(counts), np.inf)
    active = np.arange(len(counts))
    for _ in range(iterations - 1):
        # A toy is done when its last step moved it by less than the tolerance, or when Fisher scoring's quadratic
        # convergence (error after a step ~ C x its size^2, C = this step / the last one^2, measured once both
        # steps are small enough to be in that regime) puts it within a quarter of it: the step that would only
        # confirm it is not taken.
        with np.errstate(divide="ignore", invalid="ignore"):  # no previous step yet: no prediction (inf)
            predicted = np.where(np.isfinite(previous), moved**3 / previous**2, np.inf)
        done = (moved < tolerance) | ((previous < 0.1) & (predicted < tolerance / 4))
        active, moved, previous = active[~done], moved[~done], moved[~done]
        if not len(active):
            break
        try:
            delta = np.linalg.solve(fisher[active] + 1e-12 * np.eye(k), score[active][..., None])[..., 0]
        except np.linalg.LinAlgError:
            break
        q_new = q[active] + delta
        mu_new = np.empty((len(active), n_bins))
        fisher_new, score_new = np.empty((len(active), k, k)), np.empty((len(active), k))
        _fisher_kernel(_node_values(shape, q_new), node_basis, counts[active], mu_new, fisher_new, score_new)
        good = np.all(np.isfinite(mu_new), axis=1) & np.all(mu_new > 0, axis=1)
        mu_a = mu[active]
        with np.errstate(invalid="ignore"):
            moved = np.where(good, np.max(np.abs(mu_new - mu_a) / np.sqrt(mu_a), axis=1), 0.0)
        take = active[good]
        q[take], mu[take], fisher[take], score[take] = q_new[good], mu_new[good], fisher_new[good], score_new[good]
    return mu


def _node_values(shape: DijetShape, q: np.ndarray) -> np.ndarray:
    """The dijet function times the quadrature weights at every node of every bin, for parameters q (T, k):
    (T, B, N), one NumPy exponential for all toys (vectorised, unlike a compiled loop's)."""
    n_bins, n_nodes = shape.weight.shape
    with np.errstate(over="ignore", invalid="ignore"):
        f = np.exp(q @ shape.basis)
    f = f.reshape(len(q), n_bins, n_nodes)
    f *= shape.weight
    return f


@numba.njit(cache=True, nogil=True)
def _fisher_kernel(f, node_basis, counts, mu_out, fisher_out, score_out):  # pragma: no cover
    """Per toy, from the node values f (T, B, N): mu_b = sum_n f, J_b = sum_n f basis_n, the Fisher matrix
    sum_b J_b J_b' / mu_b and the score sum_b J_b (n_b / mu_b - 1), without storing J."""
    n_toys, n_bins, n_nodes = f.shape
    k = node_basis.shape[2]
    jac = np.empty(k)
    for t in range(n_toys):
        for i in range(k):
            score_out[t, i] = 0.0
            for j in range(k):
                fisher_out[t, i, j] = 0.0
        for b in range(n_bins):
            mu = 0.0
            for i in range(k):
                jac[i] = 0.0
            for n in range(n_nodes):
                value = f[t, b, n]
                mu += value
                for i in range(k):
                    jac[i] += value * node_basis[b, n, i]
            mu_out[t, b] = mu
            inv = 1.0 / mu if mu > 0.0 else 0.0
            residual = counts[t, b] * inv - 1.0
            for i in range(k):
                score_out[t, i] += jac[i] * residual
                weighted = jac[i] * inv
                for j in range(i + 1):
                    fisher_out[t, i, j] += weighted * jac[j]
        for i in range(k):
            for j in range(i):
                fisher_out[t, j, i] = fisher_out[t, i, j]


def gross_vitells(z_obs: float, upcrossings, *, u0: float, rate=0.5) -> float:
    """Global p-value of a local significance z_obs from the mean number of up-crossings of q0 = u0
    (Gross & Vitells 2010): p_global = p_local + sum_w <N_w(u0)> exp(-rate_w (u - u0)), u = z_obs^2.

    `upcrossings` and `rate` may hold one value per signal width (the scans of different widths are summed).
    rate = 1/2 for a unit-variance chi2(1) process; `global_significance` measures it from the toys instead.
    """
    u = z_obs**2
    terms = np.asarray(upcrossings, dtype=np.float64) * np.exp(-np.asarray(rate, dtype=np.float64) * (u - u0))
    return float(min(1.0, float(z_to_p(z_obs)) + float(np.sum(terms))))


def _upcrossings(z: np.ndarray, templates: Templates, u0: float, u1: float) -> tuple[np.ndarray, np.ndarray]:
    """Up-crossings of q0 = u0 and of q0 = u1 along mass, per toy and width: two arrays (T, n_widths)."""
    n_widths = int(templates.widths.max()) + 1
    out0, out1 = np.zeros((len(z), n_widths)), np.zeros((len(z), n_widths))
    _crossing_kernel(np.ascontiguousarray(z), templates.widths.astype(np.int64), n_widths, u0, u1, out0, out1)
    return out0, out1


def _crossing_rate(n0: np.ndarray, n1: np.ndarray, u0: float, u1: float) -> tuple[np.ndarray, np.ndarray]:
    """Decay rate of the mean up-crossings between u0 and u1 per width, and its statistical error (delta
    method over toys, the two counts' correlation included). Without crossings at u1: the Gaussian 1/2, error
    NaN (too few toys to measure it)."""
    mean0, mean1 = n0.mean(axis=0), n1.mean(axis=0)
    rate = np.full(n0.shape[1], 0.5)
    error = np.full(n0.shape[1], np.nan)
    for w in range(n0.shape[1]):
        if mean0[w] > 0 and mean1[w] > 0 and len(n0) > 1:
            rate[w] = np.log(mean0[w] / mean1[w]) / (u1 - u0)
            cov = np.cov(n0[:, w], n1[:, w]) / len(n0)
            var = cov[0, 0] / mean0[w] ** 2 + cov[1, 1] / mean1[w] ** 2 - 2 * cov[0, 1] / (mean0[w] * mean1[w])
            error[w] = np.sqrt(max(var, 0.0)) / (u1 - u0)
    return rate, error


def _out_of_reach(z_obs, n0, n1, u0, u1, max_toys) -> bool:
    """True when even the largest Gross-Vitells estimate (rate lowered by twice its error) expects fewer than
    0.1 toys above z_obs in the whole budget: more toys would only repeat the bound."""
    rate, error = _crossing_rate(n0, n1, u0, u1)
    if not np.all(np.isfinite(error)):
        return False
    p_high = gross_vitells(z_obs, n0.mean(axis=0), u0=u0, rate=np.maximum(rate - 2 * error, 1e-3))
    return p_high * max_toys < 0.1


@dataclass(frozen=True, repr=False)
class GlobalSignificance(Readable):
    """Largest local excess over several spectra and its look-elsewhere-corrected significance.

    p_global = (n_above + 1) / (n_toys + 1). When no toy reached the observed Z_local (n_above == 0) the toys only
    bound it: `is_bound` is True and z_global is a lower bound (print it as "Z_global >= ..."). `p_global_error`
    is the binomial error. The asymptotic value is Gross-Vitells with the up-crossing rate measured from the toys
    (`rate` +- `rate_error` per width); `p_global_asymptotic_range` is its spread over rate +- error.
    `stopped` says why the toys ended: "precision" (enough toys above the observed value for the requested
    relative precision), "max_toys", "out of reach" (the budget could not have measured it) or "time".
    """

    z_local: float
    channel: int
    mass: float
    width: str
    p_global: float
    z_global: float
    n_toys: int
    n_above: int
    is_bound: bool
    p_global_error: float
    p_global_asymptotic: float
    z_global_asymptotic: float
    p_global_asymptotic_range: tuple[float, float]
    mean_upcrossings: np.ndarray
    u0: float
    rate: np.ndarray
    rate_error: np.ndarray
    stopped: str
    toy_max_z: np.ndarray

    def record(self) -> dict:
        """The JSON-ready summary (what reports print)."""
        return {"z_local_max": self.z_local, "mass": self.mass, "width": self.width, "p_global": self.p_global,
                "p_global_error": self.p_global_error, "z_global": self.z_global, "z_global_is_bound": self.is_bound,
                "n_toys": self.n_toys, "n_toys_above": self.n_above, "toys_stopped": self.stopped,
                "z_global_asymptotic": self.z_global_asymptotic,
                "z_global_asymptotic_range": [float(max(p_to_z(p), 0.0))
                                              for p in self.p_global_asymptotic_range[::-1]],
                "upcrossing_rate": [float(r) for r in self.rate],
                "upcrossing_rate_error": [float(r) for r in self.rate_error]}


def describe_z_global(record: dict) -> str:
    """One line: "Z_global = 2.41 +- 0.05 (12,000 toys)" or "Z_global >= 3.09 (1,000 toys, none above)", then the
    asymptotic value."""
    toys = f"{record['n_toys']:,} toys"
    if record["z_global_is_bound"]:
        head = f"Z_global >= {record['z_global']:.2f} ({toys}, none above the observed Z_local)"
    else:
        head = f"Z_global = {record['z_global']:.2f} ({toys}, {record['n_toys_above']:,} above)"
    lo, hi = record["z_global_asymptotic_range"]
    return f"{head}; asymptotic (Gross-Vitells) {record['z_global_asymptotic']:.2f} [{lo:.2f}, {hi:.2f}]"


@dataclass(frozen=True, repr=False)
class BumpHuntResult(Readable):
    """The bump hunt of one spectrum: the most significant excess and the full scan (q0 with the background
    profiled to first order, see `local_scan`)."""

    mass: float
    width: str
    z_local: float
    p_local: float
    signal: float
    significance: GlobalSignificance
    masses: np.ndarray
    z_scan: dict
    fit: DijetFitResult

    @property
    def p_global(self) -> float:
        return self.significance.p_global

    @property
    def z_global(self) -> float:
        return self.significance.z_global

    @property
    def z_global_asymptotic(self) -> float:
        return self.significance.z_global_asymptotic

    @property
    def n_toys(self) -> int:
        return self.significance.n_toys


def _width_label(width) -> str:
    return width if isinstance(width, str) else f"{width:g}m"


def _usable(fits) -> None:
    bad = [f"spectrum {i}: {f.message}" for i, f in enumerate(fits) if not f.converged]
    if bad:
        raise FitError("background fits not usable for a significance: " + "; ".join(bad))


def global_significance(spectra: Sequence[tuple], *, widths=("resolution", WIDTH_15), n_toys: int = 2000,
                        rng=None, n_params: int | str = "auto", u0: float = 4.0, u1: float = 9.0, fits=None,
                        batch: int = 500, max_toys: int | None = None, precision: float = 0.3,
                        time_budget_s: float | None = None) -> GlobalSignificance:
    """Look-elsewhere correction over several spectra (each (counts, edges) or a hist.Hist) searched together.

    Toys come in rounds: first `n_toys`, then the total doubles until `max_toys` (default: `n_toys`, a fixed
    budget) while fewer than 1/precision^2 toys reach the observed Z_local (the relative precision of p_global),
    or until the Gross-Vitells estimate says the whole budget could not reach the observed value ("out of
    reach"), or until `time_budget_s` is spent (recorded; a time limit makes the count machine-dependent: the
    seed alone does not fix it then). p_global counts toys whose largest Z_local reaches the observed one
    ((k + 1)/(n + 1), never 0; a bound when k = 0). The asymptotic value extrapolates the toys' up-crossings of
    q0 = u0 with Gross-Vitells and the decay rate per width measured between u0 and u1.

    Toys for each spectrum are drawn independently from its own background-only fit. Spectra that share
    events (nested anomaly regions) are correlated in reality, so independent toys overstate the trials
    factor: the global p-value is conservative then. Fits that are not usable (see `dijet_fit`) are refused.
    """
    if n_toys < 1:
        raise StatsInputError(f"n_toys must be positive, got {n_toys}")
    max_toys = n_toys if max_toys is None else int(max_toys)
    if max_toys < n_toys:
        raise StatsInputError(f"max_toys ({max_toys}) must be at least n_toys ({n_toys})")
    if not 0 < precision < 1:
        raise StatsInputError(f"precision must be in (0, 1), got {precision}")
    rng = np.random.default_rng(rng)
    spectra = [spectrum(s)[:2] if is_histogram_object(s) else spectrum(*s)[:2] for s in spectra]
    fits = fits or [dijet_fit(c, e, n_params=n_params) for c, e in spectra]
    _usable(fits)
    started = time.perf_counter()
    obs_best = (-1.0, 0, 0.0, "")
    scans = []
    for channel, ((counts, edges), fit) in enumerate(zip(spectra, fits, strict=True)):
        templates = signal_templates(edges, widths=widths)
        factors = profile_factors(fit, templates)
        _, z_obs = local_scan(counts[None], fit.expected[None], templates, factors=factors)
        k = int(np.argmax(z_obs[0]))
        if z_obs[0, k] > obs_best[0]:
            obs_best = (float(z_obs[0, k]), channel, float(templates.masses[k]),
                        _width_label(widths[templates.widths[k]]))
        scans.append((counts, fit, templates, factors, DijetShape.of(fit)))
    z_obs, channel, mass, width = obs_best
    needed = int(np.ceil(1.0 / precision**2))
    toy_max, crossings, crossings1 = [], [], []
    done, target, stopped = 0, n_toys, "max_toys"
    while True:
        size = target - done
        round_max = np.zeros(size)
        round_c0, round_c1 = np.zeros((size, len(widths))), np.zeros((size, len(widths)))
        for counts, fit, templates, factors, shape in scans:
            for start in range(0, size, batch):
                n = min(batch, size - start)
                toys = rng.poisson(fit.expected, size=(n, len(counts))).astype(np.float64)
                _, z = local_scan(toys, _refit_batch(toys, fit, shape=shape), templates, factors=factors)
                round_max[start:start + n] = np.maximum(round_max[start:start + n], z.max(axis=1))
                c0, c1 = _upcrossings(z, templates, u0, u1)
                round_c0[start:start + n] += c0
                round_c1[start:start + n] += c1
        toy_max.append(round_max)
        crossings.append(round_c0)
        crossings1.append(round_c1)
        done = target
        above = int(sum(np.sum(t >= z_obs) for t in toy_max))
        if above >= needed:
            stopped = "precision"
            break
        if done >= max_toys:
            break
        if above == 0 and _out_of_reach(z_obs, np.concatenate(crossings), np.concatenate(crossings1), u0, u1,
                                        max_toys):
            stopped = "out of reach"
            break
        if time_budget_s is not None and time.perf_counter() - started > time_budget_s:
            stopped = "time"
            break
        target = min(2 * done, max_toys)
    toy_max = np.concatenate(toy_max)
    n0, n1 = np.concatenate(crossings), np.concatenate(crossings1)
    p_global = (above + 1) / (done + 1)
    p_error = float(np.sqrt(max(above, 1) * (1 - above / done)) / (done + 1))
    rate, rate_error = _crossing_rate(n0, n1, u0, u1)
    mean0 = n0.mean(axis=0)
    p_asym = gross_vitells(z_obs, mean0, u0=u0, rate=rate)
    spread = np.nan_to_num(rate_error)
    p_range = (gross_vitells(z_obs, mean0, u0=u0, rate=rate + spread),
               gross_vitells(z_obs, mean0, u0=u0, rate=np.maximum(rate - spread, 1e-3)))
    return GlobalSignificance(
        z_local=z_obs, channel=channel, mass=mass, width=width, p_global=p_global,
        z_global=float(max(p_to_z(p_global), 0.0)), n_toys=done, n_above=above, is_bound=above == 0,
        p_global_error=p_error, p_global_asymptotic=p_asym, z_global_asymptotic=float(max(p_to_z(p_asym), 0.0)),
        p_global_asymptotic_range=p_range, mean_upcrossings=mean0, u0=u0, rate=rate, rate_error=rate_error,
        stopped=stopped, toy_max_z=toy_max,
    )


def bump_hunt(counts, edges=None, *, widths=("resolution", WIDTH_15), rng=None, n_toys: int = 2000,
              n_params: int | str = "auto", fit: DijetFitResult | None = None, max_toys: int | None = None,
              precision: float = 0.3, time_budget_s: float | None = None) -> BumpHuntResult:
    """Scan one spectrum (`counts, edges`, or one hist.Hist) for its most significant bump; global significance
    from toys (see `global_significance` for `n_toys`, `max_toys`, `precision`, `time_budget_s`).

    rng: int seed or numpy Generator (toys). Returns the best mass, width, Z_local, fitted signal events (the
    background profiled to first order), the global significance and the whole scan. A fit that is not usable
    (see `dijet_fit`) is refused with a FitError saying why.
    """
    counts, edges, _ = spectrum(counts, edges)  # a hist.Hist's counts are the data (Poisson)
    fit = fit or dijet_fit(counts, edges, n_params=n_params)
    _usable([fit])
    templates = signal_templates(edges, widths=widths)
    s_hat, z = local_scan(counts[None], fit.expected[None], templates, factors=profile_factors(fit, templates))
    k = int(np.argmax(z[0]))
    glob = global_significance([(counts, edges)], widths=widths, n_toys=n_toys, rng=rng, fits=[fit],
                               max_toys=max_toys, precision=precision, time_budget_s=time_budget_s)
    masses = templates.masses[templates.widths == 0]
    scan = {_width_label(w): z[0, templates.widths == i] for i, w in enumerate(widths)}
    return BumpHuntResult(
        mass=float(templates.masses[k]), width=_width_label(widths[templates.widths[k]]), z_local=float(z[0, k]),
        p_local=float(z_to_p(z[0, k])), signal=float(s_hat[0, k]), significance=glob, masses=masses,
        z_scan=scan, fit=fit,
    )
