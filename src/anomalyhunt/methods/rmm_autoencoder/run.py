"""The RMM + autoencoder search of seeds 000/001 end to end, from event datasets to a result.

"Data" is the Standard-Model mix at its physical rates plus any BSM samples listed in `inject` (each scaled by
its factor). The detector (the paper's autoencoder unless the config's `detector:` names another) is trained on a
random `train_fraction` of the data (so with signal
contamination when something is injected), with the event weights in the loss; the rest of the data and every
BSM sample are scored. When something is injected, a second autoencoder is trained on the same events without
the signal: its AUCs are the "without contamination" column, and its anomaly regions, filled with background
pseudo-data only, are the null test (nothing should be significant).

Spectra (`stats.hunt`): the background of each channel and region is a dijet fit to the weighted SM simulation
(which is the sculpting check), and the pseudo-data at `data_luminosity_fb` (default: `luminosity_fb`) are a
Poisson draw of that fit plus the injected signal's histogram.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...detectors import build_detector
from ...events import dataset_files
from ...exceptions import ConfigError
from ...features import feature_spec, flatten, load_feature_file, padded_four_vectors, rmm, search_masses
from ...ingest import load_samples
from ...models import Autoencoder, Estimator
from ...records import Readable
from ...seeds import stream
from ...stats import (
    AnomalyRegion,
    Excess,
    Histogram,
    LimitResult,
    RocCurve,
    Spectrum,
    SpectrumModel,
    ToyBudget,
    auc,
    background_models,
    cross_section_limit,
    hunt,
    mass_resolution,
    regions_by_cross_section,
    resolution_binning,
    roc_curve,
    sensitivity_gain,
    skipped_models,
    upper_limits,
)
from ..base import SearchResult, report_only
from ..ceiling import ceiling_settings, supervised_ceiling
from ..steps import finite_scores, save_detector, training_record
from .config import RMMAutoencoderConfig

__all__ = ["RMMAutoencoderResult", "SpectrumLimits", "gain_verdict", "run"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, repr=False)
class SpectrumLimits(Readable):
    """95% CLs limits on one fitted spectrum, in signal events and in pb."""

    channel: str
    region: str
    result: LimitResult
    luminosity_fb: float

    def record(self) -> dict:
        lim = self.result
        return {"channel": self.channel, "region": self.region, "masses": lim.masses.tolist(),
                "observed_events": lim.observed.tolist(), "expected_events": lim.expected.tolist(),
                "observed_pb": cross_section_limit(lim.observed, luminosity_fb=self.luminosity_fb).tolist(),
                "expected_pb": cross_section_limit(lim.expected, luminosity_fb=self.luminosity_fb).tolist(),
                "expected_1sigma_events": lim.band_1sigma.tolist(), "expected_2sigma_events": lim.band_2sigma.tolist(),
                "background": lim.background}


@dataclass(frozen=True, repr=False)
class RMMAutoencoderResult(SearchResult):
    """Everything one search produced: its fields are summary.json, the `report_only` ones feed the figures."""

    report_module = "anomalyhunt.methods.rmm_autoencoder.report"

    detector: str
    features: str
    auc: dict[str, float]
    auc_fourvec: dict[str, float]
    auc_uncontaminated: dict[str, float]
    regions: tuple[AnomalyRegion, ...]
    sculpting: dict[str, SpectrumModel]
    background_fits: tuple[SpectrumModel, ...]
    excesses: tuple[Excess, ...]
    z_global: dict | None
    null_test: dict | None
    limits: tuple[SpectrumLimits, ...]
    sensitivity_gain: dict[str, dict]  # loosest region, data model: sample -> gain record
    sensitivity_gain_clean: dict[str, dict]  # the same for the model trained without the injected signal
    sensitivity_gain_by_region: dict[str, dict[str, dict[str, dict]]]  # model -> region -> sample -> gain
    sensitivity_gain_verdict: str
    supervised_ceiling: dict[str, dict[str, float]]
    training: dict[str, Any]
    injected: dict[str, float]
    luminosity_fb: float
    data_luminosity_fb: float
    pseudo_data: str
    # for the report
    config: RMMAutoencoderConfig = report_only()
    model: Estimator = report_only()
    score: np.ndarray = report_only()
    process: np.ndarray = report_only()
    weight: np.ndarray = report_only()
    is_sm: np.ndarray = report_only()
    sm_test: np.ndarray = report_only()
    curves: dict[str, RocCurve] = report_only()
    events: Any = report_only()
    spectra: tuple[Spectrum, ...] = report_only()  # exported: spectra.json, spectra.root, workspaces/
    histograms: tuple[Histogram, ...] = report_only()


def _signal_histograms(masses, weight, select, edges, luminosity_fb):
    return {name: np.histogram(m[select & np.isfinite(m)], bins=edges,
                               weights=weight[select & np.isfinite(m)] * luminosity_fb * 1000.0)[0]
            for name, m in masses.items()}


def _train(config: RMMAutoencoderConfig, x, weight, *, features, scale=None, progress=False) -> Estimator:
    """The config's detector (the paper's autoencoder by default) fitted on `x` with event weights; `scale` is the
    autoencoder's input scaling where the detector is one and its params do not set it."""
    if config.detector is None:
        model = Autoencoder(config.model_preset, max_epochs=config.max_epochs, patience=config.patience,
                            batch_size=config.batch_size, seed=config.seed, progress=progress)
    else:
        model = build_detector(config.detector, seed=config.seed, progress=progress)
    if scale is not None and isinstance(model, Autoencoder) and "scale" not in getattr(config.detector, "params", {}):
        model.set_params(scale=scale)
    return model.fit(x, weight, features=features)


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
    toys = ToyBudget(config.n_toys, config.max_toys, config.toy_precision, config.toy_time_budget_s)
    excesses, z_global, skipped = hunt(models, signal, rng=rng, toys=toys,
                                       background_scale=lumi / config.luminosity_fb)
    return regions, skipped_models(models, skipped), excesses, z_global


