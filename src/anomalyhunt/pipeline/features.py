"""Feature files next to the events: chunked, memory-bounded, one Dask future per event file.

The output is a NumPy `.npy` array (float32, events in dataset order) written through a temporary name,
with a JSON sidecar naming the kind, the preset, the column/cell names (`spec`) and the source files. Runs read
them back with `features.load_feature_file` (e.g. the RMM search's `rmm_files`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from ..events import dataset_files, iter_chunks
from ..events.io import atomic_write_text, check_apart, check_complete
from ..exceptions import ConfigError, EventFileError
from ..features import (
    adc2021_slots,
    feature_spec,
    padded_four_vectors,
    rmm,
    rmm_layout,
)
from ..parallel import dask_client, run_futures

__all__ = ["FeatureConfig", "compute_features", "feature_shape", "feature_names", "write_features"]

KINDS = ("rmm", "fourvec", "adc2021")


@dataclass(frozen=True)
class FeatureConfig:
    """Which feature space to compute: kind 'rmm', 'fourvec' or 'adc2021'."""

    kind: str = "rmm"
    preset: str = "T5N10"
    sqrt_s: float = 13000.0
    c: float = 0.15

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"unknown feature kind {self.kind!r}; known: {', '.join(KINDS)}")
        rmm_layout(self.preset)
        if self.sqrt_s <= 0:
            raise ConfigError(f"sqrt_s must be positive, got {self.sqrt_s}")


def feature_shape(config: FeatureConfig) -> tuple[int, ...]:
    if config.kind == "rmm":
        size = rmm_layout(config.preset).size
        return (size, size)
    return (len(feature_names(config)),)


def feature_names(config: FeatureConfig) -> list[str]:
    return list(feature_spec(config.kind, config.preset).names)


def compute_features(events, config: FeatureConfig) -> np.ndarray:
    """The features of an in-memory batch of events."""
    if config.kind == "rmm":
        return rmm(events, preset=config.preset, sqrt_s=config.sqrt_s, c=config.c)
    if config.kind == "fourvec":
        return padded_four_vectors(events, preset=config.preset)
    return adc2021_slots(events)


def _fill_from_file(path: str, out: str, offset: int, config: FeatureConfig, step: int) -> int:
    target = np.load(out, mmap_mode="r+")
    done = 0
    for events in iter_chunks(path, step=step):
        window = target[offset + done: offset + done + len(events)]
        if config.kind == "rmm":  # written in place, no temporary copy of the matrices
            rmm(events, preset=config.preset, sqrt_s=config.sqrt_s, c=config.c, out=window)
        else:
            window[:] = compute_features(events, config)
        done += len(events)
    target.flush()
    del target
    return done


def write_features(source: str | os.PathLike, out: str | os.PathLike, config: FeatureConfig, *, step: int = 20_000,
                   workers: int = 0, scheduler: str | None = None, allow_incomplete: bool = False,
                   progress: Callable[[int, int], None] | None = None) -> Path:
    """Compute features of every event in `source` into `out` (.npy) plus `out` with suffix .json.

    A dataset whose generation was interrupted is refused unless `allow_incomplete`; `out` may not lie inside
    the dataset it is computed from."""
    out = Path(out)
    if out.suffix != ".npy":
        raise ConfigError(f"feature output must end in .npy, got {out}")
    check_apart(out, [source], option="--output")
    check_complete(source, allow_incomplete)
    files = dataset_files(source)
    counts = []
    for f in files:
        try:
            counts.append(pq.ParquetFile(f).metadata.num_rows)
        except Exception as exc:
            raise EventFileError(f"{f}: not a readable Parquet file ({exc})") from exc
    offsets = np.concatenate([[0], np.cumsum(counts)])
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EventFileError(f"{out.parent}: cannot create the output folder ({exc.strerror})") from exc
    tmp = out.with_name(f".{out.name}.part")
    try:
        np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(int(offsets[-1]), *feature_shape(config)))
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise EventFileError(f"{out}: cannot write the feature file ({exc.strerror or exc})") from None
    tasks = [(str(f), str(tmp), int(o), config, step) for f, o in zip(files, offsets[:-1], strict=True)]
    finished = []

    def on_result(n: int) -> None:
        finished.append(n)
        if progress is not None:
            progress(len(finished), len(tasks))

    try:
        if workers == 0 and scheduler is None:
            for task in tasks:
                on_result(_fill_from_file(*task))
        else:
            with dask_client(workers=workers, scheduler=scheduler) as client:
                run_futures(client, _fill_from_file, tasks, on_result=on_result, name="features")
        # the sidecar first: an .npy that exists always has its description beside it
        sidecar = {"config": asdict(config), "shape": [int(offsets[-1]), *feature_shape(config)],
                   "spec": feature_spec(config.kind, config.preset).as_dict(),
                   "files": [str(Path(f).resolve()) for f in files], "events_per_file": counts}
        atomic_write_text(out.with_suffix(".json"), json.dumps(sidecar))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


