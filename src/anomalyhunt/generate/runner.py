"""Parallel, resumable generation runs: chunks of events as Dask futures, one Parquet file per chunk.

Each chunk has its own Pythia seed derived from (seed, sample, chunk index), so a dataset is identical
whatever the number of workers and however often the run was interrupted. A finished chunk is a file
(written atomically); a rerun skips those and redoes the rest.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from .. import __version__
from ..events import io as event_io
from ..exceptions import ConfigError
from ..parallel import dask_client, run_futures
from ..reco.detector import LEGACY_DEFAULTS, DetectorPreset, get_preset
from ..reco.reconstruction import reconstruct, select
from .processes import CATALOGUE, get_process, sample_name
from .pythia import PythiaRun, pythia_version

__all__ = ["GenerationConfig", "ChunkSummary", "generate", "generate_chunk", "generate_many", "chunk_seeds",
           "detector_changes", "source_events"]

_MAX_CHUNKS = 100_000
_HYPOTHESES_PER_EVENT = 100


@dataclass(frozen=True)
class GenerationConfig:
    """What to generate: `n_events` Pythia events (before selection) of one process, in chunks."""

    process: str
    n_events: int
    seed: int = 1
    params: Mapping[str, float] = field(default_factory=dict)
    preset: str = "chekanov2022"
    chunk_size: int = 5000
    sqrt_s: float = 13000.0
    batch_size: int = 500

    def __post_init__(self) -> None:
        process = get_process(self.process)
        process.pythia_settings(self.params)  # unknown or inconsistent parameters fail here
        preset = get_preset(self.preset)
        if process.forced_fake and not preset.fake_e + preset.fake_mu > 0:
            raise ConfigError(f"process '{self.process}' makes its leptons from jet fakes, but detector preset "
                              f"{preset.name!r} has no fake rates (fake_e = fake_mu = 0); choose a preset with "
                              "them (adc2021, chekanov2022)")
        if not isinstance(self.n_events, int | np.integer) or self.n_events <= 0:
            raise ConfigError(f"n_events must be a positive integer, got {self.n_events!r}")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed must be in [0, 2^32), got {self.seed}")
        if self.chunk_size <= 0 or self.batch_size <= 0:
            raise ConfigError(f"chunk_size and batch_size must be positive, got {self.chunk_size}, {self.batch_size}")
        if self.n_chunks > _MAX_CHUNKS:
            raise ConfigError(f"{self.n_chunks} chunks is too many: raise chunk_size (now {self.chunk_size})")
        if not (math.isfinite(self.sqrt_s) and self.sqrt_s > 0):
            raise ConfigError(f"sqrt_s must be a positive finite number, got {self.sqrt_s}")
        process.check_physical(self.params, self.sqrt_s)

    @property
    def sample(self) -> str:
        return sample_name(self.process, self.params)

    @property
    def n_chunks(self) -> int:
        return -(-self.n_events // self.chunk_size)

    def chunk_events(self, index: int) -> int:
        return min(self.chunk_size, self.n_events - index * self.chunk_size)

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["params"] = get_process(self.process).resolve(self.params)
        return out


@dataclass(frozen=True)
class ChunkSummary:
    """What one finished chunk holds; also stored in the chunk file's metadata."""

    chunk: int
    file: str
    n_generated: int
    n_selected: int
    sigma_pb: float
    sigma_err_pb: float
    selected_sigma_pb: float


