"""Outside files -> an event dataset (a folder of Parquet chunks + manifest) that every method reads unchanged.

Every file is checked (format, trees, branches, units, event count, weight sum) before the first event is
converted. Chunks of at most `chunk_size` entries of one file are Dask futures, each read with uproot's ranged
reads (bounded memory) and written atomically; a rerun of the same import finishes what a killed one left.

Weights (pb per event, the contract's convention):
- simulation: cross_section x w / sum(w), the sum over every event of every input file (before any selection),
  where w is the generator weight (`genWeight`, `mcEventWeights[0]`, `Event.Weight`, XWGTUP, HepMC weight 0);
  the cross section is the one given, else the file header's (LHE, HepMC3); with neither, the weights sum to
  1 pb and the manifest says so;
- data (no generator weight): 1 / luminosity per event, which needs the luminosity.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from .. import __version__
from ..events import io as event_io
from ..exceptions import ConfigError, EventFileError
from ..parallel import dask_client, run_futures
from ..reco.detector import get_preset
from ..reco.reconstruction import select
from .formats import FileSummary, Reader, Selection, detect_format, get_reader, get_selection

__all__ = ["ImportConfig", "ImportPlan", "plan_import", "import_files", "read_external", "import_chunk"]

_log = logging.getLogger(__name__)

_FORMAT_SUFFIXES = {".root", ".lhe", ".lhef", ".gz", ".hepmc", ".hepmc2", ".hepmc3", ".h5", ".hdf5"}


@dataclass(frozen=True)
class ImportConfig:
    """What to import and how. `selection`: an object-selection preset (the format's default when None), changed
    field by field with `cuts` (NAME -> VALUE strings); `event_selection`: a detector preset whose event selection
    is applied after the objects are built (none when None)."""

    inputs: tuple[str, ...]
    format: str | None = None
    selection: str | None = None
    cuts: Mapping[str, str] = field(default_factory=dict)
    cross_section_pb: float | None = None
    luminosity_fb: float | None = None
    label: int = 0
    process: str | None = None
    event_selection: str | None = None
    chunk_size: int = 20_000
    seed: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.inputs, str) or not self.inputs:
            raise ConfigError("inputs must be a non-empty list of files")
        object.__setattr__(self, "inputs", tuple(str(p) for p in self.inputs))
        object.__setattr__(self, "cuts", dict(self.cuts))
        if self.cross_section_pb is not None and not self.cross_section_pb > 0:
            raise ConfigError(f"cross_section_pb must be positive, got {self.cross_section_pb}")
        if self.luminosity_fb is not None and not self.luminosity_fb > 0:
            raise ConfigError(f"luminosity_fb must be positive, got {self.luminosity_fb}")
        if self.label not in (0, 1):
            raise ConfigError(f"label must be 0 (Standard Model) or 1 (BSM), got {self.label!r}")
        if not isinstance(self.chunk_size, int) or self.chunk_size <= 0:
            raise ConfigError(f"chunk_size must be a positive integer, got {self.chunk_size!r}")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed must be in [0, 2^32), got {self.seed}")
        if self.process is not None and not str(self.process).strip():
            raise ConfigError("process must be a non-empty name")
        if self.event_selection is not None:
            get_preset(self.event_selection)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"inputs": list(self.inputs)}


@dataclass(frozen=True)
class ImportPlan:
    """Everything checked before reading: the reader, the resolved selection, each file's summary, the weight
    scale and the chunks [(file index, first entry, last entry + 1)]."""

    config: ImportConfig
    reader: Reader
    selection: Selection
    files: tuple[FileSummary, ...]
    scale: float
    is_data: bool
    cross_section_pb: float | None
    weight_convention: str
    chunks: tuple[tuple[int, int, int], ...]
    notes: tuple[str, ...]

    @property
    def process(self) -> str:
        """The process name: the one given, else the first file's name without its format suffixes (so that
        `pylhe-testfile-madgraph-2.0.0-wbj.lhe` keeps its version number)."""
        if self.config.process:
            return self.config.process
        name = Path(self.config.inputs[0]).name
        while Path(name).suffix.lower() in _FORMAT_SUFFIXES:
            name = Path(name).stem
        return name

    @property
    def n_events(self) -> int:
        return sum(f.n_events for f in self.files)

    def offsets(self) -> list[int]:
        return list(np.cumsum([0] + [f.n_events for f in self.files[:-1]]))

    def metadata(self) -> dict[str, Any]:
        sqrt_s = {f.sqrt_s for f in self.files if f.sqrt_s}
        return {
            "dataset_id": event_io.dataset_id(self.config.as_dict()),
            "generator": f"import:{self.reader.name}",
            "format": self.reader.name,
            "format_description": self.reader.description,
            "process": self.process,
            "sample": self.process,
            "inputs": [f.path for f in self.files],
            "selection": self.config.event_selection or "none",
            "object_selection": self.selection.as_dict(),
            "object_selection_type": type(self.selection).__name__,
            "is_data": self.is_data,
            "weight_convention": self.weight_convention,
            "sqrt_s": sqrt_s.pop() if len(sqrt_s) == 1 else None,
            "notes": list(self.notes),
            "package_version": __version__,
        }


def plan_import(config: ImportConfig) -> ImportPlan:
    """Check every input and decide the weights, before any event is converted."""
    paths = [Path(p) for p in config.inputs]
    for p in paths:
        if not p.is_file():
            raise EventFileError(f"{p}: no such file")
    _refuse_repeated(paths)
    formats = {str(p): config.format or detect_format(p) for p in paths}
    if "anomalyhunt" in formats.values():
        raise ConfigError("an input is already an anomalyhunt event file; nothing to import")
    if len(set(formats.values())) > 1:
        raise ConfigError("the inputs are of different formats: " + ", ".join(f"{p} ({f})" for p, f in formats.items()))
    reader = get_reader(next(iter(formats.values())))
    selection = get_selection(config.selection, reader).with_overrides(config.cuts)
    summaries = tuple(reader.inspect(p, selection) for p in paths)
    kinds = {s.is_data for s in summaries}
    if len(kinds) > 1:
        raise ConfigError("the inputs mix data and simulation: import them as separate datasets")
    is_data = kinds.pop()
    total = float(sum(s.sum_weights for s in summaries))
    sigma = None
    if is_data:
        if config.luminosity_fb is None:
            raise ConfigError(f"{paths[0]}: a data file (no generator weights): give the integrated luminosity "
                              "(--luminosity, fb^-1) so that each event weighs 1 / luminosity pb")
        scale = 1.0 / (config.luminosity_fb * 1000.0)
        convention = f"data: 1 / ({config.luminosity_fb:g} fb^-1) per event"
    else:
        if total == 0:
            raise EventFileError(f"{paths[0]}: the generator weights of the inputs sum to zero")
        sigma = config.cross_section_pb
        convention = "cross section given by the user"
        if sigma is None:
            headers = [(s.cross_section_pb, s.n_events) for s in summaries if s.cross_section_pb]
            if len(headers) == len(summaries):
                sigma = sum(x * n for x, n in headers) / sum(n for _, n in headers)
                convention = "cross section from the file header(s)"
        if sigma is None:
            scale = 1.0 / total
            convention = "no cross section given: the weights sum to 1 pb (shapes only)"
        else:
            scale = sigma / total
    chunks = tuple((i, start, min(start + config.chunk_size, s.n_events))
                   for i, s in enumerate(summaries) for start in range(0, s.n_events, config.chunk_size))
    notes = tuple(n for s in summaries for n in s.notes)
    return ImportPlan(config, reader, selection, summaries, scale, is_data, sigma, convention, chunks, notes)


def _refuse_repeated(paths: list[Path]) -> None:
    """The same file given twice (by two names, or as two copies) would enter every event twice."""
    seen: dict[Path, Path] = {}
    for p in paths:
        real = p.resolve()
        if real in seen:
            raise ConfigError(f"{p}: given twice (also as {seen[real]}); each input may be imported once")
        seen[real] = p
    by_size: dict[int, list[Path]] = {}
    for p in paths:
        by_size.setdefault(p.stat().st_size, []).append(p)
    for same_size in by_size.values():
        digests: dict[str, Path] = {}
        for p in same_size if len(same_size) > 1 else ():
            digest = hashlib.sha256()
            with open(p, "rb") as handle:
                for block in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(block)
            if digest.hexdigest() in digests:
                raise ConfigError(f"{p}: the same content as {digests[digest.hexdigest()]}; each input may be "
                                  "imported once")
            digests[digest.hexdigest()] = p


def _converted(plan: ImportPlan, index: int) -> ak.Array:
    """Chunk `index` of the plan in the contract: read, event selection, weights, process, label, ids."""
    file_index, start, stop = plan.chunks[index]
    path = Path(plan.files[file_index].path)
    events = plan.reader.read_range(path, plan.selection, start, stop, plan.config.seed)
    if plan.config.event_selection:
        events = events[select(events, preset=get_preset(plan.config.event_selection))]
    n = len(events)
    events = ak.with_field(events, np.asarray(events.weight, dtype=np.float64) * plan.scale, "weight")
    label = np.full(n, plan.config.label, dtype=np.int8)
    process = np.full(n, plan.process, dtype=object)
    if "truth_label" in events.fields:  # a labelled benchmark file (the LHC Olympics R&D set): its truth decides
        label = np.asarray(events.truth_label, dtype=np.int8)
        process = np.where(label == 1, f"{plan.process}_signal", plan.process)
        events = events[[f for f in events.fields if f != "truth_label"]]
    events = ak.with_field(events, ak.from_numpy(process.astype(str)), "process")
    events = ak.with_field(events, label, "label")
    ids = np.asarray(events.event_id, dtype=np.int64) + int(plan.offsets()[file_index])
    events = ak.with_field(events, ids, "event_id")
    bad = event_io.nonfinite_fields(events)
    if bad:
        raise EventFileError(f"{path}: entries {start}-{stop} give non-finite values: {bad}")
    return events


def _chunk_file(index: int) -> str:
    return f"chunk-{index:05d}.parquet"


def import_chunk(plan: ImportPlan, index: int, out: str) -> dict[str, Any]:
    """Convert and write chunk `index` (skipped when its file exists); returns its manifest entry."""
    path = Path(out) / _chunk_file(index)
    if path.exists():
        return event_io.read_metadata(path)["chunk"]
    file_index, start, stop = plan.chunks[index]
    events = _converted(plan, index)
    entry = {"chunk": index, "file": path.name, "input": plan.files[file_index].path, "entries": [start, stop],
             "n_generated": stop - start, "n_selected": len(events), "selected_sigma_pb": float(ak.sum(events.weight))}
    event_io.write(events, path, metadata=plan.metadata() | {"chunk": entry})
    return entry


def _manifest(plan: ImportPlan, entries: list[dict[str, Any]]) -> dict[str, Any]:
    done = sorted(entries, key=lambda e: e["chunk"])
    return {
        **plan.metadata(),
        "config": plan.config.as_dict(),
        "complete": len(done) == len(plan.chunks),
        "n_chunks": len(plan.chunks),
        "n_generated": sum(e["n_generated"] for e in done),
        "n_selected": sum(e["n_selected"] for e in done),
        "sigma_pb": plan.cross_section_pb,
        "selected_sigma_pb": float(sum(e["selected_sigma_pb"] for e in done)),
        "files": done,
    }


def import_files(config: ImportConfig, out: str | Path, *, workers: int = 2, scheduler: str | None = None,
                 progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Import `config.inputs` into the dataset folder `out` (resuming a killed import of the same config).

    workers: Dask LocalCluster processes (0: in this process); scheduler: a running Dask scheduler's address
    (its workers must see the inputs and `out`). Returns the manifest."""
    out = Path(out)
    if workers < 0:
        raise ConfigError(f"workers must be >= 0, got {workers}")
    event_io.check_apart(out, list(config.inputs))
    plan = plan_import(config)
    event_io.prepare_dataset_folder(out)
    event_io.check_resumable(out, config.as_dict())
    entries, todo = [], []
    for index in range(len(plan.chunks)):
        if (out / _chunk_file(index)).exists():
            entries.append(event_io.read_metadata(out / _chunk_file(index))["chunk"])
        else:
            todo.append(index)
    event_io.write_manifest(out, _manifest(plan, entries))
    started = time.monotonic()

    def finished(entry: dict[str, Any]) -> None:
        entries.append(entry)
        event_io.write_manifest(out, _manifest(plan, entries))
        if progress is not None:
            progress(len(entries), len(plan.chunks))

    if progress is not None:
        progress(len(entries), len(plan.chunks))
    tasks = [(plan, i, str(out)) for i in todo]
    if todo and workers == 0 and scheduler is None:
        for task in tasks:
            finished(import_chunk(*task))
    elif todo:
        with dask_client(workers=min(workers, len(todo)), scheduler=scheduler) as client:
            run_futures(client, import_chunk, tasks, on_result=finished, name=f"import-{plan.process}")
    _log.info("imported %d events from %d file(s) in %.1f s", plan.n_events, len(plan.files),
              time.monotonic() - started)
    return event_io.read_manifest(out)


def read_external(config: ImportConfig) -> ak.Array:
    """All events of `config.inputs` in the contract, in memory (no dataset written): `ingest.read` for outside
    formats. Reads chunk by chunk; memory grows with the selected events only."""
    plan = plan_import(config)
    parts = [_converted(plan, i) for i in range(len(plan.chunks))]
    events = parts[0] if len(parts) == 1 else ak.concatenate(parts)
    problems = event_io.schema_problems(events)
    if problems:  # pragma: no cover - guards the readers' construction
        raise EventFileError(f"{config.inputs[0]}: {plan.reader.name} reader made events off the contract: "
                             + "; ".join(problems))
    return events
