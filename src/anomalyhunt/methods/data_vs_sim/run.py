"""The data-versus-simulation classifier study of Krzyzanska & Nachman end to end, from event datasets to a run folder.

Steps:
1. Samples: the simulation (class 0), the independent background pool, the signals; inputs (m_ee, m_mumu,
   m_4l or the 12 lepton momenta) standardised with the simulation's mean and standard deviation.
2. Trials, for each loss: `n_null` null datasets per null kind (bootstrap, independent), one observed
   background-only dataset, `calibration_datasets` more, and `n_injections` injections per signal and
   injected count. Each is trained in `folds` ensembles (every event scored by networks that did not train on
   it); trials are trained `group_size` at a time as one batched model, the groups as Dask futures.
3. Statistics per trial, p-values against both nulls, uniformity of the calibration p-values, injection
   curves and limits where the median crosses the background-only band, NPLM's t against a fitted chi^2.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats as sps

from ...events import io as event_io
from ...events.io import atomic_write_text
from ...exceptions import ConfigError, EventFileError, StatsInputError
from ...features import fourlepton_input_names, fourlepton_inputs
from ...ingest import load_samples
from ...models.train import resolve_device
from ...parallel import dask_client, run_futures
from ...progress import progress as progress_step
from ...stats import empirical_pvalue, fit_chi2, injection_limit, ks_uniform, p_to_z
from ..base import SearchResult, report_only
from .config import DataVsSimConfig
from .study import Pools, Trial, train_group, train_group_classifier, trial_statistics_names

__all__ = ["DataVsSimResult", "PAPER_LIMITS_FB", "larger_is_anomalous", "pvalues_against", "run"]

log = logging.getLogger(__name__)

# Krzyzanska & Nachman section 4: limits in fb at 150 fb^-1 (MLC; BCE) by parent mass
PAPER_LIMITS_FB = {"mlc": {125: 0.8, 150: 0.8, 250: 0.4}, "bce": {125: 1.2, 150: 1.2, 250: 0.4}}


def larger_is_anomalous(statistic: str) -> bool:
    """Signal lowers the loss and raises every score statistic (and NPLM's t)."""
    return statistic != "mean_loss"


@dataclass(frozen=True)
class SampleArrays:
    names: list[str]
    simulation: np.ndarray
    pool: np.ndarray
    signals: dict[str, np.ndarray]
    sigma_vis_fb: float
    # per signal: selected / generated events of its dataset (None when the sample is not a generated dataset)
    signal_efficiency: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True, repr=False)
class DataVsSimResult(SearchResult):
    """The fields are summary.json; the `report_only` ones are what the report draws."""

    report_module = "anomalyhunt.methods.data_vs_sim.report"

    classifier: str
    limits_fb: dict[str, Any]
    limits_events: dict[str, Any]
    limits_fb_before_selection: dict[str, Any]  # N / (L x eps): a cross section before the selection
    signal_efficiency: dict[str, float | None]
    null_pvalues: dict[str, Any]
    bootstrap_null: dict[str, Any]
    independent_null: dict[str, Any]
    calibration_ks: dict[str, Any]
    null_comparison: dict[str, Any]
    nonfinite_trials: dict[str, Any]
    chi2: dict[str, Any] | None  # NPLM t against a fitted chi^2 (MLC loss only)
    best_statistic: dict[str, dict[str, str | None]]
    n_expected: float
    sigma_vis_fb: float
    luminosity_fb: float
    n_simulation: int
    n_pool: int
    toy_pool: dict[str, float]  # the pool against N_exp, and how much two independent toys share
    signals: dict[str, int]
    inputs: list[str]
    folds: int
    paper_limits_fb: dict[str, Any]
    timing: dict[str, Any]
    choices: dict[str, str]
    # for the report
    samples: SampleArrays = report_only()
    observed: np.ndarray = report_only()  # the observed background-only "data" set, inputs in physical units
    statistics: dict[str, dict[str, np.ndarray]] = report_only()  # loss -> kind -> (n_trials, n_stats)
    injections: dict[str, dict[str, np.ndarray]] = report_only()  # loss -> signal -> (levels, injections, stats)
    config: DataVsSimConfig = report_only()


def _uniform_weights(weights: np.ndarray, what: str) -> None:
    """Datasets are drawn event by event: the weights must be equal up to the per-chunk cross-section estimates
    of a generated sample (a few per cent), not biased (pTHat-weighted samples span orders of magnitude)."""
    if len(weights) and weights.max() > 1.5 * weights.min():
        raise ConfigError(f"{what}: event weights vary ({weights.min():.3g} to {weights.max():.3g} pb); datasets "
                          "are drawn event by event, so give unweighted samples")


