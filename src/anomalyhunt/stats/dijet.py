"""The dijet function family and binned background fits (SPEC section 5).

Counts are fitted with a binned Poisson likelihood. Weighted simulation (sum of weights per bin, sum of squared
weights as its variance) is fitted as scaled Poisson counts ("effective entries"): each bin holds sum_w / r
events of weight r = sum(sum_w2) / sum(sum_w) over the spectrum, so that sparse tails behave like Poisson tails
and a bin with one heavy event weighs as the few average events it is worth. A per-bin r was tried and rejected:
it is noisy and correlated with the bin content, and biases chi2/ndf upwards (to ~1.6 in the unit test's setup).

f(x) = p1 (1 - x)^p2 x^(p3 + p4 ln x + p5 ln^2 x), x = m / sqrt(s); the 3- and 4-parameter members set
p5 (and p4) to zero. Expected counts are the integral of f over each bin (Gauss-Legendre), in events per
bin when f is read as events per GeV.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

from ..exceptions import FitError, StatsInputError
from ..records import Readable
from ._checks import spectrum

__all__ = ["dijet_function", "dijet_expected", "dijet_nodes", "dijet_fit", "DijetFitResult", "DijetShape",
           "resolution_binning", "mass_resolution"]

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(6)
_LOG_LIMIT = 600.0  # |ln p1| beyond this is at the edge of double precision: the fit has run away
_SHAPE_LIMIT = 1e4  # |p2..p5| beyond this: the same
_START_SHAPE = {3: (10.0, -4.0), 4: (10.0, -4.0, 0.0), 5: (10.0, -4.0, 0.0, 0.0)}


def dijet_function(x, params) -> np.ndarray:
    """f(x) for parameters (p1, p2, p3[, p4[, p5]]); broadcasts over leading axes of `params`."""
    params = np.asarray(params, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    lx = np.log(x)
    p = [params[..., k, None] if params.ndim > 1 else params[k] for k in range(params.shape[-1])]
    exponent = p[2] + (p[3] * lx if len(p) > 3 else 0.0) + (p[4] * lx**2 if len(p) > 4 else 0.0)
    return p[0] * np.exp(p[1] * np.log1p(-x) + exponent * lx)


def dijet_nodes(edges, *, sqrt_s: float = 13000.0) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes x (B, N) of every bin and the weights (B, N) that turn f(x) into counts per bin."""
    edges = np.asarray(edges, dtype=np.float64)
    lo, hi = edges[:-1] / sqrt_s, edges[1:] / sqrt_s
    half = (hi - lo) / 2
    x = (lo + half)[:, None] + half[:, None] * _NODES[None, :]
    return x, _WEIGHTS[None, :] * (half * sqrt_s)[:, None]


def dijet_expected(params, edges, *, sqrt_s: float = 13000.0) -> np.ndarray:
    """Integral of the dijet function over each bin of `edges` (GeV): expected events per bin."""
    x, weight = dijet_nodes(edges, sqrt_s=sqrt_s)
    params = np.asarray(params, dtype=np.float64)
    f = dijet_function(x.ravel(), params).reshape(*params.shape[:-1], *x.shape)
    return (f * weight).sum(axis=-1)


