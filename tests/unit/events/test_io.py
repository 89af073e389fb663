import awkward as ak
import numpy as np
import pytest

from anomalyhunt import events, ingest
from anomalyhunt.exceptions import EventFileError
from tests.conftest import make_events


def _sample():
    return make_events([{"jets": [(50, 0.1, 0.2, 5)], "muons": [(40, -1, 1, 0.1, -1)]}, {}], met=[[10, 0.5], [0, 0]],
                       weight=[0.5, 1.5])


def test_write_read_round_trip_keeps_values_types_and_metadata(tmp_path):
    ev = _sample()
    events.write(ev, tmp_path / "a.parquet", metadata={"process": "ttbar", "seed": 3})
    back = ingest.read(tmp_path / "a.parquet")
    assert back.type == ev.type
    assert ak.to_list(back) == ak.to_list(ev)
    assert events.read_metadata(tmp_path / "a.parquet") == {"process": "ttbar", "seed": 3}


def test_write_refuses_events_off_contract(tmp_path):
    bad = ak.with_field(_sample(), np.zeros(2, dtype=np.float32), "weight")
    with pytest.raises(EventFileError, match="weight"):
        events.write(bad, tmp_path / "a.parquet", metadata={})
    assert not list(tmp_path.iterdir())


def test_schema_problems_name_missing_and_mistyped_fields():
    ev = _sample()
    assert events.schema_problems(ev) == []
    problems = events.schema_problems(ak.without_field(ev, "met"))
    assert problems == ["missing field 'met'"]
    jets = ak.zip({"pt": ev.jets.pt, "eta": ev.jets.eta, "phi": ev.jets.phi})
    assert "jets has no field 'mass'" in events.schema_problems(ak.with_field(ev, jets, "jets"))


@pytest.mark.parametrize("cut", [0, 100, -50])
def test_truncated_or_garbage_file_gives_one_clear_error(tmp_path, cut):
    path = tmp_path / "a.parquet"
    events.write(_sample(), path, metadata={})
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut else b"not parquet at all")
    with pytest.raises(EventFileError, match=str(path)):
        ingest.read(path)


def test_foreign_parquet_file_is_rejected_naming_the_problem(tmp_path):
    path = tmp_path / "foreign.parquet"
    ak.to_parquet(ak.Array([{"x": 1.0}]), path)
    with pytest.raises(EventFileError, match="missing field 'jets'"):
        ingest.read(path)


def test_dataset_folder_reads_files_in_manifest_order_and_iterates_in_chunks(tmp_path):
    ev = _sample()
    events.write(ev, tmp_path / "b.parquet", metadata={})
    events.write(ev[::-1], tmp_path / "a.parquet", metadata={})
    events.write_manifest(tmp_path, {"files": [{"file": "b.parquet"}, {"file": "a.parquet"}]})
    back = ingest.read(tmp_path)
    assert ak.to_list(back.weight) == [0.5, 1.5, 1.5, 0.5]
    sizes = [len(c) for c in events.iter_chunks(tmp_path, step=1)]
    assert sizes == [1, 1, 1, 1]


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(EventFileError, match="no such file"):
        ingest.read(tmp_path / "nothing")


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_written_atomically_get_the_users_umask(tmp_path, umask, mode):
    """Datasets, manifests and reports are written through a temporary name: they must end with the permissions
    an ordinary file gets (colleagues on a shared disk read them), not the 0600 of a temporary file."""
    import os
    import stat

    from anomalyhunt.events.io import atomic_write_text

    previous = os.umask(umask)
    try:
        events.write(_sample(), tmp_path / "a.parquet", metadata={})
        atomic_write_text(tmp_path / "summary.json", "{}")
    finally:
        os.umask(previous)
    for name in ("a.parquet", "summary.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name