def load_arrays(config: DataVsSimConfig) -> SampleArrays:
    """Read the samples, check their roles (labels) and sizes, and compute the inputs."""
    background, signals, simulation = [], [], None
    for path in config.samples:
        events, process = load_samples([path])
        labels = set(np.asarray(events.label).tolist())
        if len(labels) != 1:
            raise ConfigError(f"{path}: mixes Standard-Model and BSM events; give one role per sample")
        if path == config.simulation:
            if labels != {0}:
                raise ConfigError(f"simulation {path} holds BSM (label 1) events")
            simulation = events
        elif labels == {0}:
            background.append(path)
        else:
            signals.append((str(process[0]) if len(process) else Path(path).name, events, path))
    if not background:
        raise ConfigError("no background pool: give at least one Standard-Model sample besides the simulation")
    if not signals:
        raise ConfigError("no signal sample (label 1) to inject")
    # the pool's datasets together (load_samples shares a process's cross section among its datasets)
    pool_events, _ = load_samples(background)
    _uniform_weights(np.asarray(pool_events.weight), "background pool")
    _uniform_weights(np.asarray(simulation.weight), "simulation")
    sigma_fb = 1000.0 * float(np.sum(pool_events.weight)) * config.background_scale
    out = {name: fourlepton_inputs(ev, config.inputs) for name, ev, _ in signals}
    efficiency = {name: _selection_efficiency(path) for name, _, path in signals}
    short = [name for name, x in out.items() if len(x) < max(config.injections)]
    if short:
        raise ConfigError(f"signal samples {short} have fewer events than the largest injection "
                          f"({max(config.injections)}); generate more")
    return SampleArrays(fourlepton_input_names(config.inputs), fourlepton_inputs(simulation, config.inputs),
                        fourlepton_inputs(pool_events, config.inputs), out, sigma_fb, efficiency)


def _selection_efficiency(path: str) -> float | None:
    """Selected over generated events of a dataset folder (its manifest); None for anything else."""
    try:
        manifest = event_io.read_manifest(path)
        return float(manifest["n_selected"]) / float(manifest["n_generated"])
    except (EventFileError, KeyError, TypeError, ValueError, ZeroDivisionError):
        return None


def _trials(config: DataVsSimConfig, n_signals: int) -> list[Trial]:
    trials = [Trial(kind, i) for kind in config.nulls for i in range(config.n_null)]
    trials += [Trial("observed", 0)] + [Trial("calibration", i) for i in range(config.calibration_datasets)]
    trials += [Trial("injection", i, s, n) for s in range(n_signals) for n in config.injections
               for i in range(config.n_injections)]
    return trials


def _train_all(config: DataVsSimConfig, pools: Pools, trials: list[Trial], *, scheduler: str | None,
               progress: bool) -> tuple[dict[str, dict[Trial, np.ndarray]], dict[str, Any]]:
    """Every trial for every loss; groups of `group_size` trials as one batched model each: in this process
    with all its cores (or its GPU), or as Dask futures on `scheduler` (one CPU thread per task). On one
    machine the process is faster: on 2 cores a 2-worker LocalCluster took 1.5x as long (benchmarks)."""
    groups = [(loss, trials[i:i + config.group_size]) for loss in config.losses
              for i in range(0, len(trials), config.group_size)]
    in_process = not scheduler
    results: dict[str, dict[Trial, np.ndarray]] = {loss: {} for loss in config.losses}
    seconds = {loss: 0.0 for loss in config.losses}
    networks, done = 0, 0
    start = time.perf_counter()
    with progress_step("training trial groups", total=len(groups), unit="group", logger=log,
                       enabled=progress) as bar:
        def collect(loss: str, out: dict) -> None:
            nonlocal networks, done
            results[loss].update(zip(out["trials"], out["statistics"], strict=True))
            seconds[loss] += out["seconds"]
            networks += out["networks"]
            done += 1
            bar.update(done, loss=loss, networks=networks)

        def trained(loss, group, device, threads=None):
            if config.detector is not None:
                return train_group_classifier(group, pools, config.detector, config.folds, config.seed, threads,
                                              config.statistic_events)
            return train_group(group, pools, config.classifier, loss, config.folds, config.seed, device, threads,
                               config.statistic_events)

        if in_process:
            for loss, group in groups:
                collect(loss, trained(loss, group, config.device))
        else:
            def task(loss, group):
                return loss, trained(loss, group, "cpu", 1)

            with dask_client(scheduler=scheduler) as client:
                run_futures(client, task, groups, on_result=lambda r: collect(*r), name="data-vs-sim")
    timing = {"wall_seconds": round(time.perf_counter() - start, 1), "groups": len(groups),
              "networks": networks, "worker_seconds": {k: round(v, 1) for k, v in seconds.items()},
              "executor": "in process" if in_process else f"Dask {scheduler}",
              "device": str(resolve_device(config.device)) if in_process else "cpu", "cpu_cores": os.cpu_count()}
    return results, timing


