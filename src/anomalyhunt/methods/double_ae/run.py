"""The decorrelated double-autoencoder search of seed 002 end to end, from event datasets to a run folder.

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

from ...events import group_split, load_samples, unweight
from ...exceptions import ConfigError, StatsInputError
from ...features import adc2021_slots, feature_spec, flatten, rmm
from ...generate import source_events
from ...models import Autoencoder, DoubleDisCoAE, distance_correlation
from ...models.onnx_timing import onnx_timing
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
from ..base import SummaryResult
from ..ceiling import CeilingConfig, supervised_ceiling
from .config import DoubleAEConfig

__all__ = ["DoubleAEResult", "run"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DoubleAEResult(SummaryResult):
    """The numbers of summary.json and what the report draws."""

    report_module = "anomalyhunt.methods.double_ae.report"

    summary_data: dict[str, Any]
    model: DoubleDisCoAE
    single: Autoencoder | None
    sic_curves: dict
    closure: list
    scores: np.ndarray
    test_idx: np.ndarray
    process: np.ndarray
    trigger_thresholds: tuple


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


def run(config: DoubleAEConfig, folder: Path, *, progress: bool = True) -> DoubleAEResult:
    """Run the whole seed-002 study; the model, scores and ONNX graph are written into `folder`."""
    out = Path(folder)
    m = config.double_ae
    rng = np.random.default_rng(config.seed)
    log.info("reading %d samples", len(config.samples))
    events, process = load_samples(config.samples)
    label = np.asarray(events.label)
    weight = np.asarray(events.weight, dtype=np.float64)
    is_sm = label == 0
    if is_sm.sum() < 100:
        raise ConfigError(f"need at least 100 Standard-Model events, got {int(is_sm.sum())}")
    signals = sorted(set(process[~is_sm]))
    kept = np.zeros(len(events), dtype=bool)
    kept[is_sm] = unweight(weight[is_sm], rng)
    cocktail = {p: int((kept & (process == p)).sum()) for p in sorted(set(process[is_sm]))}
    fractions = {p: n / max(sum(cocktail.values()), 1) for p, n in cocktail.items()}
    log.info("background cocktail (unweighted): %s", ", ".join(f"{p} {n} ({fractions[p]:.1%})"
                                                               for p, n in cocktail.items()))
    # split by generated event: the fake-lepton entries of one QCD event go to the same side (source_events)
    background = np.flatnonzero(kept)
    source = source_events(np.asarray(events.event_id), process)
    in_train = group_split(source[background], config.train_fraction, rng)
    train_idx, test_idx = background[in_train], background[~in_train]
    x, spec = _features(config, events)

    net_seed = config.seed if config.training_seed is None else config.training_seed
    model = DoubleDisCoAE(lam=m.lam, decorrelate=m.decorrelate, batch_size=m.batch_size, max_epochs=m.max_epochs,
                          patience=m.patience, learning_rate=m.learning_rate, seed=net_seed,
                          progress=progress).fit(x[train_idx], features=spec)
    model.save(out / "model.pt")
    scores = model.score_samples(x, features=spec)
    b1, b2 = scores[test_idx, 0], scores[test_idx, 1]
    n_dcor = min(len(test_idx), 20_000)
    dcor_background = float(distance_correlation(torch.as_tensor(b1[:n_dcor]), torch.as_tensor(b2[:n_dcor])))
    single = None
    if m.single_ae:
        log.info("single autoencoder for comparison")
        single = Autoencoder("disco2022", scale="minmax", batch_size=m.single_ae_batch_size,
                             max_epochs=m.max_epochs, patience=m.patience, seed=net_seed,
                             learning_rate=m.learning_rate, progress=progress).fit(x[train_idx], features=spec)
        single_score = single.score_samples(x, features=spec)
    np.savez_compressed(out / "scores.npz", scores=scores, process=process.astype(str), kept=kept,
                        train=np.isin(np.arange(len(events)), train_idx),
                        single_ae=single_score if single is not None else np.zeros(0))

    # SIC per benchmark
    grid, grid_thresholds = _diagonal_grid(b1, b2)
    sic_curves, max_sic = {}, {}
    for s in signals:
        sel = process == s
        curves = {"ae1": _sic(b1, scores[sel, 0]), "ae2": _sic(b2, scores[sel, 1]),
                  "diagonal": _diagonal_sic(grid, grid_thresholds, scores[sel, 0], scores[sel, 1])}
        if single is not None:
            curves["single_ae"] = _sic(single_score[test_idx], single_score[sel])
        sic_curves[s] = curves
        max_sic[s] = {k: float(v[1].max()) if len(v[1]) else 0.0 for k, v in curves.items()}

    ceiling = {}
    if config.supervised_ceiling:  # the method's selection is the diagonal cut on both scores
        log.info("supervised ceiling: truth-label classifiers on the same inputs, one per benchmark")
        ceiling = supervised_ceiling(x, test_idx, {s: process == s for s in signals}, None, groups=source,
                                     unsupervised_max_sic={s: v["diagonal"] for s, v in max_sic.items()},
                                     config=CeilingConfig(seed=net_seed))

    closure = closure_scan(b1, b2, config.efficiencies, ratios=config.closure_splits)

    # ABCD significance: the test background is halved; one half plays the simulation (working points and the
    # non-closure k +- sigma_k measured there, where no signal is), the other the data into which signal goes
    in_sim = group_split(source[test_idx], 0.5, rng)
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
        chosen = rng.choice(pool, n_sig, replace=False) if n_sig else np.zeros(0, dtype=int)
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
    null_best = max(null_scan, key=lambda r: r["significance"])
    splits = {}
    for eff in config.efficiencies:
        z = null_significances(b1, b2, eff, n_splits=config.null_splits, rng=rng, groups=source[test_idx])
        splits[eff] = {"mean": float(z.mean()), "std": float(z.std(ddof=1)), "n_splits": len(z),
                       "fraction_above_2": float(np.mean(z > 2))}
    abcd_significance_summary = {}
    for s, result in injection.items():
        best = max(result["scan"], key=lambda r: r["significance"])
        abcd_significance_summary[s] = {
            "efficiency": best["efficiency"], "significance": best["significance"],
            "significance_true_background": best["significance_true_background"],
            "significance_seed002": best["significance_seed002"], "n_injected": result["n_injected"]}

    # online emulation: background only, then each benchmark injected as above
    trigger = {}
    t_trig = working_point(b1, b2, config.trigger_efficiency)
    for name in ["background only", *signals]:
        chosen = np.zeros(0, dtype=int)
        if name != "background only":
            pool = np.flatnonzero(process == name)
            chosen = rng.choice(pool, n_inject[name], replace=False)
        d1 = np.concatenate([d1_bkg, scores[chosen, 0]])
        d2 = np.concatenate([d2_bkg, scores[chosen, 1]])
        per_control = config.trigger_efficiency * len(d1)
        entries = {}
        for k in (1, 3):
            try:
                trig = emulate_trigger(d1, d2, t_trig, events_per_control=k * per_control, rng=rng)
            except StatsInputError as err:  # recorded, not fatal: a tiny sample can leave a region empty
                entries[f"k{k}"] = {"error": str(err)}
                continue
            entries[f"k{k}"] = {"rate": trig.rate, "prescales": trig.prescales, "saved": trig.saved,
                                "observed": trig.observed, "predicted": trig.predicted,
                                "predicted_rel_error": trig.predicted_error / trig.predicted,
                                "signal_region_rel_error": trig.signal_region_error,
                                "predicted_all_events": trig.predicted_all, "significance": trig.significance}
        trigger[name] = entries

    onnx = None
    if config.onnx:
        path = model.export_onnx(out / "double_ae.onnx")
        onnx = onnx_timing(path, x.shape[1], reference=(x[test_idx[:1000]], scores[test_idx[:1000]]))

    summary = {
        "dcor_background": dcor_background,
        "closure": [{"efficiency": r["efficiency"], "split": r["split"], "ratio": r["ratio"], "error": r["error"],
                     "observed": r["observed"], "predicted": r["predicted"]} for r in closure],
        "max_sic": max_sic,
        "supervised_ceiling": ceiling,
        "abcd_significance": abcd_significance_summary,
        "abcd_significance_background_only": {"efficiency": null_best["efficiency"],
                                              "significance": null_best["significance"],
                                              "significance_seed002": null_best["significance_seed002"],
                                              "scan": null_scan, "repeated_splits": splits},
        "abcd_method": {"simulation_events": int(len(sim)), "data_events": int(len(data)),
                        "non_closure": {str(e): list(v) for e, v in non_closure.items()}},
        "injection": injection,
        "trigger": {"efficiency": config.trigger_efficiency, "thresholds": list(t_trig), "runs": trigger},
        "onnx": onnx,
        "background": {"cocktail": cocktail, "cocktail_fraction": fractions, "train": int(len(train_idx)),
                       "test": int(len(test_idx))},
        "signals": {s: int((process == s).sum()) for s in signals},
        "training": {"epochs": len(model.history_.train_loss), "best_epoch": model.history_.best_epoch,
                     "seconds": model.history_.seconds, "seconds_per_epoch": model.history_.seconds_per_epoch,
                     "device": model.history_.device, "seed": net_seed, "lam": m.lam, "batch_size": m.batch_size,
                     "features": config.features, "inputs": int(x.shape[1]),
                     "single_ae_epochs": len(single.history_.train_loss) if single is not None else None},
    }
    return DoubleAEResult(summary_data=summary, model=model, single=single, sic_curves=sic_curves, closure=closure,
                          scores=scores, test_idx=test_idx, process=process, trigger_thresholds=tuple(t_trig))
