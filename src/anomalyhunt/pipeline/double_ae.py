"""The decorrelated double-autoencoder search of seed 002 end to end, from event datasets to a run folder.

Steps (each figure and number lands in the run folder):
1. Background = the Standard-Model samples, unweighted into one cocktail at physical rates (accept-reject on
   the event weights, seeded; the number kept per process is recorded), split into a training and a test
   half. BSM samples are the benchmarks.
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

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..events.io import atomic_write_text
from ..exceptions import ConfigError, StatsInputError
from ..features import adc2021_slots, flatten, rmm
from ..models import Autoencoder, DoubleDisCoAE, distance_correlation
from ..models.onnx_timing import onnx_timing
from ..stats import abcd, closure_scan, emulate_trigger, roc_curve, sic_curve, working_point
from .samples import load_samples

__all__ = ["DoubleAEConfig", "run_double_ae", "unweight"]

@dataclass(frozen=True)
class DoubleAEConfig:
    """One double-autoencoder run: samples, model settings, and the working points of the ABCD studies."""

    samples: tuple[str, ...]
    features: str = "adc2021"
    rmm_preset: str = "T5N10"
    lam: float = 100.0
    decorrelate: str = "loss"
    batch_size: int = 10000
    max_epochs: int = 200
    patience: int = 10
    learning_rate: float = 1e-3
    single_ae: bool = True
    single_ae_batch_size: int = 1000
    train_fraction: float = 0.5
    signal_fraction: float = 0.001
    efficiencies: tuple[float, ...] = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
    closure_splits: tuple[float, ...] = (0.5, 1.0, 2.0)
    trigger_efficiency: float = 0.01
    onnx: bool = True
    seed: int = 1

    def __post_init__(self) -> None:
        if not self.samples:
            raise ConfigError("a run needs at least one sample")
        if self.features not in ("adc2021", "rmm"):
            raise ConfigError(f"features must be 'adc2021' or 'rmm', got {self.features!r}")
        if not 0 < self.train_fraction < 1:
            raise ConfigError(f"train_fraction must be in (0, 1), got {self.train_fraction}")
        if not 0 <= self.signal_fraction < 1:
            raise ConfigError(f"signal_fraction must be in [0, 1), got {self.signal_fraction}")
        if not all(0 < e < 1 for e in (*self.efficiencies, self.trigger_efficiency)):
            raise ConfigError("efficiencies and trigger_efficiency must lie in (0, 1)")


def unweight(weight: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Accept-reject unweighting: keep event i with probability w_i / max(w); returns the kept mask."""
    weight = np.asarray(weight, dtype=np.float64)
    if not len(weight):
        return np.zeros(0, dtype=bool)
    return rng.random(len(weight)) < weight / weight.max()


def _features(config: DoubleAEConfig, events) -> np.ndarray:
    if config.features == "adc2021":
        return adc2021_slots(events)
    return flatten(rmm(events, preset=config.rmm_preset))


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