def _describe(values: np.ndarray) -> dict[str, float]:
    values = values[np.isfinite(values)]
    return {"mean": float(values.mean()), "std": float(values.std(ddof=1)), "n": int(values.size)}


def pvalues_against(null: np.ndarray, observed: np.ndarray, statistic: str) -> np.ndarray:
    """p-values of `observed` against the finite values of `null` (NaN where an observed value is not finite:
    a training that diverged; such trials are counted in the summary's `nonfinite_trials`)."""
    null = null[np.isfinite(null)]
    return np.array([empirical_pvalue(null, v, larger_is_anomalous=larger_is_anomalous(statistic))
                     if np.isfinite(v) else np.nan for v in observed])


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def _json_number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _chi2_study(t_null: dict[str, np.ndarray], t_background: np.ndarray, t_injected: dict[str, np.ndarray],
                levels: tuple[int, ...]) -> dict[str, Any]:
    """NPLM's t against a chi^2 whose dof is fitted on each null: the fit, its tails against the sampled
    background-only t (null + calibration, independent), and asymptotic against sampled p-values."""
    out: dict[str, Any] = {}
    for kind, t in t_null.items():
        try:
            fit = fit_chi2(t)
        except StatsInputError as exc:  # t <= 0 nearly everywhere: networks that learnt nothing
            out[kind] = {"skipped": str(exc)}
            continue
        entry = {"dof": fit.dof, "dof_error": fit.dof_error, "ks_pvalue": fit.ks_pvalue, "n": fit.n,
                 "n_nonpositive": fit.n_nonpositive}
        # tails: the fraction of background-only t beyond the fitted chi^2's 1, 2 and 2.5 sigma quantiles
        tails = {}
        for z in (1.0, 2.0, 2.5):
            q = sps.chi2.isf(sps.norm.sf(z), fit.dof)
            tails[f"{z:g}sigma"] = {"expected": float(sps.norm.sf(z)),
                                    "observed": float(np.mean(t_background > q)), "n": int(t_background.size)}
        entry["tails"] = tails
        # injected trials: median asymptotic Z against the sampled Z (capped by the null's size)
        entry["injections"] = {
            signal: [{"n_signal": n, "z_asymptotic": float(p_to_z(np.nanmedian(fit.pvalue(v)))),
                      "z_sampled": float(p_to_z(np.nanmedian(pvalues_against(t, v, "t_nplm"))))}
                     for n, v in zip(levels, values, strict=True)]
            for signal, values in t_injected.items()}
        out[kind] = entry
    return out


