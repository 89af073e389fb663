"""A run folder is whole or absent; an existing one is refused unless overwritten, and then replaced whole."""

import os
import subprocess
import sys

import pytest

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.pipeline import RunFolder


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
    out.mkdir()
    (out / "stale_plot.png").write_text("old")
    with RunFolder(out, overwrite=True) as folder:
        assert (out / "stale_plot.png").exists()  # the old run stays until the new one is complete
        (folder / "summary.json").write_text("{}")
    assert sorted(p.name for p in out.iterdir()) == ["plots", "summary.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


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
