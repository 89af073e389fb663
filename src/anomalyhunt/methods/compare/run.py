"""Detectors compared on the same events, the way the anomaly-detection literature compares them (LHC Olympics,
ADC2021): AUC, background rejection 1/eps_b and SIC at one signal efficiency, max SIC, each as mean and spread
over training seeds, and the fraction of a supervised ceiling.

Steps:
1. Read the samples; one group-aware split (the entries of one generated event on one side) of every event into
   training and test events, the same for every detector, feature kind and seed.
2. Features of every kind asked for (events a kind cannot describe, such as events without two large-R jets for
   `dijet`, drop out of that kind's comparison, on both sides of the split).
3. Every detector on every feature kind, for each injected signal fraction (0: background only; otherwise one
   signal at a time) and each of `n_seeds` training seeds: trained on the training background (plus the injected
   signal) with its event weights, then scored on the test events; its time to train and to score per event.
4. The figures on the test events: per signal, from one ROC curve (weights of both classes): AUC, 1/eps_b and
   SIC at `efficiency`, max SIC; mean and standard deviation over the seeds.
5. The supervised ceiling per feature kind and signal, on the same test events (`methods.ceiling`: the better of
   an MLP and gradient boosting, over cross-fittings), and each detector's fraction of it.
Training runs in this process, or as Dask futures on a scheduler (`anomalyhunt compare --scheduler`).
"""

from __future__ import annotations

import csv
import io
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...detectors import DetectorSpec, build_detector
from ...events.io import atomic_write_text
from ...exceptions import ConfigError
from ...features import DIJET_INPUT_NAMES, dijet_inputs, feature_spec, flatten, has_dijet, padded_four_vectors, rmm
from ...features.spec import FeatureSpec
from ...generate import source_events
from ...ingest import load_samples
from ...parallel import dask_client, run_futures
from ...progress import progress as progress_step
from ...seeds import stream, stream_seed
from ...splits import group_split
from ...stats import roc_curve, separation
from ..base import SearchResult, report_only
from ..ceiling import ceiling_settings, supervised_ceiling
from ..steps import finite_scores
from .config import CompareConfig

__all__ = ["METRICS", "CompareResult", "Training", "run"]

log = logging.getLogger(__name__)

METRICS = ("auc", "rejection", "sic", "max_sic")
TPR_GRID = np.linspace(0.01, 1.0, 100)  # signal efficiencies at which the curves of the report are averaged


@dataclass(frozen=True)
class Training:
    """One detector trained once: on which features, with which signal injected (fraction 0: none), which seed."""

    detector: int  # index into config.detectors
    features: str
    signal: str  # the injected signal ("" when fraction is 0)
    fraction: float
    seed: int  # index 0..n_seeds-1


@dataclass(frozen=True)
class _Inputs:
    """One feature kind's inputs of the events it describes, and their split."""

    x: np.ndarray
    spec: FeatureSpec
    index: np.ndarray  # rows of the events table
    train: np.ndarray  # over `index`
    weight: np.ndarray
    process: np.ndarray
    is_sm: np.ndarray
    groups: np.ndarray


@dataclass(frozen=True, repr=False)
class CompareResult(SearchResult):
    """The fields are summary.json: `rows` is the comparison as a table in long form (one row per detector,
    feature kind, signal and injected fraction, with mean and std over seeds), `best` the detector with the
    largest mean max SIC per feature kind, signal and fraction, `ceiling` the supervised ceilings."""

    report_module = "anomalyhunt.methods.compare.report"

    rows: list[dict[str, Any]]
    best: list[dict[str, Any]]
    ceiling: dict[str, dict[str, dict[str, Any]]]  # feature kind -> signal -> ceiling record
    events: dict[str, Any]
    detectors: list[dict[str, Any]]
    efficiency: float
    n_seeds: int
    seconds: float
    # for the report
    config: CompareConfig = report_only()
    per_seed: list[dict[str, Any]] = report_only()
    curves: dict[tuple, np.ndarray] = report_only()  # (detector, features, signal, fraction) -> (seeds, grid) fpr


