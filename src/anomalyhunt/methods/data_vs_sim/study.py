"""The trainings of a Krzyzanska & Nachman study: every "data" set (bootstrap, toy, injection, observed) against the
simulation, each as `folds` ensembles of `n_members` classifiers, many datasets trained as one batched model.

A trial is named by (kind, index, signal, n_signal); its dataset, its fold split and its networks' seeds follow
from that name and the study seed alone, so a trial's statistics do not depend on which group it is trained in,
on the number of Dask workers, or on the order in which groups finish.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import expit, logit

from ...detectors import DetectorSpec, build_classifier
from ...exceptions import ConfigError
from ...models.ensemble import CLASSIFIER_LOSSES, BatchedMLP, train_member_datasets
from ...models.train import resolve_device
from .config import DataVsSimModel

__all__ = ["KINDS", "Pools", "Trial", "train_group", "train_group_classifier", "trial_statistics_names"]

log = logging.getLogger(__name__)

KINDS = ("bootstrap", "independent", "observed", "calibration", "injection")
_EVAL_CHUNK = 1024


@dataclass(frozen=True)
class Trial:
    """One "data" set: `kind` (see KINDS), its index, and for injections the signal and the injected count."""

    kind: str
    index: int
    signal: int = -1
    n_signal: int = 0

    def seed(self, study_seed: int) -> int:
        words = [study_seed, KINDS.index(self.kind), self.index, self.signal + 1, self.n_signal]
        return int(np.random.SeedSequence(words).generate_state(1)[0])


@dataclass(frozen=True)
class Pools:
    """The standardised inputs the datasets are drawn from: the simulation (class 0), the independent
    background pool, each signal; and the expected background count N_exp = L x sigma_vis."""

    simulation: np.ndarray
    pool: np.ndarray
    signals: tuple[np.ndarray, ...]
    n_expected: float

    def dataset(self, trial: Trial, seed: int, folds: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x, label, weight, fold) of one trial: the simulation (label 0, weight N_exp / N_sim) then the
        "data" (label 1, weight 1): Poisson(N_exp) background events, plus n_signal signal events."""
        rng = np.random.default_rng(seed)
        n_sim = len(self.simulation)
        n_bkg = int(rng.poisson(self.n_expected))
        if trial.kind == "bootstrap":
            data = self.simulation[rng.integers(0, n_sim, n_bkg)]
        else:
            if n_bkg > len(self.pool):
                raise ConfigError(f"the background pool has {len(self.pool)} events, a dataset needs {n_bkg}: "
                                  "generate a larger pool or lower luminosity_fb")
            data = self.pool[rng.choice(len(self.pool), n_bkg, replace=False)]
        if trial.n_signal:
            signal = self.signals[trial.signal]
            data = np.concatenate([data, signal[rng.choice(len(signal), trial.n_signal, replace=False)]])
        x = np.concatenate([self.simulation, data]).astype(np.float32)
        label = np.concatenate([np.zeros(n_sim), np.ones(len(data))]).astype(np.float32)
        weight = np.concatenate([np.full(n_sim, self.n_expected / n_sim), np.ones(len(data))])
        fold = np.concatenate([rng.permutation(n_sim) % folds, rng.permutation(len(data)) % folds])
        return x, label, weight, fold


def trial_statistics_names(loss: str) -> tuple[str, ...]:
    """The statistics a trial yields: Krzyzanska & Nachman's four, NPLM's t = -2 L_min for MLC, and the data count."""
    return ("mean_loss", "mean_score", "max_score", "std_score", *(("t_nplm",) if loss == "mlc" else ()),
            "n_data")


def _member_seed(trial_seed: int, fold: int, member: int) -> int:
    return int(np.random.SeedSequence([trial_seed, fold, member]).generate_state(1)[0])


def _padded(row_lists: list[np.ndarray], fill: list[int]) -> np.ndarray:
    """Row lists padded to one length with a row of their own dataset."""
    rows = np.empty((len(row_lists), max(len(r) for r in row_lists)), dtype=np.int64)
    for k, (r, f) in enumerate(zip(row_lists, fill, strict=True)):
        rows[k, :len(r)], rows[k, len(r):] = r, f
    return rows


def _loss_per_event(loss: str, output: np.ndarray, label: np.ndarray) -> np.ndarray:
    """The training loss (`models.ensemble.CLASSIFIER_LOSSES`) per event, unweighted, of an ensemble's combined
    output: the mean f for MLC, the logit of the mean probability for BCE."""
    with torch.no_grad():
        out = torch.as_tensor(output, dtype=torch.float64)[None, :, None]
        return CLASSIFIER_LOSSES[loss](out, torch.as_tensor(label, dtype=torch.float64)[None]).numpy()[0]


def _statistics(loss: str, label: np.ndarray, weight: np.ndarray, f_mean: np.ndarray, p_mean: np.ndarray,
                in_sample_f: np.ndarray, in_sample: np.ndarray, over: str = "data") -> list[float]:
    """The statistics of one trial from its held-out ensemble outputs (every event once); the score statistics
    over the "data" events, or over `all` events (data and simulation, unweighted). The count (last) is always
    of the data events."""
    is_data = label > 0.5
    data = is_data if over == "data" else np.ones(len(label), dtype=bool)
    score = p_mean if loss == "bce" else f_mean
    output = logit(np.clip(p_mean, 1e-7, 1 - 1e-7)) if loss == "bce" else f_mean
    per_event = _loss_per_event(loss, output, label)
    out = [float(np.sum(weight * per_event) / np.sum(weight)), float(score[data].mean()),
           float(score[data].max()), float(score[data].std())]
    if loss == "mlc":  # NPLM: t = -2 min L, L = sum_sim w (e^f - 1) - sum_data f, on the training events
        out.append(float(-2 * np.sum(weight[in_sample] * _loss_per_event(loss, in_sample_f, label[in_sample]))))
    out.append(float(is_data.sum()))
    return out


