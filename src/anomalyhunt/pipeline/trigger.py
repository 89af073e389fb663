"""`anomalyhunt trigger RUN --out DIR`: a finished double_ae run's autoencoders as fixed-point trigger firmware
(hls4ml's bit-accurate emulation over a scan of widths), written as a folder of its own, whole or not at all.

A separate command rather than a step of the double_ae method: it needs an optional dependency (hls4ml) and a
C++ compiler, takes minutes per width, and asks a question about a model already trained; rerunning it with
other widths or reuse factors must not retrain anything.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from ..events.io import atomic_write_text
from ..exceptions import ConfigError
from ..methods.double_ae.firmware import FirmwareScan, FirmwareScanConfig, firmware_scan
from ..models.firmware import require_hls4ml
from ..plots import firmware_scan_figure, save_figure
from ..records import jsonable
from .run_folder import RunFolder, is_run_folder
from .runconfig import build_run_config

__all__ = ["trigger_study", "scan_table"]

log = logging.getLogger(__name__)


def _double_ae_config(run_folder: Path):
    if not is_run_folder(run_folder):
        raise ConfigError(f"{run_folder}: not a run folder (no config.json and provenance.json)")
    data = json.loads((run_folder / "config.json").read_text())
    method = data.get("method")
    if method != "double_ae":
        raise ConfigError(f"{run_folder}: a {method} run; `anomalyhunt trigger` takes a double_ae run folder (the "
                          "decorrelated autoencoders)")
    if not (run_folder / "model.pt").is_file() or not (run_folder / "scores.npz").is_file():
        raise ConfigError(f"{run_folder}: no model.pt or scores.npz; is it a finished double_ae run?")
    return build_run_config(data, where=f"{run_folder}/config.json: ").config


def scan_table(result: FirmwareScan) -> str:
    """The precision scan as a Markdown table: per width, agreement, signal efficiency over float, closure, rate."""
    signals = list(result.float_reference["signal_efficiency"])
    head = ["width", "median rel. diff AE1 / AE2", "rank corr. AE1 / AE2", *[f"eps_s {s} / float" for s in signals],
            "ABCD closure", "bkg eff. (recalibrated)", "rate (recalibrated)", "bkg eff. at float thresholds",
            "within tolerance"]
    ref = result.float_reference
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
             "| float | 0 / 0 | 1 / 1 | " + " | ".join(f"1 ({ref['signal_efficiency'][s]:.4f})" for s in signals)
             + f" | {ref['closure']['ratio']:.3f} +- {ref['closure']['error']:.3f} | "
             f"{ref['background_efficiency']:.4f} | {ref['rate']:.4f} | {ref['background_efficiency']:.4f} | |"]
    for r in result.scan:
        a1, a2 = r["agreement"]["ae1"], r["agreement"]["ae2"]
        rate = "-" if r["rate"] is None else f"{r['rate']:.4f}"
        qat = r["training"] == "quantisation-aware"
        width = f"{r['width']} QAT" if qat else str(r["width"])
        # float's thresholds on a fine-tuned model's losses (another network, another scale) say nothing useful
        at_float = "- (another model)" if qat else f"{r['background_efficiency_float_thresholds']:.4f}"
        lines.append(f"| {width} | {a1['median_rel_diff']:.2g} / {a2['median_rel_diff']:.2g} | "
                     f"{a1['rank_correlation']:.4f} / {a2['rank_correlation']:.4f} | "
                     + " | ".join(f"{r['signal_efficiency_over_float'][s]:.3f}" for s in signals)
                     + f" | {r['closure']['ratio']:.3f} +- {r['closure']['error']:.3f} | "
                     f"{r['background_efficiency']:.4f} | {rate} | "
                     f"{at_float} | "
                     f"{'yes' if r['within_tolerance'] else 'no'} |")
    res = result.resources
    if res["loss"] == "float":
        where = "in double precision from the emulated reconstruction"
    else:
        size = (f"holding {res['loss_headroom']:g}x each threshold" if res["loss_headroom"]
                else "sized on the SM profile alone")
        wide = f"{res['loss_width']} bits wide" if res.get("loss_width") else "as wide as the network's"
        where = f"in fixed point inside the emulation, its types {wide} and {size}"
    clipped = {k: n for k, n in result.events_with_clipped_inputs.items() if n}
    inputs = (f"Events with an input beyond the input type (it saturates; `--input-max` {res['input_max']:g}): "
              + ", ".join(f"{k} {n} of {result.events[k]}" for k, n in clipped.items()) + ".\n\n" if clipped else "")
    text = f"The loss computed {where}.\n\n{inputs}" + "\n".join(lines) + "\n"
    if res.get("quantisation_aware"):
        q = res["quantisation_aware"]
        text += (f"\nQAT: the run's model fine-tuned in fixed point at that width ({q['epochs']} epochs at most, "
                 f"patience {q['patience']}, learning rate {q['learning_rate']:g}) and emulated with the types its "
                 "training froze; every row is compared with the run's float model.\n")
    return text


def trigger_study(run_folder: str | os.PathLike, out: str | os.PathLike, *, scan: FirmwareScanConfig | None = None,
                  overwrite: bool = False) -> FirmwareScan:
    """The firmware precision scan of the double_ae run in `run_folder`, into the new folder `out`: summary.json,
    scan.md, scores.npz (every scored event's losses, float and per width), plots/firmware_scan.png, the hls4ml
    projects of the smallest width that keeps the trigger within tolerance (hls/), and with quantisation-aware
    training the fine-tuned models (models/qat_w<width>.pt) and the projects of their smallest passing width."""
    run_folder = Path(run_folder)
    config = _double_ae_config(run_folder)
    require_hls4ml()  # before anything long
    scan = scan or FirmwareScanConfig()
    with RunFolder(out, overwrite=overwrite, inputs=(run_folder, *config.samples)) as partial:
        work = partial / "hls"
        result = firmware_scan(config, run_folder, scan, work=work, scores_out=partial / "scores.npz",
                               models_out=partial / "models")
        keep = tuple(f"{prefix}{w}_" for prefix, w in (("w", result.smallest_width),
                                                       ("qat_w", result.smallest_width_quantisation_aware))
                     if w is not None)
        for project in work.iterdir():  # keep the projects of the chosen widths only
            if not keep or not project.name.startswith(keep):
                shutil.rmtree(project)
        atomic_write_text(partial / "summary.json", json.dumps(jsonable(result.to_dict()), indent=2))
        atomic_write_text(partial / "scan.md", scan_table(result))
        save_figure(firmware_scan_figure(result.scan, tolerance=scan.tolerance),
                    partial / "plots" / "firmware_scan.png")
    return result
