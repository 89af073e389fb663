"""Pin the public API: a change here is a change users notice."""

import importlib

import pytest

API = {
    "anomalyhunt.events": {"read", "write", "iter_chunks", "read_metadata", "read_manifest", "write_manifest",
                           "dataset_files", "schema_problems", "empty_events", "COLLECTIONS", "EVENT_FIELDS",
                           "LEPTON_COLLECTIONS", "MANIFEST"},
    "anomalyhunt.generate": {"CATALOGUE", "PRESETS", "ChunkSummary", "DetectorPreset", "GenerationConfig",
                             "Process", "generate", "generate_chunk", "get_preset", "get_process",
                             "process_names", "reconstruct", "sample_name", "select"},
    "anomalyhunt.exceptions": {"AnomalyHuntError", "ConfigError", "EventFileError", "GenerationError",
                               "FitError", "StatsInputError"},
}


@pytest.mark.parametrize("module", sorted(API))
def test_public_names(module):
    mod = importlib.import_module(module)
    assert set(mod.__all__) == API[module]
    for name in mod.__all__:
        assert hasattr(mod, name)
