"""The supervised ceiling of an unsupervised search (the LHC Olympics practice).

In simulation the truth labels are at hand: a classifier trained with them, on the same inputs and the same
events the unsupervised detector scores, estimates the best max SIC that a selection on those inputs reaches. One
network is a noisy lower bound of that best (the VRNN's dark-jet ceiling was 2.45 with one MLP seed, 3.51 with
the next and 5.11 with gradient boosting), so the ceiling is the better, on average over `seeds` cross-fittings,
of an MLP and scikit-learn's HistGradientBoostingClassifier; the record says which won, and both classifiers'
means and spreads. An unsupervised method's max SIC is then quoted as a fraction of it.

The classifier's scores are cross-fitted: the events are split into `folds`, and each fold is scored by a
classifier trained on the other folds, so every event gets an out-of-sample score (entries made from one
generated event, such as the fake-lepton entries of one QCD event, share a fold when their `groups` are given), and
the two max SICs are computed on exactly the same events with the same weights and the same background-efficiency
floor. The two classes are balanced in the loss (each class's weights sum to the same total); weights within a
class are kept.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import math
from dataclasses import dataclass

import numpy as np

from ..config import check_types
from ..exceptions import ConfigError
from ..models import ClassifierEnsemble
from ..seeds import stream_seed
from ..stats import max_sic
from .base import Section, html_table

__all__ = ["CeilingConfig", "ceiling_entry", "ceiling_lines", "ceiling_section", "ceiling_settings",
           "cross_fitted_scores", "supervised_ceiling"]

log = logging.getLogger(__name__)


CLASSIFIERS = ("mlp", "hgb")


@dataclass(frozen=True)
class CeilingConfig:
    """The supervised classifiers: `classifiers` out of "mlp" (an MLP with `hidden` layers trained with Adam and
    early stopping) and "hgb" (HistGradientBoostingClassifier, `hgb_iterations` boosting rounds at most, early
    stopping on a tenth of the training fold), each `folds`-fold cross-fitted `seeds` times (other folds, other
    initialisations). `max_background` caps the background events used per signal (a random subset, the same one
    for the supervised and the unsupervised max SIC), to bound the cost on large samples."""

    hidden: tuple[int, ...] = (64, 64)
    folds: int = 2
    batch_size: int = 512
    max_epochs: int = 40
    patience: int = 5
    learning_rate: float = 1e-3
    max_background: int = 50_000
    classifiers: tuple[str, ...] = CLASSIFIERS
    seeds: int = 3
    hgb_iterations: int = 200
    seed: int | None = None  # None: the method's seed (`ceiling_settings`), 0 when called directly

    def __post_init__(self) -> None:
        check_types(self)
        if self.folds < 2:
            raise ConfigError(f"folds must be at least 2 (scores are out of sample), got {self.folds}")
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise ConfigError(f"hidden widths must be positive, got {self.hidden}")
        if not self.classifiers or not set(self.classifiers) <= set(CLASSIFIERS) or \
                len(set(self.classifiers)) != len(self.classifiers):
            raise ConfigError(f"classifiers must be distinct names out of {list(CLASSIFIERS)}, got "
                              f"{list(self.classifiers)}")
        for name in ("batch_size", "max_epochs", "patience", "max_background", "seeds", "hgb_iterations"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")


def _fold_of(groups: np.ndarray, folds: int, rng: np.random.Generator) -> np.ndarray:
    """Each entry's fold, whole groups at a time, the groups shuffled and dealt over the folds in turn."""
    names, inverse = np.unique(groups, return_inverse=True)
    return rng.permutation(np.arange(len(names)) % folds)[inverse.reshape(-1)]


def _repetition_seed(config: CeilingConfig, repetition: int) -> int:
    """The seed of one cross-fitting: the config's for the first (as before there were several), then named
    streams of it."""
    base = config.seed or 0
    return base if repetition == 0 else stream_seed(base, "ceiling", repetition)


def _classifier_scores(classifier: str, x_train, y, w, x_test, config: CeilingConfig, seed: int) -> np.ndarray:
    if classifier == "mlp":
        clf = ClassifierEnsemble(1, hidden=config.hidden, batch_size=config.batch_size, max_epochs=config.max_epochs,
                                 patience=config.patience, learning_rate=config.learning_rate,
                                 seed=seed).fit(x_train, y, w)
        return clf.score_samples(x_test)
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(max_iter=config.hgb_iterations, early_stopping=True,
                                         validation_fraction=0.1, random_state=seed % 2**31)
    return clf.fit(x_train, y, sample_weight=w).predict_proba(x_test)[:, 1]


