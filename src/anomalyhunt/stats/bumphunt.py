"""Bump hunt: Gaussian signal templates scanned over mass on a dijet-fit background, with local and global
significance from vectorised pseudo-experiments and the Gross-Vitells up-crossing approximation.

Test statistic at mass m and width w: q0 = 2 [ln L(s_hat, b_hat) - ln L(0, b_hat)] with s >= 0, where b_hat is
the background-only dijet fit of the same histogram (its parameters are not re-profiled under signal, which
can only lower q0) and Z_local = sqrt(q0). Each pseudo-experiment is drawn from the background-only fit of the
observed spectrum, refitted (batched Fisher scoring from the observed fit's parameters) and scanned in exactly
the same way, so observed and toy statistics are computed alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
from scipy import special

from ..exceptions import StatsInputError
from ._checks import histogram
from .dijet import DijetFitResult, dijet_fit, dijet_nodes, mass_resolution

__all__ = ["BumpHuntResult", "GlobalSignificance", "bump_hunt", "global_significance", "signal_templates",
           "local_scan", "z_to_p", "p_to_z", "gross_vitells"]

WIDTH_15 = 0.15


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


def local_scan(counts: np.ndarray, background: np.ndarray, templates: Templates, *, iterations: int = 3):
    """Signal fit at every template for a batch of histograms.

    counts, background: (T, B). Returns (s_hat, z) of shape (T, M), s_hat >= 0 and z = sqrt(q0).
    """
    counts = np.ascontiguousarray(counts, dtype=np.float64)
    background = np.ascontiguousarray(np.maximum(background, 1e-12), dtype=np.float64)
    s_hat = np.zeros((len(counts), len(templates.masses)))
    z = np.zeros_like(s_hat)
    _scan_kernel(counts, background, templates.index, templates.fraction, templates.length, iterations, s_hat, z)
    return s_hat, z


@numba.njit(cache=True, nogil=True)
def _scan_kernel(counts, background, index, fraction, length, iterations, s_out, z_out):  # pragma: no cover
    """Per (histogram, template): start from the Gaussian-approximation estimate, then Newton steps on the
    score g(s) = sum n t / (b + s t) - sum t (convex and decreasing), clamped at s = 0; then q0."""
    n_hist, n_tmpl = counts.shape[0], index.shape[0]
    for h in range(n_hist):
        for m in range(n_tmpl):
            width = length[m]
            num = 0.0
            den = 0.0
            t_sum = 0.0
            for w in range(width):
                t = fraction[m, w]
                if t > 0.0:
                    k = index[m, w]
                    b = background[h, k]
                    num += (counts[h, k] - b) * t / b
                    den += t * t / b
                    t_sum += t
            if num <= 0.0:  # g(0) <= 0: no excess, s_hat = 0 and q0 = 0
                continue
            s = num / den
            for _ in range(iterations):
                grad = -t_sum
                curv = 0.0
                for w in range(width):
                    t = fraction[m, w]
                    if t > 0.0:
                        k = index[m, w]
                        mu = background[h, k] + s * t
                        r = counts[h, k] / mu
                        grad += r * t
                        curv += r * t * t / mu
                if curv <= 0.0:
                    break
                s = max(s + grad / curv, 0.0)
            q0 = -s * t_sum
            for w in range(width):
                t = fraction[m, w]
                k = index[m, w]
                n = counts[h, k]
                if t > 0.0 and n > 0.0:
                    b = background[h, k]
                    q0 += n * np.log((b + s * t) / b)
            s_out[h, m] = s
            z_out[h, m] = np.sqrt(max(2.0 * q0, 0.0))


def _refit_batch(counts: np.ndarray, fit: DijetFitResult, iterations: int = 2) -> np.ndarray:
    """Background-only dijet fits of many histograms at once: Fisher scoring from the observed fit.

    ln f is linear in (ln p1, p2, ..., p5) with basis 1, ln(1-x), ln x, ln^2 x, ln^3 x, so one exponential per
    iteration gives both the expectation and its exact Jacobian.
    """
    k = fit.n_params
    x, weight = dijet_nodes(fit.edges, sqrt_s=fit.sqrt_s)  # (B, N)
    lx = np.log(x)
    n_bins, n_nodes = x.shape
    basis = np.stack([np.ones_like(x), np.log1p(-x), lx, lx**2, lx**3][:k])  # (k, B, N)
    flat_basis = basis.reshape(k, n_bins * n_nodes)
    node_basis = basis.transpose(1, 2, 0)  # (B, N, k)
    q = np.repeat(np.array([np.log(fit.params[0]), *fit.params[1:]])[None], len(counts), axis=0)

    def expectation(q):
        f = (np.exp(q @ flat_basis).reshape(len(q), n_bins, n_nodes) * weight).transpose(1, 0, 2)  # (B, T, N)
        return f.sum(axis=-1).T, np.matmul(f, node_basis).transpose(1, 0, 2)  # (T, B), (T, B, k)

    mu, jac = expectation(q)
    for _ in range(iterations):
        w = 1.0 / np.maximum(mu, 1e-12)
        fisher = np.matmul(jac.transpose(0, 2, 1) * w[:, None, :], jac)
        score = np.matmul(jac.transpose(0, 2, 1), (counts * w - 1.0)[..., None])[..., 0]
        try:
            delta = np.linalg.solve(fisher + 1e-12 * np.eye(k), score[..., None])[..., 0]
        except np.linalg.LinAlgError:
            break
        mu_new, jac_new = expectation(q + delta)
        good = np.all(np.isfinite(mu_new), axis=1) & np.all(mu_new > 0, axis=1)
        q = np.where(good[:, None], q + delta, q)
        mu = np.where(good[:, None], mu_new, mu)
        jac = np.where(good[:, None, None], jac_new, jac)
    return mu


def gross_vitells(z_obs: float, upcrossings, *, u0: float, rate=0.5) -> float:
    """Global p-value of a local significance z_obs from the mean number of up-crossings of q0 = u0
    (Gross & Vitells 2010): p_global = p_local + sum_w <N_w(u0)> exp(-rate_w (u - u0)), u = z_obs^2.

    `upcrossings` and `rate` may hold one value per signal width (the scans of different widths are summed).
    rate = 1/2 for a unit-variance Gaussian process; see `global_significance` for how it is chosen.
    """
    u = z_obs**2
    terms = np.asarray(upcrossings, dtype=np.float64) * np.exp(-np.asarray(rate, dtype=np.float64) * (u - u0))
    return float(min(1.0, float(z_to_p(z_obs)) + float(np.sum(terms))))


def _upcrossings(z: np.ndarray, templates: Templates, u0: float) -> np.ndarray:
    """Up-crossings of q0 = u0 along mass, per toy and width: shape (T, n_widths). z: (T, M)."""
    out = []
    for w_id in np.unique(templates.widths):
        q = z[:, templates.widths == w_id] ** 2
        out.append(np.sum((q[:, 1:] > u0) & (q[:, :-1] <= u0), axis=1))
    return np.stack(out, axis=1).astype(np.float64)


@dataclass(frozen=True)
class GlobalSignificance:
    """Largest local excess over several spectra and its look-elsewhere-corrected significance."""

    z_local: float
    channel: int
    mass: float
    width: str
    p_global: float
    z_global: float
    n_toys: int
    p_global_asymptotic: float
    z_global_asymptotic: float
    mean_upcrossings: np.ndarray
    u0: float
    rate: np.ndarray
    toy_max_z: np.ndarray


@dataclass(frozen=True)
class BumpHuntResult:
    """The bump hunt of one spectrum: the most significant excess and the full scan."""

    mass: float
    width: str
    z_local: float
    p_local: float
    signal: float
    p_global: float
    z_global: float
    z_global_asymptotic: float
    n_toys: int
    masses: np.ndarray
    z_scan: dict
    fit: DijetFitResult


def _width_label(width) -> str:
    return width if isinstance(width, str) else f"{width:g}m"


def global_significance(spectra: Sequence[tuple], *, widths=("resolution", WIDTH_15), n_toys: int = 2000,
                        rng=None, n_params: int | str = "auto", u0: float = 4.0, u1: float = 9.0, fits=None,
                        batch: int = 500) -> GlobalSignificance:
    """Look-elsewhere correction over several spectra (each (counts, edges)) searched together.

    p_global counts toys whose largest Z_local reaches the observed one ((k + 1)/(n_toys + 1), never 0).
    The asymptotic value extrapolates the toys' up-crossings of q0 = u0 with Gross-Vitells; the decay rate
    per width is measured between u0 and u1 and capped at the Gaussian 1/2 (the refit of the background makes
    it faster at moderate q0, which would be anti-conservative to extrapolate): checked against toys in tests.

    Toys for each spectrum are drawn independently from its own background-only fit. Spectra that share
    events (nested anomaly regions) are correlated in reality, so independent toys overstate the trials
    factor: the global p-value is conservative then.
    """
    if n_toys < 1:
        raise StatsInputError(f"n_toys must be positive, got {n_toys}")
    rng = np.random.default_rng(rng)
    fits = fits or [dijet_fit(c, e, n_params=n_params) for c, e in spectra]
    obs_best, toy_max = (-1.0, 0, 0.0, ""), np.zeros(n_toys)
    crossings, crossings1 = np.zeros((n_toys, len(widths))), np.zeros((n_toys, len(widths)))
    for channel, ((counts, edges), fit) in enumerate(zip(spectra, fits, strict=True)):
        counts, edges = histogram(counts, edges)
        templates = signal_templates(edges, widths=widths)
        _, z_obs = local_scan(counts[None], fit.expected[None], templates)
        k = int(np.argmax(z_obs[0]))
        if z_obs[0, k] > obs_best[0]:
            obs_best = (float(z_obs[0, k]), channel, float(templates.masses[k]),
                        _width_label(widths[templates.widths[k]]))
        for start in range(0, n_toys, batch):
            size = min(batch, n_toys - start)
            toys = rng.poisson(fit.expected, size=(size, len(counts))).astype(np.float64)
            _, z = local_scan(toys, _refit_batch(toys, fit), templates)
            toy_max[start:start + size] = np.maximum(toy_max[start:start + size], z.max(axis=1))
            crossings[start:start + size] += _upcrossings(z, templates, u0)
            crossings1[start:start + size] += _upcrossings(z, templates, u1)
    z_obs, channel, mass, width = obs_best
    above = int(np.sum(toy_max >= z_obs))
    p_global = (above + 1) / (n_toys + 1)
    n0, n1 = crossings.mean(axis=0), crossings1.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        measured = np.where((n0 > 0) & (n1 > 0), np.log(n0 / n1) / (u1 - u0), 0.5)
    rate = np.minimum(measured, 0.5)
    p_asym = gross_vitells(z_obs, n0, u0=u0, rate=rate)
    return GlobalSignificance(
        z_local=z_obs, channel=channel, mass=mass, width=width, p_global=p_global,
        z_global=float(max(p_to_z(p_global), 0.0)), n_toys=n_toys, p_global_asymptotic=p_asym,
        z_global_asymptotic=float(max(p_to_z(p_asym), 0.0)), mean_upcrossings=n0, u0=u0, rate=rate,
        toy_max_z=toy_max,
    )


def bump_hunt(counts, edges, *, widths=("resolution", WIDTH_15), rng=None, n_toys: int = 2000,
              n_params: int | str = "auto", fit: DijetFitResult | None = None) -> BumpHuntResult:
    """Scan one spectrum for its most significant bump; global significance from `n_toys` toys.

    rng: int seed or numpy Generator (toys). Returns the best mass, width, Z_local, fitted signal events,
    p_global/z_global (toys) and z_global_asymptotic (Gross-Vitells), plus the whole scan.
    """
    counts, edges = histogram(counts, edges)
    fit = fit or dijet_fit(counts, edges, n_params=n_params)
    templates = signal_templates(edges, widths=widths)
    s_hat, z = local_scan(counts[None], fit.expected[None], templates)
    k = int(np.argmax(z[0]))
    glob = global_significance([(counts, edges)], widths=widths, n_toys=n_toys, rng=rng, fits=[fit])
    masses = templates.masses[templates.widths == 0]
    scan = {_width_label(w): z[0, templates.widths == i] for i, w in enumerate(widths)}
    return BumpHuntResult(
        mass=float(templates.masses[k]), width=_width_label(widths[templates.widths[k]]), z_local=float(z[0, k]),
        p_local=float(z_to_p(z[0, k])), signal=float(s_hat[0, k]), p_global=glob.p_global, z_global=glob.z_global,
        z_global_asymptotic=glob.z_global_asymptotic, n_toys=n_toys, masses=masses, z_scan=scan, fit=fit,
    )