def train_group(trials: list[Trial], pools: Pools, model: DataVsSimModel, loss: str, folds: int, study_seed: int,
                device: str = "auto", threads: int | None = None, over: str = "data") -> dict:
    """Train every trial of `trials` (each as `folds` ensembles of `model.n_members` networks, all in one
    batched model) and return {"trials": [...], "statistics": (n_trials, n_stats), "seconds", "networks"}."""
    if threads:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    dev = resolve_device(device)
    seeds = [t.seed(study_seed) for t in trials]
    sets = [pools.dataset(t, s, folds) for t, s in zip(trials, seeds, strict=True)]
    offsets = np.cumsum([0] + [len(s[0]) for s in sets])
    x = np.concatenate([s[0] for s in sets])
    train_rows, member_seeds, owner = [], [], []
    for i, ((_, _, _, fold), seed) in enumerate(zip(sets, seeds, strict=True)):
        for f in range(folds):
            kept = np.flatnonzero(fold != f) if folds > 1 else np.arange(len(fold))
            for j in range(model.n_members):
                train_rows.append(offsets[i] + kept)
                member_seeds.append(_member_seed(seed, f, j))
                owner.append(i)
    rows = _padded(train_rows, [int(offsets[i]) for i in owner])
    label_all = np.concatenate([s[1] for s in sets])
    weight_all = np.concatenate([s[2] for s in sets])
    # an epoch: one pass over a dataset of the nominal size (N_sim + N_exp, the training share of it)
    nominal = (len(pools.simulation) + pools.n_expected) * ((folds - 1) / folds if folds > 1 else 1.0)
    net = BatchedMLP(len(train_rows), (x.shape[1], *model.hidden, 1), "relu", member_seeds=member_seeds)
    train_member_datasets(net, CLASSIFIER_LOSSES[loss], x, rows, [len(r) for r in train_rows], label_all[rows],
                          weight_all[rows], epochs=model.epochs,
                          steps_per_epoch=max(1, int(np.ceil(nominal / model.batch_size))),
                          batch_size=model.batch_size, learning_rate=model.learning_rate, seeds=member_seeds,
                          device=dev)
    # every member scores every event of its own dataset; each event keeps the members that did not train on it
    all_rows = _padded([offsets[i] + np.arange(len(sets[i][0])) for i in owner], [int(offsets[i]) for i in owner])
    xt = torch.as_tensor(x, device=dev)
    f_out = np.empty(all_rows.shape, dtype=np.float64)
    with torch.no_grad():
        for s in range(0, all_rows.shape[1], _EVAL_CHUNK):
            idx = torch.as_tensor(all_rows[:, s:s + _EVAL_CHUNK], device=dev)
            f_out[:, s:s + _EVAL_CHUNK] = net(xt[idx]).squeeze(-1).double().cpu().numpy()
    stats, k = [], 0
    for (_, label, weight, fold) in sets:
        n = len(label)
        f_mean, p_mean = np.zeros(n), np.zeros(n)
        in_sample_f = None
        for f in range(folds):
            block = f_out[k:k + model.n_members, :n]
            k += model.n_members
            held = fold == f if folds > 1 else np.ones(n, dtype=bool)
            f_mean[held] = block[:, held].mean(axis=0)
            p_mean[held] = expit(block[:, held]).mean(axis=0)
            if f == 0:
                in_sample = fold != 0 if folds > 1 else np.ones(n, dtype=bool)
                in_sample_f = block[:, in_sample].mean(axis=0)
        stats.append(_statistics(loss, label, weight, f_mean, p_mean, in_sample_f, in_sample, over))
    return {"trials": trials, "statistics": np.asarray(stats), "seconds": time.perf_counter() - start,
            "networks": len(train_rows)}


def train_group_classifier(trials: list[Trial], pools: Pools, spec: DetectorSpec, folds: int, study_seed: int,
                           threads: int | None = None, over: str = "data") -> dict:
    """`train_group` with a user's classifier (`detector: {import: ...}`, BCE-like: its probabilities are the
    score and their logits the output): one classifier per trial and fold, trained on the other folds with the
    event weights when its fit takes them, scoring the held-out fold."""
    import inspect

    if threads:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    stats, fits = [], 0
    for trial in trials:
        seed = trial.seed(study_seed)
        x, label, weight, fold = pools.dataset(trial, seed, folds)
        p_mean = np.zeros(len(label))
        for f in range(folds):
            held = fold == f if folds > 1 else np.ones(len(label), dtype=bool)
            train = ~held if folds > 1 else held
            classifier = build_classifier(spec, seed=_member_seed(seed, f, 0))
            if "sample_weight" in inspect.signature(classifier.fit).parameters:
                classifier.fit(x[train], label[train], sample_weight=weight[train])
            else:
                classifier.fit(x[train], label[train])
            p_mean[held] = np.asarray(classifier.predict_proba(x[held]))[:, 1]
            fits += 1
        f_mean = logit(np.clip(p_mean, 1e-7, 1 - 1e-7))
        stats.append(_statistics("bce", label, weight, f_mean, p_mean, f_mean, np.ones(len(label), dtype=bool),
                                 over))
    return {"trials": trials, "statistics": np.asarray(stats), "seconds": time.perf_counter() - start,
            "networks": fits}