@dataclass(frozen=True)
class DijetShape:
    """The dijet function on fixed bins as an exponential family: ln f = q . basis with
    q = (ln p1, p2, ..., pk) and basis (1, ln(1-x), ln x, ln^2 x) at the Gauss-Legendre nodes of every bin, so one
    exponential gives both the expected counts per bin and their exact Jacobian in q (used by the batched
    pseudo-experiment refits and the profiled signal fits)."""

    basis: np.ndarray  # (k, B * N)
    node_basis: np.ndarray  # (B, N, k)
    weight: np.ndarray  # (B, N)

    @classmethod
    def of(cls, fit: DijetFitResult) -> DijetShape:
        x, weight = dijet_nodes(fit.edges, sqrt_s=fit.sqrt_s)
        lx = np.log(x)
        basis = np.stack([np.ones_like(x), np.log1p(-x), lx, lx**2, lx**3][: fit.n_params])  # (k, B, N)
        return cls(basis.reshape(fit.n_params, -1), basis.transpose(1, 2, 0), weight)

    @staticmethod
    def start(fit: DijetFitResult) -> np.ndarray:
        """q of a fit's parameters."""
        return np.array([np.log(fit.params[0]), *fit.params[1:]])

    def expectation(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expected counts (..., B) and Jacobian (..., B, k) for parameters q of shape (..., k)."""
        n_bins, n_nodes = self.weight.shape
        with np.errstate(over="ignore", invalid="ignore"):
            f = np.exp(q @ self.basis).reshape(*q.shape[:-1], n_bins, n_nodes) * self.weight
        mu = f.sum(axis=-1)
        if f.ndim == 2:
            return mu, np.einsum("bn,bnk->bk", f, self.node_basis)
        # batched: one (T, N) x (N, k) product per bin
        jac = np.matmul(f.reshape(-1, n_bins, n_nodes).transpose(1, 0, 2), self.node_basis).transpose(1, 0, 2)
        return mu, jac.reshape(*q.shape[:-1], n_bins, -1)


def mass_resolution(mass, *, stochastic: float = 0.5, constant: float = 0.03) -> np.ndarray:
    """Dijet mass resolution sigma(m) in GeV, from the jet energy resolution (50%/sqrt(E) (+) 3%)."""
    mass = np.asarray(mass, dtype=np.float64)
    return np.sqrt(stochastic**2 * mass + (constant * mass) ** 2)


def resolution_binning(m_min: float, m_max: float, *, stochastic: float = 0.5, constant: float = 0.03,
                       factor: float = 1.0) -> np.ndarray:
    """Bin edges from m_min up to at least m_max, each bin `factor` x the mass resolution at its lower edge."""
    if not 0 < m_min < m_max:
        raise StatsInputError(f"need 0 < m_min < m_max, got {m_min}, {m_max}")
    if factor <= 0:
        raise StatsInputError(f"factor must be positive, got {factor}")
    edges = [float(m_min)]
    while edges[-1] < m_max:
        edges.append(edges[-1] + factor * float(mass_resolution(edges[-1], stochastic=stochastic,
                                                                  constant=constant)))
    return np.array(edges)


@dataclass(frozen=True, repr=False)
class DijetFitResult(Readable):
    """A background fit: parameters, expectation per bin, pulls and goodness of fit.

    chi2 is the Poisson deviance 2 sum(mu - n + n ln(n/mu)) and pulls are (n - mu)/sqrt(mu); for a weighted fit
    (`variances` given) both are taken on the effective entries n/r, mu/r (module docstring), and
    `entry_weight` is r (1 for counts).
    `n_params_tests` holds the deviance of each tried member when the number of parameters was chosen.
    """

    n_params: int
    params: np.ndarray
    errors: np.ndarray
    expected: np.ndarray
    pulls: np.ndarray
    chi2: float
    ndf: int
    chi2_ndf: float
    p_value: float
    converged: bool
    message: str
    edges: np.ndarray
    counts: np.ndarray
    sqrt_s: float
    n_params_tests: dict = field(default_factory=dict)
    entry_weight: float = 1.0


def _deviance(counts: np.ndarray, mu: np.ndarray) -> float:
    mu = np.maximum(mu, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(counts > 0, counts * np.log(counts / mu), 0.0)
    return float(2.0 * np.sum(mu - counts + term))


def _cost(counts, mu, ratio) -> float:
    return _deviance(counts, mu) if ratio is None else _deviance(counts / ratio, mu / ratio)


def _fit_once(counts, edges, sqrt_s, start_shape, ratio=None, keep=None):
    from iminuit import Minuit

    n_shape = len(start_shape)
    unit = dijet_expected(np.array([1.0, *start_shape]), edges, sqrt_s=sqrt_s)
    log_norm0 = np.log(max(counts.sum(), 1.0) / max(unit.sum(), 1e-300))

    def cost(*q):
        if abs(q[0]) > _LOG_LIMIT:
            return 1e30
        params = np.array([np.exp(q[0]), *q[1:]])
        with np.errstate(over="ignore", invalid="ignore"):
            mu = dijet_expected(params, edges, sqrt_s=sqrt_s)
        if not np.all(np.isfinite(mu)):
            return 1e30
        return _cost(counts, mu, ratio) if keep is None else _cost(counts[keep], mu[keep], ratio)

    minuit = Minuit(cost, log_norm0, *start_shape, name=["log_p1", *[f"p{k + 2}" for k in range(n_shape)]])
    minuit.errordef = Minuit.LEAST_SQUARES
    minuit.strategy = 1
    minuit.migrad(ncall=20_000)
    if minuit.valid:
        minuit.hesse()
    return minuit


def _fit_member(counts, edges, sqrt_s, n_params, starts, ratio=None, keep=None):
    best = None
    for start in starts:
        try:
            minuit = _fit_once(counts, edges, sqrt_s, tuple(start), ratio, keep)
        except (ValueError, FloatingPointError, RuntimeError):
            continue
        # every start is tried: the 4/5-parameter likelihood has long flat valleys with local minima
        if best is None or (minuit.valid, -minuit.fval) > (best.valid, -best.fval):
            best = minuit
    return best


def dijet_fit(counts, edges=None, *, n_params: int | str = 5, sqrt_s: float = 13000.0,
              alpha: float = 0.05, variances=None, exclude=None) -> DijetFitResult:
    """Fit the dijet function to a histogram with a binned Poisson likelihood: `counts, edges` arrays or one
    histogram object (hist.Hist; a weighted one is fitted as weighted simulation with its variances).

    variances: for weighted simulation, the sum of squared weights per bin; the fit then works on effective
    entries (module docstring).
    n_params: 3, 4, 5, or "auto": start at 3 and add a parameter while the deviance improves by more than
    the chi2(1) quantile at `alpha` (Wilks' likelihood-ratio test); the tests are recorded in the result.
    Each member starts from the previous member's best point plus a few fixed alternatives (robust starts);
    a fit that does not converge comes back with `converged=False`, never silently. So does a fit with no
    degrees of freedom left (ndf = bins - parameters <= 0, or no more non-empty bins than parameters) and one
    whose parameters ran to the limits of double precision (a spectrum too small or too degenerate to fit);
    its `message` says which, its `chi2_ndf` is NaN and nothing downstream may use it for a claim.
    exclude: boolean mask of bins left out of the likelihood (a signal window, to judge the background model
    where the signal is not); chi2, ndf and p-value then count the other bins only, while `expected` and `pulls`
    cover every bin.
    """
    counts, edges, variances = spectrum(counts, edges, variances)
    keep = None
    if exclude is not None:
        exclude = np.asarray(exclude, dtype=bool)
        if exclude.shape != counts.shape:
            raise StatsInputError(f"exclude must have one entry per bin ({len(counts)}), got shape {exclude.shape}")
        keep = ~exclude if exclude.any() else None
    if edges[-1] >= sqrt_s or edges[0] <= 0:
        raise StatsInputError(f"edges must lie in (0, sqrt_s={sqrt_s:g}), got [{edges[0]:g}, {edges[-1]:g}]")
    if n_params not in (3, 4, 5, "auto"):
        raise StatsInputError(f"n_params must be 3, 4, 5 or 'auto', got {n_params!r}")
    ratio = None if variances is None else _entry_weight(counts, variances)
    members = (3, 4, 5) if n_params == "auto" else tuple(range(3, int(n_params) + 1))
    if n_params == "auto":  # members that leave no degree of freedom are not tried
        members = tuple(n for n in members if n < len(counts)) or (3,)
    fits: dict[int, object] = {}
    previous: tuple = ()
    for n in members:
        starts = [(*previous, 0.0)] if previous else []
        starts += [_START_SHAPE[n], (5.0, -6.0, *[0.0] * (n - 3)), (30.0, -2.0, *[0.0] * (n - 3))]
        minuit = _fit_member(counts, edges, sqrt_s, n, starts, ratio, keep)
        if minuit is None:
            continue
        fits[n] = minuit
        previous = tuple(minuit.values[1:])
    if not fits:
        raise FitError("the dijet fit failed for every starting point (is the histogram degenerate?)")
    tests = {n: float(m.fval) for n, m in fits.items()}
    if n_params == "auto":
        threshold = sps.chi2.ppf(1 - alpha, 1)
        chosen = min(fits)
        for n in sorted(fits):
            if n > chosen and tests[chosen] - tests[n] > threshold and fits[n].valid:
                chosen = n
    else:
        chosen = int(n_params)
        if chosen not in fits:
            raise FitError(f"the {chosen}-parameter dijet fit failed for every starting point")
    minuit = fits[chosen]
    q = np.array(minuit.values)
    params = np.array([np.exp(q[0]), *q[1:]])
    errors = np.array(minuit.errors)
    errors[0] = params[0] * errors[0]  # from log p1 to p1
    expected = dijet_expected(params, edges, sqrt_s=sqrt_s)
    entry_weight = 1.0 if ratio is None else ratio
    pulls = (counts - expected) / np.sqrt(np.maximum(expected, 1e-12) * entry_weight)
    used = np.ones(len(counts), dtype=bool) if keep is None else keep
    chi2 = _cost(counts[used], expected[used], ratio)
    ndf = int(used.sum()) - chosen
    failure = _degenerate(counts[used], chosen, q, errors, expected)
    if not minuit.valid and not failure:
        failure = "MIGRAD did not converge (result flagged, not usable for claims)"
    return DijetFitResult(
        n_params=chosen, params=params, errors=errors, expected=expected, pulls=pulls, chi2=chi2, ndf=ndf,
        chi2_ndf=chi2 / ndf if ndf > 0 else float("nan"),
        p_value=float(sps.chi2.sf(chi2, ndf)) if ndf > 0 else float("nan"), converged=not failure,
        message=failure or "ok",
        edges=edges, counts=counts, sqrt_s=sqrt_s, n_params_tests=tests, entry_weight=entry_weight,
    )


def _degenerate(counts, n_params, q, errors, expected) -> str:
    """Why a fit cannot be used (empty when it can)."""
    if len(counts) - n_params <= 0:
        return f"no degrees of freedom: {len(counts)} bins for {n_params} parameters"
    if np.count_nonzero(counts) <= n_params:
        return f"{np.count_nonzero(counts)} non-empty bins cannot constrain {n_params} parameters"
    if abs(q[0]) > _LOG_LIMIT or np.any(np.abs(q[1:]) > _SHAPE_LIMIT) or not np.all(np.isfinite(errors)) \
            or not np.all(np.isfinite(expected)):
        return "parameters at the limits of double precision (the fit ran away)"
    return ""


def _entry_weight(counts: np.ndarray, variances) -> float:
    """Weight of one effective entry r (see the module docstring), from sum w and sum w^2 per bin."""
    variances = np.asarray(variances, dtype=np.float64)
    if variances.shape != counts.shape:
        raise StatsInputError(f"variances must match counts, got shapes {variances.shape} and {counts.shape}")
    if not np.all(np.isfinite(variances)) or np.any(variances < 0):
        raise StatsInputError("variances must be finite and non-negative")
    if np.any((variances == 0) & (counts > 0)):
        raise StatsInputError("a bin with counts has zero variance")
    return float(variances.sum() / counts.sum())
