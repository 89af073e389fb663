"""The event contract: schema, validating Parquet reader, atomic writer with manifests, chunked iteration.
Readers of outside formats live in `anomalyhunt.ingest`."""

from .io import (
    MANIFEST,
    check_apart,
    completeness,
    dataset_files,
    iter_chunks,
    read_dataset,
    read_manifest,
    read_metadata,
    write,
    write_manifest,
)
from .schema import COLLECTIONS, EVENT_FIELDS, LEPTON_COLLECTIONS, empty_events, schema_problems

__all__ = [
    "COLLECTIONS",
    "EVENT_FIELDS",
    "LEPTON_COLLECTIONS",
    "MANIFEST",
    "check_apart",
    "completeness",
    "dataset_files",
    "empty_events",
    "iter_chunks",
    "read_dataset",
    "read_manifest",
    "read_metadata",
    "schema_problems",
    "write",
    "write_manifest",
]