def source_events(event_id: np.ndarray, process: np.ndarray) -> np.ndarray:
    """One integer per entry naming the generated event it was made from, for splits that must keep an event on
    one side. Entries of a forced-fake process (one per jet that could fake the lepton, ids = the event's number
    x 100 + the jet's rank) share their event's number; every other entry is an event of its own. Datasets of one
    forced-fake process with different seeds share numbers, which only makes some groups larger than needed."""
    event_id = np.asarray(event_id, dtype=np.int64)
    process = np.asarray(process, dtype=object)
    forced = np.isin(process, [n for n in set(process.tolist()) if n in CATALOGUE and CATALOGUE[n].forced_fake])
    names, codes = np.unique(process[forced].astype(str), return_inverse=True)
    groups = np.arange(len(event_id), dtype=np.int64) + 1  # positive: an entry alone
    # negative: (process, event number) pairs, distinct from every single entry and from each other
    groups[forced] = -1 - (event_id[forced] // _HYPOTHESES_PER_EVENT) * max(len(names), 1) - codes.reshape(-1)
    return groups


def pythia_settings(config: GenerationConfig, preset: DetectorPreset) -> list[str]:
    """The process's Pythia settings, with multiparton interactions switched off where the preset says so."""
    return [*get_process(config.process).pythia_settings(config.params),
            *([] if preset.mpi else ["PartonLevel:MPI = off"])]


def detector_changes(manifest: Mapping[str, Any], preset: str) -> list[str]:
    """How the detector preset a dataset was made with (its manifest's `detector`) differs from the preset of
    that name now, one 'field: then -> now' line each; empty when they agree. A field the manifest lacks
    (added to the presets later) counts as the value datasets were made with before it existed
    (`LEGACY_DEFAULTS`), or else as its default."""
    recorded = manifest.get("detector")
    if recorded is None:
        return []
    defaults = {f.name: f.default for f in dataclasses.fields(DetectorPreset)} | LEGACY_DEFAULTS
    now = get_preset(preset)
    # the axes of tau_N matter only where the preset makes large-R jets
    unused = set() if now.fatjet_r else {"nsubjettiness_axes"}
    return [f"{name}: {recorded.get(name, defaults[name])!r} -> {value!r}"
            for name, value in now.as_dict().items()
            if name not in unused and recorded.get(name, defaults[name]) != value]


def chunk_seeds(seed: int, sample: str, index: int) -> tuple[int, np.random.Generator]:
    """Pythia seed and NumPy generator (detector smearing, tagging, fakes) of one chunk."""
    sequence = np.random.SeedSequence([seed, zlib.crc32(sample.encode()), index])
    pythia_seed = int(sequence.generate_state(1)[0] % 900_000_000) + 1
    return pythia_seed, np.random.default_rng(sequence.spawn(1)[0])


def _chunk_file(index: int) -> str:
    return f"chunk-{index:05d}.parquet"


def generate_chunk(config: GenerationConfig, index: int, out_dir: str) -> ChunkSummary:
    """Generate, reconstruct, select and write chunk `index` of `config` (skipped if already written)."""
    path = Path(out_dir) / _chunk_file(index)
    if path.exists():
        return ChunkSummary(**event_io.read_metadata(path)["chunk"])
    process = get_process(config.process)
    preset = get_preset(config.preset)
    pythia_seed, rng = chunk_seeds(config.seed, config.sample, index)
    run = PythiaRun(pythia_settings(config, preset), seed=pythia_seed, sqrt_s=config.sqrt_s)
    n_generated = config.chunk_events(index)
    kept, kept_weights, kept_ids = [], [], []
    weight_sum, offset = 0.0, 0
    for batch in run.batches(n_generated, batch_size=config.batch_size):
        objects = reconstruct(batch.particles, batch.b_hadrons, preset=preset, rng=rng,
                              forced_fake=process.forced_fake)
        # one entry per generated event; with forced fakes, one per fake-lepton hypothesis of an event (its id
        # is the event's number x 100 + the faking jet's rank)
        source, factor, ids = np.arange(len(batch.weights)), np.ones(len(objects)), None
        if process.forced_fake:
            source, factor = ak.to_numpy(objects.fake_source), ak.to_numpy(objects.fake_weight)
            rank = ak.to_numpy(objects.fake_rank)
            if len(rank) and rank.max() >= _HYPOTHESES_PER_EVENT:
                raise ConfigError(f"an event of {config.sample} has more than {_HYPOTHESES_PER_EVENT} jets that "
                                  "could fake a lepton")
            ids = (index * config.chunk_size + offset + source) * _HYPOTHESES_PER_EVENT + rank
            objects = ak.without_field(ak.without_field(ak.without_field(objects, "fake_source"), "fake_rank"),
                                       "fake_weight")
        mask = select(objects, preset=preset)
        kept.append(objects[mask])
        kept_weights.append(batch.weights[source[mask]] * factor[mask])
        kept_ids.append(ids[mask] if ids is not None else index * config.chunk_size + offset + np.flatnonzero(mask))
        weight_sum += float(batch.weights.sum())
        offset += len(batch.weights)
    sigma, sigma_err = run.sigma_pb
    # Each chunk carries its share n_chunk / N of its own cross-section estimate, so the dataset's weights
    # sum to the event-weighted mean cross section whatever the chunking.
    weights = np.concatenate(kept_weights) * (sigma / weight_sum * n_generated / config.n_events)
    n_selected = len(weights)
    events = ak.concatenate(kept)
    events = ak.with_field(events, weights, "weight")
    events = ak.with_field(events, ak.from_numpy(np.full(n_selected, config.sample)), "process")
    events = ak.with_field(events, np.full(n_selected, process.label, dtype=np.int8), "label")
    events = ak.with_field(events, np.concatenate(kept_ids).astype(np.int64), "event_id")
    summary = ChunkSummary(index, path.name, n_generated, n_selected, sigma, sigma_err, float(weights.sum()))
    metadata = _dataset_metadata(config) | {"pythia_seed": pythia_seed, "chunk": dataclasses.asdict(summary)}
    event_io.write(events, path, metadata=metadata)
    return summary


def _dataset_metadata(config: GenerationConfig) -> dict[str, Any]:
    preset = get_preset(config.preset)
    return {
        "dataset_id": event_io.dataset_id(config.as_dict()),
        "generator": "pythia8",
        "generator_version": pythia_version(),
        "process": config.process,
        "sample": config.sample,
        "params": get_process(config.process).resolve(config.params),
        "seed": config.seed,
        "detector_preset": preset.name,
        "detector": preset.as_dict(),
        "selection": preset.selection,
        "sqrt_s": config.sqrt_s,
        "package_version": __version__,
    }


def _manifest(config: GenerationConfig, summaries: list[ChunkSummary]) -> dict[str, Any]:
    done = sorted(summaries, key=lambda s: s.chunk)
    n_generated = sum(s.n_generated for s in done)
    sigma = sum(s.sigma_pb * s.n_generated for s in done) / max(n_generated, 1)
    sigma_err = np.sqrt(sum((s.sigma_err_pb * s.n_generated) ** 2 for s in done)) / max(n_generated, 1)
    return {
        **_dataset_metadata(config),
        "config": config.as_dict(),
        "complete": len(done) == config.n_chunks,
        "n_chunks": config.n_chunks,
        "n_generated": n_generated,
        "n_selected": sum(s.n_selected for s in done),
        "sigma_pb": sigma,
        "sigma_err_pb": float(sigma_err),
        "selected_sigma_pb": sum(s.selected_sigma_pb for s in done),
        "files": [dataclasses.asdict(s) for s in done],
    }


def generate(config: GenerationConfig, out: str | Path, *, workers: int = 2, scheduler: str | None = None,
             client=None, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Generate the dataset `config` into folder `out`, resuming whatever a previous run finished.

    workers: Dask LocalCluster worker processes (0 runs in this process, for debugging);
    scheduler: address of an existing Dask scheduler (its workers must see `out`);
    client: an open `dask.distributed.Client` to reuse across several datasets (overrides both).
    progress(done, total) is called after each chunk. Returns the manifest.
    """
    return generate_many([(config, out)], workers=workers, scheduler=scheduler, client=client, progress=progress)[0]


def generate_many(jobs: Sequence[tuple[GenerationConfig, str | Path]], *, workers: int = 2,
                  scheduler: str | None = None, client=None,
                  progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """Generate several datasets at once, each (config, folder) resumable on its own as with `generate`.

    Every missing chunk of every dataset is one task on one Dask client, submitted together, so a dataset of one
    chunk does not leave the other workers idle while it runs. Every folder is checked before any event is
    generated. progress(done, total) counts chunks over all datasets. Returns the manifests, in order.
    """
    if workers < 0:
        raise ConfigError(f"workers must be >= 0, got {workers}")
    outs = [Path(out) for _, out in jobs]
    resolved = [out.resolve() for out in outs]
    shared = sorted({str(out) for out in resolved if resolved.count(out) > 1})
    if shared:
        raise ConfigError(f"two datasets would share one folder: {', '.join(shared)}")
    summaries: list[list[ChunkSummary]] = []
    tasks, labels = [], []
    for k, ((config, _), out) in enumerate(zip(jobs, outs, strict=True)):
        event_io.prepare_dataset_folder(out)
        event_io.check_resumable(out, config.as_dict())
        if (out / event_io.MANIFEST).exists():
            changed = detector_changes(event_io.read_manifest(out), config.preset)
            if changed:
                raise ConfigError(f"{out}: generated with another definition of detector preset {config.preset!r} "
                                  f"({'; '.join(changed)}); delete the folder or choose another --out")
        done = []
        for index in range(config.n_chunks):
            path = out / _chunk_file(index)
            if path.exists():
                done.append(ChunkSummary(**event_io.read_metadata(path)["chunk"]))
            else:
                tasks.append((k, config, index, str(out)))
                labels.append(f"{config.sample} chunk {index}")
        summaries.append(done)
    for (config, _), out, done in zip(jobs, outs, summaries, strict=True):
        event_io.write_manifest(out, _manifest(config, done))
    total = sum(config.n_chunks for config, _ in jobs)

    def finished(result: tuple[int, ChunkSummary]) -> None:
        k, summary = result
        summaries[k].append(summary)
        event_io.write_manifest(outs[k], _manifest(jobs[k][0], summaries[k]))
        if progress is not None:
            progress(sum(map(len, summaries)), total)

    if progress is not None:
        progress(sum(map(len, summaries)), total)
    name = f"generate-{jobs[0][0].sample}" if len(jobs) == 1 else "generate"
    if tasks and client is None and workers == 0 and scheduler is None:
        for task in tasks:
            finished(_numbered_chunk(*task))
    elif tasks and client is not None:
        run_futures(client, _numbered_chunk, tasks, on_result=finished, name=name, labels=labels)
    elif tasks:
        with dask_client(workers=workers, scheduler=scheduler) as own:
            run_futures(own, _numbered_chunk, tasks, on_result=finished, name=name, labels=labels)
    return [event_io.read_manifest(out) for out in outs]


def _numbered_chunk(k: int, config: GenerationConfig, index: int, out_dir: str) -> tuple[int, ChunkSummary]:
    """`generate_chunk` with the number of its dataset among those generated together."""
    return k, generate_chunk(config, index, out_dir)
