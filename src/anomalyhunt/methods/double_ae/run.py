"""The decorrelated double-autoencoder search of Mikuni, Nachman & Shih, "Online-compatible Unsupervised
Non-resonant Anomaly Detection" (PRD 105 (2022) 055006), end to end, from event datasets to a run folder.

Steps (each figure and number lands in the run folder):
1. Background = the Standard-Model samples, unweighted into one cocktail at physical rates (accept-reject on
   the event weights, seeded; the number kept per process is recorded), split into a training and a test
   half by generated event (the fake-lepton entries of one QCD event stay together). BSM samples are the
   benchmarks.
2. Features: the ADC2021 57-number layout (or the RMM), MinMax-scaled on the training background.
3. DoubleDisCoAE trained on background only (as in the paper); a single autoencoder of the same architecture
   trained without decorrelation for comparison.
4. dCor^2 of the two losses on test background; SIC curves per benchmark for AE 1, AE 2, the diagonal
   combination and the single AE; ABCD closure over a scan of working points on background only.
5. Signal injected at `signal_fraction` of the test background, one benchmark at a time: ABCD significance
   (N - B)/sqrt(N) per diagonal working point, with B from the ABCD prediction and from the true background.
6. Online emulation at `trigger_efficiency`: all signal-region events saved, control regions prescaled;
   trigger rate and the precision of the offline estimate from the prescaled events.
7. Both networks exported to ONNX (scaling included); single-event latency and batch throughput measured
   with onnxruntime on CPU.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...exceptions import ConfigError, StatsInputError
from ...features import adc2021_slots, feature_spec, flatten, rmm
from ...generate import source_events
from ...ingest import load_samples, unweight
from ...models import Autoencoder, DoubleDisCoAE, distance_correlation
from ...models.onnx_timing import onnx_timing
from ...seeds import stream
from ...splits import group_split
from ...stats import (
    abcd,
    abcd_significance,
    closure_scan,
    emulate_trigger,
    null_significances,
    roc_curve,
    seed002_significance,
    sic_curve,
    working_point,
)
from ..base import SearchResult, report_only
from ..ceiling import ceiling_settings, supervised_ceiling
from .config import DoubleAEConfig

__all__ = ["DoubleAEResult", "rebuild_inputs", "run"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, repr=False)
class DoubleAEResult(SearchResult):
    """The fields are summary.json; the `report_only` ones are what the report draws."""

    report_module = "anomalyhunt.methods.double_ae.report"

    dcor_background: float
    closure: list[dict[str, Any]]
    max_sic: dict[str, dict[str, float]]
    supervised_ceiling: dict
    abcd_significance: dict[str, dict[str, Any]]
    abcd_significance_background_only: dict[str, Any]
    abcd_method: dict[str, Any]
    injection: dict[str, dict[str, Any]]
    trigger: dict[str, Any]
    onnx: dict[str, Any] | None
    background: dict[str, Any]
    signals: dict[str, int]
    training: dict[str, Any]
    # for the report
    model: DoubleDisCoAE = report_only()
    single: Autoencoder | None = report_only()
    sic_curves: dict = report_only()
    closure_scan: list = report_only()
    scores: np.ndarray = report_only()
    test_idx: np.ndarray = report_only()
    process: np.ndarray = report_only()
    trigger_thresholds: tuple = report_only()


@dataclass(frozen=True)
class _Background:
    """Step 1: the unweighted SM cocktail and its split by generated event."""

    kept: np.ndarray  # event mask of the cocktail
    cocktail: dict[str, int]
    fractions: dict[str, float]
    source: np.ndarray  # generated-event id of every entry
    train_idx: np.ndarray
    test_idx: np.ndarray


@dataclass(frozen=True)
class _Trained:
    """Step 3: the double AE, its scores, and the single AE of the same architecture."""

    model: DoubleDisCoAE
    scores: np.ndarray  # (n, 2)
    single: Autoencoder | None
    single_score: np.ndarray | None
    seed: int


def _features(config: DoubleAEConfig, events) -> tuple[np.ndarray, Any]:
    if config.features == "adc2021":
        return adc2021_slots(events), feature_spec("adc2021")
    return flatten(rmm(events, preset=config.rmm_preset)), feature_spec("rmm", config.rmm_preset)


def _diagonal_grid(b1, b2, n_points: int = 40) -> tuple[np.ndarray, list]:
    """Background efficiencies from 10 events' worth up to 0.5, and the diagonal thresholds of each."""
    grid = np.geomspace(max(10.0 / len(b1), 1e-5), 0.5, n_points)
    return grid, [working_point(b1, b2, eff) for eff in grid]


