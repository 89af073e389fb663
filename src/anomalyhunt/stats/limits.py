"""95% CL upper limits on a Gaussian signal over a fitted background: CLs with the q-tilde asymptotic formulae
(Cowan, Cranmer, Gross, Vitells 2011, eqs. 65-66), computed as pyhf 0.7 computes them.

q~(mu) = 2 [NLL(mu, q^^_mu) - NLL(max(s^, 0), q^)] for s^ < mu, else 0; q_A(mu) is the same statistic on the
Asimov data of the background-only fit, evaluated at every mu (not a single sigma). With t = sqrt(q~) - sqrt(q_A)
when q~ <= q_A and (q~ - q_A) / (2 sqrt(q_A)) otherwise: CL_s+b = Phi(-(t + sqrt(q_A))), CL_b = Phi(-t),
CLs = CL_s+b / CL_b. The expected limit at N sigma solves the same with t = max(-N, -sqrt(q_A)).

The background: by default ("profiled") the dijet function of the spectrum's background fit with all of its
parameters floating in the signal + background fit, so a background that can bend towards a true signal pays
for it in the likelihood instead of silently absorbing it (the limit widens rather than excluding the signal).
"fixed" holds the background-only fit fixed (the pre-1.0 behaviour; it under-covers, see docs/results.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from ..exceptions import FitError, StatsInputError
from ..records import Readable
from ._checks import spectrum
from .bumphunt import signal_templates
from .dijet import DijetFitResult, dijet_fit
from .likelihood import SignalPlusBackground

__all__ = ["LimitResult", "upper_limits", "cls_limits", "cross_section_limit"]

BANDS = (-2, -1, 0, 1, 2)


@dataclass(frozen=True, repr=False)
class LimitResult(Readable):
    """Upper limits on signal events per scanned mass: observed, expected median and +-1, +-2 sigma bands."""

    masses: np.ndarray
    width: str
    observed: np.ndarray
    expected: np.ndarray
    band_1sigma: np.ndarray  # (M, 2)
    band_2sigma: np.ndarray
    cl: float
    background: str = "profiled"


def cls_limits(counts, model: SignalPlusBackground, *, cl: float = 0.95) -> tuple[float, dict]:
    """Observed CLs upper limit on the signal events of `model.template` and the expected limits at
    N = -2..2 sigma ({N: limit}), with q-tilde and the background as `model` treats it (fixed or profiled)."""
    counts = np.asarray(counts, dtype=np.float64)
    if not 0 < cl < 1:
        raise StatsInputError(f"cl must be in (0, 1), got {cl}")
    alpha = 1.0 - cl
    t = model.template
    s_hat, nll_hat, _ = model.fit(counts)
    asimov, _ = model.background_only(counts)
    nll_asimov0 = model.profile(asimov, 0.0)[0]
    b_in = float(np.sum(asimov * t) / max(np.sum(t * t), 1e-300))
    scale = float(np.sqrt(max(b_in, 0.0))) * 2.0 + 3.0  # rough size of a limit, for the brackets

    cache: dict[float, float] = {}

    def sqrt_qa(mu: float) -> float:
        if mu not in cache:
            cache[mu] = np.sqrt(max(2.0 * (model.profile(asimov, mu)[0] - nll_asimov0), 0.0))
        return cache[mu]

    def observed_cls(mu: float) -> float:
        q = 0.0 if s_hat >= mu else max(2.0 * (model.profile(counts, mu)[0] - nll_hat), 0.0)
        sq, sqa = np.sqrt(q), sqrt_qa(mu)
        stat = sq - sqa if sq <= sqa else (q - sqa**2) / (2.0 * max(sqa, 1e-300))
        return _cls(stat, sqa) - alpha

    def expected_cls(n: int):
        def func(mu: float) -> float:
            sqa = sqrt_qa(mu)
            return _cls(max(-float(n), -sqa), sqa) - alpha
        return func

    observed = _solve(observed_cls, scale)
    expected = {n: _solve(expected_cls(n), scale) for n in BANDS}
    return observed, expected


def _cls(stat: float, sqrt_qa: float) -> float:
    return float(special.ndtr(-(stat + sqrt_qa)) / max(special.ndtr(-stat), 1e-300))


def upper_limits(counts, edges=None, *, width="resolution", cl: float = 0.95, fit: DijetFitResult | None = None,
                 n_params: int | str = "auto", masses=None, background: str = "profiled") -> LimitResult:
    """CLs upper limits on the number of signal events of a Gaussian at every scanned mass (or at `masses`), for a
    spectrum given as `counts, edges` or one hist.Hist.

    background: "profiled" (the dijet parameters float in every fit, the default) or "fixed" (the
    background-only fit held fixed). A fit that is not usable (see `dijet_fit`) is refused.
    """
    counts, edges, _ = spectrum(counts, edges)  # a hist.Hist's counts are the data (Poisson)
    if background not in ("profiled", "fixed"):
        raise StatsInputError(f"background must be 'profiled' or 'fixed', got {background!r}")
    fit = fit or dijet_fit(counts, edges, n_params=n_params)
    if not fit.converged:
        raise FitError(f"no limits on a spectrum whose background fit is not usable: {fit.message}")
    templates = signal_templates(edges, widths=(width,), masses=masses)
    observed, expected, band1, band2 = [], [], [], []
    for t in templates.dense(len(counts)):
        model = (SignalPlusBackground(t, fit_result=fit) if background == "profiled"
                 else SignalPlusBackground(t, background=fit.expected))
        obs, bands = cls_limits(counts, model, cl=cl)
        observed.append(obs)
        expected.append(bands[0])
        band1.append((bands[-1], bands[1]))
        band2.append((bands[-2], bands[2]))
    label = width if isinstance(width, str) else f"{width:g}m"
    described = f"dijet fit ({fit.n_params} parameters) profiled" if background == "profiled" else "fixed to its fit"
    return LimitResult(templates.masses, label, np.array(observed), np.array(expected), np.array(band1),
                       np.array(band2), cl, described)


def _solve(func, scale: float) -> float:
    """The root of a decreasing CLs - alpha in [0, inf): 0 when CLs < alpha at mu = 0 already."""
    if func(0.0) <= 0:
        return 0.0
    lo, hi = 0.0, scale
    for _ in range(60):
        if func(hi) < 0:
            break
        lo, hi = hi, hi * 2.0
    else:
        return float("inf")
    return float(optimize.brentq(func, lo, hi, xtol=1e-7 * scale, rtol=1e-10))


def cross_section_limit(events_limit, *, luminosity_fb: float, efficiency: float = 1.0):
    """Signal-event limit -> limit on cross section x efficiency in pb."""
    if luminosity_fb <= 0 or not 0 < efficiency <= 1:
        raise StatsInputError(f"need luminosity_fb > 0 and 0 < efficiency <= 1, got {luminosity_fb}, {efficiency}")
    return np.asarray(events_limit, dtype=np.float64) / (luminosity_fb * 1000.0 * efficiency)
