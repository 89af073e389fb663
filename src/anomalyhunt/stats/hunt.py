"""From anomaly regions to spectra, background models, pseudo-data and the bump hunt.

The background of each (channel, region) spectrum is the dijet function fitted to the weighted Standard-Model
simulation that passes the region (effective-entries fit, see `stats.dijet`); its chi2/ndf and pulls are the
sculpting check. Pseudo-data at the analysis luminosity are a seeded Poisson draw of that smooth background plus
the injected signal's own histogram, so that the simulation's limited size (and its skewed pTHat-bias weights)
shows up as an uncertain background fit rather than as fake bumps. A spectrum whose simulation holds fewer than
`min_effective` effective events is skipped, with the reason recorded.

A background-only fit is expected to describe the pseudo-data poorly where a strong signal sits, so the
background model is judged where the signal is not (`sideband_check`, the practice of the ATLAS dijet searches and
of BumpHunter): the most significant window of the local scan is left out and the fit repeated on the other bins.
A spectrum whose background model fails there (chi2 p-value below 1e-3, or a pull beyond 5 in a bin with data),
or whose fit expects events where the data hold none, is left out of the hunt, the global significance and the
limits, with its reason under `skipped`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..exceptions import FitError
from ..records import Readable
from .bumphunt import (
    WIDTH_15,
    BumpHuntResult,
    bump_hunt,
    global_significance,
    local_scan,
    profile_factors,
    signal_templates,
)
from .dijet import DijetFitResult, dijet_fit
from .sculpting import sculpting_check

__all__ = ["Excess", "SidebandCheck", "SpectrumModel", "ToyBudget", "background_models", "hunt", "sideband_check",
           "skipped_models"]


@dataclass(frozen=True, repr=False)
class SidebandCheck(Readable):
    """The background model of one spectrum judged outside its most significant window.

    window: (low, high) edges of the bins left out (GeV): those of the first signal width whose sideband refit
    passes, else of the most significant hypothesis; chi2, ndf, p_value: Poisson deviance of that refit over the
    other bins;
    max_abs_pull: its largest |pull| in a bin outside the window that holds data; passed: the refit converged
    with p_value >= p_min and max_abs_pull <= max_pull, and the fit the hunt uses does not predict events where
    the data hold none; reason: why not, in words."""

    window: tuple[float, float]
    chi2: float
    ndf: int
    p_value: float
    max_abs_pull: float
    passed: bool
    reason: str

    def record(self) -> dict:
        return {"window": list(self.window), "chi2": self.chi2, "ndf": self.ndf, "p_value": self.p_value,
                "max_abs_pull": self.max_abs_pull, "passed": self.passed}


def _sideband_refit(counts: np.ndarray, fit: DijetFitResult, window: np.ndarray, p_min: float, max_pull: float
                    ) -> SidebandCheck:
    edges = fit.edges
    bounds = (float(edges[np.flatnonzero(window)[0]]), float(edges[np.flatnonzero(window)[-1] + 1]))
    where = f"outside the most significant window ({bounds[0]:.0f}-{bounds[1]:.0f} GeV)"
    try:
        refit = dijet_fit(counts, edges, n_params=fit.n_params, sqrt_s=fit.sqrt_s, exclude=window)
    except FitError as err:
        return SidebandCheck(bounds, float("nan"), 0, float("nan"), float("nan"), False,
                             f"background model fails {where}: {err}")
    outside = ~window & (counts > 0)
    pull = float(np.max(np.abs(refit.pulls[outside]))) if outside.any() else 0.0
    reasons = []
    if not refit.converged:
        reasons.append(f"the fit does not converge ({refit.message})")
    elif not refit.p_value >= p_min:
        reasons.append(f"chi2/ndf = {refit.chi2:.4g}/{refit.ndf} (p = {refit.p_value:.2g} < {p_min:g})")
    if pull > max_pull:
        reasons.append(f"a pull of {pull:.3g} > {max_pull:g} in a bin with data")
    reason = f"background model fails {where}: " + "; ".join(reasons) if reasons else ""
    return SidebandCheck(bounds, float(refit.chi2), int(refit.ndf), float(refit.p_value), pull, not reasons, reason)


def sideband_check(counts: np.ndarray, fit: DijetFitResult, *, widths=("resolution", WIDTH_15), p_min: float = 1e-3,
                   max_pull: float = 5.0, max_empty: float = 10.0) -> SidebandCheck:
    """Judge the background model of a spectrum where the signal is not (see `SidebandCheck`).

    For each signal width of the hunt, the most significant window of the local scan (its template's +-3 sigma
    bins) is left out and the background-only fit repeated on the other bins; the model passes when one of
    these refits describes the rest (a real signal is rarely Gaussian: the 15%-wide window takes in the tails of
    a resonance that the resolution-wide one leaves outside). It fails regardless when the fit the hunt uses
    (`fit`, on `counts`) expects more than `max_empty` events in a bin that holds none: a fit run away where the
    data are empty (P(0 | 10) = 5e-5), whose bump hunt would read its own shape as a discovery."""
    counts = np.asarray(counts, dtype=np.float64)
    empty = (counts == 0) & (fit.expected > max_empty)
    if empty.any():
        k = int(np.argmax(np.where(empty, fit.expected, -np.inf)))
        centre = 0.5 * (fit.edges[k] + fit.edges[k + 1])
        return SidebandCheck((float(fit.edges[k]), float(fit.edges[k + 1])), float(fit.chi2), int(fit.ndf),
                             float(fit.p_value), float(np.max(np.abs(fit.pulls))), False,
                             f"the background fit expects {fit.expected[k]:.3g} events at {centre:.0f} GeV where the "
                             f"data hold none ({int(empty.sum())} such bins): a fit run away, not a background model")
    templates = signal_templates(fit.edges, widths=widths)
    _, z = local_scan(counts[None], fit.expected[None], templates, factors=profile_factors(fit, templates))
    checks = []
    for w in range(len(widths)):
        members = np.flatnonzero(templates.widths == w)
        k = int(members[np.argmax(z[0, members])])
        window = np.zeros(len(counts), dtype=bool)
        window[templates.index[k, :templates.length[k]]] = True
        checks.append((float(z[0, k]), _sideband_refit(counts, fit, window, p_min, max_pull)))
        if checks[-1][1].passed:
            return checks[-1][1]
    return max(checks, key=lambda c: c[0])[1]  # the most significant hypothesis' verdict says why


@dataclass(frozen=True, repr=False)
class SpectrumModel(Readable):
    """One spectrum: the size of its simulated background and the smooth fit to it (its sculpting check)."""

    channel: str
    region: str
    n_effective: float
    check: object | None  # SculptingResult, None when skipped
    skipped: str = ""

    @property
    def background(self) -> np.ndarray:
        return self.check.fit.expected

    def record(self) -> dict:
        if self.check is None:
            return {"channel": self.channel, "region": self.region, "n_effective": self.n_effective,
                    "skipped": self.skipped}
        c = self.check
        return {"channel": self.channel, "region": self.region, "n_effective": self.n_effective,
                "chi2_ndf": c.chi2_ndf, "chi2_p_value": c.chi2_p_value, "max_abs_pull": c.max_abs_pull,
                "max_pull_p": c.max_pull_p, "n_params": c.fit.n_params, "converged": c.fit.converged,
                "smooth": c.smooth}


def background_models(masses: dict[str, np.ndarray], weight: np.ndarray, selections: dict[str, np.ndarray],
                      edges: np.ndarray, *, luminosity_fb: float, min_effective: float = 50.0,
                      min_bins: int = 8) -> list[SpectrumModel]:
    """Weighted SM histograms and their dijet fits, for every channel in `masses` and region in `selections`.

    weight: per-event cross section in pb (zero for events that are not background); selections: region name
    -> boolean mask.
    """
    scale = luminosity_fb * 1000.0
    models = []
    for region, select in selections.items():
        for channel, m in masses.items():
            keep = select & np.isfinite(m) & (weight > 0)
            w = weight[keep] * scale
            sumw = np.histogram(m[keep], bins=edges, weights=w)[0]
            sumw2 = np.histogram(m[keep], bins=edges, weights=w**2)[0]
            n_eff = float(sumw.sum() ** 2 / sumw2.sum()) if sumw2.sum() > 0 else 0.0
            reason = ""
            if n_eff < min_effective:
                reason = f"too few simulated events ({n_eff:.0f} effective < {min_effective:g})"
            elif np.count_nonzero(sumw) < min_bins:
                reason = f"{np.count_nonzero(sumw)} non-empty bins < {min_bins}"
            check = None
            if not reason:
                try:
                    check = sculpting_check(sumw, edges, variances=sumw2)
                except FitError as err:
                    reason = f"background fit failed: {err}"
                if check is not None and not check.fit.converged:
                    reason, check = f"background fit not usable: {check.fit.message}", None
            models.append(SpectrumModel(channel, region, n_eff, check, reason))
    return models


@dataclass(frozen=True, repr=False)
class Excess(Readable):
    """The most significant window of one spectrum (channel, region) and its bump-hunt result."""

    channel: str
    region: str
    result: BumpHuntResult

    @property
    def mass(self) -> float:
        return self.result.mass

    @property
    def z_local(self) -> float:
        return self.result.z_local

    def record(self) -> dict:
        """The JSON record (everything but the bump-hunt result object)."""
        r, g = self.result, self.result.significance
        return {"channel": self.channel, "region": self.region, "mass": r.mass, "width": r.width,
                "z_local": r.z_local, "signal": r.signal, "p_global_spectrum": g.p_global,
                "p_global_spectrum_is_bound": g.is_bound, "n_toys_spectrum": g.n_toys,
                "fit_chi2_ndf": r.fit.chi2_ndf, "fit_n_params": r.fit.n_params}


@dataclass(frozen=True)
class ToyBudget:
    """How many pseudo-experiments the global significance may throw (see `global_significance`)."""

    n_toys: int = 1000
    max_toys: int | None = None
    precision: float = 0.3
    time_budget_s: float | None = None

    def kwargs(self, fraction: float = 1.0) -> dict:
        """Keyword arguments for `global_significance`, the toy counts scaled by `fraction` (at least 100)."""
        n = max(100, int(self.n_toys * fraction))
        top = None if self.max_toys is None else max(n, int(self.max_toys * fraction))
        budget = None if self.time_budget_s is None else self.time_budget_s * fraction
        return {"n_toys": n, "max_toys": top, "precision": self.precision, "time_budget_s": budget}


def hunt(models: list[SpectrumModel], signal: dict[tuple[str, str], np.ndarray], *, rng: np.random.Generator,
         toys: ToyBudget = ToyBudget(), background_scale: float = 1.0
         ) -> tuple[list[Excess], dict | None, list[dict]]:
    """Pseudo-data = Poisson(smooth background + signal) per fitted spectrum; local and global significance.

    signal: (channel, region) -> injected signal counts per bin at the luminosity (missing = none). Returns the
    excesses (largest Z_local first), the global summary (None when no spectrum could be fitted) and the spectra
    left out, each {channel, region, reason}.
    `background_scale` multiplies the fitted background (data luminosity / simulation luminosity).
    A spectrum whose pseudo-data fit is not usable, or whose background model fails outside its most
    significant window (`sideband_check`), is left out, with its reason in the summary's "skipped"; it never
    enters the global significance. Each spectrum's own p-value uses a tenth of the toy budget;
    `skipped_models` marks the left-out spectra in the models.
    """
    fitted = [m for m in models if m.check is not None]
    spectra, kept, skipped = [], [], []
    for m in fitted:
        mu = background_scale * m.background + signal.get((m.channel, m.region), 0.0)
        counts, edges = rng.poisson(mu).astype(float), m.check.fit.edges
        fit = dijet_fit(counts, edges, n_params="auto")
        if not fit.converged:
            skipped.append({"channel": m.channel, "region": m.region, "reason": fit.message})
            continue
        check = sideband_check(counts, fit)
        if not check.passed:
            skipped.append({"channel": m.channel, "region": m.region, "reason": check.reason,
                            "sideband_check": check.record()})
            continue
        spectra.append((counts, edges, fit))
        kept.append(m)
    if not spectra:
        return [], None, skipped
    hunts = [bump_hunt(counts, e, rng=rng, fit=fit, **toys.kwargs(0.1)) for counts, e, fit in spectra]
    glob = global_significance([(c, e) for c, e, _ in spectra], rng=rng, fits=[f for _, _, f in spectra],
                               **toys.kwargs())
    excesses = [Excess(m.channel, m.region, h) for m, h in zip(kept, hunts, strict=True)]
    excesses.sort(key=lambda x: -x.z_local)
    best = kept[glob.channel]
    summary = {**glob.record(), "channel": best.channel, "region": best.region, "n_spectra": len(spectra),
               "skipped": skipped}
    return excesses, summary, skipped


def skipped_models(models: list[SpectrumModel], skipped: list[dict]) -> list[SpectrumModel]:
    """`models` with every spectrum the hunt left out (`skipped`, as `hunt` returns it) marked skipped with the
    hunt's reason, so that no sculpting verdict or limit is read off a background model that failed."""
    reasons = {(e["channel"], e["region"]): e["reason"] for e in skipped}
    return [dataclasses.replace(m, check=None, skipped=f"pseudo-data: {reasons[(m.channel, m.region)]}")
            if (m.channel, m.region) in reasons else m for m in models]
