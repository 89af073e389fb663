"""A run folder is whole or absent; an existing one is refused unless overwritten, and then replaced whole."""

import os
import subprocess
import sys

import pytest

from anomalyhunt.events import MANIFEST
from anomalyhunt.exceptions import ConfigError
from anomalyhunt.pipeline import RunFolder
from anomalyhunt.pipeline.run_folder import MARKER


def test_a_failed_run_leaves_nothing(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(RuntimeError), RunFolder(out) as folder:
        (folder / "summary.json").write_text("{}")
        raise RuntimeError("training diverged")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_success_renames_into_place_and_existing_is_refused(tmp_path):
    out = tmp_path / "run"
    with RunFolder(out) as folder:
        assert folder != out and folder.parent == tmp_path and (folder / "plots").is_dir()
        (folder / "summary.json").write_text("{}")
    assert (out / "summary.json").exists() and [p.name for p in tmp_path.iterdir()] == ["run"]
    with pytest.raises(ConfigError, match="--overwrite"):
        RunFolder(out)


def test_overwrite_replaces_the_folder_whole(tmp_path):
    out = tmp_path / "run"
    with RunFolder(out) as folder:
        (folder / "plots" / "stale_plot.png").write_text("old")
    with RunFolder(out, overwrite=True) as folder:
        assert (out / "plots" / "stale_plot.png").exists()  # the old run stays until the new one is complete
        (folder / "summary.json").write_text("{}")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "plots", "summary.json"]
    assert not any((out / "plots").iterdir())
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_overwrite_replaces_only_run_folders(tmp_path):
    """--overwrite never removes a dataset or a folder the tool did not write as a run; an empty folder, or a run
    folder of an earlier version (config.json and provenance.json, no marker), may be replaced."""
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / MANIFEST).write_text("{}")
    (dataset / "chunk-00000.parquet").write_text("events")
    other = tmp_path / "notes"
    other.mkdir()
    (other / "thesis.tex").write_text("years of work")
    for folder, what in ((dataset, "an event dataset"), (other, "not a run folder")):
        with pytest.raises(ConfigError, match=what):
            RunFolder(folder, overwrite=True)
    assert (dataset / "chunk-00000.parquet").read_text() == "events" and (other / "thesis.tex").exists()
    # a folder that looks like an old run (config and provenance) but holds a dataset is not replaced either
    mixed = tmp_path / "mixed"
    (mixed / "data").mkdir(parents=True)
    for name in ("config.json", "provenance.json"):
        (mixed / name).write_text("{}")
    (mixed / "data" / MANIFEST).write_text("{}")
    with pytest.raises(ConfigError, match="not a run folder"):
        RunFolder(mixed, overwrite=True)
    empty, old = tmp_path / "empty", tmp_path / "old_run"
    empty.mkdir()
    old.mkdir()
    for name in ("config.json", "provenance.json", "summary.json"):
        (old / name).write_text("{}")
    for folder in (empty, old):
        with RunFolder(folder, overwrite=True) as partial:
            (partial / "summary.json").write_text("{}")
        assert (folder / MARKER).is_file()


@pytest.mark.parametrize("where", ["same", "parent", "inside"])
def test_a_run_may_not_write_over_its_inputs(tmp_path, where):
    """--out may not be, contain, or lie inside an input: refused before anything is touched, overwrite or not."""
    samples = tmp_path / "data"
    sample = samples / "ttbar"
    sample.mkdir(parents=True)
    (sample / MANIFEST).write_text("{}")
    out = {"same": sample, "parent": samples, "inside": sample / "run"}[where]
    for overwrite in (False, True):
        with pytest.raises(ConfigError, match="input"):
            RunFolder(out, overwrite=overwrite, inputs=(str(sample), "data/other"))
    assert sorted(p.name for p in sample.iterdir()) == [MANIFEST]


def test_leftovers_of_a_killed_run_are_removed_and_a_live_one_is_respected(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".run.partial-{int(dead.stdout)}"
    stale.mkdir()
    (stale / "model.pt").write_text("half")
    with RunFolder(tmp_path / "run") as folder:
        (folder / "x").write_text("")
    assert not stale.exists()
    live = tmp_path / f".other.partial-{os.getppid()}"
    live.mkdir()
    with pytest.raises(ConfigError, match="another run"):
        RunFolder(tmp_path / "other")


def test_output_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(ConfigError, match="a file of that name exists"):
        RunFolder(tmp_path / "afile")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        RunFolder(tmp_path / "afile" / "run")
