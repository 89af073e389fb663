"""Parquet files and datasets in the event contract: validating reads, atomic writes, chunked iteration.

A dataset is a folder of Parquet files plus `manifest.json`. Every writer writes to a temporary name in the
same folder and renames it, so a killed job never leaves a half file that looks complete.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import awkward as ak
import pyarrow as pa
import pyarrow.parquet as pq

from ..exceptions import EventFileError
from .schema import schema_problems

__all__ = [
    "MANIFEST",
    "write",
    "read",
    "read_metadata",
    "iter_chunks",
    "dataset_files",
    "write_manifest",
    "read_manifest",
    "atomic_write_text",
]

MANIFEST = "manifest.json"
_META_KEY = b"anomalyhunt"


def _temporary_beside(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename."""
    path = Path(path)
    tmp = _temporary_beside(path)
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _ensure_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EventFileError(f"{path.parent}: cannot create the output folder ({exc.strerror})") from exc
    if not os.access(path.parent, os.W_OK):
        raise EventFileError(f"{path.parent}: the output folder is not writable")


def write(events: ak.Array, path: str | os.PathLike, *, metadata: Mapping[str, Any]) -> Path:
    """Write `events` (validated against the contract) to one Parquet file, atomically.

    `metadata` (JSON-serialisable) is stored in the Parquet key-value metadata under `anomalyhunt`.
    """
    path = Path(path)
    problems = schema_problems(events)
    if problems:
        raise EventFileError(f"{path}: refusing to write events off the contract: {'; '.join(problems)}")
    _ensure_parent(path)
    table = ak.to_arrow_table(ak.to_packed(events), extensionarray=True)
    meta = dict(table.schema.metadata or {})
    meta[_META_KEY] = json.dumps(dict(metadata), sort_keys=True, default=str).encode()
    table = table.replace_schema_metadata(meta)
    tmp = _temporary_beside(path)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    except OSError as exc:
        raise EventFileError(f"{path}: could not write ({exc})") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _open(path: Path) -> pq.ParquetFile:
    if not path.exists():
        raise EventFileError(f"{path}: no such file")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise EventFileError(f"{path}: not a readable Parquet file ({exc})") from exc


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The anomalyhunt key-value metadata of one event file."""
    path = Path(path)
    meta = _open(path).schema_arrow.metadata or {}
    if _META_KEY not in meta:
        raise EventFileError(f"{path}: not an anomalyhunt event file (no '{_META_KEY.decode()}' metadata)")
    return json.loads(meta[_META_KEY])


def _to_events(table_or_batch, path: Path) -> ak.Array:
    events = ak.from_arrow(table_or_batch)
    problems = schema_problems(events)
    if problems:
        raise EventFileError(f"{path}: not in the event contract: {'; '.join(problems)}")
    return events


def _read_file(path: Path) -> ak.Array:
    pfile = _open(path)
    try:
        table = pfile.read()
    except (pa.ArrowException, OSError) as exc:
        raise EventFileError(f"{path}: corrupt or truncated Parquet file ({exc})") from exc
    return _to_events(table, path)


def read_manifest(folder: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a dataset folder."""
    path = Path(folder) / MANIFEST
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise EventFileError(f"{folder}: not a dataset (no {MANIFEST})") from exc
    except json.JSONDecodeError as exc:
        raise EventFileError(f"{path}: corrupt manifest ({exc})") from exc


def write_manifest(folder: str | os.PathLike, manifest: Mapping[str, Any]) -> None:
    """Write a dataset manifest atomically."""
    atomic_write_text(Path(folder) / MANIFEST, json.dumps(dict(manifest), indent=2, sort_keys=True, default=str))


def dataset_files(path: str | os.PathLike) -> list[Path]:
    """The event files behind `path`: the file itself, or the files a dataset's manifest lists.

    A folder without a manifest is read as every `*.parquet` in it (sorted), so that several datasets can
    be combined by pointing at their parent folder's files.
    """
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.exists():
        raise EventFileError(f"{path}: no such file or folder")
    if (path / MANIFEST).exists():
        manifest = read_manifest(path)
        files = [path / entry["file"] for entry in manifest.get("files", [])]
    else:
        files = sorted(path.glob("*.parquet")) or sorted(path.glob("*/*.parquet"))
    if not files:
        raise EventFileError(f"{path}: the dataset holds no event files")
    return files


def read(path: str | os.PathLike) -> ak.Array:
    """All events of a file or dataset folder, validated against the contract."""
    arrays = [_read_file(f) for f in dataset_files(path)]
    return arrays[0] if len(arrays) == 1 else ak.concatenate(arrays)


def iter_chunks(path: str | os.PathLike, *, step: int = 100_000) -> Iterator[ak.Array]:
    """Iterate over a file or dataset in pieces of at most `step` events, never holding more in memory."""
    if step <= 0:
        raise EventFileError(f"step must be positive, got {step}")
    for f in dataset_files(path):
        pfile = _open(f)
        try:
            for batch in pfile.iter_batches(batch_size=step):
                yield _to_events(pa.Table.from_batches([batch], schema=pfile.schema_arrow), f)
        except pa.ArrowException as exc:
            raise EventFileError(f"{f}: corrupt or truncated Parquet file ({exc})") from exc
