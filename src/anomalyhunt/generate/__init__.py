"""Event generation: the process catalogue, Pythia, and parallel, resumable runs (reconstruction is `reco`)."""

from .processes import CATALOGUE, Process, get_process, process_names, sample_name
from .runner import (
    ChunkSummary,
    GenerationConfig,
    detector_changes,
    generate,
    generate_chunk,
    generate_many,
    source_events,
)

__all__ = [
    "CATALOGUE",
    "ChunkSummary",
    "GenerationConfig",
    "Process",
    "detector_changes",
    "generate",
    "generate_chunk",
    "generate_many",
    "get_process",
    "process_names",
    "sample_name",
    "source_events",
]
