"""Samples on demand: generate the datasets a run asks for (cached, resumable, on Dask), and their yields."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..events import read_manifest
from ..exceptions import EventFileError
from ..generate import detector_changes, generate_many, get_process
from ..progress import progress
from .runconfig import SampleRequest

__all__ = ["ensure_samples", "yield_table"]

log = logging.getLogger(__name__)


def _done(request: SampleRequest) -> dict | None:
    """The manifest of a finished dataset made from exactly this request (the same detector preset
    definition included), else None."""
    try:
        manifest = read_manifest(request.out)
    except EventFileError:
        return None
    if (manifest.get("complete") and manifest.get("config") == request.generation().as_dict()
            and not detector_changes(manifest, request.preset)):
        return manifest
    return None


def ensure_samples(requests: tuple[SampleRequest, ...], *, workers: int = 2,
                   scheduler: str | None = None) -> list[dict[str, Any]]:
    """Generate whatever of `requests` is missing or unfinished (one Dask client for all; `workers=0` and no
    scheduler: in this process); returns one record per request: sample, label, path, generated/selected events
    and cross sections."""
    manifests = [_done(r) for r in requests]
    todo = [r for r, m in zip(requests, manifests, strict=True) if m is None]
    if todo:
        log.info("generating %d of %d samples (%d Pythia events) on %s", len(todo), len(requests),
                 sum(r.events for r in todo), scheduler or (f"{workers} local Dask workers" if workers
                                                             else "this process"))
        jobs = [(r.generation(), r.out) for r in todo]
        name = jobs[0][0].sample if len(jobs) == 1 else f"{len(jobs)} samples"
        # every sample's chunks at once on one client: a one-chunk sample does not idle the other workers
        with progress(f"generating {name}", total=sum(g.n_chunks for g, _ in jobs), unit="chunk", logger=log) as bar:
            generate_many(jobs, workers=workers, scheduler=scheduler, progress=bar.update)
        manifests = [_done(r) or read_manifest(r.out) for r in requests]
    records = []
    for r, m in zip(requests, manifests, strict=True):
        records.append({"sample": m["sample"], "label": get_process(r.process).label, "path": str(Path(r.out)),
                        "n_generated": m["n_generated"], "n_selected": m["n_selected"], "sigma_pb": m["sigma_pb"],
                        "sigma_err_pb": m["sigma_err_pb"], "selected_sigma_pb": m["selected_sigma_pb"]})
    return records


def yield_table(samples: list[dict[str, Any]], *, luminosity_fb: float | None) -> str:
    """Per-sample cross sections, selection efficiencies and (with a luminosity) expected yields, as text."""
    lumi = f"N @ {luminosity_fb:g}/fb" if luminosity_fb else ""
    head = (f"{'sample':<22} {'kind':<4} {'sigma [pb]':>12} {'generated':>10} {'selected':>9} {'eff':>7} "
            f"{'sel. sigma [pb]':>16}" + (f" {lumi:>14}" if lumi else ""))
    lines = [head, "-" * len(head)]
    for s in samples:
        eff = s["n_selected"] / s["n_generated"] if s["n_generated"] else 0.0
        line = (f"{s['sample']:<22} {'BSM' if s['label'] else 'SM':<4} {s['sigma_pb']:>12.4g} "
                f"{s['n_generated']:>10d} {s['n_selected']:>9d} {eff:>7.3f} {s['selected_sigma_pb']:>16.4g}")
        if lumi:
            line += f" {s['selected_sigma_pb'] * luminosity_fb * 1000:>14.4g}"
        lines.append(line)
    return "\n".join(lines)
