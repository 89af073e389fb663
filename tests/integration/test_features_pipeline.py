"""Features of generated events: value ranges, chunked/Dask writing, CLI."""

from pathlib import Path

import numpy as np
import pytest

from anomalyhunt import events, ingest
from anomalyhunt.exceptions import EventFileError
from anomalyhunt.features import feature_spec, load_feature_file, rmm, rmm_cell_names
from anomalyhunt.pipeline.features import FeatureConfig, write_features


@pytest.fixture
def sm_dataset(features_samples):
    """ttbar and W + jets, 400 events each in chunks of 200 (tests/samples.py), in one folder."""
    return Path(features_samples[0]).parent


def test_t5n10_rmm_of_generated_sm_events_lies_in_unit_interval(sm_dataset):
    for process in ("ttbar", "wjets"):
        m = rmm(ingest.read(sm_dataset / process), preset="T5N10")
        assert len(m) > 20
        assert m.min() >= 0.0
        assert m.max() <= 1.0, rmm_cell_names("T5N10")[np.unravel_index(m.max(axis=0).argmax(), m.shape[1:])]
        assert (m[:, 1, 1] > 0).mean() > 0.9  # leading jet present in nearly every selected event


def test_features_file_matches_in_memory_computation_chunked_and_on_dask(sm_dataset, tmp_path):
    source = sm_dataset / "ttbar"
    config = FeatureConfig(kind="rmm", preset="atlas2024")
    direct = rmm(ingest.read(source), preset="atlas2024")
    write_features(source, tmp_path / "a.npy", config, step=37, workers=0)
    write_features(source, tmp_path / "b.npy", config, step=50, workers=2)
    a, spec = load_feature_file(tmp_path / "a.npy", spec=feature_spec("rmm", "atlas2024"),
                                source_files=events.dataset_files(source))
    b, _ = load_feature_file(tmp_path / "b.npy")
    np.testing.assert_array_equal(a, direct)
    np.testing.assert_array_equal(b, direct)
    assert a.shape == (len(direct), 36, 36)
    assert len(spec.names) == 36 * 36
    assert not list(tmp_path.glob(".*.part"))
    with pytest.raises(EventFileError, match="other features"):
        load_feature_file(tmp_path / "a.npy", spec=feature_spec("rmm", "T5N10"))
    with pytest.raises(EventFileError, match="other event files"):
        load_feature_file(tmp_path / "a.npy", source_files=events.dataset_files(sm_dataset / "wjets"))


@pytest.mark.parametrize(("kind", "width"), [("fourvec", 2 + 4 * 50), ("adc2021", 57)])
def test_cli_writes_alternative_inputs(cli, sm_dataset, tmp_path, kind, width):
    out = tmp_path / f"{kind}.npy"
    code, _, err = cli("features", sm_dataset / "wjets", "-o", out, "--kind", kind)
    assert code == 0, err
    x, spec = load_feature_file(out)
    assert x.shape[1] == width == len(spec.names)
    assert np.isfinite(x).all()
