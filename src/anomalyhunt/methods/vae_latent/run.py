"""The search of Bortolato, Smolkovic, Dillon & Kamenik, "Bump hunting in latent space" (PRD 105 (2022) 115009)
end to end: VAE ensembles trained on QCD dijets with signal injected at several S/B, scored by the KL of each
event's encoding; ROC/AUC/SIC against the reconstruction error; an m_jj bump hunt after a KL cut and the sculpting
check on background only; the latent characterisation in (z, m_jj). With a `detector:` in the config, any
per-event detector takes the VAE's place in every step but the latent characterisation (which needs a VAE's
encoder)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...detectors import build_detector
from ...exceptions import ConfigError, FitError, StatsInputError
from ...features import DIJET_INPUT_NAMES, FeatureSpec, dijet_inputs, dijet_mass, has_dijet
from ...ingest import load_samples
from ...models import Estimator, VAEEnsemble, latent_decoder_inputs, resolve_device, train_latent_decoders
from ...seeds import stream, stream_seed
from ...stats import (
    Spectrum,
    auc,
    background_models,
    bump_hunt,
    dijet_fit,
    max_sic,
    rejection_at_efficiency,
    resolution_binning,
    sic_at_efficiency,
    sideband_check,
)
from ...stats.regions import region_by_efficiency
from ..base import SearchResult, report_only
from ..ceiling import ceiling_entry, ceiling_settings, supervised_ceiling
from ..steps import finite_scores, save_detector, training_record
from .config import VAELatentConfig

__all__ = ["DijetArrays", "VAELatentResult", "load_arrays", "run"]

log = logging.getLogger(__name__)

PAPER_SIC_AT_HALF = {"0.001": (2.75, 0.21)}  # Bortolato et al. fig. 4: SIC improvement at eps_s ~ 0.5, S/B = 0.1%
_SPEC = FeatureSpec("dijet", "dijet_lhco", DIJET_INPUT_NAMES)


@dataclass(frozen=True)
class DijetArrays:
    """Inputs (n, 6), m_jj (GeV), weights (pb) and labels of every event with two large-R jets."""

    x: np.ndarray
    mjj: np.ndarray
    weight: np.ndarray
    label: np.ndarray
    signal_name: str
    dropped: int


def load_arrays(config: VAELatentConfig) -> DijetArrays:
    """Read the samples; keep events with two large-R jets; exactly one BSM process is the signal."""
    events, process = load_samples(list(config.samples))
    label = np.asarray(events.label, dtype=np.int8)
    bsm = sorted(set(np.asarray(process)[label == 1].tolist()))
    if len(bsm) != 1:
        raise ConfigError(f"give exactly one BSM (label 1) sample to inject, found {bsm or 'none'}")
    if not np.any(label == 0):
        raise ConfigError("no Standard-Model (label 0) sample: the VAE trains on background plus injected signal")
    keep = has_dijet(events)
    events = events[keep]
    return DijetArrays(dijet_inputs(events), dijet_mass(events), np.asarray(events.weight, dtype=np.float64),
                       label[keep], bsm[0], int((~keep).sum()))


@dataclass(frozen=True)
class _Split:
    train_bkg: np.ndarray  # indices of QCD events in the training data
    test_bkg: np.ndarray
    inject_pool: np.ndarray  # signal events that may be injected (shuffled: the first n are injected)
    test_sig: np.ndarray

    @property
    def test(self) -> np.ndarray:
        """Indices of the test set: the QCD test events, then the test signal."""
        return np.concatenate([self.test_bkg, self.test_sig])

    @property
    def test_is_signal(self) -> np.ndarray:
        return np.r_[np.zeros(len(self.test_bkg), bool), np.ones(len(self.test_sig), bool)]

    def test_weights(self, arrays: DijetArrays) -> np.ndarray:
        """QCD test events with their weights, signal with unit weight (AUCs normalise each class)."""
        return np.r_[arrays.weight[self.test_bkg], np.ones(len(self.test_sig))]


def _split(arrays: DijetArrays, config: VAELatentConfig, rng: np.random.Generator) -> _Split:
    bkg = rng.permutation(np.flatnonzero(arrays.label == 0))
    sig = rng.permutation(np.flatnonzero(arrays.label == 1))
    n_train = int(round(config.train_fraction * len(bkg)))
    need = int(round(max(config.signal_fractions) * n_train))
    if need + 50 > len(sig):
        raise ConfigError(f"S/B = {max(config.signal_fractions):g} on {n_train} training QCD events needs {need} "
                          f"signal events plus at least 50 to test, but the signal sample has {len(sig)} events with "
                          "two large-R jets: generate more signal or lower signal_fractions")
    # the test signal is what the largest injection leaves; every smaller injection draws from the same pool
    return _Split(bkg[:n_train], bkg[n_train:], sig[:need], sig[need:])


def _training_data(arrays: DijetArrays, split: _Split, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices and weights of the training data at S/B = `fraction` (by weight: each injected signal event weighs
    the mean QCD training weight, so n_signal = fraction x n_QCD)."""
    n_sig = int(round(fraction * len(split.train_bkg)))
    idx = np.concatenate([split.train_bkg, split.inject_pool[:n_sig]])
    w = arrays.weight[idx].copy()
    w[len(split.train_bkg):] = arrays.weight[split.train_bkg].mean()
    return idx, w


