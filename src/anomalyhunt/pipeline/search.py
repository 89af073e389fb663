"""The RMM + autoencoder search of seeds 000/001 end to end, from event datasets to a run folder.

"Data" is the Standard-Model mix at its physical rates plus any BSM samples listed in `inject` (each scaled by
its factor). The autoencoder is trained on a random `train_fraction` of the data (so with signal
contamination when something is injected), with the event weights in the loss; the rest of the data and every
BSM sample are scored. When something is injected, a second autoencoder is trained on the same events without
the signal: its AUCs are the "without contamination" column, and its anomaly regions, filled with background
pseudo-data only, are the null test (nothing should be significant).

Spectra (`hunt` module): the background of each channel and region is a dijet fit to the weighted SM simulation
(which is the sculpting check), and the pseudo-data at `data_luminosity_fb` (default: `luminosity_fb`) are a
Poisson draw of that fit plus the injected signal's histogram.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..events.io import atomic_write_text
from ..exceptions import ConfigError
from ..features import flatten, padded_four_vectors, rmm, search_masses
from ..models import Autoencoder
from ..stats import (
    auc,
    cross_section_limit,
    mass_resolution,
    regions_by_cross_section,
    resolution_binning,
    roc_curve,
    sensitivity_gain,
    upper_limits,
)
from .hunt import background_models, hunt
from .samples import load_samples

__all__ = ["SearchConfig", "run_search"]


@dataclass(frozen=True)
class SearchConfig:
    """One search: samples (dataset folders), what is injected into the data, model and statistics knobs."""

    samples: tuple[str, ...]
    inject: dict[str, float] = field(default_factory=dict)
    rmm_preset: str = "T5N10"
    model_preset: str = "chekanov2022"
    train_fraction: float = 0.3
    max_epochs: int = 300
    patience: int = 30
    batch_size: int = 100
    compare_fourvec: bool = True
    luminosity_fb: float = 140.0
    data_luminosity_fb: float | None = None
    regions_pb: tuple[float, ...] = (10.0, 1.0, 0.1)
    m_min: float = 200.0
    m_max: float = 6000.0
    n_toys: int = 1000
    min_events_to_fit: float = 50.0
    null_test: bool = True
    seed: int = 1

    def __post_init__(self) -> None:
        if not self.samples:
            raise ConfigError("a search needs at least one sample")
        if not 0 < self.train_fraction < 1:
            raise ConfigError(f"train_fraction must be in (0, 1), got {self.train_fraction}")
        if self.luminosity_fb <= 0:
            raise ConfigError(f"luminosity_fb must be positive, got {self.luminosity_fb}")
        for name, factor in self.inject.items():
            if factor < 0:
                raise ConfigError(f"inject[{name!r}] must be >= 0, got {factor}")


def _load(config: SearchConfig):
    events, process = load_samples(config.samples)
    unknown = set(config.inject) - set(process)
    if unknown:
        raise ConfigError(f"inject names samples that are not loaded: {sorted(unknown)}")
    return events, process


def _signal_histograms(masses, weight, select, edges, luminosity_fb):
    return {name: np.histogram(m[select & np.isfinite(m)], bins=edges,
                               weights=weight[select & np.isfinite(m)] * luminosity_fb * 1000.0)[0]
            for name, m in masses.items()}


def _train(config: SearchConfig, x, weight, *, scale=None, progress=False) -> Autoencoder:
    kwargs = {} if scale is None else {"scale": scale}
    return Autoencoder(config.model_preset, max_epochs=config.max_epochs, patience=config.patience,
                       batch_size=config.batch_size, seed=config.seed, progress=progress, **kwargs).fit(x, weight)


def _aucs(score, process, weight, sm_test, samples):
    return {s: auc(score[sm_test], score[process == s], weights_background=weight[sm_test],
                   weights_signal=weight[process == s]) for s in samples}


def _statistics(config, *, score, train, data_weight, weight, is_sm, process, masses, edges, rng):
    """Regions, background models, pseudo-data and bump hunt for one trained model's scores."""
    test = (data_weight > 0) & ~train
    test_fraction = data_weight[test].sum() / max(data_weight[data_weight > 0].sum(), 1e-300)
    regions = regions_by_cross_section(score[test], data_weight[test], targets_pb=config.regions_pb,
                                       scale=1.0 / max(test_fraction, 1e-12))
    selections = {r.name: test & (score >= r.threshold) for r in regions}
    sm_weight = np.where(is_sm, weight, 0.0) / max(test_fraction, 1e-12)
    models = background_models(masses, sm_weight, selections, edges, luminosity_fb=config.luminosity_fb,
                               min_effective=config.min_events_to_fit)
    lumi = config.data_luminosity_fb or config.luminosity_fb
    signal = {}
    injected = np.isin(process, list(config.inject)) & (data_weight > 0) & ~is_sm
    for r in regions:
        hists = _signal_histograms(masses, data_weight / max(test_fraction, 1e-12), selections[r.name] & injected,
                                   edges, lumi)
        signal.update({(channel, r.name): h for channel, h in hists.items()})
    excesses, z_global, _ = hunt(models, signal, rng=rng, n_toys=config.n_toys,
                                 background_scale=lumi / config.luminosity_fb)
    return regions, models, excesses, z_global


