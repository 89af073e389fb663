"""`ingest.read`: any event file or dataset into the event contract, whatever its format."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import awkward as ak

from ..events.io import read_dataset
from ..exceptions import ConfigError
from .formats import detect_format
from .importer import ImportConfig, read_external

__all__ = ["read"]


def read(path: str | os.PathLike, *, format: str | None = None, allow_incomplete: bool = False,
         **options: Any) -> ak.Array:
    """All events of a file or dataset folder, validated against the contract (and finite).

    Our Parquet files and dataset folders are read as they are; a dataset whose manifest says it is incomplete
    (a killed generation) is an error unless `allow_incomplete`. Any other file is read through the reader of
    its format (`format`, or recognised from the file: nanoaod, physlite, delphes, lhe, hepmc, adc2021), and
    `options` are the fields of `ingest.ImportConfig` (selection, cuts, cross_section_pb, luminosity_fb, label,
    process, event_selection, chunk_size, seed).
    """
    path = Path(path)
    if format is None and path.is_file() and path.suffix.lower() != ".parquet":
        format = detect_format(path)
    if format not in (None, "anomalyhunt"):
        try:
            config = ImportConfig(inputs=(str(path),), format=format, **options)
        except TypeError as exc:
            raise ConfigError(f"ingest.read: {exc}") from None
        return read_external(config)
    if options:
        raise ConfigError(f"ingest.read: {', '.join(options)} only apply to outside formats, not to {path}")
    return read_dataset(path, allow_incomplete=allow_incomplete)