def analyse(config: DataVsSimConfig, arrays: SampleArrays, trained: dict[str, dict[Trial, np.ndarray]]
            ) -> tuple[dict[str, Any], dict, dict]:
    """Summary numbers from the trained trials: nulls, p-values, calibration, limits, chi^2."""
    signal_names = list(arrays.signals)
    statistics: dict[str, dict[str, np.ndarray]] = {}
    injections: dict[str, dict[str, np.ndarray]] = {}
    summary: dict[str, Any] = {"limits_fb": {}, "limits_events": {}, "null_pvalues": {}, "bootstrap_null": {},
                               "independent_null": {}, "calibration_ks": {}, "null_comparison": {},
                               "nonfinite_trials": {}}
    for loss in config.losses:
        names = trial_statistics_names(loss)
        by = trained[loss]
        counts = {**{kind: config.n_null for kind in config.nulls}, "observed": 1,
                  "calibration": config.calibration_datasets}
        statistics[loss] = {kind: np.array([by[Trial(kind, i)] for i in range(n)]).reshape(n, len(names))
                            for kind, n in counts.items()}
        injections[loss] = {name: np.array([[by[Trial("injection", i, s, n)] for i in range(config.n_injections)]
                                            for n in config.injections])
                            for s, name in enumerate(signal_names)}
        for kind in config.nulls:
            summary[f"{kind}_null"][loss] = {st: _describe(statistics[loss][kind][:, j])
                                             for j, st in enumerate(names) if st != "n_data"}
        got = statistics[loss]
        summary["null_pvalues"][loss] = {
            kind: {st: _json_number(pvalues_against(got[kind][:, j], got["observed"][:, j], st)[0])
                   for j, st in enumerate(names) if st != "n_data"} for kind in config.nulls}
        if config.calibration_datasets:
            summary["calibration_ks"][loss] = {
                kind: {st: ks_uniform(_finite(pvalues_against(got[kind][:, j], got["calibration"][:, j], st)))
                       for j, st in enumerate(names) if st != "n_data"} for kind in config.nulls}
        if set(config.nulls) == {"bootstrap", "independent"}:
            summary["null_comparison"][loss] = {
                st: {"ks_pvalue": float(sps.ks_2samp(_finite(got["bootstrap"][:, j]),
                                                     _finite(got["independent"][:, j])).pvalue),
                     "std_ratio_bootstrap_to_independent": float(_finite(got["bootstrap"][:, j]).std()
                                                                 / _finite(got["independent"][:, j]).std())}
                for j, st in enumerate(names) if st != "n_data"}
        null = statistics[loss][config.limit_null]
        summary["limits_events"][loss], summary["limits_fb"][loss] = {}, {}
        for j, st in enumerate(names):
            if st == "n_data":
                continue
            up = larger_is_anomalous(st)
            band = _describe(null[:, j])
            threshold = band["mean"] + (1 if up else -1) * config.band_sigma * band["std"]
            limits = {name: injection_limit(config.injections, injections[loss][name][:, :, j], threshold,
                                            larger_is_anomalous=up) for name in signal_names}
            summary["limits_events"][loss][st] = {k: v.as_dict() for k, v in limits.items()}
            summary["limits_fb"][loss][st] = {k: v.scaled(1 / config.luminosity_fb).as_dict()
                                              for k, v in limits.items()}
        if loss == "mlc":
            j = names.index("t_nplm")
            background = np.concatenate([statistics[loss]["observed"][:, j], statistics[loss]["calibration"][:, j],
                                         *([statistics[loss]["independent"][:, j]]
                                           if "independent" in config.nulls else [])])
            summary["chi2"] = _chi2_study({k: _finite(got[k][:, j]) for k in config.nulls}, _finite(background),
                                          {name: injections[loss][name][:, :, j] for name in signal_names},
                                          config.injections)
        summary["nonfinite_trials"][loss] = {kind: int((~np.isfinite(v)).any(axis=-1).sum())
                                             for kind, v in {**got, **injections[loss]}.items()}
    summary["best_statistic"] = _best(summary["limits_fb"])
    return summary, statistics, injections


def _best(limits_fb: dict) -> dict[str, dict[str, str | None]]:
    """Per loss and signal, the statistic with the lowest median limit."""
    out: dict[str, dict[str, str | None]] = {}
    for loss, by_stat in limits_fb.items():
        out[loss] = {}
        signals = next(iter(by_stat.values())).keys()
        for signal in signals:
            found = [(v[signal]["median"], st) for st, v in by_stat.items() if v[signal]["median"] is not None]
            out[loss][signal] = min(found)[1] if found else None
    return out


def _write_trials(path: Path, config: DataVsSimConfig, trained: dict, signal_names: list[str]) -> None:
    rows = []
    for loss in config.losses:
        names = trial_statistics_names(loss)
        for trial, values in trained[loss].items():
            rows.append({"loss": loss, "kind": trial.kind, "index": trial.index,
                         "signal": signal_names[trial.signal] if trial.signal >= 0 else "",
                         "n_signal": trial.n_signal, **{n: f"{v:.8g}" for n, v in zip(names, values, strict=True)}})
    columns = ["loss", "kind", "index", "signal", "n_signal", *trial_statistics_names("mlc")]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def _before_selection(limits_events: dict, efficiency: dict[str, float | None], luminosity_fb: float) -> dict:
    """The limits in events read as a cross section before the selection, N / (L x eps), per loss, statistic and
    signal; None where a signal's efficiency is unknown."""
    out: dict[str, Any] = {}
    for loss, by_stat in limits_events.items():
        out[loss] = {}
        for stat, by_signal in by_stat.items():
            out[loss][stat] = {}
            for signal, limit in by_signal.items():
                eps = efficiency.get(signal)
                out[loss][stat][signal] = None if not eps else {
                    k: (None if limit[k] is None else limit[k] / (luminosity_fb * eps))
                    for k in ("median", "minus", "plus")} | {"at_most": limit["at_most"]}
    return out


