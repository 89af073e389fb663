"""ATLAS, second analysis, end to end: a VRNN trained on the constituent sequences of Standard-Model X-candidate
jets tags anomalous jets; jet-level ROC/SIC against D2, tau21 and the jet mass; the Y -> X H(bb) event selection
with a parametric double-b tag of the H candidate; the background of the signal region (H window, double-b,
anomalous X) predicted from the 0-tag control region with weights a small classifier learns in the high
H-mass sideband (HSB0 -> HSB1), validated in the low sideband (LSB0 -> LSB1); local and global significance over
the (m_Y, m_X) grid. With `transfer_factor: mass_dependent` the normalisation is a double-b / reweighted no-tag
ratio fitted as a function of the H-candidate mass across both sidebands (`stats.fit_mass_transfer`); the
closure in each sideband is measured both ways, with the normalisation taken from the other sideband."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
from scipy import optimize

from ...detectors import build_detector
from ...exceptions import ConfigError
from ...features import dijet_mass, jet_sequences, sequence_feature_spec, sequence_lengths
from ...ingest import load_samples
from ...models import VRNN, ClassifierEnsemble, Estimator, resolve_device
from ...seeds import stream
from ...stats import MassTransferFit, auc, fit_mass_transfer, grid_significance, roc_curve
from ..base import SearchResult, report_only
from ..ceiling import ceiling_settings, supervised_ceiling
from ..steps import finite_scores, save_detector, training_record
from .config import VRNNYXHConfig

__all__ = ["JetArrays", "VRNNYXHResult", "load_arrays", "normalise_score", "run"]

log = logging.getLogger(__name__)

H_MASS = 125.0
TAGGERS = ("vrnn", "d2", "tau21", "mass")  # each oriented so that larger = tagged (D2 and tau21 negated)
_REWEIGHT_INPUTS = ("log_pt_h", "eta_h", "tau21_h", "tau32_h")


@dataclass(frozen=True)
class JetArrays:
    """Per selected event: the X-candidate jet's sequence and substructure, the H candidate's mass, tag
    category (1: double-b, 0: no tag, -1: one tag) and reweighting inputs, m_Y, weight, label and process."""

    sequences: np.ndarray  # (n, T, 3)
    x_mass: np.ndarray
    x_d2: np.ndarray
    x_tau21: np.ndarray
    h_mass: np.ndarray
    h_inputs: np.ndarray  # (n, 4)
    category: np.ndarray
    m_y: np.ndarray
    weight: np.ndarray
    label: np.ndarray
    process: np.ndarray
    selected: dict[str, int]  # cut flow


def _double_b(n_b: np.ndarray, config: VRNNYXHConfig, rng: np.random.Generator) -> np.ndarray:
    b_subjets = np.minimum(n_b, 2)
    tags = rng.binomial(b_subjets, config.double_b.efficiency) + rng.binomial(2 - b_subjets, config.double_b.mistag)
    return np.where(tags == 2, 1, np.where(tags == 0, 0, -1)).astype(np.int8)


def load_arrays(config: VRNNYXHConfig, rng: np.random.Generator) -> JetArrays:
    """Read the samples, select the Y -> X H topology, assign the H and X candidates and tag the H candidate."""
    events, process = load_samples(list(config.samples))
    label = np.asarray(events.label, dtype=np.int8)
    if not np.any(label == 0) or not np.any(label == 1):
        raise ConfigError("give Standard-Model (label 0) and signal (label 1) samples: the VRNN trains on the "
                          "former, the ROC curves need the latter")
    if "fatjets" not in events.fields or "constituents" not in events.fatjets.fields \
            or "n_b" not in events.fatjets.fields or "d2" not in events.fatjets.fields:
        raise ConfigError("the samples have no large-R jets with constituents, D2 and n_b: generate them with the "
                          "'yxh_atlas' preset (or one with fatjet_constituents > 0)")
    if config.inject and config.inject not in set(process[label == 1].tolist()):
        raise ConfigError(f"inject: no signal sample of process {config.inject!r}; signals here: "
                          f"{sorted(set(process[label == 1].tolist()))}")
    flow = {"events": len(events)}
    fj = events.fatjets
    two = ak.to_numpy(ak.num(fj) >= 2)
    flow["two_large_r_jets"] = int(two.sum())
    lead = fj[two][:, :2]
    pt = ak.to_numpy(lead.pt).astype(np.float64)
    mass = ak.to_numpy(lead.mass).astype(np.float64)
    keep = (pt[:, 0] > config.leading_pt) & np.all(mass > config.min_jet_mass, axis=1)
    flow["leading_pt_and_masses"] = int(keep.sum())
    idx = np.flatnonzero(two)[keep]
    lead, mass = lead[keep], mass[keep]
    h_first = np.abs(mass[:, 0] - H_MASS) <= np.abs(mass[:, 1] - H_MASS)
    h_pos = np.where(h_first, 0, 1)
    one = np.ones(len(h_pos), dtype=np.int64)  # jagged (var, one per event) index: that jet of each event
    h_jet = lead[ak.unflatten(h_pos, one)][:, 0]
    x_jet = lead[ak.unflatten(1 - h_pos, one)][:, 0]
    sequences = jet_sequences(x_jet.constituents, max_length=config.vrnn.max_length, jets=x_jet)
    usable = sequence_lengths(sequences) >= 2
    flow["x_jet_sequence"] = int(usable.sum())
    idx, h_jet, x_jet, sequences = idx[usable], h_jet[usable], x_jet[usable], sequences[usable]
    m_y = dijet_mass(events[idx])

    def column(jet, name):
        return ak.to_numpy(jet[name]).astype(np.float64)

    def ratio(a, b):
        return np.divide(a, b, out=np.ones_like(a), where=b > 0)

    h_inputs = np.stack([np.log(column(h_jet, "pt")), column(h_jet, "eta"),
                         ratio(column(h_jet, "tau2"), column(h_jet, "tau1")),
                         ratio(column(h_jet, "tau3"), column(h_jet, "tau2"))], axis=1)
    d2 = column(x_jet, "d2")
    return JetArrays(sequences, column(x_jet, "mass"), np.where(np.isfinite(d2), d2, np.inf),
                     ratio(column(x_jet, "tau2"), column(x_jet, "tau1")), column(h_jet, "mass"), h_inputs,
                     _double_b(ak.to_numpy(h_jet.n_b).astype(np.int64), config, rng), m_y,
                     np.asarray(events.weight, dtype=np.float64)[idx], label[idx], process[idx], flow)


def normalise_score(kl: np.ndarray, reference: np.ndarray, weights: np.ndarray, *, invert: bool) -> tuple[
        np.ndarray, float]:
    """Our calibration (`calibrate: true`; not in the ATLAS talk or Kahn et al.'s code): s = 1 - exp(-KL / c)
    (or exp(-KL / c) when inverted), with c such that the weighted mean of s over the `reference` (training)
    jets is 1/2. Returns (scores, c)."""
    def mean_score(log_c: float) -> float:
        s = np.exp(-reference / np.exp(log_c))
        return float(np.average(s if invert else 1.0 - s, weights=weights)) - 0.5

    scale = float(np.exp(optimize.brentq(mean_score, -30.0, 30.0)))
    s = np.exp(-kl / scale)
    return (s if invert else 1.0 - s), scale


@dataclass(frozen=True)
class _Regions:
    """Event masks of the searched data."""

    lsb: np.ndarray
    window: np.ndarray
    hsb: np.ndarray
    tag1: np.ndarray
    tag0: np.ndarray
    anomalous: np.ndarray


def _regions(arrays: JetArrays, score: np.ndarray, config: VRNNYXHConfig, searched: np.ndarray) -> _Regions:
    """The region masks, restricted to the `searched` events."""
    m = arrays.h_mass

    def inside(r):
        return searched & (m >= r[0]) & (m < r[1])

    return _Regions(inside(config.low_sideband), inside(config.higgs_window), inside(config.high_sideband),
                    arrays.category == 1, arrays.category == 0, score > config.score_threshold)


@dataclass(frozen=True)
class _Estimate:
    classifier: ClassifierEnsemble
    ratio: np.ndarray  # per event: p / (1 - p) of the classifier (the density ratio double-b / no tag)
    norm: float  # W(HSB1) / sum_{HSB0} w r
    norm_error: float


def _learn_weights(arrays: JetArrays, w: np.ndarray, reg: _Regions, config: VRNNYXHConfig, device) -> _Estimate:
    """HSB0 -> HSB1 weights from a classifier on the H candidate (balanced classes), and the normalisation that
    makes the reweighted HSB0 reproduce the HSB1 yield."""
    zero, one = reg.hsb & reg.tag0, reg.hsb & reg.tag1
    sel = zero | one
    x, y, ws = arrays.h_inputs[sel], one[sel].astype(np.int64), w[sel]
    balanced = np.where(y == 1, ws / ws[y == 1].sum(), ws / ws[y == 0].sum()) * len(ws) / 2
    rc = config.reweighting
    clf = ClassifierEnsemble(1, hidden=rc.hidden, batch_size=rc.batch_size, max_epochs=rc.max_epochs,
                             patience=rc.patience, learning_rate=rc.learning_rate, validation_fraction=0.3,
                             device=str(device), seed=config.seed).fit(x, y, balanced)
    p = np.clip(clf.score_samples(arrays.h_inputs), 1e-6, 1 - 1e-6)
    ratio = p / (1.0 - p)
    w1, reweighted0 = w[one].sum(), (w * ratio)[zero].sum()
    norm = w1 / reweighted0
    rel = np.sqrt((w[one] ** 2).sum() / w1**2 + ((w * ratio)[zero] ** 2).sum() / reweighted0**2)
    return _Estimate(clf, ratio, float(norm), float(norm * rel))


def _check_sideband(arrays: JetArrays, config: VRNNYXHConfig) -> None:
    """Enough SM events in HSB0 and HSB1 to learn the weights (checked before any training)."""
    sm, m = arrays.label == 0, arrays.h_mass
    hsb = sm & (m >= config.high_sideband[0]) & (m < config.high_sideband[1])
    n0, n1 = int(np.sum(hsb & (arrays.category == 0))), int(np.sum(hsb & (arrays.category == 1)))
    if n1 < 10 or n0 < 10:
        raise ConfigError(f"the high sideband has {n0} 0-tag and {n1} double-b SM events: too few to learn weights "
                          "(generate more background, or widen high_sideband / raise double_b.mistag)")
    if config.transfer_factor == "mass_dependent":  # every fitted bin needs both categories (score-inclusive)
        for name in ("low_sideband", "high_sideband"):
            for low, high in _sideband_bins(getattr(config, name), config.transfer_bins):
                inside = sm & (m >= low) & (m < high)
                n0, n1 = int(np.sum(inside & (arrays.category == 0))), int(np.sum(inside & (arrays.category == 1)))
                if n0 == 0 or n1 == 0:
                    where = name.replace("_", " ")
                    raise ConfigError(f"the transfer-factor bin [{low:g}, {high:g}) GeV of the {where} "
                                      f"holds {n0} 0-tag and {n1} double-b SM events: fewer transfer_bins, more "
                                      "background, or transfer_factor: flat")


def _predict(w: np.ndarray, est: _Estimate, source: np.ndarray) -> tuple[float, float, float]:
    """Predicted 2-tag yield from the 0-tag events `source`, with its errors from the source statistics and from
    the normalisation."""
    weights = w[source] * est.ratio[source]
    return (float(est.norm * weights.sum()), float(est.norm * np.sqrt((weights**2).sum())),
            float(weights.sum() * est.norm_error))


def _closure(arrays, w, reg: _Regions, est: _Estimate, config: VRNNYXHConfig) -> dict[str, Any]:
    """Validation region: LSB1 (anomalous X) observed against its prediction from LSB0, with and without the
    classifier's weights (the latter: the HSB 2-tag/0-tag ratio alone). `nonclosure` = |1 - observed /
    predicted| becomes a relative uncertainty of the signal-region prediction when the config asks. The
    2-tag/0-tag ratio in each H-mass region (anomaly-inclusive) shows how far the transfer depends on the mass."""
    target = reg.lsb & reg.tag1 & reg.anomalous
    source = reg.lsb & reg.tag0 & reg.anomalous
    observed, observed_err = float(w[target].sum()), float(np.sqrt((w[target] ** 2).sum()))
    predicted, stat, norm_err = _predict(w, est, source)
    predicted_err = float(np.hypot(stat, norm_err))
    hsb0, hsb1 = reg.hsb & reg.tag0, reg.hsb & reg.tag1
    flat = w[hsb1].sum() / w[hsb0].sum()
    error = float(np.hypot(observed_err, predicted_err))
    ratio = observed / predicted if predicted > 0 else float("nan")
    transfer = {}
    for name, region in (("low_sideband", reg.lsb), ("higgs_window", reg.window), ("high_sideband", reg.hsb)):
        zero = w[region & reg.tag0].sum()
        transfer[name] = float(w[region & reg.tag1].sum() / zero) if zero > 0 else float("nan")
    return {"observed": observed, "observed_error": observed_err, "predicted": predicted,
            "predicted_error": predicted_err, "error": error,
            "pull": float((observed - predicted) / error) if error > 0 else float("nan"),
            "ratio": ratio, "within_uncertainty": bool(abs(observed - predicted) <= 2 * error),
            "nonclosure": float(abs(1.0 - ratio)) if np.isfinite(ratio) else float("nan"),
            "nonclosure_applied": config.nonclosure_systematic,
            "predicted_without_reweighting": float(flat * w[source].sum()), "events_observed": int(target.sum()),
            "events_source": int(source.sum()), "double_b_to_no_tag": transfer}


def _sideband_bins(region: tuple[float, float], n: int) -> np.ndarray:
    """`n` equal [low, high) mass bins across one sideband, as (n, 2)."""
    edges = np.linspace(region[0], region[1], n + 1)
    return np.stack([edges[:-1], edges[1:]], axis=1)


def _mass_transfer(arrays, w, reg: _Regions, est: _Estimate, config: VRNNYXHConfig,
                   sidebands: tuple[str, ...]) -> MassTransferFit:
    """c(m_H) fitted to double-b over reweighted no-tag (anomaly-inclusive) in `transfer_bins` bins of each of
    `sidebands`, referred to the Higgs window's centre."""
    bins = np.concatenate([_sideband_bins(getattr(config, name), config.transfer_bins) for name in sidebands])
    region = reg.lsb | reg.hsb
    weights = np.where(reg.tag0, w * est.ratio, w)
    return fit_mass_transfer(arrays.h_mass, region & reg.tag1, region & reg.tag0, weights, bins,
                             m_ref=float(np.mean(config.higgs_window)))


def _sideband_closures(arrays, w, reg: _Regions, est: _Estimate, config: VRNNYXHConfig) -> dict[str, Any]:
    """The closure (anomalous X, double-b observed against its prediction from no-tag) in each sideband, its
    normalisation taken from the other sideband: `flat` (one ratio: double-b over reweighted no-tag there) and
    `mass_dependent` (c(m_H) fitted in the other sideband's bins and extrapolated)."""
    out: dict[str, Any] = {}
    masks = {"low_sideband": reg.lsb, "high_sideband": reg.hsb}
    rw = w * est.ratio
    for name, other in (("low_sideband", "high_sideband"), ("high_sideband", "low_sideband")):
        target = masks[name] & reg.tag1 & reg.anomalous
        source = masks[name] & reg.tag0 & reg.anomalous
        observed = float(w[target].sum())
        observed_err = float(np.sqrt((w[target] ** 2).sum()))
        zero, one = masks[other] & reg.tag0, masks[other] & reg.tag1
        record: dict[str, Any] = {"observed": observed, "observed_error": observed_err,
                                  "events_observed": int(target.sum()), "events_source": int(source.sum())}
        norm = w[one].sum() / rw[zero].sum() if rw[zero].sum() > 0 else float("nan")
        flat = float(norm * rw[source].sum())
        flat_err = float(norm * np.sqrt((rw[source] ** 2).sum()))
        record["flat"] = _closure_numbers(observed, observed_err, flat, flat_err, 0.0)
        try:
            fit = _mass_transfer(arrays, w, reg, est, config, (other,))
        except ConfigError as exc:
            record["mass_dependent"] = {"error": str(exc)}
        else:
            value, stat, fit_err = fit.predict(rw[source], arrays.h_mass[source])
            record["mass_dependent"] = _closure_numbers(observed, observed_err, value, stat, fit_err) | {
                "fit": fit.record()}
        out[name] = record
    return out


def _window_closure(arrays, w, reg: _Regions, est: _Estimate, config: VRNNYXHConfig) -> dict[str, Any]:
    """Simulation only: the signal region's SM yield (anomalous X, double-b, Higgs window; blinded in data)
    against what each normalisation predicts for it from the window's no-tag events: `flat` (the high sideband's
    normalisation) and `mass_dependent` (c(m_H) fitted over both sidebands), whichever the config uses."""
    target = reg.window & reg.tag1 & reg.anomalous & (arrays.label == 0)
    source = reg.window & reg.tag0 & reg.anomalous
    observed = float(w[target].sum())
    observed_err = float(np.sqrt((w[target] ** 2).sum()))
    record: dict[str, Any] = {"observed": observed, "observed_error": observed_err,
                              "events_observed": int(target.sum()), "events_source": int(source.sum())}
    record["flat"] = _closure_numbers(observed, observed_err, *_predict(w, est, source))
    try:
        fit = _mass_transfer(arrays, w, reg, est, config, ("low_sideband", "high_sideband"))
    except ConfigError as exc:
        record["mass_dependent"] = {"error": str(exc)}
    else:
        record["mass_dependent"] = _closure_numbers(observed, observed_err,
                                                    *fit.predict(w[source] * est.ratio[source], arrays.h_mass[source]))
    return record


def _closure_numbers(observed: float, observed_err: float, predicted: float, stat: float, fit: float
                     ) -> dict[str, float]:
    error = float(np.sqrt(observed_err**2 + stat**2 + fit**2))
    ratio = observed / predicted if predicted > 0 else float("nan")
    return {"predicted": predicted, "predicted_stat_error": stat, "predicted_fit_error": fit, "error": error,
            "ratio": ratio, "pull": float((observed - predicted) / error) if error > 0 else float("nan"),
            "nonclosure": float(abs(1.0 - ratio)) if np.isfinite(ratio) else float("nan")}


def _grid(arrays, w, reg: _Regions, est: _Estimate, config: VRNNYXHConfig, rng, nonclosure: float,
          transfer: MassTransferFit | None = None) -> tuple[dict[str, Any], np.ndarray, np.ndarray, Any]:
    """Observed and predicted signal-region yields over (m_Y, m_X) cells and their significance; `nonclosure`
    (relative) is added in quadrature to each cell's prediction error. The observation: a Poisson draw from the
    weighted SM expectation (the same draw in every search of a run: its own seed), plus the injected signal
    events as they are. transfer: the mass-dependent normalisation c(m_H) in place of the flat one (its fit
    uncertainty propagated cell by cell; the cells' correlation through it is not carried into the toys)."""
    edges = (np.asarray(config.m_y_edges), np.asarray(config.m_x_edges))
    sr = reg.window & reg.tag1 & reg.anomalous
    cr0 = reg.window & reg.tag0 & reg.anomalous
    coords = (arrays.m_y, arrays.x_mass)
    is_sm = arrays.label == 0
    expected = np.histogram2d(coords[0][sr & is_sm], coords[1][sr & is_sm], bins=edges, weights=w[sr & is_sm])[0]
    injected = np.histogram2d(coords[0][sr & ~is_sm], coords[1][sr & ~is_sm], bins=edges)[0]
    rw = w * est.ratio

    def cells(values):
        return np.histogram2d(coords[0][cr0], coords[1][cr0], bins=edges, weights=values[cr0])[0]

    if transfer is None:
        pred, pred_var = est.norm * cells(rw), est.norm**2 * cells(rw**2)
        norm_var = (pred / max(est.norm, 1e-300) * est.norm_error) ** 2
    else:
        carried = rw * transfer.factor(arrays.h_mass)
        pred, pred_var = cells(carried), cells(carried**2)
        gradient = np.stack([pred, cells(carried * (arrays.h_mass - transfer.m_ref))], axis=-1)
        norm_var = np.einsum("...i,ij,...j->...", gradient, transfer.covariance, gradient)
    pred_err = np.sqrt(pred_var + norm_var + (nonclosure * pred) ** 2)
    observed = stream(config.seed, "pseudo_data").poisson(expected).astype(np.float64) + injected
    result = grid_significance(observed, pred, pred_err, n_toys=config.n_toys, rng=rng)
    stat_err = np.sqrt(np.maximum(pred_err**2 - (nonclosure * pred) ** 2, 0.0))
    stat_only = grid_significance(observed, pred, stat_err, n_toys=config.n_toys, rng=rng)
    i, j = result.cell
    record = {"max_z_local": result.max_z_local, "cell": _cell(edges, result.cell),
              "observed_in_cell": float(observed[i, j]), "predicted_in_cell": float(pred[i, j]),
              "z_global": result.z_global, "p_global": result.p_global, "n_toys": result.n_toys,
              "cells_tested": result.cells_tested, "observed_total": float(observed.sum()),
              "predicted_total": float(pred.sum()),
              "unpredicted_cells_with_events": int(np.sum((pred <= 0) & (observed > 0))),
              "nonclosure_uncertainty": nonclosure, "injected_in_signal_region": float(injected.sum()),
              "stat_only": {"max_z_local": stat_only.max_z_local, "z_global": stat_only.z_global,
                            "cell": _cell(edges, stat_only.cell)}}
    return record, observed, pred, result


def _cell(edges, cell: tuple[int, ...]) -> dict[str, list[float]]:
    i, j = cell
    return {"m_y": [float(edges[0][i]), float(edges[0][i + 1])], "m_x": [float(edges[1][j]), float(edges[1][j + 1])]}


def _jet_metrics(arrays: JetArrays, score: np.ndarray, test_bkg: np.ndarray, signals: list[str],
                 config: VRNNYXHConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per signal: AUC of each tagger (larger = tagged), the S:B gain at score > threshold and at D2 < d2_cut,
    and the ROC curves (for the figures)."""
    taggers = {"vrnn": score, "d2": -arrays.x_d2, "tau21": -arrays.x_tau21, "mass": arrays.x_mass}
    wb = arrays.weight[test_bkg]
    out, curves = {}, {}
    for name in signals:
        sig = (arrays.label == 1) & (arrays.process == name)
        aucs, roc = {}, {}
        for tagger, values in taggers.items():
            b, s = np.nan_to_num(values[test_bkg], neginf=-1e30), np.nan_to_num(values[sig], neginf=-1e30)
            aucs[tagger] = auc(b, s, weights_background=wb)
            roc[tagger] = roc_curve(b, s, weights_background=wb)
        eff = {}
        for tagger, tag_b, tag_s in (("vrnn", score[test_bkg] > config.score_threshold,
                                      score[sig] > config.score_threshold),
                                     ("d2", arrays.x_d2[test_bkg] < config.d2_cut, arrays.x_d2[sig] < config.d2_cut)):
            eb, es = float(np.sum(wb * tag_b) / wb.sum()), float(np.mean(tag_s))
            eff[tagger] = {"signal_efficiency": es, "background_efficiency": eb,
                           "sb_gain": es / eb if eb > 0 else float("nan")}
        out[name] = {"auc": aucs, "working_points": eff, "jets": int(sig.sum())}
        curves[name] = roc
    return out, curves


def _weighted_rank_correlation(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Spearman's rank correlation with event weights: the weighted Pearson correlation of the weighted
    mid-ranks (cumulative weight fractions)."""
    def ranks(v):
        order = np.argsort(v, kind="stable")
        cum = np.cumsum(w[order])
        r = np.empty(len(v))
        r[order] = (cum - 0.5 * w[order]) / cum[-1]
        return r
    rx, ry = ranks(x), ranks(y)
    mx, my = np.average(rx, weights=w), np.average(ry, weights=w)
    cov = np.average((rx - mx) * (ry - my), weights=w)
    return float(cov / np.sqrt(np.average((rx - mx) ** 2, weights=w) * np.average((ry - my) ** 2, weights=w)))


def _mass_dependence(arrays: JetArrays, score: np.ndarray, test_bkg: np.ndarray, signals: list[str],
                     config: VRNNYXHConfig) -> dict[str, Any]:
    """How the score depends on the X-candidate mass: the rank correlation of score and mass over the SM test
    jets, and each signal's jet AUC within X-mass bins (background: the SM test jets of the same bin)."""
    wb = arrays.weight[test_bkg]
    out: dict[str, Any] = {"qcd_score_mass_rank_correlation": _weighted_rank_correlation(
        score[test_bkg], arrays.x_mass[test_bkg], wb) if len(test_bkg) > 2 else float("nan"), "auc_in_x_mass_bins": {}}
    edges = config.x_mass_bins
    for name in signals:
        sig = (arrays.label == 1) & (arrays.process == name)
        rows = []
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            b = test_bkg[(arrays.x_mass[test_bkg] >= lo) & (arrays.x_mass[test_bkg] < hi)]
            s = sig & (arrays.x_mass >= lo) & (arrays.x_mass < hi)
            value = (auc(score[b], score[s], weights_background=arrays.weight[b])
                     if len(b) >= 10 and s.sum() >= 10 else float("nan"))
            rows.append({"x_mass": [lo, hi], "auc": value, "signal_jets": int(s.sum()), "background_jets": len(b)})
        out["auc_in_x_mass_bins"][name] = rows
    return out


@dataclass(frozen=True, repr=False)
class VRNNYXHResult(SearchResult):
    """The fields are summary.json; the `report_only` ones are what the report draws."""

    report_module = "anomalyhunt.methods.vrnn_yxh.report"

    detector: str
    jet_auc: dict[str, dict[str, float]]
    sb_gain: dict[str, float]
    d2_gain: dict[str, float]
    working_points: dict[str, dict[str, Any]]
    supervised_ceiling: dict
    direction: dict[str, Any]
    mass_dependence: dict[str, Any]  # QCD score-vs-X-mass rank correlation, jet AUCs in X-mass bins
    closure: dict[str, Any]
    closure_injected: dict[str, Any] | None
    z_global: float
    grid: dict[str, dict[str, Any]]
    training: dict[str, Any]
    scoring: dict[str, Any]
    events: dict[str, Any]
    device: str
    seconds: float
    # for the report
    config: VRNNYXHConfig = report_only()
    arrays: JetArrays = report_only()
    score: np.ndarray = report_only()
    test_bkg: np.ndarray = report_only()
    curves: dict[str, Any] = report_only()
    model: Estimator = report_only()
    grids: dict[str, tuple[np.ndarray, np.ndarray, Any]] = report_only()  # name -> (observed, predicted, sig.)
    searched: dict[str, np.ndarray] = report_only()  # name -> mask of the searched events


def _tagger(config: VRNNYXHConfig, progress: bool) -> Estimator:
    """The jet tagger: the paper's VRNN (the `vrnn:` section), or the config's `detector:` on the same
    flattened constituent sequences."""
    if config.detector is not None:
        return build_detector(config.detector, accepts=("jet_sequence", "flat"), seed=config.seed,
                              progress=progress)
    vc = config.vrnn
    return VRNN(hidden=vc.hidden, latent=vc.latent, features=vc.features, kl_weight=vc.kl_weight,
                batch_size=vc.batch_size, learning_rate=vc.learning_rate, max_epochs=vc.max_epochs,
                patience=vc.patience, validation_fraction=vc.validation_fraction, standardise=vc.standardise,
                position_weights=vc.position_weights, seed=config.seed, progress=progress)


def run(config: VRNNYXHConfig, folder: str | Path, *, progress: bool = False) -> VRNNYXHResult:
    """Train the tagger, measure it, estimate the background and scan the grid (see the module docstring)."""
    folder = Path(folder)
    start = time.perf_counter()
    arrays = load_arrays(config, stream(config.seed, "double_b_tagging"))
    _check_sideband(arrays, config)
    device = resolve_device("auto")
    sm = np.flatnonzero(arrays.label == 0)
    order = stream(config.seed, "train_split").permutation(sm)
    n_train = int(round(config.train_fraction * len(sm)))
    train, test_bkg = np.sort(order[:n_train]), np.sort(order[n_train:])
    if n_train < 100 or len(test_bkg) < 100:
        raise ConfigError(f"{len(sm)} selected Standard-Model events leave {n_train} to train and "
                          f"{len(test_bkg)} to test: generate more background")
    spec = sequence_feature_spec(config.vrnn.max_length)
    flat = arrays.sequences.reshape(len(arrays.sequences), -1).astype(np.float32)
    log.info("%d selected events (%d SM: %d train the tagger); cut flow %s", len(flat), len(sm), n_train,
             arrays.selected)
    model = _tagger(config, progress)
    fit_start = time.perf_counter()
    model.fit(flat[train], arrays.weight[train], features=spec)
    fit_seconds = time.perf_counter() - fit_start
    save_detector(model, folder / "vrnn.pt")
    t0 = time.perf_counter()
    kl = finite_scores(model.score_samples(flat, features=spec),
                       config.detector.label if config.detector is not None else "vrnn")
    score_seconds = time.perf_counter() - t0
    # direction: the raw KL's AUC for each signal says which way anomalous jets lie
    signals = sorted(set(arrays.process[arrays.label == 1].tolist()))
    raw_auc = {name: auc(kl[test_bkg], kl[(arrays.label == 1) & (arrays.process == name)],
                         weights_background=arrays.weight[test_bkg]) for name in signals}
    invert = config.direction == "low" or (config.direction == "auto" and raw_auc[signals[0]] < 0.5)
    if config.calibrate:
        score, scale = normalise_score(kl, kl[train], arrays.weight[train], invert=invert)
    else:  # Kahn et al.'s score, 1 - exp(-KL)
        score, scale = (np.exp(-kl) if invert else 1.0 - np.exp(-kl)), 1.0
    tagged = float(np.average(score[sm] > config.score_threshold, weights=arrays.weight[sm]))
    log.info("%.1f%% of the SM X-candidate jets above the working point (score > %g)", 100 * tagged,
             config.score_threshold)
    if tagged == 0:  # said here, not as an empty grid at the end
        raise ConfigError(f"no SM X-candidate jet has a score above {config.score_threshold:g} (the largest is "
                          f"{score[sm].max():.3g}): the KL is smaller than the working point assumes (train longer, "
                          "or set `calibrate: true` to put the working point near half the jets)")
    mass_dependence = _mass_dependence(arrays, score, test_bkg, signals, config)
    jet, curves = _jet_metrics(arrays, score, test_bkg, signals, config)
    ceiling = {}
    if config.supervised_ceiling:  # on the X jets' sequences: SM test jets against each signal's
        log.info("supervised ceiling: truth-label classifiers on the jet sequences, one per signal")
        ceiling = supervised_ceiling(flat, test_bkg, {n: (arrays.label == 1) & (arrays.process == n) for n in signals},
                                     score, weights=arrays.weight, config=ceiling_settings(config.ceiling, config.seed))

    # the search: every SM event (weights scaled so that they sum to the number of SM events: "event" units),
    # plus injected signal events of weight 1
    w = np.zeros(len(flat))
    w[sm] = arrays.weight[sm] * len(sm) / arrays.weight[sm].sum()
    searched = {"background_only": arrays.label == 0}
    if config.inject:
        pool = np.flatnonzero(arrays.process == config.inject)
        if config.inject_events > len(pool):
            raise ConfigError(f"inject_events = {config.inject_events} but {config.inject} has {len(pool)} "
                              "selected events")
        chosen = stream(config.seed, "inject").choice(pool, config.inject_events, replace=False)
        w[chosen] = 1.0
        with_signal = searched["background_only"].copy()
        with_signal[chosen] = True
        searched["injected"] = with_signal
    records, grids = {}, {}
    closure = {}
    for name, mask in searched.items():
        wm = np.where(mask, w, 0.0)
        reg = _regions(arrays, score, config, mask)
        est = _learn_weights(arrays, wm, reg, config, device)
        closure[name] = c = _closure(arrays, wm, reg, est, config)
        c["sidebands"] = _sideband_closures(arrays, wm, reg, est, config)
        c["signal_region_truth"] = _window_closure(arrays, wm, reg, est, config)
        c["transfer_factor"] = config.transfer_factor
        transfer = None
        if config.transfer_factor == "mass_dependent":
            transfer = _mass_transfer(arrays, wm, reg, est, config, ("low_sideband", "high_sideband"))
            c["transfer_fit"] = transfer.record()
            # the validation: the low sideband predicted with c(m) fitted in the high one
            c["nonclosure"] = c["sidebands"]["low_sideband"]["mass_dependent"].get("nonclosure", float("nan"))
        nonclosure = c["nonclosure"] if config.nonclosure_systematic and np.isfinite(c["nonclosure"]) else 0.0
        record, observed, pred, sig = _grid(arrays, wm, reg, est, config, stream(config.seed, f"toys:{name}"),
                                            nonclosure, transfer)
        records[name] = record
        grids[name] = (observed, pred, sig)
        records[name]["reweighting_epochs"] = len(est.classifier.history_.val_loss)
        est.classifier.save(folder / f"reweighting_{name}.pt")
    h = getattr(model, "history_", None)
    training = ({"epochs_run": len(h.train_loss), "best_epoch": h.best_epoch, "seconds": h.seconds,
                 "seconds_per_epoch": h.seconds_per_epoch, "jets": int(n_train), "device": h.device} if h is not None
                else training_record(model, int(n_train), flat.shape[1]) | {"jets": int(n_train),
                                                                            "seconds": fit_seconds})
    return VRNNYXHResult(
        detector=config.detector.label if config.detector is not None else "vrnn",
        jet_auc={name: m["auc"] for name, m in jet.items()},
        sb_gain={name: m["working_points"]["vrnn"]["sb_gain"] for name, m in jet.items()},
        d2_gain={name: m["working_points"]["d2"]["sb_gain"] for name, m in jet.items()},
        working_points={name: m["working_points"] for name, m in jet.items()},
        supervised_ceiling=ceiling,
        direction={"chosen": "low KL is anomalous" if invert else "high KL is anomalous",
                   "published": "high KL is anomalous", "setting": config.direction, "raw_kl_auc": raw_auc,
                   "scale": scale, "calibrated": config.calibrate,
                   # the posterior's health: a collapsed one gives jet KLs ~1e-5
                   "median_kl_sm_test": float(np.median(kl[test_bkg]))},
        mass_dependence=mass_dependence,
        closure=closure["background_only"], closure_injected=closure.get("injected"),
        z_global=records["background_only"]["z_global"], grid=records, training=training,
        scoring={"jets": len(flat), "seconds": score_seconds, "jets_per_second": len(flat) / score_seconds},
        events={"cut_flow": arrays.selected, "sm_selected": len(sm), "vrnn_train": int(n_train),
                "sm_test": len(test_bkg), "signal": {n: m["jets"] for n, m in jet.items()},
                "categories": {c: int(np.sum((arrays.category == v) & (arrays.label == 0)))
                               for c, v in (("double_b", 1), ("no_tag", 0), ("one_tag", -1))}},
        device=str(device), seconds=time.perf_counter() - start,
        config=config, arrays=arrays, score=score, test_bkg=test_bkg, curves=curves, model=model, grids=grids,
        searched=searched)
