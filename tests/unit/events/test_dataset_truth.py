"""Datasets tell the truth: an interrupted generation reads as incomplete, a malformed manifest is a clear error,
non-finite kinematics or weights are refused with the file, field and count, negative weights are reported."""

import subprocess
import sys

import numpy as np
import pytest

from anomalyhunt import events, ingest
from anomalyhunt.exceptions import EventFileError
from tests.conftest import make_events


def _dataset(folder, *, complete=True, n_chunks=3, weights=(0.5, 1.5)):
    folder.mkdir()
    files = []
    for i in range(n_chunks if complete else 1):
        ev = make_events([{"jets": [(50, 0.1, 0.2, 5)]}, {}], met=[[10, 0.5], [0, 0]], weight=list(weights))
        events.write(ev, folder / f"chunk-{i:05d}.parquet", metadata={})
        files.append({"file": f"chunk-{i:05d}.parquet"})
    events.write_manifest(folder, {"complete": complete, "n_chunks": n_chunks, "files": files,
                                   "config": {"n_events": 3000, "chunk_size": 1000}})
    return folder


def test_incomplete_dataset_is_an_error_unless_asked_for(tmp_path):
    folder = _dataset(tmp_path / "half", complete=False)
    with pytest.raises(EventFileError, match=r"incomplete dataset \(1 of 3 chunks"):
        ingest.read(folder)
    with pytest.raises(EventFileError, match="incomplete"):
        next(events.iter_chunks(folder))
    assert len(ingest.read(folder, allow_incomplete=True)) == 2
    assert events.completeness(folder) == (1, 3)
    assert events.completeness(_dataset(tmp_path / "whole")) is None
    info = subprocess.run([sys.executable, "-m", "anomalyhunt.cli", "info", str(folder)], capture_output=True,
                          text=True)
    assert info.returncode == 0 and "incomplete: 1 of 3 chunks" in info.stdout


def test_old_manifests_without_a_chunk_count_use_the_config(tmp_path):
    folder = _dataset(tmp_path / "old", complete=False)
    manifest = events.read_manifest(folder)
    del manifest["n_chunks"]
    events.write_manifest(folder, manifest)
    assert events.completeness(folder) == (1, 3)


def test_old_manifests_count_a_last_partial_chunk(tmp_path):
    """2500 events in chunks of 1000 are 3 chunks (the last one of 500): with 2 written the dataset is incomplete,
    not "2 of 2"."""
    folder = _dataset(tmp_path / "old", n_chunks=2)
    manifest = events.read_manifest(folder)
    del manifest["n_chunks"]
    manifest |= {"complete": False, "config": {"n_events": 2500, "chunk_size": 1000}}
    events.write_manifest(folder, manifest)
    assert events.completeness(folder) == (2, 3)
    with pytest.raises(EventFileError, match=r"incomplete dataset \(2 of 3 chunks"):
        ingest.read(folder)


@pytest.mark.parametrize(("content", "message"), [
    ("[1, 2]", "expected a JSON object"),
    ('{"files": "chunk.parquet"}', "'files' must be a list"),
    ('{"files": [{"name": "x"}]}', "'files' must be a list"),
    ('{"files": [{"file": "../../etc/passwd"}]}', "plain file names"),
    ('{"files": [], "complete": "yes"}', "'complete' must be true or false"),
    ('{"files": [], "n_generated": -4}', "'n_generated' must be a non-negative integer"),
    ("{not json", "corrupt manifest"),
])
def test_malformed_manifest_is_a_clear_error(tmp_path, content, message):
    (tmp_path / "manifest.json").write_text(content)
    with pytest.raises(EventFileError, match=message):
        ingest.read(tmp_path)


@pytest.mark.parametrize(("field", "value"), [("jets.pt", np.nan), ("met.pt", np.inf), ("weight", np.nan),
                                              ("jets.eta", -np.inf)])
def test_non_finite_values_are_refused_with_file_field_and_count(tmp_path, field, value):
    good = [{"jets": [(50, 0.1, 0.2, 5), (30, 1.0, 1.0, 3)]}, {"jets": [(40, 0.0, 0.0, 4)]}]
    met, weight = [[10, 0.5], [20, 1.0]], [1.0, 1.0]
    if field == "jets.pt":
        good[0]["jets"][1] = (value, 1.0, 1.0, 3)
    elif field == "jets.eta":
        good[1]["jets"][0] = (40, value, 0.0, 4)
    elif field == "met.pt":
        met[0][0] = value
    else:
        weight[1] = value
    ev = make_events(good, met=met, weight=weight)
    # written with pyarrow directly: our writer is not the only source of files
    import awkward as ak
    import pyarrow.parquet as pq

    pq.write_table(ak.to_arrow_table(ev, extensionarray=True), tmp_path / "bad.parquet")
    with pytest.raises(EventFileError, match=rf"bad.parquet: non-finite values: {field} \(1 values\)"):
        ingest.read(tmp_path / "bad.parquet")


def test_info_reports_the_fraction_of_negative_weights(tmp_path):
    folder = _dataset(tmp_path / "neg", weights=(-0.5, 1.5))
    status, (sample,) = ingest.dataset_summary(folder)
    assert status is None and sample.n_events == 6
    assert sample.negative_weight_fraction == pytest.approx(0.5)
    assert sample.cross_section_pb == pytest.approx(3.0)
    info = subprocess.run([sys.executable, "-m", "anomalyhunt.cli", "info", str(folder)], capture_output=True,
                          text=True)
    assert "50.00% negative weights" in info.stdout