def _diagonal_sic(grid, thresholds, s1, s2):
    """(tpr, SIC) of the diagonal cut at each grid efficiency."""
    tpr = np.array([np.mean((s1 > t1) & (s2 > t2)) for t1, t2 in thresholds])
    return tpr, tpr / np.sqrt(grid)


def _sic(background, signal):
    tpr, sic = sic_curve(roc_curve(background, signal), min_fpr=10.0 / len(background))
    return tpr, sic


def _background(config: DoubleAEConfig, events, process, weight, is_sm) -> _Background:
    """Unweight the SM samples into one cocktail at physical rates and split it by generated event (the
    fake-lepton entries of one QCD event go to the same side)."""
    kept = np.zeros(len(events), dtype=bool)
    kept[is_sm] = unweight(weight[is_sm], stream(config.seed, "unweight"))
    cocktail = {p: int((kept & (process == p)).sum()) for p in sorted(set(process[is_sm]))}
    fractions = {p: n / max(sum(cocktail.values()), 1) for p, n in cocktail.items()}
    log.info("background cocktail (unweighted): %s", ", ".join(f"{p} {n} ({fractions[p]:.1%})"
                                                               for p, n in cocktail.items()))
    background = np.flatnonzero(kept)
    source = source_events(np.asarray(events.event_id), process)
    in_train = group_split(source[background], config.train_fraction, stream(config.seed, "train_split"))
    return _Background(kept, cocktail, fractions, source, background[in_train], background[~in_train])


def _train(config: DoubleAEConfig, x, spec, train_idx, out: Path, progress: bool) -> _Trained:
    """The double AE on background only (as in the paper), and a single AE without decorrelation."""
    m = config.double_ae
    seed = config.seed if config.training_seed is None else config.training_seed
    model = DoubleDisCoAE(hidden=m.hidden, lam=m.lam, decorrelate=m.decorrelate, batch_size=m.batch_size,
                          max_epochs=m.max_epochs, patience=m.patience, learning_rate=m.learning_rate, seed=seed,
                          progress=progress).fit(x[train_idx], features=spec)
    model.save(out / "model.pt")
    single = single_score = None
    if m.single_ae:
        log.info("single autoencoder for comparison")
        single = Autoencoder("disco2022", scale="minmax", batch_size=m.single_ae_batch_size,
                             max_epochs=m.max_epochs, patience=m.patience, seed=seed,
                             learning_rate=m.learning_rate, progress=progress).fit(x[train_idx], features=spec)
        single_score = single.score_samples(x, features=spec)
    return _Trained(model, model.score_samples(x, features=spec), single, single_score, seed)


def _separation(trained: _Trained, test_idx, process, signals) -> tuple[dict, dict]:
    """SIC curves and max SIC per benchmark: AE 1, AE 2, their diagonal cut, the single AE."""
    scores = trained.scores
    b1, b2 = scores[test_idx, 0], scores[test_idx, 1]
    grid, grid_thresholds = _diagonal_grid(b1, b2)
    sic_curves, max_sic = {}, {}
    for s in signals:
        sel = process == s
        curves = {"ae1": _sic(b1, scores[sel, 0]), "ae2": _sic(b2, scores[sel, 1]),
                  "diagonal": _diagonal_sic(grid, grid_thresholds, scores[sel, 0], scores[sel, 1])}
        if trained.single is not None:
            curves["single_ae"] = _sic(trained.single_score[test_idx], trained.single_score[sel])
        sic_curves[s] = curves
        max_sic[s] = {k: float(v[1].max()) if len(v[1]) else 0.0 for k, v in curves.items()}
    return sic_curves, max_sic