def _limits(excesses: list[Excess], luminosity_fb: float) -> list[SpectrumLimits]:
    """95% CLs limits (resolution-width Gaussian) on each fitted spectrum."""
    return [SpectrumLimits(x.channel, x.region, upper_limits(x.result.fit.counts, x.result.fit.edges,
                                                             fit=x.result.fit), luminosity_fb)
            for x in excesses]


_LIMIT_MASSES = (500.0, 750.0, 1000.0, 1500.0, 2000.0, 2500.0, 3000.0, 4000.0, 5000.0)


def _spectra(excesses, regions, masses, *, score, train, process, weight, is_sm, luminosity_fb
             ) -> tuple[Spectrum, ...]:
    """Every hunted spectrum for export: the pseudo-data and background fit of its bump hunt, each benchmark
    sample's histogram in that region at its nominal cross section (events at `luminosity_fb`; the part not used
    in training, scaled up by its share), and Gaussian limit templates at round masses and the excess's mass."""
    thresholds = {r.name: r.threshold for r in regions}
    scale = luminosity_fb * 1000.0
    out = []
    for x in excesses:
        fit, m = x.result.fit, masses[x.channel]
        signals = {}
        for s in sorted(set(process[~is_sm])):
            sample = process == s
            kept = sample & ~train
            share = weight[kept].sum() / max(weight[sample].sum(), 1e-300)
            sel = kept & (score >= thresholds[x.region]) & np.isfinite(m)
            if share > 0 and sel.any():
                signals[s] = np.histogram(m[sel], bins=fit.edges, weights=weight[sel] * scale / share)[0]
        out.append(Spectrum.from_fit(fit, region=x.region, observable=x.channel, signals=signals,
                                     limit_masses=sorted({*_LIMIT_MASSES, round(x.mass)}), label=f"{x.channel} [GeV]",
                                     description=f"pseudo-data and dijet fit in {x.region}, {luminosity_fb:g} fb^-1"))
    return tuple(out)


def _score_histograms(score, process, weight, is_sm, sm_test, luminosity_fb, bins: int = 50
                      ) -> tuple[Histogram, ...]:
    """The anomaly score of the Standard-Model test events (scaled up to the whole SM sample) and of each
    benchmark sample, in events at `luminosity_fb`, on one binning (score quantiles; the extremes clipped in)."""
    edges = np.unique(np.quantile(score, np.linspace(0.0, 1.0, bins + 1)))
    if len(edges) < 2:
        edges = np.array([score.min() - 0.5, score.min() + 0.5])
    scale = luminosity_fb * 1000.0
    share = weight[sm_test].sum() / max(weight[is_sm].sum(), 1e-300)
    selections = {"standard_model": (sm_test, scale / max(share, 1e-300))}
    selections |= {s: (process == s, scale) for s in sorted(set(process[~is_sm]))}
    out = []
    for name, (sel, factor) in selections.items():
        x, w = np.clip(score[sel], edges[0], edges[-1]), weight[sel] * factor
        out.append(Histogram(f"score_{name}", edges, np.histogram(x, bins=edges, weights=w)[0],
                             np.histogram(x, bins=edges, weights=w**2)[0], label="anomaly score"))
    return tuple(out)


