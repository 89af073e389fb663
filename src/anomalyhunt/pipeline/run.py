"""One run of any registered method, from a RunConfig to a whole run folder.

Order: every check that can fail cheaply first (the output folder, the samples exist or will be generated,
complete datasets), then generation of missing samples, then the method, its report and summary, all into a
hidden partial folder that is renamed into place at the end (`RunFolder`). Every run folder holds config.json (the
resolved config), provenance.json (package versions, device, seeds, command line, times), summary.json and
report.html with its plots.
"""

from __future__ import annotations

import datetime
import html
import json
import logging
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..events import completeness
from ..events.io import MANIFEST, atomic_write_text, dataset_files, read_manifest, read_metadata
from ..exceptions import AnomalyHuntError, ConfigError, EventFileError
from ..methods import get_method
from ..models import resolve_device
from ..progress import progress
from .export import write_binned
from .generation import ensure_samples, yield_table
from .page import describe_screenshot, find_browser, png_size, render_report, write_page
from .run_folder import RunFolder
from .runconfig import RunConfig

__all__ = ["RunOutcome", "provenance", "run"]

log = logging.getLogger(__name__)

_PACKAGES = ("anomalyhunt", "numpy", "scipy", "awkward", "vector", "pyarrow", "torch", "pythia8mc", "fastjet",
             "scikit-learn", "iminuit", "dask", "distributed", "onnxruntime", "matplotlib")


@dataclass(frozen=True)
class RunOutcome:
    """Where the run landed, its summary, the lines to print, and the method's typed result (a frozen
    dataclass on `methods.SearchResult`: `repr` on one screen, `to_dict()`, the arrays behind the figures)."""

    folder: Path
    summary: dict[str, Any]
    lines: list[str]
    result: Any = None


def provenance(run_config: RunConfig, command_line: list[str] | None) -> dict[str, Any]:
    """Package versions, the device, the seeds and the command line of a run."""
    from importlib.metadata import PackageNotFoundError, version

    import torch

    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    device = resolve_device("auto")
    return {
        "command_line": list(command_line) if command_line is not None else list(sys.argv),
        "working_directory": os.getcwd(),
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0], "platform": platform.platform(), "host": platform.node(),
        "packages": versions,
        "device": {"torch": str(device), "name": torch.cuda.get_device_name(device) if device.type == "cuda"
                   else platform.processor() or platform.machine(),
                   "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()},
        "seeds": {"method": getattr(run_config.config, "seed", None),
                  "generation": {r.out: r.seed for r in run_config.generate}},
        "detector": _detector_provenance(getattr(run_config.config, "detector", None)),
        **({"detectors": [_detector_provenance(s) for s in run_config.config.detectors]}
           if hasattr(run_config.config, "detectors") else {}),
    }


def _detector_provenance(spec) -> dict[str, Any] | None:
    """What the config's `detector:` section ran: a built-in, a trained ONNX file (with its SHA-256), or a user's
    class, whose code ran in this process by design (with its module's file and version when known)."""
    if spec is None:
        return None
    record: dict[str, Any] = {"kind": spec.kind, **spec.as_config()}
    if spec.onnx is not None:
        import hashlib

        record["sha256"] = hashlib.sha256(Path(spec.onnx).read_bytes()).hexdigest()
    if spec.import_ is not None:
        import importlib

        module_name = spec.import_.split(":")[0]
        module = importlib.import_module(module_name)
        top = module_name.split(".")[0]
        from importlib.metadata import packages_distributions, version

        try:  # the distribution that installs the module (sklearn -> scikit-learn)
            record["version"] = version(packages_distributions().get(top, [top])[0])
        except Exception:  # a local module has no distribution: its file says what ran
            record["version"] = None
        record["module_file"] = getattr(module, "__file__", None)
        record["note"] = "detector: import runs this code in the run's process, by design"
    return record


def _sample_name(path: str, generated: dict[str, str]) -> str | None:
    """The process name a dataset's events carry (from its manifest or first file), or None when unknown."""
    if str(Path(path)) in generated:
        return generated[str(Path(path))]
    try:
        source = read_manifest(path) if Path(path).is_dir() and (Path(path) / MANIFEST).exists() \
            else read_metadata(dataset_files(path)[0])
    except (EventFileError, OSError, IndexError):
        return None
    name = source.get("sample") or source.get("process")
    return name if isinstance(name, str) else None


def _check_injection(run_config: RunConfig) -> None:
    """An `inject:` naming no sample of the run is refused before any sample is generated or read."""
    inject = getattr(run_config.config, "inject", None)
    wanted = set(inject) if isinstance(inject, dict) else ({inject} if isinstance(inject, str) and inject else set())
    if not wanted:
        return
    generated = {str(Path(r.out)): r.generation().sample for r in run_config.generate}
    names = [_sample_name(s, generated) for s in get_method(run_config.method).samples(run_config.config)]
    if None in names:  # a sample whose name only its events tell: the method checks once they are read
        return
    unknown = sorted(wanted - set(names))
    if unknown:
        raise ConfigError(f"inject names samples this run does not read: {unknown}; its samples: "
                          f"{', '.join(sorted(set(names)))}")


