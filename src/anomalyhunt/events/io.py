"""Parquet files and datasets in the event contract: validating reads, atomic writes, chunked iteration.

A dataset is a folder of Parquet files plus `manifest.json`. Every writer writes to a temporary name in the
same folder and renames it, so a killed job never leaves a half file that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..exceptions import ConfigError, EventFileError
from .schema import COLLECTIONS, OBJECT_FIELDS, schema_problems

__all__ = [
    "MANIFEST",
    "write",
    "read_dataset",
    "read_metadata",
    "iter_chunks",
    "dataset_files",
    "write_manifest",
    "read_manifest",
    "atomic_write",
    "atomic_write_text",
    "completeness",
    "nonfinite_fields",
    "prepare_dataset_folder",
    "check_resumable",
    "dataset_id",
    "check_apart",
    "check_complete",
]

MANIFEST = "manifest.json"
_META_KEY = b"anomalyhunt"


def _umask() -> int:
    """The process's umask, read without changing it (os.umask would, for a moment, for every thread)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary_beside(path: Path) -> Path:
    """A new empty file next to `path`, with the permissions an ordinary file gets (0644 under the usual umask):
    mkstemp makes it 0600, which would keep colleagues on a shared disk from reading a dataset or a report."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
    finally:
        os.close(fd)
    return Path(tmp)


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Write `path` through `write(temporary path)` and a rename: a killed job never leaves half a file."""
    path = Path(path)
    tmp = _temporary_beside(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename."""
    atomic_write(path, lambda tmp: tmp.write_text(text))


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
    bad = nonfinite_fields(events)
    if bad:
        raise EventFileError(f"{path}: non-finite values: " + ", ".join(f"{k} ({n} values)" for k, n in bad.items()))
    return events


def nonfinite_fields(events: ak.Array) -> dict[str, int]:
    """{field: number of NaN or inf values} over every kinematic field, MET and the weights (empty: all finite)."""
    bad = {}
    for name in COLLECTIONS:
        for f in OBJECT_FIELDS:
            values = ak.to_numpy(ak.flatten(events[name][f], axis=None))
            if n := int(np.count_nonzero(~np.isfinite(values))):
                bad[f"{name}.{f}"] = n
    for f in ("met.pt", "met.phi", "weight"):
        values = ak.to_numpy(events[f.split(".")[0]][f.split(".")[1]] if "." in f else events[f])
        if n := int(np.count_nonzero(~np.isfinite(values))):
            bad[f] = n
    return bad


def _read_file(path: Path) -> ak.Array:
    pfile = _open(path)
    try:
        table = pfile.read()
    except (pa.ArrowException, OSError) as exc:
        raise EventFileError(f"{path}: corrupt or truncated Parquet file ({exc})") from exc
    return _to_events(table, path)


def read_manifest(folder: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a dataset folder, checked for the shape every reader relies on."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise EventFileError(f"{folder}: not a dataset (no {MANIFEST})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EventFileError(f"{path}: corrupt manifest ({exc})") from exc
    except OSError as exc:
        raise EventFileError(f"{path}: cannot read the manifest ({exc.strerror})") from exc
    problem = _manifest_problem(manifest)
    if problem:
        raise EventFileError(f"{path}: malformed manifest: {problem}")
    return manifest


def _manifest_problem(manifest) -> str:
    if not isinstance(manifest, dict):
        return f"expected a JSON object, found {type(manifest).__name__}"
    files = manifest.get("files", [])
    if not isinstance(files, list) or not all(isinstance(f, dict) and isinstance(f.get("file"), str) for f in files):
        return "'files' must be a list of objects each with a 'file' name"
    if any(Path(f["file"]).name != f["file"] for f in files):
        return "'files' entries must be plain file names inside the dataset folder"
    if "complete" in manifest and not isinstance(manifest["complete"], bool):
        return f"'complete' must be true or false, found {manifest['complete']!r}"
    for key in ("n_chunks", "n_generated", "n_selected"):
        if key in manifest and not (isinstance(manifest[key], int) and manifest[key] >= 0):
            return f"'{key}' must be a non-negative integer, found {manifest[key]!r}"
    return ""


def completeness(path: str | os.PathLike) -> tuple[int, int] | None:
    """(chunks done, chunks planned) of a dataset folder whose manifest says it is incomplete; None when the
    dataset is complete or is a single file / a folder without a manifest."""
    path = Path(path)
    if not (path.is_dir() and (path / MANIFEST).exists()):
        return None
    manifest = read_manifest(path)
    if manifest.get("complete", True):
        return None
    planned = manifest.get("n_chunks")
    if planned is None and isinstance(manifest.get("config"), dict):
        config = manifest["config"]
        try:
            planned = -(-int(config["n_events"]) // int(config["chunk_size"]))
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            planned = None
    return len(manifest.get("files", [])), int(planned) if planned is not None else -1


def check_complete(path: str | os.PathLike, allow_incomplete: bool) -> None:
    status = completeness(path)
    if status is not None and not allow_incomplete:
        done, planned = status
        of = f"{done} of {planned}" if planned >= 0 else f"{done}"
        raise EventFileError(f"{path}: incomplete dataset ({of} chunks written; its generation was interrupted). "
                             "Rerun the same generate command to finish it, or read it with allow_incomplete=True "
                             "(--allow-incomplete)")


def write_manifest(folder: str | os.PathLike, manifest: Mapping[str, Any]) -> None:
    """Write a dataset manifest atomically."""
    atomic_write_text(Path(folder) / MANIFEST, json.dumps(dict(manifest), indent=2, sort_keys=True, default=str))


def prepare_dataset_folder(out: str | os.PathLike) -> None:
    """Create a dataset folder (checking it is writable) and clear the temporaries a killed writer left."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise EventFileError(f"{out}: the output folder is not writable ({exc.strerror})") from exc
    for stale in out.glob(".*.part"):  # temporaries of a killed run
        stale.unlink(missing_ok=True)


def check_resumable(out: str | os.PathLike, config: Mapping[str, Any]) -> None:
    """Refuse to add to a folder that holds another dataset: resuming needs the same `config`."""
    out = Path(out)
    if not (out / MANIFEST).exists():
        if any(out.glob("*.parquet")):
            raise ConfigError(f"{out}: the folder holds event files but no manifest; choose another --out")
        return
    previous = read_manifest(out).get("config")
    if previous != dict(config):
        raise ConfigError(f"{out}: the folder holds a different dataset ({previous}); choose another --out "
                          "or delete it")


def dataset_id(config: Mapping[str, Any]) -> str:
    """The identity of a dataset: a hash of the configuration that made it (generation or import settings).
    Every chunk file carries it in its metadata and the manifest records it, so that a chunk of another dataset
    copied into a folder is recognised."""
    text = json.dumps(dict(config), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Metadata keys that name what a dataset is: a chunk whose value differs from its manifest's belongs elsewhere.
_IDENTITY_KEYS = ("dataset_id", "generator", "process", "sample", "seed", "params", "detector_preset", "selection",
                  "format", "inputs", "object_selection", "sqrt_s")


def _check_chunk(folder: Path, manifest: Mapping[str, Any], entry: Mapping[str, Any]) -> None:
    """One listed chunk against its manifest: it exists, is our Parquet file, belongs to this dataset (same
    identity), is the chunk the manifest lists under that name, and holds the number of events it records."""
    path = folder / entry["file"]
    pfile = _open(path)
    meta = pfile.schema_arrow.metadata or {}
    if _META_KEY not in meta:
        raise EventFileError(f"{path}: not an anomalyhunt event file (no '{_META_KEY.decode()}' metadata)")
    try:
        chunk_meta = json.loads(meta[_META_KEY])
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EventFileError(f"{path}: damaged metadata ({exc})") from None
    for key in _IDENTITY_KEYS:
        if key in chunk_meta and key in manifest and chunk_meta[key] != manifest[key]:
            raise EventFileError(f"{path}: belongs to another dataset ({key} {_short(chunk_meta[key])}, the "
                                 f"manifest's {_short(manifest[key])}); regenerate or re-import this chunk")
    recorded = chunk_meta.get("chunk") if isinstance(chunk_meta.get("chunk"), dict) else {}
    for key in ("chunk", "file"):
        if key in recorded and key in entry and recorded[key] != entry[key]:
            raise EventFileError(f"{path}: holds {key} {recorded[key]!r}, the manifest lists {entry[key]!r} under "
                                 "this name; the file was moved or copied from elsewhere")
    rows = pfile.metadata.num_rows
    for where, expected in (("the manifest", entry.get("n_selected")), ("its own metadata",
                                                                        recorded.get("n_selected"))):
        if isinstance(expected, int) and expected != rows:
            raise EventFileError(f"{path}: holds {rows} events, {where} says {expected}; the file was truncated "
                                 "or replaced")


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def check_apart(output: str | os.PathLike, inputs: list[str | os.PathLike] | tuple, *, option: str = "--out"
                ) -> None:
    """Refuse an output path that is, contains, or lies inside any of `inputs` (files or folders): a command
    must never write over, delete or mix with what it reads. Checked on resolved paths (symlinks followed)."""
    out = Path(output).resolve()
    for item in inputs:
        source = Path(item).resolve()
        if out == source:
            raise ConfigError(f"{option} {output}: is one of the inputs ({item}); choose another output")
        if source.is_relative_to(out):
            raise ConfigError(f"{option} {output}: holds the input {item}; writing there could replace it, "
                              "choose another output")
        if out.is_relative_to(source) and not source.is_file():
            raise ConfigError(f"{option} {output}: lies inside the input {item}; choose an output outside it")


def dataset_files(path: str | os.PathLike) -> list[Path]:
    """The event files behind `path`: the file itself, or the files a dataset's manifest lists, each checked
    against the manifest (dataset identity, chunk name, event count) before any event is read.

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
        for entry in manifest.get("files", []):
            _check_chunk(path, manifest, entry)
        files = [path / entry["file"] for entry in manifest.get("files", [])]
    else:
        files = sorted(path.glob("*.parquet")) or sorted(path.glob("*/*.parquet"))
    if not files:
        raise EventFileError(f"{path}: the dataset holds no event files")
    return files


def read_dataset(path: str | os.PathLike, *, allow_incomplete: bool = False) -> ak.Array:
    """All events of one of our Parquet files or dataset folders, validated against the contract (and finite); a
    dataset whose manifest says it is incomplete (a killed generation) is an error unless `allow_incomplete`.
    `ingest.read` reads outside formats as well."""
    check_complete(path, allow_incomplete)
    arrays = [_read_file(f) for f in dataset_files(path)]
    return arrays[0] if len(arrays) == 1 else ak.concatenate(arrays)


def iter_chunks(path: str | os.PathLike, *, step: int = 100_000, allow_incomplete: bool = False
                ) -> Iterator[ak.Array]:
    """Iterate over a file or dataset in pieces of at most `step` events, never holding more in memory."""
    if step <= 0:
        raise EventFileError(f"step must be positive, got {step}")
    check_complete(path, allow_incomplete)
    for f in dataset_files(path):
        pfile = _open(f)
        try:
            for batch in pfile.iter_batches(batch_size=step):
                yield _to_events(pa.Table.from_batches([batch], schema=pfile.schema_arrow), f)
        except pa.ArrowException as exc:
            raise EventFileError(f"{f}: corrupt or truncated Parquet file ({exc})") from exc