_PEAK_BINS = resolution_binning(50.0, 8000.0)


def _effective(w: np.ndarray) -> float:
    """Kish's effective number of events, (sum w)^2 / sum w^2: how many unweighted events the weights are worth."""
    return float(w.sum() ** 2 / (w ** 2).sum()) if len(w) and (w ** 2).sum() > 0 else 0.0


def _signal_windows(samples, masses, *, process, weight, sm_test) -> dict[str, tuple[str, float, float]]:
    """Per BSM sample: (channel, centre, sigma) of the +-1 resolution window around the signal's peak (the
    fullest resolution-wide bin), in the channel whose window holds most of the signal (where the resonance
    lives). The window does not depend on the anomaly score, so every model and region shares it."""
    windows = {}
    for s in samples:
        best, most = None, -1.0
        for channel, m in masses.items():
            sig = (process == s) & np.isfinite(m)
            if sig.sum() < 10 or (sm_test & np.isfinite(m)).sum() < 10:
                continue
            counts, edges = np.histogram(m[sig], bins=_PEAK_BINS, weights=weight[sig])
            k = int(np.argmax(counts))  # bins are one resolution wide: the fullest one holds the peak
            centre = float(0.5 * (edges[k] + edges[k + 1]))
            sigma = float(mass_resolution(centre))
            inside = float(weight[sig & (np.abs(m - centre) <= sigma)].sum())
            if inside > most:
                best, most = (channel, centre, sigma), inside
        if best is not None:
            windows[s] = best
    return windows


def _gain_record(sample, window, selected, masses, *, process, weight, sm_test) -> dict:
    """S/sqrt(B) in the sample's window before and after the cut `selected`, and what it rests on. With no
    simulated background in the window, before or after the cut, the gain is NaN and `note` says so.
    `n_eff_background_*` are the effective numbers of simulated SM events behind B (Kish) and
    `largest_weight_share_after` the share of B after the cut carried by its heaviest event: a gain resting on
    one or two heavy W+jets events reads as such."""
    channel, centre, sigma = window
    m = masses[channel]
    sig = (process == sample) & np.isfinite(m)
    bkg = sm_test & np.isfinite(m)
    g = sensitivity_gain(m[bkg], m[sig], selected_background=selected[bkg], selected_signal=selected[sig],
                         mass=centre, sigma=sigma, weights_background=weight[bkg], weights_signal=weight[sig])
    in_window = sm_test & (np.abs(m - centre) <= sigma)
    w_after = weight[in_window & selected]
    note = ("no simulated background in the window" if g.b_before <= 0 else
            "no simulated background left in the window after the cut" if g.b_after <= 0 else "")
    return {"channel": channel, "mass": centre, "sigma": sigma,
            "gain": g.gain if g.b_after > 0 else float("nan"), "note": note,
            "significance_before": g.significance_before, "significance_after": g.significance_after,
            "signal_efficiency": g.s_after / g.s_before if g.s_before > 0 else float("nan"),
            "background_efficiency": g.b_after / g.b_before if g.b_before > 0 else float("nan"),
            # the cut over all masses: the SM's efficiency is about the region's cross section over the SM's; a
            # signal near it is not selected by the score at all, whatever the window does
            "signal_efficiency_region": float(weight[(process == sample) & selected].sum()
                                              / max(weight[process == sample].sum(), 1e-300)),
            "background_efficiency_region": float(weight[sm_test & selected].sum()
                                                  / max(weight[sm_test].sum(), 1e-300)),
            "n_eff_background_before": _effective(weight[in_window]),
            "n_eff_background_after": _effective(w_after),
            "largest_weight_share_after": float(w_after.max() / w_after.sum()) if w_after.sum() > 0
            else float("nan")}


