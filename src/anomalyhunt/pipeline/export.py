"""Run-folder results in formats other tools open: spectra.json (our own record of every exported histogram),
spectra.root (uproot-written TH1s: ROOT, uproot, coffea, cabinetry) and workspaces/<region>_<observable>.json
(pyhf / HistFactory JSON, one per fitted spectrum).

A run writes all three at its end; `anomalyhunt export RUN --format root|pyhf` writes them again from spectra.json
(into the run folder, or elsewhere with --out).

spectra.root layout: one directory per fitted spectrum `<region>_<observable>/` holding `data`, `background` (the
fit, its errors the fit uncertainty), `signal_<sample>` (benchmarks at their nominal cross sections, in events)
and `template_gauss_<mass>` (unit Gaussians of the limits); and `scores/<name>` for the score distributions.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from ..events.io import atomic_write, atomic_write_text
from ..exceptions import ConfigError
from ..stats import Histogram, Spectrum

__all__ = ["FORMATS", "export", "read_binned", "write_binned", "write_root", "write_workspaces"]

log = logging.getLogger(__name__)

FORMATS = ("root", "pyhf")
SPECTRA_JSON = "spectra.json"
_SCHEMA = "anomalyhunt.spectra/1"


def write_root(path: str | os.PathLike, spectra: Iterable[Spectrum], histograms: Iterable[Histogram] = ()) -> Path:
    """spectra.root (module docstring) with uproot."""
    import uproot

    spectra, histograms = list(spectra), list(histograms)

    def write(tmp: Path) -> None:
        with uproot.recreate(tmp) as f:
            for sp in spectra:
                f[f"{sp.name}/data"] = sp.data_hist()
                f[f"{sp.name}/background"] = sp.background_hist()
                for name in sp.signals:
                    f[f"{sp.name}/signal_{name}"] = sp.signal_hist(name)
                for name in sp.limit_templates:
                    f[f"{sp.name}/template_{name}"] = sp.signal_hist(name)
            for h in histograms:
                f[f"scores/{h.name}"] = h.to_hist()

    return atomic_write(path, write)


def write_workspaces(folder: str | os.PathLike, spectra: Iterable[Spectrum]) -> list[Path]:
    """One pyhf workspace per spectrum with at least one signal template: workspaces/<region>_<observable>.json."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for sp in spectra:
        if not (sp.signals or sp.limit_templates):
            continue
        path = folder / f"{sp.name}.json"
        atomic_write_text(path, json.dumps(sp.workspace(), indent=1))
        written.append(path)
    return written


def write_binned(folder: str | os.PathLike, spectra: Iterable[Spectrum], histograms: Iterable[Histogram] = (),
                 *, formats: Iterable[str] = FORMATS) -> dict:
    """spectra.json and the `formats` into `folder`; returns what was written (for summary.json)."""
    folder = Path(folder)
    spectra, histograms = list(spectra), list(histograms)
    record = {"schema": _SCHEMA, "spectra": [sp.to_dict() for sp in spectra],
              "histograms": [h.to_dict() for h in histograms]}
    atomic_write_text(folder / SPECTRA_JSON, json.dumps(record))
    written = {"spectra": [sp.name for sp in spectra], "histograms": len(histograms), "files": [SPECTRA_JSON]}
    if "root" in formats:
        write_root(folder / "spectra.root", spectra, histograms)
        written["files"].append("spectra.root")
    if "pyhf" in formats:
        written["files"] += [str(p.relative_to(folder)) for p in write_workspaces(folder / "workspaces", spectra)]
    return written


def read_binned(folder: str | os.PathLike) -> tuple[list[Spectrum], list[Histogram]]:
    """The spectra and histograms a run folder's spectra.json holds."""
    path = Path(folder) / SPECTRA_JSON
    if not path.is_file():
        raise ConfigError(f"{folder}: no {SPECTRA_JSON} (the method exports no spectra, or the run predates it)")
    record = json.loads(path.read_text())
    if record.get("schema") != _SCHEMA:
        raise ConfigError(f"{path}: not an anomalyhunt spectra file (schema {record.get('schema')!r})")
    return ([Spectrum.from_dict(d) for d in record["spectra"]],
            [Histogram.from_dict(d) for d in record["histograms"]])


def export(run_folder: str | os.PathLike, fmt: str, *, out: str | os.PathLike | None = None) -> list[Path]:
    """Write `fmt` ("root" or "pyhf") for an existing run folder, into `out` (default: the run folder)."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    spectra, histograms = read_binned(run_folder)
    target = Path(out) if out is not None else Path(run_folder)
    target.mkdir(parents=True, exist_ok=True)
    if fmt == "root":
        return [write_root(target / "spectra.root", spectra, histograms)]
    return write_workspaces(target / "workspaces", spectra)