@dataclass(frozen=True)
class _ABCD:
    """Step 5: the ABCD estimate with signal injected, and on background only."""

    simulation_events: int
    data: np.ndarray  # indices (into the test background) of the half that plays the data
    non_closure: dict[float, tuple[float, float]]
    injection: dict[str, dict[str, Any]]
    n_inject: dict[str, int]
    null_scan: list[dict[str, Any]]
    splits: dict[float, dict[str, float]]


def _abcd_study(config: DoubleAEConfig, scores, test_idx, source, process, signals) -> _ABCD:
    """The test background is halved: one half plays the simulation (working points and the non-closure
    k +- sigma_k measured there, where no signal is), the other the data into which each benchmark is injected at
    `signal_fraction`; then the same statistics on background only, and over repeated random halvings."""
    b1, b2 = scores[test_idx, 0], scores[test_idx, 1]
    in_sim = group_split(source[test_idx], 0.5, stream(config.seed, "simulation_split"))
    sim, data = np.flatnonzero(in_sim), np.flatnonzero(~in_sim)
    diagonal = {eff: working_point(b1[sim], b2[sim], eff) for eff in config.efficiencies}
    non_closure = {}
    for eff, t in diagonal.items():
        r = abcd(b1[sim], b2[sim], thresholds=t)
        non_closure[eff] = (r.closure, r.closure_error) if np.isfinite(r.closure) else (1.0, 1.0)

    def significance(r, eff):
        k, dk = non_closure[eff]
        return abcd_significance(r.observed, r.predicted, predicted_error=r.predicted_error,
                                 entry_weight=r.entry_weight, closure=k, closure_error=dk)

    injection, n_inject = {}, {}
    d1_bkg, d2_bkg = b1[data], b2[data]
    for s in signals:
        pool = np.flatnonzero(process == s)
        n_sig = min(len(pool), int(round(config.signal_fraction * len(data))))
        n_inject[s] = n_sig
        chosen = (stream(config.seed, f"inject:{s}").choice(pool, n_sig, replace=False) if n_sig
                  else np.zeros(0, dtype=int))
        d1 = np.concatenate([d1_bkg, scores[chosen, 0]])
        d2 = np.concatenate([d2_bkg, scores[chosen, 1]])
        rows = []
        for eff, t in diagonal.items():
            r = abcd(d1, d2, thresholds=t)
            true_b = float(np.sum((d1_bkg > t[0]) & (d2_bkg > t[1])))
            rows.append({"efficiency": eff, "observed": r.observed, "predicted": r.predicted,
                         "predicted_error": r.predicted_error, "non_closure": list(non_closure[eff]),
                         "true_background": true_b, "signal_in_region": r.observed - true_b,
                         "significance": significance(r, eff),
                         "significance_true_background": abcd_significance(r.observed, true_b),
                         "significance_seed002": seed002_significance(r.observed, r.predicted)})
        injection[s] = {"n_injected": n_sig, "scan": rows}
    # the same statistics with nothing injected: calibrated, they scatter as N(0, 1)
    null_scan = []
    for eff, t in diagonal.items():
        r = abcd(d1_bkg, d2_bkg, thresholds=t)
        null_scan.append({"efficiency": eff, "observed": r.observed, "predicted": r.predicted,
                          "significance": significance(r, eff),
                          "significance_seed002": seed002_significance(r.observed, r.predicted)})
    splits = {}
    for eff in config.efficiencies:
        z = null_significances(b1, b2, eff, n_splits=config.null_splits, rng=stream(config.seed, f"null_splits:{eff}"),
                               groups=source[test_idx])
        splits[eff] = {"mean": float(z.mean()), "std": float(z.std(ddof=1)), "n_splits": len(z),
                       "fraction_above_2": float(np.mean(z > 2))}
    return _ABCD(int(len(sim)), data, non_closure, injection, n_inject, null_scan, splits)


