"""From anomaly regions to spectra, background models, pseudo-data and the bump hunt.

The background of each (channel, region) spectrum is the dijet function fitted to the weighted Standard-Model
simulation that passes the region (effective-entries fit, see `stats.dijet`); its chi2/ndf and pulls are the
sculpting check. Pseudo-data at the analysis luminosity are a seeded Poisson draw of that smooth background plus
the injected signal's own histogram, so that the simulation's limited size (and its skewed pTHat-bias weights)
shows up as an uncertain background fit rather than as fake bumps. A spectrum whose simulation holds fewer than
`min_effective` effective events is skipped, with the reason recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import FitError
from .bumphunt import BumpHuntResult, bump_hunt, global_significance
from .dijet import dijet_fit
from .sculpting import sculpting_check

__all__ = ["Excess", "SpectrumModel", "ToyBudget", "background_models", "hunt"]


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
         toys: ToyBudget = ToyBudget(), background_scale: float = 1.0) -> tuple[list[Excess], dict | None]:
    """Pseudo-data = Poisson(smooth background + signal) per fitted spectrum; local and global significance.

    signal: (channel, region) -> injected signal counts per bin at the luminosity (missing = none). Returns the
    excesses (largest Z_local first) and the global summary (None when no spectrum could be fitted).
    `background_scale` multiplies the fitted background (data luminosity / simulation luminosity).
    A spectrum whose pseudo-data fit is not usable is left out, with its reason in the summary's "skipped";
    it never enters the global significance. Each spectrum's own p-value uses a tenth of the toy budget.
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
        spectra.append((counts, edges, fit))
        kept.append(m)
    if not spectra:
        return [], None
    hunts = [bump_hunt(counts, e, rng=rng, fit=fit, **toys.kwargs(0.1)) for counts, e, fit in spectra]
    glob = global_significance([(c, e) for c, e, _ in spectra], rng=rng, fits=[f for _, _, f in spectra],
                               **toys.kwargs())
    excesses = [Excess(m.channel, m.region, h) for m, h in zip(kept, hunts, strict=True)]
    excesses.sort(key=lambda x: -x.z_local)
    best = kept[glob.channel]
    summary = {**glob.record(), "channel": best.channel, "region": best.region, "n_spectra": len(spectra),
               "skipped": skipped}
    return excesses, summary
