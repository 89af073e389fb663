"""The event contract: schema, validating Parquet reader, atomic writer, chunked iteration, ADC2021 HDF5."""

from .adc2021 import read_adc2021, write_adc2021
from .io import (
    MANIFEST,
    dataset_files,
    iter_chunks,
    read,
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
    "dataset_files",
    "empty_events",
    "iter_chunks",
    "read",
    "read_adc2021",
    "read_manifest",
    "read_metadata",
    "schema_problems",
    "write",
    "write_adc2021",
    "write_manifest",
]