def _limits(excesses: list[dict], luminosity_fb: float) -> list[dict]:
    """95% CLs limits (resolution-width Gaussian) on each fitted spectrum, in signal events and in pb."""
    out = []
    for x in excesses:
        hunt_result = x["_hunt"]
        lim = upper_limits(hunt_result.fit.counts, hunt_result.fit.edges, fit=hunt_result.fit)
        out.append({"channel": x["channel"], "region": x["region"], "masses": lim.masses.tolist(),
                    "observed_events": lim.observed.tolist(), "expected_events": lim.expected.tolist(),
                    "observed_pb": cross_section_limit(lim.observed, luminosity_fb=luminosity_fb).tolist(),
                    "expected_pb": cross_section_limit(lim.expected, luminosity_fb=luminosity_fb).tolist(),
                    "_result": lim})
    return out


_PEAK_BINS = resolution_binning(50.0, 8000.0)


def _sensitivity_gains(samples, masses, score, threshold, *, process, weight, is_sm, sm_test,
                       luminosity_fb) -> dict:
    """Per BSM sample: S/sqrt(B) within +-1 resolution of the signal's peak (the fullest resolution-wide bin),
    before and after the loosest anomaly region, in the channel whose window holds most of the signal (where
    the resonance lives). With no simulated background in the window the gain is NaN, said so in `note`."""
    selected = score >= threshold
    # expected events at the luminosity; the scored SM part stands for all of the SM
    sm_scale = weight[is_sm].sum() / max(weight[sm_test].sum(), 1e-300)
    weight = weight * luminosity_fb * 1000.0 * np.where(sm_test, sm_scale, 1.0)
    gains = {}
    for s in samples:
        best = None
        for channel, m in masses.items():
            sig = (process == s) & np.isfinite(m)
            bkg = sm_test & np.isfinite(m)
            if sig.sum() < 10 or bkg.sum() < 10:
                continue
            counts, edges = np.histogram(m[sig], bins=_PEAK_BINS, weights=weight[sig])
            k = int(np.argmax(counts))  # bins are one resolution wide: the fullest one holds the peak
            centre = float(0.5 * (edges[k] + edges[k + 1]))
            sigma = float(mass_resolution(centre))
            g = sensitivity_gain(m[bkg], m[sig], selected_background=selected[bkg], selected_signal=selected[sig],
                                 mass=centre, sigma=sigma, weights_background=weight[bkg],
                                 weights_signal=weight[sig])
            if best is None or g.s_before > best[1].s_before:
                best = (channel, g, centre, sigma)
        if best is not None:
            channel, g, centre, sigma = best
            gains[s] = {"channel": channel, "mass": centre, "sigma": sigma, "gain": g.gain,
                        "note": "" if g.b_before > 0 else "no simulated background in the window",
                        "significance_before": g.significance_before, "significance_after": g.significance_after,
                        "signal_efficiency": g.s_after / g.s_before if g.s_before > 0 else float("nan"),
                        "background_efficiency": g.b_after / g.b_before if g.b_before > 0 else float("nan")}
    return gains