def _trigger(config: DoubleAEConfig, scores, test_idx, study: _ABCD, process, signals) -> tuple[dict, tuple]:
    """Online emulation at `trigger_efficiency`: all signal-region events saved, control regions prescaled;
    background only, then each benchmark injected as in the ABCD study."""
    b1, b2 = scores[test_idx, 0], scores[test_idx, 1]
    d1_bkg, d2_bkg = b1[study.data], b2[study.data]
    trigger = {}
    t_trig = working_point(b1, b2, config.trigger_efficiency)
    for name in ["background only", *signals]:
        chosen = np.zeros(0, dtype=int)
        if name != "background only":
            pool = np.flatnonzero(process == name)
            chosen = stream(config.seed, f"trigger_inject:{name}").choice(pool, study.n_inject[name], replace=False)
        d1 = np.concatenate([d1_bkg, scores[chosen, 0]])
        d2 = np.concatenate([d2_bkg, scores[chosen, 1]])
        per_control = config.trigger_efficiency * len(d1)
        entries = {}
        for k in (1, 3):
            try:
                trig = emulate_trigger(d1, d2, t_trig, events_per_control=k * per_control,
                                       rng=stream(config.seed, f"prescale:{name}", k))
            except StatsInputError as err:  # recorded, not fatal: a tiny sample can leave a region empty
                entries[f"k{k}"] = {"error": str(err)}
                continue
            entries[f"k{k}"] = {"rate": trig.rate, "prescales": trig.prescales, "saved": trig.saved,
                                "observed": trig.observed, "predicted": trig.predicted,
                                "predicted_rel_error": trig.predicted_error / trig.predicted,
                                "signal_region_rel_error": trig.signal_region_error,
                                "predicted_all_events": trig.predicted_all, "significance": trig.significance}
        trigger[name] = entries
    return {"efficiency": config.trigger_efficiency, "thresholds": list(t_trig), "runs": trigger}, tuple(t_trig)


def _abcd_summaries(study: _ABCD) -> tuple[dict, dict, dict]:
    """(best Z per benchmark, background-only record, how the estimate was made) for summary.json."""
    best_by_signal = {}
    for s, result in study.injection.items():
        best = max(result["scan"], key=lambda r: r["significance"])
        best_by_signal[s] = {
            "efficiency": best["efficiency"], "significance": best["significance"],
            "significance_true_background": best["significance_true_background"],
            "significance_seed002": best["significance_seed002"], "n_injected": result["n_injected"]}
    null_best = max(study.null_scan, key=lambda r: r["significance"])
    null = {"efficiency": null_best["efficiency"], "significance": null_best["significance"],
            "significance_seed002": null_best["significance_seed002"], "scan": study.null_scan,
            "repeated_splits": study.splits}
    method = {"simulation_events": study.simulation_events, "data_events": int(len(study.data)),
              "non_closure": {str(e): list(v) for e, v in study.non_closure.items()}}
    return best_by_signal, null, method


