"""The decorrelated autoencoders as Level-1 trigger firmware: each autoencoder compiled by hls4ml into its
bit-accurate fixed-point emulation at a scan of widths, the run's test events scored with it, and what the
trigger loses against float (Mikuni, Nachman & Shih's online claim, for the fully connected autoencoders that
Govorkova et al., arXiv:2108.03986, put on FPGAs).

Per width: the agreement of each emulated loss with float (largest and median |difference|, Spearman's rank
correlation on the test background), the signal efficiency of every benchmark at the trigger's background efficiency
(the diagonal cut, thresholds set on the emulated background: a trigger is calibrated on what it computes; at most
that efficiency, since a fixed-point loss cannot reach every one), the ABCD closure at that working point, and the
prescaled trigger rate, both with recalibrated thresholds and with the float model's thresholds left in place. The
smallest width (with every wider one) that loses less than `tolerance` (relative) of float's signal efficiency for
every benchmark, and whose ABCD closure stays within one standard error of float's (the background estimate the
trigger exists for), is the answer; with a few hundred signal events a single event is ~1%, so the float counts are
recorded beside the ratios.

The loss (`loss`): "firmware" (the default) computes it inside the emulation as a trigger would, the difference,
its square and their sum over the inputs each in a fixed-point type of the scanned width sized by the profile
(`models.firmware.ReconstructionLoss`; the sum is divided by the number of inputs afterwards, a constant that
moves no event across a threshold); "float" takes the emulated reconstruction and computes the mean squared
difference to the quantised inputs in double precision, which isolates what the networks lose. The loss's types
hold at least `loss_headroom` times each autoencoder's float threshold (summed over the inputs): sized on the
SM profile alone, the squares of the anomalous events saturate and some fall below the threshold (measured on
the example at full size: 3.9% of the A -> 4l events lost at 18 bits), while above the threshold saturation
changes no decision; 0 sizes them on the profile alone. The inputs meet the same problem at the other end: the
input type holds MinMax-scaled inputs up to `input_max` (1, the training range, by default: values below 2), and
an anomalous event's inputs beyond it saturate (on a retrained seed-2 model of the example 5 of 212 selected
A -> 4l events fell below a threshold that way at every width; `input_max` 8 keeps them). `loss_width` gives the
loss's types a width of their own, so that a scan measures the networks.

Quantisation-aware training (`quantisation_aware`): per width W, the run's model is also fine-tuned on its own
training events with both networks computing in `ap_fixed<W, I>` (`DoubleDisCoAE.quantisation_aware`: the same
loss, dCor term included, scaling and validation split; a lower learning rate), and that model is emulated at W
with the result types its training froze. Its rows carry `training: "quantisation-aware"` and are judged against
the same float reference, the run's float model, as the post-training rows (`training: "post-training"`), so that
the two read as before and after; `smallest_width_quantisation_aware` is the answer for them. Each such row also
records how closely the training's fixed-point forward (its `score_samples`) matched the emulation.

Latency and resources are estimated from the layers, since no vendor synthesis runs here: per Dense layer
n_in x n_out multiplications, ceil(n_in x n_out / R) multipliers at reuse factor R (hls4ml's `ReuseFactor`),
and R + ceil(log2(n_in)) + 1 clock cycles (R multiplication rounds, a binary adder tree, the activation), layers
in sequence, at `clock_mhz`. That is an estimate of the hls4ml latency strategy's order of magnitude, not a
synthesis report; products of <= 10-bit operands typically go to LUTs rather than DSPs (a Vivado choice).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats as sps

from ...exceptions import ConfigError, StatsInputError
from ...models import DoubleDisCoAE
from ...models.firmware import (
    ReconstructionLoss,
    compile_firmware,
    integer_bits,
    layer_costs,
    require_hls4ml,
    sequential_autoencoder,
)
from ...progress import progress
from ...records import Readable
from ...seeds import stream
from ...stats import abcd, emulate_trigger, working_point
from .config import DoubleAEConfig
from .run import rebuild_inputs

__all__ = ["FirmwareScanConfig", "FirmwareScan", "firmware_scan"]

log = logging.getLogger(__name__)

_EMULATION_CHUNK = 2000  # events per call into the emulation (one progress update each)

# Govorkova et al. (arXiv:2108.03986, abstract): an autoencoder on 57 inputs in as little as 80 ns with less
# than 3% of the logic of a Xilinx Virtex UltraScale+ VU9P (6840 DSP slices, 1.18M LUTs).
PUBLISHED = {"govorkova2021_latency_ns": 80.0, "govorkova2021_logic_fraction_max": 0.03,
             "vu9p_dsp": 6840, "vu9p_lut": 1_182_240}


@dataclass(frozen=True)
class FirmwareScanConfig:
    """widths: total fixed-point widths to scan (integer bits per quantity from the profiled ranges);
    reuse_factor: hls4ml's ReuseFactor for every layer; max_events: test events emulated at most per class
    (background, each signal; 0 = all); profile_events: training events that set the integer bits;
    tolerance: the relative loss of signal efficiency allowed against float; clock_mhz: for the latency
    estimate; loss: "firmware" (the loss computed in fixed point inside the emulation) or "float" (from the
    emulated reconstruction in double precision); loss_width: the total width of the firmware loss's types
    (None: the scanned width; the network's width is what is scanned); loss_headroom: the loss's types hold this
    many times each autoencoder's float threshold (0: sized on the SM profile alone); input_max: the largest
    MinMax-scaled input the input type holds (1: the training range; anomalous events reach beyond it and
    saturate); quantisation_aware: also fine-tune the model in fixed point at each width and emulate that
    (qat_epochs at most, stopping after qat_patience epochs without a lower validation loss, Adam at
    qat_learning_rate)."""

    widths: tuple[int, ...] = (18, 16, 14, 12, 10, 8, 6)
    reuse_factor: int = 1
    max_events: int = 0
    profile_events: int = 20000
    tolerance: float = 0.01
    clock_mhz: float = 200.0
    loss: str = "firmware"
    loss_width: int | None = None
    input_max: float = 1.0
    loss_headroom: float = 2.0
    quantisation_aware: bool = False
    qat_epochs: int = 30
    qat_patience: int = 10
    qat_learning_rate: float = 1e-4

    def __post_init__(self) -> None:
        if self.loss not in ("firmware", "float"):
            raise ConfigError(f"loss must be 'firmware' or 'float', got {self.loss!r}")
        if not self.loss_headroom == 0 and not self.loss_headroom >= 1:
            raise ConfigError(f"loss_headroom must be 0 (profile only) or >= 1, got {self.loss_headroom}")
        if not self.widths or any(not 4 <= w <= 32 for w in self.widths) or len(set(self.widths)) != len(self.widths):
            raise ConfigError(f"widths must be distinct integers in 4..32, got {list(self.widths)}")
        if self.reuse_factor < 1 or self.max_events < 0 or self.profile_events < 100:
            raise ConfigError("reuse_factor >= 1, max_events >= 0 and profile_events >= 100 needed")
        if self.loss_width is not None and (self.loss != "firmware" or not 4 <= self.loss_width <= 32):
            raise ConfigError(f"loss_width needs loss 'firmware' and a width in 4..32, got {self.loss_width}")
        if not self.input_max > 0:
            raise ConfigError(f"input_max must be positive, got {self.input_max}")
        if self.qat_epochs < 1 or self.qat_patience < 1 or not self.qat_learning_rate > 0:
            raise ConfigError(f"qat_epochs and qat_patience must be >= 1 and qat_learning_rate positive, got "
                              f"{self.qat_epochs}, {self.qat_patience}, {self.qat_learning_rate}")
        if not 0 < self.tolerance < 1 or not self.clock_mhz > 0:
            raise ConfigError(f"tolerance must be in (0, 1) and clock_mhz positive, got {self.tolerance}, "
                              f"{self.clock_mhz}")


@dataclass(frozen=True, repr=False)
class FirmwareScan(Readable):
    """The fields are the study's summary.json."""

    trigger_efficiency: float
    events: dict[str, int]
    float_reference: dict[str, Any]
    scan: list[dict[str, Any]]
    smallest_width: int | None
    smallest_width_quantisation_aware: int | None
    tolerance: float
    resources: dict[str, Any]
    published: dict[str, float]
    throughput: dict[str, Any]
    seconds: float
    events_with_clipped_inputs: dict[str, int]


def _selection(n: int, limit: int, rng: np.random.Generator) -> np.ndarray:
    index = np.arange(n)
    return np.sort(rng.choice(index, limit, replace=False)) if limit and n > limit else index


def _trigger_numbers(b1, b2, signals: dict[str, tuple[np.ndarray, np.ndarray]], efficiency: float, seed: int,
                     float_thresholds: tuple[float, float] | None) -> dict[str, Any]:
    """Signal efficiencies at the diagonal working point of background efficiency `efficiency`, the ABCD
    closure there, and the prescaled trigger's rate (thresholds recalibrated, and the float ones kept).

    The thresholds keep at most `efficiency` of the background (the rate budget is a ceiling): a fixed-point
    loss takes few distinct values, and the loosest step at or above `efficiency` can let through a good deal
    more background, which would show up as signal efficiency gained. `background_efficiency` is what the
    thresholds keep."""
    t = working_point(b1, b2, efficiency, at_most=True)
    out: dict[str, Any] = {"thresholds": [float(v) for v in t],
                           "background_efficiency": float(np.mean((b1 > t[0]) & (b2 > t[1])))}
    out["signal_efficiency"] = {name: float(np.mean((s1 > t[0]) & (s2 > t[1]))) for name, (s1, s2) in
                                signals.items()}
    r = abcd(b1, b2, thresholds=t)
    out["closure"] = {"ratio": float(r.closure), "error": float(r.closure_error)}
    try:
        trig = emulate_trigger(b1, b2, t, events_per_control=efficiency * len(b1),
                               rng=stream(seed, "firmware_prescale"))
        out["rate"] = float(trig.rate)
    except StatsInputError as err:
        out["rate"] = None
        out["rate_error"] = str(err)
    if float_thresholds is not None:
        kept = (b1 > float_thresholds[0]) & (b2 > float_thresholds[1])
        out["background_efficiency_float_thresholds"] = float(np.mean(kept))
        out["signal_efficiency_float_thresholds"] = {
            name: float(np.mean((s1 > float_thresholds[0]) & (s2 > float_thresholds[1])))
            for name, (s1, s2) in signals.items()}
    return out


def _agreement(emulated: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    diff = np.abs(emulated - reference)
    return {"max_abs_diff": float(diff.max()), "median_abs_diff": float(np.median(diff)),
            "median_rel_diff": float(np.median(diff / np.maximum(np.abs(reference), 1e-12))),
            "rank_correlation": float(sps.spearmanr(emulated, reference).statistic)}


def _emulate(fw, xs: np.ndarray, bar, done: int) -> tuple[np.ndarray, float]:
    """`fw`'s outputs for `xs` in chunks, the progress `bar` advanced from `done` events after each, and the
    seconds spent in the emulation itself."""
    parts, seconds = [], 0.0
    for first in range(0, max(len(xs), 1), _EMULATION_CHUNK):
        t0 = time.perf_counter()
        parts.append(fw.predict(xs[first:first + _EMULATION_CHUNK]))
        seconds += time.perf_counter() - t0
        bar.update(done + first + len(parts[-1]))
    return np.concatenate(parts), seconds


def _latency(costs: list[dict[str, int]], reuse: int, clock_mhz: float) -> dict[str, float]:
    cycles = sum(reuse + math.ceil(math.log2(max(c["inputs"], 2))) + 1 for c in costs)
    return {"clock_cycles": cycles, "latency_ns": cycles * 1000.0 / clock_mhz}


def _firmware_nets(model: DoubleDisCoAE, loss: str) -> list:
    nets = [sequential_autoencoder(model.model_.ae1), sequential_autoencoder(model.model_.ae2)]
    return [ReconstructionLoss(net) for net in nets] if loss == "firmware" else nets


def _emulate_width(nets: list, width: int, scaled: dict[str, np.ndarray], profile: np.ndarray,
                   scan: FirmwareScanConfig, float_thresholds: tuple[float, float], work: Path, label: str,
                   project: str, result_bits: list | None = None) -> tuple[dict[str, np.ndarray], list, float, float]:
    """Both networks compiled at `width` and every class of `scaled` through them: the (n, 2) losses per class,
    the types chosen, the compile seconds and the emulated events per second. `label` names the step in the log;
    the hls4ml projects go to `work`/<project>_ae1 and _ae2."""
    losses: dict[str, np.ndarray] = {}
    compile_seconds, emulate_seconds, emulated_events = 0.0, 0.0, 0
    types = []
    per_width = 2 * sum(len(xs) for xs in scaled.values())  # events through the pair
    log.info("%s: compiling both autoencoders with hls4ml", label)
    # minutes per width at full size: the count shows in a log file as the emulation goes
    with progress(f"{label}: emulating", total=per_width, unit="events", logger=log) as bar:
        for j, net in enumerate(nets):
            loss_max = (scan.loss_headroom * float_thresholds[j] * profile.shape[1]
                        if scan.loss == "firmware" and scan.loss_headroom > 0 else None)
            fw = compile_firmware(net, profile, width, output_dir=work / f"{project}_ae{j + 1}",
                                  reuse_factor=scan.reuse_factor, input_max=scan.input_max, loss_max=loss_max,
                                  result_bits=None if result_bits is None else result_bits[j],
                                  loss_width=scan.loss_width if scan.loss == "firmware" else None)
            compile_seconds += fw.compile_seconds
            types.append({"inputs": fw.input_type.hls, "layers": fw.layer_types, **fw.loss_types})
            for k, xs in scaled.items():
                out, seconds = _emulate(fw, xs, bar, emulated_events)
                emulate_seconds += seconds
                emulated_events += len(xs)
                if scan.loss == "firmware":
                    loss = out[:, 0] / xs.shape[1]
                else:
                    loss = np.mean((out - fw.input_type.quantise(xs)) ** 2, axis=1)
                losses.setdefault(k, np.zeros((len(xs), 2)))[:, j] = loss
    return losses, types, compile_seconds, emulated_events / max(emulate_seconds, 1e-9)


def _row(width: int, losses: dict[str, np.ndarray], reference: dict[str, np.ndarray], signals: list[str],
         float_numbers: dict[str, Any], scan: FirmwareScanConfig, eff: float, seed: int) -> dict[str, Any]:
    """The trigger's figures at one width against float's, and whether they stay within tolerance."""
    b = losses["background"]
    float_thresholds = tuple(float_numbers["thresholds"])
    numbers = _trigger_numbers(b[:, 0], b[:, 1], {n: (losses[n][:, 0], losses[n][:, 1]) for n in signals},
                               eff, seed, float_thresholds)
    ratio = {n: (numbers["signal_efficiency"][n] / float_numbers["signal_efficiency"][n]
                 if float_numbers["signal_efficiency"][n] > 0 else float("nan")) for n in signals}
    # a loss of signal efficiency counts, a gain does not; and the background estimate must not move: the
    # ABCD closure within one standard error of float's
    signal_ok = all(r > 1 - scan.tolerance for r in ratio.values() if np.isfinite(r))
    closure_ok = bool(abs(numbers["closure"]["ratio"] - float_numbers["closure"]["ratio"])
                      <= float_numbers["closure"]["error"])
    return {"width": width,
            "agreement": {f"ae{j + 1}": _agreement(b[:, j], reference["background"][:, j]) for j in (0, 1)},
            **numbers, "signal_efficiency_over_float": ratio,
            "signal_within_tolerance": signal_ok, "closure_within_error": closure_ok,
            "within_tolerance": signal_ok and closure_ok}


def _smallest(rows: list[dict[str, Any]]) -> int | None:
    """The smallest width from which every wider scanned width also passes."""
    smallest = None
    for r in sorted(rows, key=lambda r: r["width"], reverse=True):
        if not r["within_tolerance"]:
            break
        smallest = r["width"]
    return smallest


def _fine_tune(model: DoubleDisCoAE, x_train: np.ndarray, width: int, scan: FirmwareScanConfig,
               models_out: Path | None) -> tuple[DoubleDisCoAE, dict[str, Any]]:
    """The run's model fine-tuned in fixed point at `width`, saved into `models_out` when given, and what the
    fine-tuning did."""
    t0 = time.perf_counter()
    tuned = model.quantisation_aware(x_train, width, max_epochs=scan.qat_epochs, patience=scan.qat_patience,
                                     learning_rate=scan.qat_learning_rate, input_max=scan.input_max)
    h = tuned.history_
    if models_out is not None:
        models_out.mkdir(parents=True, exist_ok=True)
        tuned.save(models_out / f"qat_w{width}.pt")
    return tuned, {"epochs": len(h.val_loss), "best_epoch": h.best_epoch, "seconds": time.perf_counter() - t0,
                   "validation_loss_first_epoch": h.val_loss[0], "validation_loss_kept": h.val_loss[h.best_epoch],
                   "result_bits": [list(fp.result_bits) for fp in tuned.fixed_point_]}


def firmware_scan(config: DoubleAEConfig, run_folder: Path, scan: FirmwareScanConfig, *,
                  work: Path, scores_out: Path | None = None, models_out: Path | None = None) -> FirmwareScan:
    """The precision scan for the double-AE run in `run_folder` (its config `config`); hls4ml projects go under
    `work`. Raises ConfigError (one line) when hls4ml is missing or the run's samples no longer give its scores.
    scores_out: an .npz file for every scored event's two losses, float and per width (`float/<class>`,
    `w<width>/<class>`, `qat_w<width>/<class>` for the fine-tuned models, (n, 2) each) and which of the run's
    events they are (`index/<class>`), so that other working points can be read off without emulating again.
    models_out: a folder for the fine-tuned models (`qat_w<width>.pt`) when `scan.quantisation_aware`."""
    require_hls4ml()
    start = time.perf_counter()
    model = DoubleDisCoAE.load(run_folder / "model.pt", device="cpu")
    x, train_idx, test_idx, process, signals = rebuild_inputs(config)
    saved = np.load(run_folder / "scores.npz", allow_pickle=False)["scores"]
    if saved.shape != (len(x), 2):
        raise ConfigError(f"{run_folder}: its scores.npz holds {saved.shape[0]} events, the run's samples now give "
                          f"{len(x)}: the samples changed since the run")
    rng = stream(config.seed, "firmware_events")
    chosen = {"background": test_idx[_selection(len(test_idx), scan.max_events, rng)]}
    for name in signals:
        pool = np.flatnonzero(process == name)
        chosen[name] = pool[_selection(len(pool), scan.max_events, rng)]
    scaled = {k: model.scaled_inputs(x[v]).astype(np.float32) for k, v in chosen.items()}
    # the input type holds values below 2^(I - 1): events with an input at or beyond it saturate in the firmware
    limit = 2.0 ** (integer_bits(scan.input_max) - 1)
    clipped = {k: int(np.sum(np.abs(xs).max(axis=1, initial=0.0) >= limit)) for k, xs in scaled.items()}
    if any(clipped.values()):
        log.warning("inputs beyond the input type (scaled |x| >= %g; --input-max %g) in %s events: they saturate",
                    limit, scan.input_max, ", ".join(f"{n} {k}" for k, n in clipped.items() if n))
    reference = {k: model.score_samples(x[v]) for k, v in chosen.items()}
    check = np.max(np.abs(reference["background"] - saved[chosen["background"]])
                   / np.maximum(np.abs(saved[chosen["background"]]), 1e-12))
    if not check < 1e-4:
        raise ConfigError(f"{run_folder}: the model no longer reproduces the run's scores (relative difference "
                          f"{check:.2g}): the samples changed since the run")
    profile = model.scaled_inputs(x[train_idx[_selection(len(train_idx), scan.profile_events, rng)]])
    nets = _firmware_nets(model, scan.loss)
    eff = config.trigger_efficiency
    sig_ref = {name: (reference[name][:, 0], reference[name][:, 1]) for name in signals}
    float_numbers = _trigger_numbers(reference["background"][:, 0], reference["background"][:, 1], sig_ref, eff,
                                     config.seed, None)
    float_numbers["signal_events_selected"] = {
        name: int(np.sum((s1 > float_numbers["thresholds"][0]) & (s2 > float_numbers["thresholds"][1])))
        for name, (s1, s2) in sig_ref.items()}
    float_thresholds = tuple(float_numbers["thresholds"])
    rows, throughput = [], {}
    arrays = {**{f"index/{k}": v for k, v in chosen.items()}, **{f"float/{k}": v for k, v in reference.items()}}
    for width in scan.widths:
        losses, types, compile_seconds, rate = _emulate_width(nets, width, scaled, profile, scan, float_thresholds,
                                                              work, f"ap_fixed width {width}", f"w{width}")
        rows.append({**_row(width, losses, reference, signals, float_numbers, scan, eff, config.seed),
                     "training": "post-training", "types": types, "compile_seconds": compile_seconds,
                     "emulated_events_per_second": rate})
        throughput[str(width)] = rate
        arrays.update({f"w{width}/{k}": v for k, v in losses.items()})
        if not scan.quantisation_aware:
            continue
        tuned, fine_tuning = _fine_tune(model, x[train_idx], width, scan, models_out)
        losses, types, compile_seconds, rate = _emulate_width(
            _firmware_nets(tuned, scan.loss), width, scaled, profile, scan, float_thresholds, work,
            f"quantisation-aware width {width}", f"qat_w{width}",
            result_bits=[fp.result_bits for fp in tuned.fixed_point_])
        simulated = tuned.score_samples(x[chosen["background"]])
        rows.append({**_row(width, losses, reference, signals, float_numbers, scan, eff, config.seed),
                     "training": "quantisation-aware", "fine_tuning": fine_tuning, "types": types,
                     "simulation_agreement": {f"ae{j + 1}": _agreement(losses["background"][:, j], simulated[:, j])
                                              for j in (0, 1)},
                     "compile_seconds": compile_seconds, "emulated_events_per_second": rate})
        arrays.update({f"qat_w{width}/{k}": v for k, v in losses.items()})
    if scores_out is not None:
        np.savez_compressed(scores_out, **arrays)
    smallest = _smallest([r for r in rows if r["training"] == "post-training"])
    smallest_qat = _smallest([r for r in rows if r["training"] == "quantisation-aware"])
    costs = [layer_costs(net, reuse_factor=scan.reuse_factor) for net in nets]
    per_ae = [{"layers": c, "multiplications": sum(layer["multiplications"] for layer in c),
               "parameters": sum(layer["parameters"] for layer in c),
               "multipliers": sum(layer["multipliers"] for layer in c),
               **_latency(c, scan.reuse_factor, scan.clock_mhz)} for c in costs]
    resources = {"reuse_factor": scan.reuse_factor, "clock_mhz": scan.clock_mhz, "autoencoders": per_ae,
                 "multipliers_both": sum(a["multipliers"] for a in per_ae),
                 "multipliers_over_vu9p_dsp": sum(a["multipliers"] for a in per_ae) / PUBLISHED["vu9p_dsp"],
                 "latency_ns_parallel": max(a["latency_ns"] for a in per_ae),
                 "loss": scan.loss, "loss_headroom": scan.loss_headroom if scan.loss == "firmware" else None,
                 "loss_width": scan.loss_width, "input_max": scan.input_max,
                 "quantisation_aware": {"epochs": scan.qat_epochs, "patience": scan.qat_patience,
                                        "learning_rate": scan.qat_learning_rate} if scan.quantisation_aware else None,
                 "assumptions": "multipliers = ceil(n_in n_out / R) per layer; cycles per layer R + ceil(log2 n_in) "
                                "+ 1; the two autoencoders side by side; with the loss in firmware one stage more: "
                                "n_in squares summed by an adder tree; no synthesis"}
    return FirmwareScan(
        trigger_efficiency=eff, events={k: int(len(v)) for k, v in chosen.items()}, events_with_clipped_inputs=clipped,
        float_reference=float_numbers, scan=rows, smallest_width=smallest,
        smallest_width_quantisation_aware=smallest_qat, tolerance=scan.tolerance,
        resources=resources, published=PUBLISHED,
        throughput={"events_per_second_by_width": throughput, "threads": 1,
                    "note": "hls4ml's compiled C++ library, called from Python, one event at a time in a loop"},
        seconds=time.perf_counter() - start)