def _sensitivity_gains(samples, masses, scores, *, process, weight, is_sm, sm_test,
                       luminosity_fb) -> dict[str, dict[str, dict[str, dict]]]:
    """Model name -> region name -> BSM sample -> gain record (`_gain_record`), for `scores`: model name ->
    (per-event score, its anomaly regions). Each sample's window is found once (`_signal_windows`)."""
    # expected events at the luminosity; the scored SM part stands for all of the SM
    sm_scale = weight[is_sm].sum() / max(weight[sm_test].sum(), 1e-300)
    weight = weight * luminosity_fb * 1000.0 * np.where(sm_test, sm_scale, 1.0)
    common = dict(process=process, weight=weight, sm_test=sm_test)
    windows = _signal_windows(samples, masses, **common)
    return {model: {r.name: {s: _gain_record(s, window, score >= r.threshold, masses, **common)
                             for s, window in windows.items()} for r in regions}
            for model, (score, regions) in scores.items()}


def gain_verdict(by_model: dict[str, dict[str, dict[str, dict]]]) -> str:
    """One plain sentence: does any anomaly region improve S/sqrt(B) on the inclusive search for any benchmark?"""
    improved = sorted({(model, region, sample) for model, regions in by_model.items()
                       for region, gains in regions.items() for sample, g in gains.items()
                       if np.isfinite(g["gain"]) and g["gain"] > 1}, key=str)
    defined = sum(np.isfinite(g["gain"]) for regions in by_model.values() for gains in regions.values()
                  for g in gains.values())
    if not improved:
        return (f"No anomaly region improves S/sqrt(B) on the inclusive search for any benchmark ({defined} defined "
                "gains, all <= 1; the others have no simulated background left in the window).")
    listed = ", ".join(f"{sample} in {region} ({model} model)" for model, region, sample in improved[:6])
    return f"{len(improved)} of {defined} defined gains exceed 1: {listed}{', ...' if len(improved) > 6 else ''}."


def _rmm_features(config: RMMAutoencoderConfig, events, spec) -> np.ndarray:
    """The detector's inputs for every event: flattened RMMs read from `rmm_files` (checked against the samples)
    or computed, or with `features: fourvec` the padded four-vectors of the same objects."""
    if config.features == "fourvec":
        log.info("padded four-vectors (%s) of %d events", config.rmm_preset, len(events))
        return padded_four_vectors(events, preset=config.rmm_preset)
    if not config.rmm_files:
        log.info("RMMs (%s) of %d events", config.rmm_preset, len(events))
        return flatten(rmm(events, preset=config.rmm_preset))
    parts = []
    for sample, path in zip(config.samples, config.rmm_files, strict=True):
        array, _ = load_feature_file(path, spec=spec, source_files=dataset_files(sample))
        parts.append(np.asarray(array).reshape(len(array), -1))
    features = np.concatenate(parts)
    if len(features) != len(events):
        raise ConfigError(f"rmm_files hold {len(features)} events, the samples {len(events)} events")
    log.info("RMMs (%s) of %d events read from %d feature files", config.rmm_preset, len(events), len(parts))
    return features