def run_double_ae(config: DoubleAEConfig, out: str | Path, *, progress: bool = True) -> dict[str, Any]:
    """Run the whole seed-002 study into folder `out`; returns the summary written to `out/summary.json`."""
    from .double_ae_report import write_double_ae_report

    out = Path(out)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "config.json", json.dumps(dataclasses.asdict(config), indent=2))
    rng = np.random.default_rng(config.seed)
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
    background = np.flatnonzero(kept)
    rng.shuffle(background)
    n_train = int(round(config.train_fraction * len(background)))
    train_idx, test_idx = np.sort(background[:n_train]), np.sort(background[n_train:])
    x = _features(config, events)

    model = DoubleDisCoAE(lam=config.lam, decorrelate=config.decorrelate, batch_size=config.batch_size,
                          max_epochs=config.max_epochs, patience=config.patience,
                          learning_rate=config.learning_rate, seed=config.seed, progress=progress).fit(x[train_idx])
    model.save(out / "model.pt")
    scores = model.score_samples(x)
    b1, b2 = scores[test_idx, 0], scores[test_idx, 1]
    n_dcor = min(len(test_idx), 20_000)
    dcor_background = float(distance_correlation(torch.as_tensor(b1[:n_dcor]), torch.as_tensor(b2[:n_dcor])))
    single = None
    if config.single_ae:
        single = Autoencoder("disco2022", scale="minmax", batch_size=config.single_ae_batch_size,
                             max_epochs=config.max_epochs, patience=config.patience, seed=config.seed,
                             learning_rate=config.learning_rate).fit(x[train_idx])
        single_score = single.score_samples(x)
    np.savez_compressed(out / "scores.npz", scores=scores, process=process, kept=kept,
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

    closure = closure_scan(b1, b2, config.efficiencies, ratios=config.closure_splits)
    diagonal = {eff: working_point(b1, b2, eff) for eff in config.efficiencies}

    # signal injection: signal_fraction of the test background, one benchmark at a time
    injection, n_inject = {}, {}
    for s in signals:
        pool = np.flatnonzero(process == s)
        n_sig = min(len(pool), int(round(config.signal_fraction * len(test_idx))))
        n_inject[s] = n_sig
        chosen = rng.choice(pool, n_sig, replace=False) if n_sig else np.zeros(0, dtype=int)
        d1 = np.concatenate([b1, scores[chosen, 0]])
        d2 = np.concatenate([b2, scores[chosen, 1]])
        rows = []
        for eff, t in diagonal.items():
            r = abcd(d1, d2, thresholds=t)
            true_b = float(np.sum((b1 > t[0]) & (b2 > t[1])))
            z_true = float((r.observed - true_b) / np.sqrt(r.observed)) if r.observed > true_b else 0.0
            rows.append({"efficiency": eff, "observed": r.observed, "predicted": r.predicted,
                         "true_background": true_b, "signal_in_region": r.observed - true_b,
                         "significance": r.significance, "significance_true_background": z_true})
        injection[s] = {"n_injected": n_sig, "scan": rows}
    # the same statistic with nothing injected: what non-closure alone fakes (paper: below 1 for SM only)
    null_scan = []
    for eff, t in diagonal.items():
        r = abcd(b1, b2, thresholds=t)
        null_scan.append({"efficiency": eff, "observed": r.observed, "predicted": r.predicted,
                          "significance": r.significance})
    null_best = max(null_scan, key=lambda r: r["significance"])
    abcd_significance = {}
    for s, result in injection.items():
        best = max(result["scan"], key=lambda r: r["significance"])
        abcd_significance[s] = {"efficiency": best["efficiency"], "significance": best["significance"],
                                "significance_true_background": best["significance_true_background"],
                                "n_injected": result["n_injected"]}

    # online emulation: background only, then each benchmark injected as above
    trigger = {}
    t_trig = working_point(b1, b2, config.trigger_efficiency)
    for name in ["background only", *signals]:
        chosen = np.zeros(0, dtype=int)
        if name != "background only":
            pool = np.flatnonzero(process == name)
            chosen = rng.choice(pool, n_inject[name], replace=False)
        d1 = np.concatenate([b1, scores[chosen, 0]])
        d2 = np.concatenate([b2, scores[chosen, 1]])
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
        "abcd_significance": abcd_significance,
        "abcd_significance_background_only": {"efficiency": null_best["efficiency"],
                                              "significance": null_best["significance"], "scan": null_scan},
        "injection": injection,
        "trigger": {"efficiency": config.trigger_efficiency, "thresholds": list(t_trig), "runs": trigger},
        "onnx": onnx,
        "background": {"cocktail": cocktail, "train": int(len(train_idx)), "test": int(len(test_idx))},
        "signals": {s: int((process == s).sum()) for s in signals},
        "training": {"epochs": len(model.history_.train_loss), "best_epoch": model.history_.best_epoch,
                     "seconds": model.history_.seconds, "seconds_per_epoch": model.history_.seconds_per_epoch,
                     "device": model.history_.device, "lam": config.lam, "batch_size": config.batch_size,
                     "features": config.features, "inputs": int(x.shape[1]),
                     "single_ae_epochs": len(single.history_.train_loss) if single is not None else None},
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=float))
    write_double_ae_report(out, summary, model=model, single=single, sic_curves=sic_curves, closure=closure,
                           scores=scores, test_idx=test_idx, process=process, threshold=t_trig)
    return summary