def _check_inputs(run_config: RunConfig) -> None:
    missing = run_config.missing_samples()
    if missing:
        raise ConfigError(f"samples not found and not generated by this run: {missing} (add them to `generate:` "
                          "or make them with `anomalyhunt generate`)")
    _check_injection(run_config)
    generated = {str(Path(r.out)) for r in run_config.generate}
    for sample in get_method(run_config.method).samples(run_config.config):
        if str(Path(sample)) in generated:
            continue
        status = completeness(sample)
        if status is not None:
            raise ConfigError(f"{sample}: incomplete dataset ({status[0]} of {status[1]} chunks); finish its "
                              "generation first")


def _render(folder: Path) -> dict[str, Any]:
    """Open the report in headless Chromium when one is installed; the screenshot lands in the run folder."""
    if find_browser() is None:
        return {"skipped": "no Chromium on PATH (Debian: apt-get install chromium)"}
    try:
        loaded, total = render_report(folder / "report.html", folder / "report.png")
    except AnomalyHuntError as err:
        return {"error": str(err)}
    return {"plots_rendered": loaded, "plots": total, "screenshot": "report.png",
            "screenshot_px": list(png_size(folder / "report.png")),
            "screenshot_shows": describe_screenshot(folder / "report.png")}


def _preamble(prov: dict[str, Any], samples: list[dict] | None, luminosity_fb: float | None) -> str:
    device = prov["device"]
    text = (f"<p>Run of {html.escape(' '.join(prov['command_line']))} on {html.escape(device['torch'])} "
            f"({html.escape(str(device['name']))}), anomalyhunt {prov['packages']['anomalyhunt']}, torch "
            f"{prov['packages']['torch']}, started {prov['started']}. Resolved settings: config.json; versions, "
            "seeds and device: provenance.json.</p>")
    if samples:
        text += "<h2>Samples</h2><pre>" + html.escape(yield_table(samples, luminosity_fb=luminosity_fb)) + "</pre>"
    return text


def _export(folder: Path, spectra, histograms) -> dict:
    """spectra.json, spectra.root and the pyhf workspaces; a failure is logged and recorded, never the loss of
    the run (`anomalyhunt export` can write them again from spectra.json)."""
    try:
        return write_binned(folder, spectra, histograms)
    except Exception as exc:  # noqa: BLE001 - hours of training must not be lost to an export bug
        log.exception("exporting the spectra failed")
        return {"error": f"{type(exc).__name__}: {exc}"}


def run(run_config: RunConfig, out: str | os.PathLike, *, overwrite: bool = False, workers: int = 2,
        scheduler: str | None = None, command_line: list[str] | None = None, render: bool = False) -> RunOutcome:
    """Run `run_config` into the folder `out` (whole or absent); returns where it landed, its summary and lines."""
    method = get_method(run_config.method)
    runner = method.runner()
    if workers < 0:
        raise ConfigError(f"workers must be >= 0, got {workers}")
    folder = RunFolder(out, overwrite=overwrite, inputs=run_config.inputs())
    _check_inputs(run_config)
    start = time.perf_counter()
    with folder as partial:
        atomic_write_text(partial / "config.json", json.dumps(run_config.as_dict(), indent=2, default=str))
        prov = provenance(run_config, command_line)
        atomic_write_text(partial / "provenance.json", json.dumps(prov, indent=2))
        samples = ensure_samples(run_config.generate, workers=workers, scheduler=scheduler) \
            if run_config.generate else None
        luminosity = getattr(run_config.config, "luminosity_fb", None)
        if samples:
            atomic_write_text(partial / "yields.txt", yield_table(samples, luminosity_fb=luminosity) + "\n")
        with progress(f"method {method.name}", unit="steps", logger=log) as bar:
            fan_out = {"scheduler": scheduler} if method.parallel else {}
            result = runner(run_config.config, partial, progress=True, **fan_out)
            bar.update(1, step="report")
            summary = result.summary()
            if samples:
                summary["samples"] = samples
            spectra, histograms = result.binned() if hasattr(result, "binned") else ((), ())
            if spectra or histograms:
                summary["exports"] = _export(partial, spectra, histograms)
            write_page(partial / "report.html", result.report(partial / "plots"),
                       preamble=_preamble(prov, samples, luminosity))
        lines = list(result.lines())
        if render:
            summary["report_render"] = render_info = _render(partial)
            lines.append("report in headless Chromium: " + (
                f"{render_info['plots_rendered']}/{render_info['plots']} plots rendered, screenshot "
                f"{render_info['screenshot']} ({render_info['screenshot_shows']})"
                if "plots" in render_info
                else render_info.get("skipped") or render_info.get("error")))
        atomic_write_text(partial / "summary.json", json.dumps(summary, indent=2, default=float))
        prov["finished"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        prov["wall_seconds"] = round(time.perf_counter() - start, 1)
        atomic_write_text(partial / "provenance.json", json.dumps(prov, indent=2))
    return RunOutcome(Path(out), summary, [*([yield_table(samples, luminosity_fb=luminosity)] if samples else []),
                                           *lines], result)

