"""The RMM + autoencoder search of seeds 000/001 end to end, from event datasets to a run folder.

"Data" is the Standard-Model mix at its physical rates plus any BSM samples listed in `inject` (each scaled by
its factor). The autoencoder is trained on a random `train_fraction` of the data (so with signal
contamination when something is injected), with the event weights in the loss; the rest of the data and every
BSM sample are scored. Spectra are expected counts (sum of weights x luminosity) per bin, fluctuated with a
seeded Poisson draw to make pseudo-data. The luminosity of that pseudo-data is `data_luminosity_fb`, by default
the effective luminosity of the simulated data (Kish effective events / cross section), so that the pseudo-data
never claims more statistical power than the simulation holds: a small sample gives small spectra, not
spiky ones.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import events as event_io
from ..events.io import atomic_write_text
from ..exceptions import ConfigError
from ..features import flatten, padded_four_vectors, rmm, search_masses
from ..models import Autoencoder
from ..stats import (
    auc,
    bump_hunt,
    dijet_fit,
    global_significance,
    regions_by_cross_section,
    resolution_binning,
    roc_curve,
    sculpting_check,
)

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
    parts = [event_io.read(path) for path in config.samples]
    import awkward as ak

    events = ak.concatenate(parts) if len(parts) > 1 else parts[0]
    process = np.asarray(events.process.to_list() if len(events) else [], dtype=object)
    unknown = set(config.inject) - set(process)
    if unknown:
        raise ConfigError(f"inject names samples that are not loaded: {sorted(unknown)}")
    return events, process


def _histograms(masses: dict[str, np.ndarray], weights: np.ndarray, select: np.ndarray, edges, luminosity_fb):
    return {name: np.histogram(m[select & np.isfinite(m)], bins=edges,
                               weights=weights[select & np.isfinite(m)] * luminosity_fb * 1000.0)[0]
            for name, m in masses.items()}


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
    test = in_data & ~train

    model = Autoencoder(config.model_preset, max_epochs=config.max_epochs, patience=config.patience,
                        batch_size=config.batch_size, seed=config.seed, progress=progress)
    model.fit(features[train], data_weight[train])
    model.save(out / "model.pt")
    score = model.score_samples(features)
    np.savez_compressed(out / "scores.npz", score=score, event_id=np.asarray(events.event_id), process=process,
                        weight=weight, train=train)

    bsm_samples = sorted(set(process[~is_sm]))
    sm_test = is_sm & ~train
    aucs = {s: auc(score[sm_test], score[process == s], weights_background=weight[sm_test],
                   weights_signal=weight[process == s]) for s in bsm_samples}
    curves = {s: roc_curve(score[sm_test], score[process == s], weights_background=weight[sm_test],
                           weights_signal=weight[process == s]) for s in bsm_samples}
    auc_fourvec = {}
    if config.compare_fourvec:
        fv = padded_four_vectors(events, preset=config.rmm_preset)
        fv_model = Autoencoder(config.model_preset, max_epochs=config.max_epochs, patience=config.patience,
                               batch_size=config.batch_size, scale="minmax", seed=config.seed).fit(
            fv[train], data_weight[train])
        fv_score = fv_model.score_samples(fv)
        auc_fourvec = {s: auc(fv_score[sm_test], fv_score[process == s], weights_background=weight[sm_test],
                              weights_signal=weight[process == s]) for s in bsm_samples}

    # Anomaly regions on the scored (non-training) data; cross sections scaled back to the full data.
    test_fraction = data_weight[test].sum() / max(data_weight[in_data].sum(), 1e-300)
    regions = regions_by_cross_section(score[test], data_weight[test], targets_pb=config.regions_pb,
                                       scale=1.0 / max(test_fraction, 1e-12))
    masses = search_masses(events)
    edges = resolution_binning(config.m_min, config.m_max)
    w_test = data_weight[test]
    effective = w_test.sum() ** 2 / max((w_test**2).sum(), 1e-300)
    lumi = config.data_luminosity_fb or effective / max(w_test.sum() / test_fraction, 1e-300) / 1000.0
    spectra, spectrum_keys = [], []
    for region in regions:
        select = test & (score >= region.threshold)
        expected = _histograms(masses, data_weight / test_fraction, select, edges, lumi)
        for channel, mu in expected.items():
            if mu.sum() < config.min_events_to_fit or np.count_nonzero(mu) < 8:
                continue
            observed = rng.poisson(mu).astype(float)
            spectra.append((observed, edges))
            spectrum_keys.append((channel, region.name))
    excesses, fits, z_global = [], [], None
    if spectra:
        fits = [dijet_fit(c, e, n_params="auto") for c, e in spectra]
        glob = global_significance(spectra, n_toys=config.n_toys, rng=rng, fits=fits)
        for (channel, region), (counts, e), fit in zip(spectrum_keys, spectra, fits, strict=True):
            hunt = bump_hunt(counts, e, rng=rng, n_toys=max(100, config.n_toys // 10), fit=fit)
            excesses.append({"channel": channel, "region": region, "mass": hunt.mass, "width": hunt.width,
                             "z_local": hunt.z_local, "fit_chi2_ndf": fit.chi2_ndf, "fit_n_params": fit.n_params,
                             "fit_converged": fit.converged, "_hunt": hunt})
        excesses.sort(key=lambda x: -x["z_local"])
        z_global = {"z_local_max": glob.z_local, "channel": spectrum_keys[glob.channel][0],
                    "region": spectrum_keys[glob.channel][1], "mass": glob.mass, "p_global": glob.p_global,
                    "z_global": glob.z_global, "z_global_asymptotic": glob.z_global_asymptotic,
                    "n_spectra": len(spectra), "n_toys": glob.n_toys}

    # Sculpting: SM only, loosest region, m_jj and m_bb.
    sculpting = {}
    loose = regions[0]
    sm_select = sm_test & (score >= loose.threshold)
    sm_expected = _histograms({k: masses[k] for k in ("m_jj", "m_bb")}, weight / test_fraction, sm_select, edges,
                              lumi)
    for channel, mu in sm_expected.items():
        if mu.sum() < config.min_events_to_fit or np.count_nonzero(mu) < 8:
            sculpting[channel] = {"skipped": f"too few events ({mu.sum():.0f} expected, "
                                             f"{np.count_nonzero(mu)} non-empty bins)"}
            continue
        check = sculpting_check(rng.poisson(mu).astype(float), edges, rng=rng, n_toys=config.n_toys)
        sculpting[channel] = {"chi2_ndf": check.chi2_ndf, "max_abs_pull": check.max_abs_pull,
                              "max_pull_p": check.max_pull_p, "bump_p_global": check.bump_p_global,
                              "smooth": check.smooth, "region": loose.name, "_fit": check.fit}

    summary = {
        "auc": aucs, "auc_fourvec": auc_fourvec,
        "regions": [dataclasses.asdict(r) for r in regions],
        "sculpting": {k: {kk: vv for kk, vv in v.items() if not kk.startswith("_")} for k, v in sculpting.items()},
        "excesses": [{k: v for k, v in x.items() if not k.startswith("_")} for x in excesses],
        "z_global": z_global,
        "training": {"events": int(train.sum()), "epochs": len(model.history_.train_loss),
                     "best_epoch": model.history_.best_epoch,
                     "seconds_per_epoch": model.history_.seconds_per_epoch, "device": model.history_.device,
                     "inputs": int(len(model.columns_)), "weights": "event weights in the loss"},
        "injected": config.inject, "luminosity_fb": config.luminosity_fb, "data_luminosity_fb": lumi,
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=float))
    write_report(out, summary, model=model, score=score, process=process, weight=weight, sm_test=sm_test,
                 events=events, curves=curves, excesses=excesses, sculpting=sculpting, config=config)
    return summary
