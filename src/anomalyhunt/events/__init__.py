"""The event contract: schema, validating Parquet reader, atomic writer, chunked iteration, samples, and readers
of outside formats (CMS NanoAOD, ATLAS PHYSLITE, Delphes, LHE through Pythia, HepMC3, ADC2021 HDF5)."""

from .adc2021 import read_adc2021, write_adc2021
from .formats import READERS, SELECTIONS, detect_format
from .importer import ImportConfig, import_files, plan_import
from .io import (
    MANIFEST,
    completeness,
    dataset_files,
    iter_chunks,
    read_manifest,
    read_metadata,
    write,
    write_manifest,
)
from .reading import read
from .samples import SampleSummary, dataset_summary, group_split, load_samples, unweight
from .schema import COLLECTIONS, EVENT_FIELDS, LEPTON_COLLECTIONS, empty_events, schema_problems

__all__ = [
    "COLLECTIONS",
    "EVENT_FIELDS",
    "ImportConfig",
    "LEPTON_COLLECTIONS",
    "MANIFEST",
    "READERS",
    "SELECTIONS",
    "SampleSummary",
    "completeness",
    "dataset_files",
    "dataset_summary",
    "detect_format",
    "empty_events",
    "group_split",
    "import_files",
    "iter_chunks",
    "load_samples",
    "plan_import",
    "read",
    "read_adc2021",
    "read_manifest",
    "read_metadata",
    "schema_problems",
    "unweight",
    "write",
    "write_adc2021",
    "write_manifest",
]