def run(config: RMMAutoencoderConfig, folder: Path, *, progress: bool = True) -> RMMAutoencoderResult:
    """Run the whole search; the model and per-event scores are written into `folder`."""
    folder = Path(folder)
    log.info("reading %d samples", len(config.samples))
    events, process = load_samples(config.samples)
    unknown = set(config.inject) - set(process)
    if unknown:
        raise ConfigError(f"inject names samples that are not loaded: {sorted(unknown)}; loaded: "
                          f"{sorted(set(process))}")
    label = np.asarray(events.label)
    weight = np.asarray(events.weight, dtype=np.float64)
    is_sm = label == 0
    data_weight = np.where(is_sm, weight, 0.0)
    for name, factor in config.inject.items():
        data_weight = np.where(process == name, weight * factor, data_weight)
    in_data = data_weight > 0
    spec = feature_spec(config.features, config.rmm_preset)
    features = _rmm_features(config, events, spec)
    train = in_data & (stream(config.seed, "train_split").random(len(events)) < config.train_fraction)

    model = _train(config, features[train], data_weight[train], features=spec, progress=progress)
    save_detector(model, folder / "model.pt")
    label = config.detector.label if config.detector is not None else "autoencoder"
    score = finite_scores(model.score_samples(features, features=spec), label)
    np.savez_compressed(folder / "scores.npz", score=score, event_id=np.asarray(events.event_id),
                        process=process.astype(str), weight=weight, train=train)

    bsm_samples = sorted(set(process[~is_sm]))
    sm_test = is_sm & ~train
    aucs = _aucs(score, process, weight, sm_test, bsm_samples)
    curves = {s: roc_curve(score[sm_test], score[process == s], weights_background=weight[sm_test],
                           weights_signal=weight[process == s]) for s in bsm_samples}
    auc_fourvec = {}
    if config.compare_fourvec and config.features == "rmm":
        log.info("four-vector comparison model")
        fv = padded_four_vectors(events, preset=config.rmm_preset)
        fv_spec = feature_spec("fourvec", config.rmm_preset)
        fv_score = finite_scores(_train(config, fv[train], data_weight[train], features=fv_spec, scale="minmax",
                                        progress=progress).score_samples(fv, features=fv_spec), label)
        auc_fourvec = _aucs(fv_score, process, weight, sm_test, bsm_samples)

    masses = search_masses(events)
    edges = resolution_binning(config.m_min, config.m_max)
    stats = dict(train=train, data_weight=data_weight, weight=weight, is_sm=is_sm, process=process, masses=masses,
                 edges=edges, rng=stream(config.seed, "toys"))
    log.info("anomaly regions, background fits and bump hunt (%d to %d toys)", config.n_toys, config.max_toys)
    regions, models, excesses, z_global = _statistics(config, score=score, **stats)
    auc_clean, null, clean_regions, clean_score = {}, None, (), None
    if config.inject and config.null_test:
        # the same training events without the injected signal; the null test sees background only
        log.info("null test: a model trained without the injected signal")
        clean = train & is_sm
        clean_score = finite_scores(_train(config, features[clean], data_weight[clean], features=spec,
                                           progress=progress).score_samples(features, features=spec), label)
        auc_clean = _aucs(clean_score, process, weight, sm_test, bsm_samples)
        null_config = dataclasses.replace(config, inject={})
        clean_regions, _, null_excesses, null = _statistics(null_config, score=clean_score,
                                                **(stats | {"data_weight": np.where(is_sm, weight, 0.0)}))
        if null is not None:
            null["largest_excesses"] = [x.record() for x in null_excesses[:3]]
    loose = regions[0].name
    limits = _limits(excesses, config.data_luminosity_fb or config.luminosity_fb)
    scored = {"data": (score, regions)} | ({"clean": (clean_score, clean_regions)} if clean_score is not None else {})
    gains_by_region = _sensitivity_gains(bsm_samples, masses, scored, process=process, weight=weight, is_sm=is_sm,
                                         sm_test=sm_test, luminosity_fb=config.luminosity_fb)
    ceiling = {}
    if config.supervised_ceiling:
        log.info("supervised ceiling: truth-label classifiers on the RMMs, one per BSM sample")
        ceiling = supervised_ceiling(features, sm_test, {s: process == s for s in bsm_samples}, score, weights=weight,
                                     config=ceiling_settings(config.ceiling, config.seed))
    sculpting = {m.channel: m for m in models if m.region == loose and m.channel in ("m_jj", "m_bb")}
    data_lumi = config.data_luminosity_fb or config.luminosity_fb
    spectra = _spectra(excesses, regions, masses, score=score, train=train, process=process, weight=weight,
                       is_sm=is_sm, luminosity_fb=data_lumi)
    training = training_record(model, int(train.sum()), features.shape[1])
    return RMMAutoencoderResult(
        detector=config.detector.label if config.detector is not None else f"autoencoder ({config.model_preset})",
        features=config.features, auc=aucs, auc_fourvec=auc_fourvec, auc_uncontaminated=auc_clean,
        regions=tuple(regions), sculpting=sculpting, background_fits=tuple(models), excesses=tuple(excesses),
        z_global=z_global, null_test=null, limits=tuple(limits),
        sensitivity_gain=gains_by_region["data"][regions[0].name],
        sensitivity_gain_clean=next(iter(gains_by_region.get("clean", {}).values()), {}),
        sensitivity_gain_by_region=gains_by_region, sensitivity_gain_verdict=gain_verdict(gains_by_region),
        supervised_ceiling=ceiling, training=training, injected=dict(config.inject),
        luminosity_fb=config.luminosity_fb, data_luminosity_fb=config.data_luminosity_fb or config.luminosity_fb,
        pseudo_data="Poisson(dijet fit to weighted SM simulation + injected signal histogram)",
        config=config, model=model, score=score, process=process, weight=weight, is_sm=is_sm, sm_test=sm_test,
        curves=curves, events=events, spectra=spectra,
        histograms=_score_histograms(score, process, weight, is_sm, sm_test, data_lumi))