def cross_fitted_scores(x_background, x_signal, *, weights_background=None, weights_signal=None,
                        groups_background=None, groups_signal=None, config: CeilingConfig = CeilingConfig(),
                        classifier: str = "mlp", repetition: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-sample classifier scores (probability of signal) of every background and signal event, from
    `classifier` ("mlp" or "hgb") in cross-fitting number `repetition` (its own folds and seeds).

    groups_background / groups_signal: one id per event naming what must stay in one fold (`generate.source_events`);
    None: every event alone."""
    xb, xs = np.asarray(x_background, dtype=np.float32), np.asarray(x_signal, dtype=np.float32)
    if xb.ndim != 2 or xs.ndim != 2 or xb.shape[1] != xs.shape[1]:
        raise ConfigError(f"need 2-D inputs with the same columns, got {xb.shape} and {xs.shape}")
    if min(len(xb), len(xs)) < 2 * config.folds:
        raise ConfigError(f"need at least {2 * config.folds} events of each class for {config.folds} folds, "
                          f"got {len(xb)} background and {len(xs)} signal")
    wb = np.ones(len(xb)) if weights_background is None else np.asarray(weights_background, dtype=np.float64)
    ws = np.ones(len(xs)) if weights_signal is None else np.asarray(weights_signal, dtype=np.float64)
    x = np.concatenate([xb, xs])
    y = np.r_[np.zeros(len(xb)), np.ones(len(xs))].astype(int)
    if classifier not in CLASSIFIERS:
        raise ConfigError(f"classifier must be one of {list(CLASSIFIERS)}, got {classifier!r}")
    seed = _repetition_seed(config, repetition)
    rng = np.random.default_rng(seed)
    # each class dealt evenly over the folds, a group at a time
    fold = np.empty(len(x), dtype=int)
    for rows, groups in ((np.arange(len(xb)), groups_background), (len(xb) + np.arange(len(xs)), groups_signal)):
        groups = np.arange(len(rows)) if groups is None else np.asarray(groups)
        if groups.shape != rows.shape:
            raise ConfigError(f"groups have {len(groups)} entries for {len(rows)} events")
        fold[rows] = _fold_of(groups, config.folds, rng)
        if np.unique(fold[rows]).size < config.folds:
            raise ConfigError(f"the events of one class fall into fewer than {config.folds} groups")
    w_all = np.concatenate([wb, ws])
    scores = np.empty(len(x))
    for k in range(config.folds):
        train = fold != k
        w = w_all[train]
        yt = y[train]
        for c in (0, 1):  # balanced classes; the mean weight is 1
            total = w[yt == c].sum()
            if not total > 0:
                raise ConfigError("the events of one class carry no weight")
            w[yt == c] *= 0.5 * len(w) / total
        scores[fold == k] = _classifier_scores(classifier, x[train], yt, w, x[fold == k], config, seed + k)
    return scores[: len(xb)], scores[len(xb):]


def ceiling_settings(section: CeilingConfig | None, seed: int) -> CeilingConfig:
    """A method's `ceiling:` section (its defaults when absent), seeded by the method's `seed` unless the
    section sets its own."""
    section = section if section is not None else CeilingConfig()
    return section if section.seed is not None else dataclasses.replace(section, seed=seed)


def ceiling_entry(max_sic_supervised: float, max_sic_unsupervised: float) -> dict[str, float]:
    """One signal's `supervised_ceiling` record: both max SICs and their ratio (NaN when the ceiling is 0)."""
    fraction = max_sic_unsupervised / max_sic_supervised if max_sic_supervised > 0 else math.nan
    return {"max_sic_supervised": float(max_sic_supervised), "max_sic": float(max_sic_unsupervised),
            "fraction": float(fraction)}


def _indices(selection) -> np.ndarray:
    """Event indices from a boolean mask or from indices."""
    selection = np.asarray(selection)
    return np.flatnonzero(selection) if selection.dtype == bool else selection


def supervised_ceiling(x, background: np.ndarray, signals: dict[str, np.ndarray], score: np.ndarray | None, *,
                       weights=None, groups=None, unsupervised_max_sic: dict[str, float] | None = None,
                       config: CeilingConfig = CeilingConfig()) -> dict[str, dict[str, float]]:
    """Signal name -> {max_sic_supervised, max_sic, fraction}.

    x: the detector's inputs (n, d); background: boolean mask (or indices) of the background events that the
    unsupervised max SIC uses; signals: name -> mask of that signal's events; score: the unsupervised anomaly
    score (higher = more anomalous) of every event; weights: event weights (None: unweighted). Both max SICs use
    `stats.max_sic` with its default floor (10 background events' worth of efficiency) on the same events.
    A method whose selection is not one score (Mikuni, Nachman & Shih's diagonal cut on two) passes
    `unsupervised_max_sic`
    (name -> its max SIC on these background and signal events) instead of `score`. groups: one id per event
    naming the entries that must share a cross-fitting fold (`generate.source_events`); None: every event alone.
    """
    x = np.asarray(x)
    x = x[:, np.ptp(x, axis=0) > 0]  # columns that never change (empty RMM cells) carry nothing and cost time
    if (score is None) == (unsupervised_max_sic is None):
        raise ConfigError("give either score or unsupervised_max_sic")
    if score is not None and len(score) != len(x):
        raise ConfigError(f"score has {len(score)} entries for {len(x)} events")
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    if groups is not None and len(groups) != len(x):
        raise ConfigError(f"groups has {len(groups)} entries for {len(x)} events")
    g = None if groups is None else np.asarray(groups)
    bkg = _indices(background)
    rng = np.random.default_rng(config.seed or 0)
    if len(bkg) > config.max_background:
        bkg = np.sort(rng.choice(bkg, config.max_background, replace=False))
    out = {}
    for name, mask in signals.items():
        sig = _indices(mask)
        log.info("supervised ceiling for %s: %d background and %d signal events, %s x %d cross-fittings", name,
                 len(bkg), len(sig), "/".join(config.classifiers), config.seeds)
        by_classifier = {}
        for classifier in config.classifiers:
            values = []
            for repetition in range(config.seeds):
                sb, ss = cross_fitted_scores(x[bkg], x[sig], weights_background=w[bkg], weights_signal=w[sig],
                                             groups_background=None if g is None else g[bkg],
                                             groups_signal=None if g is None else g[sig], config=config,
                                             classifier=classifier, repetition=repetition)
                values.append(max_sic(sb, ss, weights_background=w[bkg], weights_signal=w[sig]))
            by_classifier[classifier] = {"mean": float(np.mean(values)),
                                         "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                                         "values": [float(v) for v in values]}
        best = max(by_classifier, key=lambda c: by_classifier[c]["mean"])
        unsupervised = unsupervised_max_sic[name] if unsupervised_max_sic is not None else \
            max_sic(score[bkg], score[sig], weights_background=w[bkg], weights_signal=w[sig])
        out[name] = ceiling_entry(by_classifier[best]["mean"], unsupervised) | {
            "classifier": best, "max_sic_supervised_std": by_classifier[best]["std"],
            "by_classifier": by_classifier}
    return out


def ceiling_section(ceiling: dict[str, dict[str, float]], selection: str) -> Section:
    """The report's section for a `supervised_ceiling` record, with what it means."""
    if not ceiling:
        return Section("Supervised ceiling", "<p>Not computed (<code>supervised_ceiling: false</code>).</p>")
    with_method = all("max_sic" in v for v in ceiling.values())  # a comparison quotes its detectors elsewhere
    rows = [[name, v["max_sic_supervised"], v.get("max_sic_supervised_std", "-"), v.get("classifier", "mlp"),
             *(_classifier_cell(v, c) for c in CLASSIFIERS), *((v["max_sic"], v["fraction"]) if with_method else ())]
            for name, v in ceiling.items()]
    return Section("Supervised ceiling", (
        "<p>Classifiers trained with the simulation's truth labels on the same inputs and events (cross-fitted, so "
        "every score is out of sample; several cross-fittings with other folds and seeds) estimate the best max "
        "SIC a selection on these inputs reaches: the ceiling is the better on average of an MLP and gradient "
        f"boosting. {html.escape(selection)[:1].upper() + html.escape(selection)[1:]} is quoted as a fraction of "
        "it. Even the better classifier is a lower bound of the best selection.</p>"
        + html_table(rows, ["signal", "max SIC, supervised", "+-", "won", "MLP", "gradient boosting",
                            *(("max SIC, this method", "fraction") if with_method else ())])))


def _classifier_cell(entry: dict, classifier: str) -> str:
    v = entry.get("by_classifier", {}).get(classifier)
    return "-" if v is None else f"{v['mean']:.3g} +- {v['std']:.2g}"


def ceiling_lines(ceiling: dict[str, dict[str, float]]) -> list[str]:
    """A `supervised_ceiling` record for the terminal, one line per signal."""
    return [f"  supervised ceiling {name:<22} max SIC {c['max_sic']:.2f} of {c['max_sic_supervised']:.2f} "
            f"({c['fraction']:.0%}; {c.get('classifier', 'mlp')})" for name, c in ceiling.items()]
