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
A spectrum whose background model fails there (chi2 p-value below 1e-3, or a pull beyond 5 in a bin with data) is
left out of the hunt, the global significance and the limits, with its reason under `skipped`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..exceptions import FitError
from .bumphunt import BumpHuntResult, bump_hunt, global_significance, local_scan, profile_factors, signal_templates
from .dijet import DijetFitResult, dijet_fit
from .sculpting import sculpting_check

__all__ = ["Excess", "SidebandCheck", "SpectrumModel", "ToyBudget", "background_models", "hunt", "sideband_check",
           "skipped_models"]


@dataclass(frozen=True)
class SidebandCheck:
    """The background model of one spectrum judged outside its most significant window.

    window: (low, high) edges of the bins left out (GeV); chi2, ndf, p_value: Poisson deviance of the refit over
    the other bins; max_abs_pull: the largest |pull| of the refit in a bin outside the window that holds data;
    passed: p_value >= p_min and max_abs_pull <= max_pull and the refit converged; reason: why not, in words."""

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


def sideband_check(counts: np.ndarray, fit: DijetFitResult, *, p_min: float = 1e-3, max_pull: float = 5.0
                   ) -> SidebandCheck:
    """Refit `counts` (the histogram `fit` was made on) with the most significant window of its local scan left
    out (the +-3 sigma bins of the best signal template at the mass resolution), and judge the fit on the
    remaining bins; see `SidebandCheck`."""
    counts = np.asarray(counts, dtype=np.float64)
    edges = fit.edges
    # the window of a signal at the detector's mass resolution: a wide template's +-3 sigma would leave out half
    # the spectrum and excuse a background model that fails there
    templates = signal_templates(edges, widths=("resolution",))
    _, z = local_scan(counts[None], fit.expected[None], templates, factors=profile_factors(fit, templates))
    k = int(np.argmax(z[0]))
    window = np.zeros(len(counts), dtype=bool)
    window[templates.index[k, :templates.length[k]]] = True
    bounds = (float(edges[np.flatnonzero(window)[0]]), float(edges[np.flatnonzero(window)[-1] + 1]))
    try:
        refit = dijet_fit(counts, edges, n_params=fit.n_params, sqrt_s=fit.sqrt_s, exclude=window)
    except FitError as err:
        return SidebandCheck(bounds, float("nan"), 0, float("nan"), float("nan"), False,
                             f"background fit outside the window {bounds[0]:.0f}-{bounds[1]:.0f} GeV failed: {err}")
    outside = ~window & (counts > 0)
    pull = float(np.max(np.abs(refit.pulls[outside]))) if outside.any() else 0.0
    reasons = []
    if not refit.converged:
        reasons.append(f"the fit outside the window does not converge ({refit.message})")
    elif not refit.p_value >= p_min:
        reasons.append(f"chi2/ndf = {refit.chi2:.4g}/{refit.ndf} (p = {refit.p_value:.2g} < {p_min:g})")
    if pull > max_pull:
        reasons.append(f"a pull of {pull:.3g} > {max_pull:g} in a bin with data")
    reason = ""
    if reasons:
        reason = (f"background model fails outside the most significant window ({bounds[0]:.0f}-{bounds[1]:.0f} "
                  "GeV): " + "; ".join(reasons))
    return SidebandCheck(bounds, float(refit.chi2), int(refit.ndf), float(refit.p_value), pull, not reasons, reason)


@dataclass(frozen=True)
class SpectrumModel:
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


@dataclass(frozen=True)
class Excess:
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
