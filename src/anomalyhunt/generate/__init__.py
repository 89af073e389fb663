"""Event generation: the process catalogue, Pythia, reconstruction presets and parallel runs."""

from .detector import PRESETS, DetectorPreset, get_preset
from .processes import CATALOGUE, Process, get_process, process_names, sample_name
from .reconstruction import reconstruct, select
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
    "PRESETS",
    "ChunkSummary",
    "DetectorPreset",
    "GenerationConfig",
    "Process",
    "detector_changes",
    "generate",
    "generate_chunk",
    "generate_many",
    "get_preset",
    "get_process",
    "process_names",
    "reconstruct",
    "sample_name",
    "select",
    "source_events",
]