def run(config: DataVsSimConfig, folder: Path, *, progress: bool = True, scheduler: str | None = None
        ) -> DataVsSimResult:
    """Run the whole study; the per-trial statistics are written to `folder`/trials.csv. With a Dask
    `scheduler` address the trial groups go out as futures."""
    arrays = load_arrays(config)
    n_expected = config.luminosity_fb * arrays.sigma_vis_fb
    if n_expected + 5 * np.sqrt(n_expected) > len(arrays.pool):
        raise ConfigError(f"the background pool ({len(arrays.pool)} events) is smaller than a dataset can be "
                          f"(N_exp = {n_expected:.0f} at {config.luminosity_fb:g} fb^-1, plus 5 sigma)")
    toy_pool = {"pool_over_n_expected": len(arrays.pool) / n_expected,
                # two datasets of N_exp drawn without replacement from the pool share N_exp / N_pool of their events
                "shared_fraction_between_toys": n_expected / len(arrays.pool)}
    if toy_pool["pool_over_n_expected"] < 10:
        log.warning("the background pool holds %.1f x N_exp events: two independent toys share %.0f%% of their "
                    "events, which narrows the null bands; generate at least 10 x N_exp", toy_pool[
                        "pool_over_n_expected"], 100 * toy_pool["shared_fraction_between_toys"])
    mean, std = arrays.simulation.mean(axis=0), arrays.simulation.std(axis=0)
    std = np.where(std > 0, std, 1.0)

    def scale(x: np.ndarray) -> np.ndarray:
        return ((x - mean) / std).astype(np.float32)

    pools = Pools(scale(arrays.simulation), scale(arrays.pool), tuple(scale(x) for x in arrays.signals.values()),
                  n_expected)
    trials = _trials(config, len(arrays.signals))
    log.info("data-vs-simulation study: N_exp = %.0f background events (%.3g fb x %g fb^-1), %d simulation, %d in "
             "the pool, %d trials x %d losses x %d folds x %d networks", n_expected, arrays.sigma_vis_fb,
             config.luminosity_fb, len(arrays.simulation), len(arrays.pool), len(trials), len(config.losses),
             config.folds, config.classifier.n_members)
    trained, timing = _train_all(config, pools, trials, scheduler=scheduler, progress=progress)
    _write_trials(Path(folder) / "trials.csv", config, trained, list(arrays.signals))
    summary, statistics, injections = analyse(config, arrays, trained)
    summary.setdefault("chi2", None)
    summary["limits_fb_before_selection"] = _before_selection(summary["limits_events"], arrays.signal_efficiency,
                                                              config.luminosity_fb)
    raw = Pools(arrays.simulation, arrays.pool, tuple(arrays.signals.values()), n_expected)
    observed = Trial("observed", 0)
    x, label, _, _ = raw.dataset(observed, observed.seed(config.seed), config.folds)
    return DataVsSimResult(
        **summary, classifier=config.detector.label if config.detector is not None else "classifier_ensemble",
        n_expected=n_expected, sigma_vis_fb=arrays.sigma_vis_fb, luminosity_fb=config.luminosity_fb,
        n_simulation=len(arrays.simulation), n_pool=len(arrays.pool), toy_pool=toy_pool,
        signal_efficiency=arrays.signal_efficiency,
        signals={k: len(v) for k, v in arrays.signals.items()}, inputs=list(arrays.names), folds=config.folds,
        paper_limits_fb=PAPER_LIMITS_FB, timing=timing,
        choices={"statistics_on": "held-out events (k-fold)" if config.folds > 1 else "training events",
                 "score_statistics_over": ("the 'data' events" if config.statistic_events == "data" else
                                           "all events (data and simulation)"),
                 "bands": f"null mean +- {config.band_sigma:g} "
                 f"std ({config.limit_null} null)",
                 "limits_fb": "injected signal events / luminosity (a visible, after-selection cross section)",
                 "limits_fb_before_selection": "injected signal events / (luminosity x the signal's selection "
                                               "efficiency): sigma x BR before the selection"},
        samples=arrays, observed=x[label > 0.5], statistics=statistics, injections=injections, config=config)