def run_search(config: SearchConfig, out: str | Path, *, progress: bool = True) -> dict[str, Any]:
    """Run the whole search into folder `out`; returns the summary written to `out/summary.json`."""
    from .report import write_report

    out = Path(out)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "config.json", json.dumps(dataclasses.asdict(config), indent=2))
    rng = np.random.default_rng(config.seed)
    events, process = _load(config)
    label = np.asarray(events.label)
    weight = np.asarray(events.weight, dtype=np.float64)
    is_sm = label == 0
    data_weight = np.where(is_sm, weight, 0.0)
    for name, factor in config.inject.items():
        data_weight = np.where(process == name, weight * factor, data_weight)
    in_data = data_weight > 0
    features = flatten(rmm(events, preset=config.rmm_preset))
    train = in_data & (rng.random(len(events)) < config.train_fraction)

    model = _train(config, features[train], data_weight[train], progress=progress)
    model.save(out / "model.pt")
    score = model.score_samples(features)
    np.savez_compressed(out / "scores.npz", score=score, event_id=np.asarray(events.event_id), process=process,
                        weight=weight, train=train)

    bsm_samples = sorted(set(process[~is_sm]))
    sm_test = is_sm & ~train
    aucs = _aucs(score, process, weight, sm_test, bsm_samples)
    curves = {s: roc_curve(score[sm_test], score[process == s], weights_background=weight[sm_test],
                           weights_signal=weight[process == s]) for s in bsm_samples}
    auc_fourvec = {}
    if config.compare_fourvec:
        fv = padded_four_vectors(events, preset=config.rmm_preset)
        fv_score = _train(config, fv[train], data_weight[train], scale="minmax").score_samples(fv)
        auc_fourvec = _aucs(fv_score, process, weight, sm_test, bsm_samples)

    masses = search_masses(events)
    edges = resolution_binning(config.m_min, config.m_max)
    stats = dict(train=train, data_weight=data_weight, weight=weight, is_sm=is_sm, process=process, masses=masses,
                 edges=edges, rng=rng)
    regions, models, excesses, z_global = _statistics(config, score=score, **stats)
    auc_clean, null = {}, None
    if config.inject and config.null_test:
        # the same training events without the injected signal; the null test sees background only
        clean = train & is_sm
        clean_score = _train(config, features[clean], data_weight[clean]).score_samples(features)
        auc_clean = _aucs(clean_score, process, weight, sm_test, bsm_samples)
        null_config = dataclasses.replace(config, inject={})
        _, _, null_excesses, null = _statistics(null_config, score=clean_score,
                                                **(stats | {"data_weight": np.where(is_sm, weight, 0.0)}))
        if null is not None:
            null["largest_excesses"] = [{k: v for k, v in x.items() if not k.startswith("_")}
                                        for x in null_excesses[:3]]
    loose = regions[0].name
    limits = _limits(excesses, config.data_luminosity_fb or config.luminosity_fb)
    gains = _sensitivity_gains(bsm_samples, masses, score, regions[0].threshold, process=process, weight=weight,
                               is_sm=is_sm, sm_test=sm_test, luminosity_fb=config.luminosity_fb)
    sculpting = {m.channel: m for m in models if m.region == loose and m.channel in ("m_jj", "m_bb")}

    summary = {
        "auc": aucs, "auc_fourvec": auc_fourvec,
        "regions": [dataclasses.asdict(r) for r in regions],
        "auc_uncontaminated": auc_clean,
        "sculpting": {k: m.record() for k, m in sculpting.items()},
        "background_fits": [m.record() for m in models],
        "excesses": [{k: v for k, v in x.items() if not k.startswith("_")} for x in excesses],
        "z_global": z_global,
        "null_test": null,
        "limits": [{k: v for k, v in x.items() if not k.startswith("_")} for x in limits],
        "sensitivity_gain": gains,
        "training": {"events": int(train.sum()), "epochs": len(model.history_.train_loss),
                     "best_epoch": model.history_.best_epoch,
                     "seconds_per_epoch": model.history_.seconds_per_epoch, "device": model.history_.device,
                     "inputs": int(len(model.columns_)), "weights": "event weights in the loss"},
        "injected": config.inject, "luminosity_fb": config.luminosity_fb,
        "data_luminosity_fb": config.data_luminosity_fb or config.luminosity_fb,
        "pseudo_data": "Poisson(dijet fit to weighted SM simulation + injected signal histogram)",
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=float))
    write_report(out, summary, model=model, score=score, process=process, weight=weight, sm_test=sm_test,
                 events=events, curves=curves, excesses=excesses, sculpting=sculpting, config=config,
                 limits=limits)
    return summary