def rebuild_inputs(config: DoubleAEConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """What a run of `config` computed before training, again (the same seeded streams): the features of every
    event, the training and test background indices, each event's process and the benchmark names."""
    events, process = load_samples(config.samples)
    weight = np.asarray(events.weight, dtype=np.float64)
    is_sm = np.asarray(events.label) == 0
    bg = _background(config, events, process, weight, is_sm)
    x, _ = _features(config, events)
    return x, bg.train_idx, bg.test_idx, process, sorted(set(process[~is_sm]))


def run(config: DoubleAEConfig, folder: Path, *, progress: bool = True) -> DoubleAEResult:
    """Run the whole study (the module docstring's seven steps); the model, scores and ONNX graph are written into
    `folder`. Each random step draws from its own named stream of `seed` (`seeds.stream`)."""
    out = Path(folder)
    log.info("reading %d samples", len(config.samples))
    events, process = load_samples(config.samples)
    weight = np.asarray(events.weight, dtype=np.float64)
    is_sm = np.asarray(events.label) == 0
    if is_sm.sum() < 100:
        raise ConfigError(f"need at least 100 Standard-Model events, got {int(is_sm.sum())}")
    signals = sorted(set(process[~is_sm]))
    bg = _background(config, events, process, weight, is_sm)                            # 1. cocktail and split
    x, spec = _features(config, events)                                                 # 2. features
    trained = _train(config, x, spec, bg.train_idx, out, progress)                      # 3. training
    scores, test_idx = trained.scores, bg.test_idx
    np.savez_compressed(out / "scores.npz", scores=scores, process=process.astype(str), kept=bg.kept,
                        train=np.isin(np.arange(len(events)), bg.train_idx),
                        single_ae=trained.single_score if trained.single is not None else np.zeros(0))
    n_dcor = min(len(test_idx), 20_000)                                                 # 4. separation, closure
    dcor_background = float(distance_correlation(torch.as_tensor(scores[test_idx[:n_dcor], 0]),
                                                 torch.as_tensor(scores[test_idx[:n_dcor], 1])))
    sic_curves, max_sic = _separation(trained, test_idx, process, signals)
    ceiling = {}
    if config.supervised_ceiling:  # the method's selection is the diagonal cut on both scores
        log.info("supervised ceiling: truth-label classifiers on the same inputs, one per benchmark")
        ceiling = supervised_ceiling(x, test_idx, {s: process == s for s in signals}, None, groups=bg.source,
                                     unsupervised_max_sic={s: v["diagonal"] for s, v in max_sic.items()},
                                     config=ceiling_settings(config.ceiling, trained.seed))
    closure = closure_scan(scores[test_idx, 0], scores[test_idx, 1], config.efficiencies,
                           ratios=config.closure_splits)
    study = _abcd_study(config, scores, test_idx, bg.source, process, signals)        # 5. ABCD with injection
    trigger, thresholds = _trigger(config, scores, test_idx, study, process, signals)       # 6. online
    onnx = None                                                                         # 7. ONNX export, latency
    if config.onnx:
        path = trained.model.export_onnx(out / "double_ae.onnx")
        onnx = onnx_timing(path, x.shape[1], reference=(x[test_idx[:1000]], scores[test_idx[:1000]]))
    best_by_signal, null, method = _abcd_summaries(study)
    h, m = trained.model.history_, config.double_ae
    return DoubleAEResult(
        dcor_background=dcor_background,
        closure=[{"efficiency": r["efficiency"], "split": r["split"], "ratio": r["ratio"], "error": r["error"],
                  "observed": r["observed"], "predicted": r["predicted"]} for r in closure],
        max_sic=max_sic, supervised_ceiling=ceiling, abcd_significance=best_by_signal,
        abcd_significance_background_only=null, abcd_method=method, injection=study.injection, trigger=trigger,
        onnx=onnx,
        background={"cocktail": bg.cocktail, "cocktail_fraction": bg.fractions, "train": int(len(bg.train_idx)),
                    "test": int(len(test_idx))},
        signals={s: int((process == s).sum()) for s in signals},
        training={"epochs": len(h.train_loss), "best_epoch": h.best_epoch, "seconds": h.seconds,
                  "seconds_per_epoch": h.seconds_per_epoch, "device": h.device, "seed": trained.seed, "lam": m.lam,
                  "batch_size": m.batch_size, "features": config.features, "inputs": int(x.shape[1]),
                  "single_ae_epochs": len(trained.single.history_.train_loss) if trained.single is not None
                  else None},
        model=trained.model, single=trained.single, sic_curves=sic_curves, closure_scan=closure, scores=scores,
        test_idx=test_idx, process=process, trigger_thresholds=thresholds)