def _features(kind: str, events, preset: str) -> tuple[np.ndarray, np.ndarray, FeatureSpec]:
    """(inputs of the events the kind describes, their row indices, the feature spec)."""
    if kind == "rmm":
        return flatten(rmm(events, preset=preset)), np.arange(len(events)), feature_spec("rmm", preset)
    if kind == "fourvec":
        return padded_four_vectors(events, preset=preset), np.arange(len(events)), feature_spec("fourvec", preset)
    keep = np.flatnonzero(has_dijet(events))
    return dijet_inputs(events[keep]), keep, FeatureSpec("dijet", "dijet_lhco", DIJET_INPUT_NAMES)


def _training_set(inputs: _Inputs, signal: str, fraction: float, n_max: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Rows (into `inputs`) and weights of one training: the training background, plus for fraction > 0 the first
    fraction x n_background training events of `signal`, each weighing the mean background weight (so the signal
    is that fraction of the training weight); at most `n_max` events (a seeded subset)."""
    bkg = np.flatnonzero(inputs.train & inputs.is_sm)
    rows, weight = bkg, inputs.weight[bkg]
    if fraction > 0:
        pool = np.flatnonzero(inputs.train & (inputs.process == signal))
        n_sig = int(round(fraction * len(bkg)))
        rows = np.concatenate([bkg, pool[:n_sig]])
        weight = np.concatenate([weight, np.full(n_sig, inputs.weight[bkg].mean())])
    if len(rows) > n_max:
        keep = np.sort(rng.choice(len(rows), n_max, replace=False))
        rows, weight = rows[keep], weight[keep]
    return rows, weight


def _fit_and_score(spec: DetectorSpec, x_train, w_train, x_test, features: FeatureSpec, seed: int) -> dict[str, Any]:
    """Train one detector and score the test events; the times per event."""
    model = build_detector(spec, seed=seed, device="auto")
    start = time.perf_counter()
    model.fit(x_train, w_train, features=features)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    scores = finite_scores(model.score_samples(x_test, features=features), spec.label)
    return {"scores": scores, "fit_seconds": fit_seconds, "score_seconds": time.perf_counter() - start,
            "n_train": len(x_train), "n_test": len(x_test)}


def _check_pools(config: CompareConfig, inputs: dict[str, _Inputs], signals: list[str]) -> None:
    """Every injected fraction has its signal events, every signal test events; before any training."""
    for kind, inp in inputs.items():
        n_bkg = int((inp.train & inp.is_sm).sum())
        if n_bkg < 50 or int((~inp.train & inp.is_sm).sum()) < 50:
            raise ConfigError(f"features {kind}: {n_bkg} training and {int((~inp.train & inp.is_sm).sum())} test "
                              "background events: generate more background")
        for s in signals:
            n_test = int((~inp.train & (inp.process == s)).sum())
            if n_test < 10:
                raise ConfigError(f"features {kind}: signal {s} has {n_test} test events: generate more")
            for f in config.signal_fractions:
                need, have = int(round(f * n_bkg)), int((inp.train & (inp.process == s)).sum())
                if need > have:
                    raise ConfigError(f"features {kind}: injecting {s} at {f:g} of {n_bkg} training background "
                                      f"events needs {need} signal training events, the sample has {have}: "
                                      "generate more signal or lower signal_fractions")


def _describe(values: list[float]) -> tuple[float, float]:
    v = np.asarray(values, dtype=np.float64)
    finite = v[np.isfinite(v)]
    if not finite.size:
        return float("inf") if np.isinf(v).any() else float("nan"), float("nan")
    return float(finite.mean()), float(finite.std(ddof=1)) if finite.size > 1 else 0.0


def _rows(config, per_seed, ceiling) -> tuple[list[dict], list[dict]]:
    """Mean and std over seeds per (detector, features, signal, fraction), and the best detector of each."""
    groups: dict[tuple, list[dict]] = {}
    for r in per_seed:
        groups.setdefault((r["detector"], r["features"], r["signal"], r["signal_fraction"]), []).append(r)
    rows = []
    for (det, kind, signal, fraction), runs in groups.items():
        row: dict[str, Any] = {"detector": det, "features": kind, "signal": signal, "signal_fraction": fraction,
                               "n_seeds": len(runs)}
        for m in METRICS:
            row[f"{m}_mean"], row[f"{m}_std"] = _describe([r[m] for r in runs])
        c = ceiling.get(kind, {}).get(signal)
        row["ceiling_max_sic"] = c["max_sic_supervised"] if c else None
        row["fraction_of_ceiling"] = (row["max_sic_mean"] / c["max_sic_supervised"]
                                      if c and c["max_sic_supervised"] > 0 else None)
        row["train_us_per_event"] = 1e6 * float(np.mean([r["fit_seconds"] / r["n_train"] for r in runs]))
        row["score_us_per_event"] = 1e6 * float(np.mean([r["score_seconds"] / r["n_test"] for r in runs]))
        rows.append(row)
    best = []
    for key in sorted({(r["features"], r["signal"], r["signal_fraction"]) for r in rows}):
        candidates = [r for r in rows if (r["features"], r["signal"], r["signal_fraction"]) == key]
        ranked = sorted(candidates, key=lambda r: -r["max_sic_mean"])
        top, runner_up = ranked[0], (ranked[1] if len(ranked) > 1 else None)
        # a lead within the two spreads combined is not a ranking
        clear = runner_up is None or (top["max_sic_mean"] - runner_up["max_sic_mean"]
                                      > np.hypot(top["max_sic_std"], runner_up["max_sic_std"]))
        best.append({"features": key[0], "signal": key[1], "signal_fraction": key[2], "detector": top["detector"],
                     "max_sic_mean": top["max_sic_mean"], "max_sic_std": top["max_sic_std"],
                     "runner_up": runner_up["detector"] if runner_up else None,
                     "ahead_beyond_spread": bool(clear)})
    return rows, best


def _write_csv(path: Path, per_seed: list[dict]) -> None:
    columns = ["detector", "features", "signal", "signal_fraction", "seed", *METRICS, "fit_seconds", "score_seconds",
               "n_train", "n_test"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for r in per_seed:
        writer.writerow({k: (f"{v:.8g}" if isinstance(v, float) else v) for k, v in r.items()})
    atomic_write_text(path, buffer.getvalue())


def run(config: CompareConfig, folder: str | Path, *, progress: bool = True, scheduler: str | None = None
        ) -> CompareResult:
    """Run the comparison (the module docstring's steps); results.csv (one row per training) goes into `folder`."""
    start = time.perf_counter()
    events, process = load_samples(list(config.samples))
    label = np.asarray(events.label)
    weight = np.asarray(events.weight, dtype=np.float64)
    is_sm = label == 0
    signals = sorted(set(process[~is_sm].tolist()))
    if not signals or is_sm.sum() == 0:
        raise ConfigError(f"samples: need Standard-Model (label 0) and BSM (label 1) datasets; found "
                          f"{int(is_sm.sum())} SM events and signals {signals or 'none'}")
    groups = source_events(np.asarray(events.event_id), process)
    train_all = group_split(groups, config.train_fraction, stream(config.seed, "split"))   # 1. one split for all
    inputs = {}
    for kind in config.features:                                                            # 2. features
        log.info("features %s of %d events", kind, len(events))
        x, index, spec = _features(kind, events, config.rmm_preset)
        inputs[kind] = _Inputs(np.asarray(x, dtype=np.float32), spec, index, train_all[index], weight[index],
                               process[index], is_sm[index], groups[index])
    _check_pools(config, inputs, signals)
    trainings = [Training(d, kind, s, f, seed)
                 for d in range(len(config.detectors)) for kind in config.features
                 for f in config.signal_fractions for s in ([""] if f == 0 else signals)
                 for seed in range(config.n_seeds)]
    log.info("%d trainings: %d detectors x %d feature kinds x %d injections x %d seeds", len(trainings),
             len(config.detectors), len(config.features),
             sum(1 if f == 0 else len(signals) for f in config.signal_fractions), config.n_seeds)

    def task(t: Training) -> tuple[Training, dict]:
        inp = inputs[t.features]
        rng = stream(config.seed, "subset", t.seed)
        rows, w = _training_set(inp, t.signal, t.fraction, config.max_train, rng)
        test = np.flatnonzero(~inp.train)
        seed = stream_seed(config.seed, "detector", t.seed)  # every detector gets the same seeds
        return t, _fit_and_score(config.detectors[t.detector], inp.x[rows], w, inp.x[test], inp.spec, seed)

    outcomes: dict[Training, dict] = {}
    with progress_step("training detectors", total=len(trainings), unit="training", logger=log,
                       enabled=progress) as bar:                                            # 3. trainings
        def collect(result) -> None:
            t, out = result
            outcomes[t] = out
            bar.update(len(outcomes), detector=config.detectors[t.detector].label, features=t.features)

        if scheduler:
            with dask_client(scheduler=scheduler) as client:
                labels = [f"{config.detectors[t.detector].label}/{t.features}/{t.signal or 'bkg'}/seed{t.seed}"
                          for t in trainings]
                run_futures(client, task, [(t,) for t in trainings], on_result=collect, name="compare",
                            labels=labels)
        else:
            for t in trainings:
                collect(task(t))
    per_seed, curves = [], {}                                                               # 4. figures
    for t in trainings:
        inp, out = inputs[t.features], outcomes[t]
        test = np.flatnonzero(~inp.train)
        score, w, proc, sm = out["scores"], inp.weight[test], inp.process[test], inp.is_sm[test]
        det = config.detectors[t.detector].label
        for s in ([t.signal] if t.fraction > 0 else signals):
            sig = proc == s
            figures = separation(score[sm], score[sig], efficiency=config.efficiency, weights_background=w[sm],
                                 weights_signal=w[sig])
            per_seed.append({"detector": det, "features": t.features, "signal": s, "signal_fraction": t.fraction,
                             "seed": t.seed, **figures, **{k: v for k, v in out.items() if k != "scores"}})
            roc = roc_curve(score[sm], score[sig], weights_background=w[sm], weights_signal=w[sig])
            curves.setdefault((det, t.features, s, t.fraction), []).append(np.interp(TPR_GRID, roc.tpr, roc.fpr))
    curves = {k: np.array(v) for k, v in curves.items()}
    ceiling: dict[str, dict[str, dict]] = {}
    if config.supervised_ceiling:                                                           # 5. the ceiling
        settings = ceiling_settings(config.ceiling, config.seed)
        for kind, inp in inputs.items():
            test = np.flatnonzero(~inp.train)
            log.info("supervised ceiling on %s: %d test events", kind, len(test))
            ceiling[kind] = supervised_ceiling(
                inp.x[test], inp.is_sm[test], {s: inp.process[test] == s for s in signals}, None,
                weights=inp.weight[test], groups=inp.groups[test], unsupervised_max_sic={s: 0.0 for s in signals},
                config=settings)
            for record in ceiling[kind].values():  # the fraction is per detector, in the rows
                record.pop("max_sic")
                record.pop("fraction")
    _write_csv(Path(folder) / "results.csv", per_seed)
    rows, best = _rows(config, per_seed, ceiling)
    any_inputs = next(iter(inputs.values()))
    return CompareResult(
        rows=rows, best=best, ceiling=ceiling,
        events={"background_train": int((any_inputs.train & any_inputs.is_sm).sum()),
                "background_test": int((~any_inputs.train & any_inputs.is_sm).sum()),
                "signals": {s: int((process == s).sum()) for s in signals},
                "by_features": {k: int(len(v.index)) for k, v in inputs.items()}},
        detectors=[{"name": d.label, **d.as_config()} for d in config.detectors],
        efficiency=config.efficiency, n_seeds=config.n_seeds, seconds=time.perf_counter() - start,
        config=config, per_seed=per_seed, curves=curves)