def _tag(fraction: float) -> str:
    return f"{fraction:g}"


@dataclass(frozen=True)
class _Trained:
    model: Estimator
    members: dict[str, np.ndarray]  # score name -> (K, n_test) per member on the test set: VAE "kl", "reco"
    train_idx: np.ndarray
    train_weight: np.ndarray
    learning_rate: float | None
    seconds: float

    @property
    def score(self) -> np.ndarray:
        """The detector's score of the test events (the VAE: the member-mean KL)."""
        return next(iter(self.members.values())).mean(0)

    @property
    def is_vae(self) -> bool:
        return isinstance(self.model, VAEEnsemble)


def _train(arrays, split: _Split, fraction, config: VAELatentConfig, progress) -> _Trained:
    idx, w = _training_data(arrays, split, fraction)
    seed = stream_seed(config.seed, f"train:{_tag(fraction)}")
    if config.detector is not None:
        model = build_detector(config.detector, seed=seed, progress=progress)
        log.info("S/B = %s: %d training events (%d signal), %s", _tag(fraction), len(idx),
                 len(idx) - len(split.train_bkg), config.detector.label)
        start = time.perf_counter()
        model.fit(arrays.x[idx], w, features=_SPEC)
        score = finite_scores(model.score_samples(arrays.x[split.test], features=_SPEC), config.detector.label)
        return _Trained(model, {"score": score[None, :]}, idx, w, None, time.perf_counter() - start)
    vc = config.vae
    n_train_steps = -(-int(round(len(idx) * (1 - vc.validation_fraction))) // vc.batch_size)
    factor = max(1.0, vc.reference_steps_per_epoch / n_train_steps) if vc.reference_steps_per_epoch else 1.0
    model = VAEEnsemble(n_members=vc.n_members, latent_dim=vc.latent_dim, hidden=vc.hidden, alpha=vc.alpha,
                        batch_size=vc.batch_size, max_epochs=vc.max_epochs, rise=vc.rise, fall=vc.fall,
                        learning_rate=vc.learning_rate * factor, validation_fraction=vc.validation_fraction,
                        seed=seed, scaler=vc.scaler)
    log.info("S/B = %s: %d training events (%d signal), %d steps an epoch, Adadelta lr %.3g", _tag(fraction),
             len(idx), len(idx) - len(split.train_bkg), n_train_steps, vc.learning_rate * factor)
    test_x = arrays.x[split.test]
    model.fit(arrays.x[idx], w, features=_SPEC,
              monitor=(test_x, _auc_measure(split.test_is_signal, split.test_weights(arrays))), progress=progress)
    kl, reco = model.member_scores(test_x, features=_SPEC)
    return _Trained(model, {"kl": kl, "reco": reco}, idx, w, vc.learning_rate * factor, model.seconds_)


def _latent_offsets(arrays, split: _Split, trained: dict[str, _Trained]) -> dict[str, Any]:
    """Per S/B and member: the mean and spread of the encoder means over the training QCD, for a VAE. A member
    whose whole QCD sample sits far from the prior's centre ranks events by the KL along one direction of the
    latent space, which is what inverts the KL ranking on all-positive inputs."""
    out = {}
    for tag, t in trained.items():
        if not t.is_vae:
            continue
        mean, _ = t.model.encode(arrays.x[split.train_bkg], features=_SPEC)  # (K, n, latent)
        w = arrays.weight[split.train_bkg]
        centre = np.einsum("knl,n->kl", mean, w) / w.sum()
        spread = np.sqrt(np.einsum("knl,n->kl", (mean - centre[:, None, :]) ** 2, w) / w.sum())
        out[tag] = {"mean": centre.tolist(), "spread": spread.tolist(),
                    "offset_over_spread_median": float(np.median(np.linalg.norm(centre, axis=1)
                                                                 / np.maximum(np.linalg.norm(spread, axis=1), 1e-12)))}
    return out


def _auc_measure(is_sig: np.ndarray, w: np.ndarray):
    """(KL, reco) per member -> (K, 2) test AUCs: the score's evolution over epochs (Bortolato et al. fig. 2)."""
    def measure(kl: np.ndarray, reco: np.ndarray) -> np.ndarray:
        return np.array([[auc(s[~is_sig], s[is_sig], weights_background=w[~is_sig]) for s in (k_, r_)]
                         for k_, r_ in zip(kl, reco, strict=True)])
    return measure


def _metrics(t: _Trained, is_sig: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    b, s = ~is_sig, is_sig
    out: dict[str, Any] = {}
    for name, member in t.members.items():
        score = member.mean(0)
        per_member_auc = [auc(m[b], m[s], weights_background=w[b]) for m in member]
        sics = [sic_at_efficiency(m[b], m[s], weights_background=w[b]) for m in member]
        out[name] = {
            "auc": auc(score[b], score[s], weights_background=w[b]),
            "auc_members": {"mean": float(np.mean(per_member_auc)), "std": float(np.std(per_member_auc))},
            "rejection_at_half": rejection_at_efficiency(score[b], score[s], 0.5, weights_background=w[b]),
            "sic_at_half": sic_at_efficiency(score[b], score[s], weights_background=w[b]),
            "sic_at_half_members": {"mean": float(np.mean(sics)), "std": float(np.std(sics))},
        }
    if not t.is_vae:
        out["training"] = training_record(t.model, len(t.train_idx), t.model.n_features_in_) | {"seconds": t.seconds}
        return out
    h = t.model.histories_
    out["training"] = {"best_epochs": [x.best_epoch for x in h], "epochs_run": t.model.epochs_run_,
                       "peak_confirmed_members": int(t.model.stopped_.sum()),
                       "seconds": t.model.seconds_, "seconds_per_epoch": t.model.seconds_ / t.model.epochs_run_,
                       "learning_rate": t.learning_rate, "events": len(t.train_idx)}
    return out


def _ceiling(arrays: DijetArrays, split: _Split, trained: dict[str, _Trained], config: VAELatentConfig) -> dict:
    """The supervised ceiling on the test events for the ensemble KL trained on background only (S/B = 0), with
    the fraction of every S/B ensemble in `by_signal_fraction`."""
    is_sig, w = split.test_is_signal, split.test_weights(arrays)
    name = arrays.signal_name
    log.info("supervised ceiling: a truth-label classifier on the VAE's inputs")
    out = supervised_ceiling(arrays.x[split.test], ~is_sig, {name: is_sig}, trained["0"].score, weights=w,
                             config=ceiling_settings(config.ceiling, config.seed))
    ceiling = out[name]["max_sic_supervised"]

    def entry(kl: np.ndarray) -> dict[str, float]:
        return ceiling_entry(ceiling, max_sic(kl[~is_sig], kl[is_sig], weights_background=w[~is_sig]))

    out[name]["by_signal_fraction"] = {tag: entry(t.score) for tag, t in trained.items()}
    return out


def _bump_hunt(arrays, t: _Trained, config: VAELatentConfig, edges, tag: str
               ) -> tuple[dict[str, Any], dict[str, Any], list[Spectrum]]:
    """The m_jj bump hunt on the training data itself (a search trains and cuts on its data), before and after
    the KL cut at `kl_efficiency`. Weighted QCD becomes Poisson pseudo-data: its weights are normalised to the
    number of QCD events, the histogram is the expectation, and the injected signal events are added as they are.
    Returns the records for summary.json, the bump-hunt results by selection (for the figures), and the hunted
    spectra for export (region `sb<tag>_<selection>`, the injected signal as its template)."""
    idx, w = t.train_idx, t.train_weight
    is_bkg = arrays.label[idx] == 0
    n_bkg = int(is_bkg.sum())
    score = t.model.score_samples(arrays.x[idx], features=_SPEC)
    cut = region_by_efficiency(score, w, config.kl_efficiency).threshold
    mjj = arrays.mjj[idx]
    norm = n_bkg / w[is_bkg].sum()
    out: dict[str, Any] = {"threshold": float(cut)}
    fits, spectra = {}, []
    window = config.characterisation.signal_window
    for name, sel in (("inclusive", np.ones(len(idx), bool)), ("kl_cut", score >= cut)):
        expected = np.histogram(mjj[sel & is_bkg], bins=edges, weights=w[sel & is_bkg] * norm)[0]
        signal = np.histogram(mjj[sel & ~is_bkg], bins=edges)[0]
        # named streams per S/B and selection: the inclusive pseudo-data are the same whatever the detector, and
        # no spectrum's draws depend on how many toys another one used (or whether it was hunted at all)
        data = stream(config.seed, f"pseudo_data:{tag}:{name}").poisson(expected) + signal
        try:
            fit = dijet_fit(data, edges, n_params="auto")
            check = sideband_check(data, fit) if fit.converged else None
            if check is not None and not check.passed:  # a background model that fails is never hunted
                out[name] = {"error": f"not hunted: {check.reason}", "signal_events": int(signal.sum()),
                             "sideband_check": check.record()}
                continue
            fits[name] = hunt = bump_hunt(data, edges, rng=stream(config.seed, f"toys:{tag}:{name}"),
                                          n_toys=config.n_toys, fit=fit)
            spectra.append(Spectrum.from_fit(
                fit, region=f"sb{tag}_{name}", observable="m_jj", label="m_jj [GeV]",
                signals={arrays.signal_name: signal} if signal.sum() > 0 else {},
                limit_masses=[0.5 * (window[0] + window[1]), round(hunt.mass)],
                description=f"S/B = {tag}, {name.replace('_', ' ')}: pseudo-data and dijet fit"))
            out[name] = {"mass": hunt.mass, "z_local": hunt.z_local, "z_global": hunt.significance.z_global,
                         "p_global": hunt.significance.p_global,
                         "z_global_is_bound": hunt.significance.is_bound, "signal_fitted": hunt.signal,
                         "signal_events": int(signal.sum()), "background_expected": float(expected.sum()),
                         "s_over_sqrt_b_window": _window_significance(mjj, sel, is_bkg, w * norm,
                                                                      config.characterisation.signal_window)}
        except (FitError, StatsInputError) as err:  # a spectrum the statistics refuse is reported, not fatal
            out[name] = {"error": str(err), "signal_events": int(signal.sum())}
    return out, fits, spectra


def _window_significance(mjj, sel, is_bkg, w, window: tuple[float, float]) -> float:
    """S / sqrt(B) of the selected events inside the m_jj window (B: weighted QCD, S: signal events)."""
    inside = sel & (mjj >= window[0]) & (mjj < window[1])
    s, b = float(np.sum(inside & ~is_bkg)), float(np.sum(w[inside & is_bkg]))
    return s / np.sqrt(b) if b > 0 else float("nan")


def _sculpting(arrays, split, t0: _Trained, config: VAELatentConfig, edges) -> dict[str, Any]:
    """Background only: the S/B = 0 ensemble's KL cut on the independent QCD test events; each spectrum's smooth
    fit (chi2, largest pull) as the RMM search writes it."""
    idx = split.test_bkg
    w = arrays.weight[idx]
    score = t0.score[: len(idx)]
    cut = region_by_efficiency(score, w, config.kl_efficiency).threshold
    lumi_fb = len(idx) / w.sum() / 1000.0  # weights sum to the number of events: counts look like the sample
    models = background_models({"m_jj": arrays.mjj[idx]}, w, {"inclusive": np.ones(len(idx), bool),
                                                              "kl_cut": score >= cut}, edges, luminosity_fb=lumi_fb)
    return {m.region: m for m in models}


@dataclass(frozen=True)
class _Latent:
    grid_z: np.ndarray
    grid_m: np.ndarray
    reconstructed: np.ndarray  # (len(grid_z), len(grid_m), 6), member 0, physical units
    marginal: np.ndarray  # (K, len(grid_m), 6): <O>_z(m) / <O>_{z,m}
    medians: dict[str, np.ndarray]  # "signal"/"background" -> (K, 6) (median(reco) - median(input)) / std(input)
    z_test: np.ndarray  # member-0 encoder means of the test events
    decoder_epochs: list[int]


def _characterise(arrays, split, t: _Trained, config: VAELatentConfig, rng, device, progress) -> _Latent:
    cc = config.characterisation
    model = t.model
    x_train, m_train = arrays.x[t.train_idx], arrays.mjj[t.train_idx]
    mean, sigma = model.encode(x_train, features=_SPEC)
    centre, spread = float(m_train.mean()), float(m_train.std())
    inputs = latent_decoder_inputs(mean, sigma, m_train, mass_resolution=cc.mass_resolution, mass_centre=centre,
                                   mass_spread=spread, rng=rng)
    targets = (x_train / model.scale_).astype(np.float32)
    decoders, histories = train_latent_decoders(inputs, targets, batch_size=config.vae.batch_size,
                                                max_epochs=cc.max_epochs, patience=cc.patience,
                                                learning_rate=cc.learning_rate, seed=config.seed, device=device,
                                                progress=progress)
    import torch

    def decode(z: np.ndarray, m: np.ndarray) -> np.ndarray:
        """(K, n, 6) decoded observables in physical units, z: (K, n, latent), m: (n,) GeV."""
        mz = np.broadcast_to(((m - centre) / spread)[None, :, None], (*z.shape[:2], 1))
        inp = torch.as_tensor(np.concatenate([z, mz], axis=2), dtype=torch.float32, device=device)
        with torch.no_grad():
            return decoders(inp).double().cpu().numpy() * model.scale_

    test = split.test
    mean_t, sigma_t = model.encode(arrays.x[test], features=_SPEC)
    lo, hi = (cc.z_range if cc.z_range else
              (float(np.percentile(mean_t[0, :, 0], 1)), float(np.percentile(mean_t[0, :, 0], 99))))
    grid_z = np.linspace(lo, hi, cc.grid)
    grid_m = np.linspace(*cc.mjj_range, cc.grid)
    k, g = model.n_members, cc.grid

    def decode_grid(z_values: np.ndarray) -> np.ndarray:
        """(K, len(z), len(grid_m), 6): member k decoded over z_values[k] x grid_m (other latent directions at
        their prior mean, 0)."""
        z = np.repeat(z_values, g, axis=1)[..., None]
        z = np.concatenate([z, np.zeros((*z.shape[:2], model.latent_dim - 1))], axis=2)
        return decode(z, np.tile(grid_m, z_values.shape[1])).reshape(k, z_values.shape[1], g, -1)

    grid = decode_grid(np.broadcast_to(grid_z, (k, g)))
    # marginal over each member's own populated z range (the sign of z is a member's convention)
    z_ranges = np.percentile(mean_t[:, :, 0], [1, 99], axis=1)  # (2, K)
    along_z = decode_grid(np.linspace(z_ranges[0], z_ranges[1], g, axis=1)).mean(1)  # (K, len(grid_m), 6)
    marginal = along_z / along_z.mean(1, keepdims=True)
    # fig. 6: medians of reconstructed vs input observables, signal and background test events
    inputs_t = latent_decoder_inputs(mean_t, sigma_t, arrays.mjj[test], mass_resolution=cc.mass_resolution,
                                     mass_centre=centre, mass_spread=spread, rng=rng)
    with torch.no_grad():
        reco_t = decoders(torch.as_tensor(inputs_t, device=device)).double().cpu().numpy() * model.scale_
    x_t = arrays.x[test]
    is_sig = split.test_is_signal
    medians = {}
    for name, sel in (("signal", is_sig), ("background", ~is_sig)):
        ref = np.median(x_t[sel], axis=0)
        spread_x = x_t[sel].std(axis=0)
        medians[name] = (np.median(reco_t[:, sel], axis=1) - ref) / np.where(spread_x > 0, spread_x, 1.0)
    return _Latent(grid_z, grid_m, grid[0], marginal, medians, mean_t[0, :, 0],
                   [h.best_epoch for h in histories])


def _latent_bump(latent: _Latent, control: _Latent, window: tuple[float, float]) -> dict[str, Any]:
    """Is the injected bump visible in the marginals <O>_z(m_jj)? Per observable: the largest deviation of the
    S/B run's member-mean curve from the background-only run's inside the signal window, against the largest
    outside it (m_jj above 2.8 TeV, away from the low-mass z-m_jj correlation the paper notes)."""
    m = latent.grid_m
    inside = (m >= window[0]) & (m <= window[1])
    outside = (m >= 2800.0) & ~inside & ~((m > window[0] - 300) & (m < window[1] + 300))
    out = {}
    for j, name in enumerate(DIJET_INPUT_NAMES):
        diff = np.abs(latent.marginal[:, :, j].mean(0) - control.marginal[:, :, j].mean(0))
        band = control.marginal[:, :, j].std(0)
        win, rest = float(diff[inside].max()), float(diff[outside].max()) if outside.any() else float("nan")
        out[name] = {"window_deviation": win, "outside_deviation": rest,
                     "control_spread": float(band[inside].mean()), "visible": bool(win > 2.0 * rest)}
    return out


@dataclass(frozen=True, repr=False)
class VAELatentResult(SearchResult):
    """The fields are summary.json; the `report_only` ones are what the report draws."""

    report_module = "anomalyhunt.methods.vae_latent.report"

    detector: str
    signal: str
    auc: dict[str, dict[str, float]]  # S/B tag -> score name (VAE: kl, reco) -> AUC
    sic_at_half: dict[str, dict[str, float]]  # S/B tag -> mean, std over members of the first score
    sic_at_half_ensemble: dict[str, dict[str, float]]
    rejection_at_half: dict[str, dict[str, float]]
    auc_members: dict[str, dict[str, dict[str, float]]]
    supervised_ceiling: dict
    paper_sic_at_half: dict[str, dict[str, float]]
    training: dict[str, dict[str, Any]]
    bump_hunt: dict[str, dict[str, Any]]
    sculpting: dict[str, Any]
    latent_grid: dict[str, Any] | None  # None: the detector is not a VAE, so nothing is characterised
    latent_bump: dict[str, dict[str, Any]] | None
    latent_medians: dict[str, dict[str, list[float]]] | None
    latent_offsets: dict[str, dict[str, Any]] | None  # per S/B: members' encoder-mean centre and spread on QCD
    events: dict[str, int]
    device: str
    seconds: float
    # for the report
    config: VAELatentConfig = report_only()
    arrays: DijetArrays = report_only()
    split: _Split = report_only()
    trained: dict[str, _Trained] = report_only()  # S/B tag -> detector and its test scores
    latent: _Latent | None = report_only()
    control: _Latent | None = report_only()  # the characterisation on background only
    bump_fits: dict[str, dict[str, Any]] = report_only()  # S/B tag -> selection -> BumpHuntResult
    sculpting_models: dict[str, Any] = report_only()  # region -> SpectrumModel
    spectra: tuple[Spectrum, ...] = report_only()  # exported: spectra.json, spectra.root, workspaces/


def _scores_summary(metrics: dict[str, dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """S/B tag -> score name -> metrics[tag][name][key]."""
    return {tag: {name: v[key] for name, v in m.items() if name != "training"} for tag, m in metrics.items()}


def _latent_summary(latent: _Latent, control: _Latent, config: VAELatentConfig) -> dict[str, Any]:
    cc = config.characterisation
    return {
        "latent_grid": {"signal_fraction": _tag(cc.signal_fraction), "z_range": [float(latent.grid_z[0]),
                                                                               float(latent.grid_z[-1])],
                        "mjj_range": list(cc.mjj_range), "points": cc.grid,
                        "heat_maps": "latent_heatmaps.png", "control_heat_maps": "latent_heatmaps_control.png",
                        "marginals": "latent_marginals.png", "medians": "latent_medians.png",
                        "decoder_best_epochs": latent.decoder_epochs},
        "latent_bump": _latent_bump(latent, control, cc.signal_window),
        "latent_medians": {k: {"mean": v.mean(0).tolist(), "std": v.std(0).tolist()}
                           for k, v in latent.medians.items()},
    }


def run(config: VAELatentConfig, folder: str | Path, *, progress: bool = False) -> VAELatentResult:
    """Train, evaluate, hunt and characterise (see the module docstring); models are saved into `folder`."""
    folder = Path(folder)
    start = time.perf_counter()
    arrays = load_arrays(config)
    split = _split(arrays, config, stream(config.seed, "split"))
    edges = resolution_binning(config.m_min, config.m_max)
    device = resolve_device("auto")
    log.info("%d QCD training, %d QCD test, %d signal test events (%d without two large-R jets dropped)",
             len(split.train_bkg), len(split.test_bkg), len(split.test_sig), arrays.dropped)
    trained: dict[str, _Trained] = {}
    metrics, hunts, bump_fits, spectra = {}, {}, {}, []
    for fraction in (0.0, *config.signal_fractions):
        tag = _tag(fraction)
        trained[tag] = t = _train(arrays, split, fraction, config, progress)
        save_detector(t.model, folder / f"vae_sb{tag}.pt" if t.is_vae else folder / f"detector_sb{tag}.pt")
        metrics[tag] = _metrics(t, split.test_is_signal, split.test_weights(arrays))
        hunts[tag], bump_fits[tag], hunted = _bump_hunt(arrays, t, config, edges, tag)
        spectra += hunted
    sculpting = _sculpting(arrays, split, trained["0"], config, edges)
    ceiling = _ceiling(arrays, split, trained, config) if config.supervised_ceiling else {}
    cc = config.characterisation
    latent = control = None
    latent_records: dict[str, Any] = {"latent_grid": None, "latent_bump": None, "latent_medians": None,
                                      "latent_offsets": None}
    if trained["0"].is_vae:
        log.info("latent characterisation at S/B = %s and on background only", _tag(cc.signal_fraction))
        latent = _characterise(arrays, split, trained[_tag(cc.signal_fraction)], config,
                               stream(config.seed, "characterise:signal"), device, progress)
        control = _characterise(arrays, split, trained["0"], config, stream(config.seed, "characterise:control"),
                                device, progress)
        latent_records = _latent_summary(latent, control, config)
        latent_records["latent_offsets"] = _latent_offsets(arrays, split, trained)
    else:
        log.info("no latent characterisation: the detector (%s) is not a VAE", config.detector.label)
    scores = {tag: {k: v for k, v in m.items() if k != "training"} for tag, m in metrics.items()}
    first = next(iter(next(iter(scores.values()))))  # the VAE's kl, or the detector's score
    return VAELatentResult(
        detector=config.detector.label if config.detector is not None else "vae_kl (the paper's VAE ensemble)",
        signal=arrays.signal_name,
        auc=_scores_summary(scores, "auc"),
        sic_at_half={tag: m[first]["sic_at_half_members"] for tag, m in scores.items()},
        sic_at_half_ensemble=_scores_summary(scores, "sic_at_half"),
        rejection_at_half=_scores_summary(scores, "rejection_at_half"),
        auc_members=_scores_summary(scores, "auc_members"),
        supervised_ceiling=ceiling,
        paper_sic_at_half={k: {"value": v[0], "plus": v[1]} for k, v in PAPER_SIC_AT_HALF.items()},
        training={tag: m["training"] for tag, m in metrics.items()},
        bump_hunt=hunts,
        sculpting={"m_jj": {region: m.record() for region, m in sculpting.items()},
                   "kl_efficiency": config.kl_efficiency},
        **latent_records,
        events={"qcd_train": len(split.train_bkg), "qcd_test": len(split.test_bkg),
                "signal_test": len(split.test_sig), "signal_pool": len(split.inject_pool),
                "dropped_without_two_fatjets": arrays.dropped},
        device=str(device), seconds=time.perf_counter() - start,
        config=config, arrays=arrays, split=split, trained=trained, latent=latent, control=control,
        bump_fits=bump_fits, sculpting_models=sculpting, spectra=tuple(spectra))
