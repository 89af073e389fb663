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
from .sculpting import sculpting_check

__all__ = ["Excess", "SpectrumModel", "background_models", "hunt"]


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
            models.append(SpectrumModel(channel, region, n_eff, check, reason))
    return models


@dataclass(frozen=True)
class Excess:
    """The most significant window of one spectrum (channel, region) and its bump-hunt result."""

    channel: str
    region: str
    mass: float
    width: float
    z_local: float
    p_global_spectrum: float
    fit_chi2_ndf: float
    fit_n_params: int
    fit_converged: bool
    result: BumpHuntResult

    def record(self) -> dict:
        """The JSON record (everything but the bump-hunt result object)."""
        return {"channel": self.channel, "region": self.region, "mass": self.mass, "width": self.width,
                "z_local": self.z_local, "p_global_spectrum": self.p_global_spectrum,
                "fit_chi2_ndf": self.fit_chi2_ndf, "fit_n_params": self.fit_n_params,
                "fit_converged": self.fit_converged}


def hunt(models: list[SpectrumModel], signal: dict[tuple[str, str], np.ndarray], *, rng: np.random.Generator,
         n_toys: int = 1000, background_scale: float = 1.0) -> tuple[list[Excess], dict | None]:
    """Pseudo-data = Poisson(smooth background + signal) per fitted spectrum; local and global significance.

    signal: (channel, region) -> injected signal counts per bin at the luminosity (missing = none). Returns the
    excesses (largest Z_local first) and the global summary (None when no spectrum was fitted).
    `background_scale` multiplies the fitted background (data luminosity / simulation luminosity).
    """
    fitted = [m for m in models if m.check is not None]
    if not fitted:
        return [], None
    spectra = []
    for m in fitted:
        mu = background_scale * m.background + signal.get((m.channel, m.region), 0.0)
        spectra.append((rng.poisson(mu).astype(float), m.check.fit.edges))
    hunts = [bump_hunt(counts, e, rng=rng, n_toys=max(100, n_toys // 10)) for counts, e in spectra]
    glob = global_significance(spectra, n_toys=n_toys, rng=rng, fits=[h.fit for h in hunts])
    excesses = [Excess(m.channel, m.region, h.mass, h.width, h.z_local, h.p_global, h.fit.chi2_ndf, h.fit.n_params,
                       h.fit.converged, h) for m, h in zip(fitted, hunts, strict=True)]
    excesses.sort(key=lambda x: -x.z_local)
    best = fitted[glob.channel]
    summary = {"z_local_max": glob.z_local, "channel": best.channel, "region": best.region, "mass": glob.mass,
               "p_global": glob.p_global, "z_global": glob.z_global,
               "z_global_asymptotic": glob.z_global_asymptotic, "n_spectra": len(spectra), "n_toys": glob.n_toys}
    return excesses, summary
