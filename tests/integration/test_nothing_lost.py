"""Nothing lost, nothing silent: hostile but realistic inputs, each one clear line and exit 2 from the command a
user types, with nothing deleted and nothing half-written (one test per case; tiny datasets, no training)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from anomalyhunt import events as ev
from anomalyhunt import ingest
from anomalyhunt.cli import main
from anomalyhunt.events.io import read_manifest, write_manifest
from anomalyhunt.exceptions import EventFileError
from anomalyhunt.generate import GenerationConfig, generate
from anomalyhunt.generate.runner import ChunkSummary, _manifest

ROOT = Path(__file__).resolve().parents[2]
TESTDATA = Path(os.environ.get("ANOMALYHUNT_TESTDATA", ROOT.parent / "shared" / "testdata"))
needs_testdata = pytest.mark.skipif(not TESTDATA.is_dir(), reason=f"{TESTDATA} (the shared real test files) is absent")
LHE = "pylhe-testfile-madgraph-2.0.0-wbj.lhe"


def _cli(cli, *argv) -> tuple[int, str]:
    """Exit code and the error output of one quiet command (the `cli` fixture)."""
    code, _, err = cli("-q", *argv)
    return code, err.strip()


def _tree(path: Path) -> dict[str, int]:
    """Every file under `path` with its size: what must be unchanged after a refused command."""
    return {str(p.relative_to(path)): p.stat().st_size for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """A ttbar dataset of three chunks and a W' (3 TeV) dataset of one, generated in this process (~3 s)."""
    root = tmp_path_factory.mktemp("datasets")
    generate(GenerationConfig(process="ttbar", n_events=30, chunk_size=10, seed=3), root / "ttbar", workers=0)
    generate(GenerationConfig(process="ssm_wprime", n_events=10, chunk_size=10, seed=3, params={"mass": 3000.0}),
             root / "wprime", workers=0)
    return root


@pytest.fixture
def samples(datasets, tmp_path):
    """A fresh copy of the datasets for a test that damages them."""
    shutil.copytree(datasets, tmp_path / "data")
    return tmp_path / "data"


def _run_config(tmp_path: Path, samples: Path) -> Path:
    config = tmp_path / "search.yaml"
    config.write_text(f"method: rmm_autoencoder\nsamples: [{samples / 'ttbar'}, {samples / 'wprime'}]\n")
    return config


# ----------------------------------------------------------------- rows 1-2: a run never deletes its inputs
@pytest.mark.parametrize("target", ["ttbar", "."])
def test_a_run_refuses_to_write_over_its_own_samples(cli, tmp_path, samples, target):
    before = _tree(samples)
    code, err = _cli(cli, "run", _run_config(tmp_path, samples), "--out", samples / target, "--overwrite")
    assert code == 2 and err.count("\n") == 0 and "input" in err, err
    assert _tree(samples) == before


def test_overwrite_refuses_a_dataset_that_is_not_an_input(cli, tmp_path, samples):
    """Not an input of this run, but a dataset: --overwrite only ever replaces run folders."""
    config = tmp_path / "search.yaml"
    config.write_text(f"method: rmm_autoencoder\nsamples: [{samples / 'wprime'}]\n")
    before = _tree(samples)
    code, err = _cli(cli, "run", config, "--out", samples / "ttbar", "--overwrite")
    assert code == 2 and "event dataset" in err and _tree(samples) == before


# ----------------------------------------------------------------- rows 3-5: datasets checked chunk by chunk
def test_features_refuse_an_interrupted_generation_unless_asked(cli, tmp_path, samples):
    folder = samples / "ttbar"
    config = GenerationConfig(process="ttbar", n_events=30, chunk_size=10, seed=3)  # the fixture's: 3 chunks
    manifest = read_manifest(folder)
    summaries = [ChunkSummary(**f) for f in manifest["files"][:2]]
    (folder / manifest["files"][2]["file"]).unlink()
    write_manifest(folder, _manifest(config, summaries))  # what a generation killed after 2 of 3 chunks leaves
    out = tmp_path / "rmm.npy"
    code, err = _cli(cli, "features", folder, "-o", out)
    assert code == 2 and "incomplete dataset (2 of 3 chunks" in err and "--allow-incomplete" in err
    assert not out.exists() and not list(tmp_path.glob(".rmm.npy*"))
    code, _ = _cli(cli, "features", folder, "-o", out, "--allow-incomplete")
    assert code == 0 and len(np.load(out)) == sum(s.n_selected for s in summaries)


def test_a_chunk_of_another_dataset_is_refused_by_every_reader(cli, tmp_path, samples):
    ttbar = samples / "ttbar"
    shutil.copy(samples / "wprime" / "chunk-00000.parquet", ttbar / "chunk-00001.parquet")
    for argv in (["info", ttbar], ["features", ttbar, "-o", tmp_path / "x.npy"], ["plot-rmm", ttbar, "--out",
                                                                                   tmp_path / "plots"]):
        code, err = _cli(cli, *argv)
        assert code == 2 and "chunk-00001.parquet: belongs to another dataset" in err, (argv, err)
    with pytest.raises(EventFileError, match="another dataset"):
        ingest.read(ttbar)
    assert not (tmp_path / "x.npy").exists()


def test_a_chunk_whose_event_count_disagrees_is_refused_naming_both_counts(cli, samples):
    folder = samples / "ttbar"
    manifest = read_manifest(folder)
    held = manifest["files"][1]["n_selected"]
    manifest["files"][1]["n_selected"] = 5000
    write_manifest(folder, manifest)
    code, err = _cli(cli, "info", folder)
    assert code == 2 and f"chunk-00001.parquet: holds {held} events, the manifest says 5000" in err


# ----------------------------------------------------------------- rows 6-7: parameters checked before any folder
@pytest.mark.parametrize(("value", "match"), [("inf", "positive finite number"), ("nan", "positive finite number"),
                                              ("1e30", "cannot be produced at sqrt"), ("14000", "cannot be produced"),
                                              ("13000", "cannot be produced")])
def test_unphysical_parameters_are_refused_before_any_folder_exists(cli, tmp_path, value, match):
    out = tmp_path / "wprime"
    start = time.perf_counter()
    code, err = _cli(cli, "generate", "--process", "ssm_wprime", "--events", 100, "--param", f"mass={value}",
                     "--out", out, "--workers", 0)
    assert code == 2 and match in err and err.count("\n") == 0, err
    assert time.perf_counter() - start < 10 and not out.exists()


# ----------------------------------------------------------------- rows 8-9: configs of bounded size and depth
@pytest.mark.parametrize(("text", "match"), [
    ("method: rmm_autoencoder\nregions_pb: " + "[" * 50_000 + "]" * 50_000 + "\n", "nested"),
    ("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{k}: &{k} [{', '.join([f'*{p}'] * 10)}]\n" for p, k in zip("abcdefgh", "bcdefghi", strict=True))
     + "method: rmm_autoencoder\nregions_pb: *i\n", "expands to more than"),
    ("method: rmm_autoencoder\nregions_pb: &x [1, *x]\n", "contains it"),
    ("method: rmm_autoencoder\nregions_pb: " + "[" * 60 + "1" + "]" * 60 + "\n", "nested more than 40 levels"),
])
def test_a_pathological_config_is_one_line_and_quick(cli, tmp_path, text, match):
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    start = time.perf_counter()
    code, err = _cli(cli, "run", config, "--out", tmp_path / "run")
    assert code == 2 and match in err and err.count("\n") == 0
    assert time.perf_counter() - start < 10 and not (tmp_path / "run").exists()


# ------------------------------------------------------------- rows 10-13: imports that refuse what they cannot read
def _lhe_text() -> str:
    return (TESTDATA / LHE).read_text()


@needs_testdata
def test_a_truncated_lhe_file_is_refused_naming_where_it_breaks(cli, tmp_path):
    text = _lhe_text()
    starts = [i for i in range(len(text)) if text.startswith("<event", i)]
    cut = tmp_path / "cut.lhe"
    cut.write_text(text[: starts[50] + 200])  # inside event 51 of 59
    code, err = _cli(cli, "import", cut, "-o", tmp_path / "out", "--workers", 0)
    assert code == 2 and "cut.lhe: cut off inside event 51" in err and "50 whole events" in err
    assert not (tmp_path / "out").exists()
    ended = tmp_path / "ended.lhe"  # cut between two events: every event whole, the closing tag missing
    ended.write_text(text[: starts[50]])
    code, err = _cli(cli, "import", ended, "-o", tmp_path / "out", "--workers", 0)
    assert code == 2 and "no closing </LesHouchesEvents> tag after 50 events" in err


@needs_testdata
def test_non_finite_momenta_in_an_lhe_file_are_refused_naming_event_field_and_count(cli, tmp_path):
    lines = _lhe_text().splitlines(keepends=True)
    opened = [i for i, line in enumerate(lines) if line.strip().startswith("<event")]
    particle = lines[opened[36] + 2].split()  # event 37, its first particle line
    particle[6], particle[9] = "NaN", "nan"
    lines[opened[36] + 2] = " ".join(particle) + "\n"
    bad = tmp_path / "nan.lhe"
    bad.write_text("".join(lines))
    code, err = _cli(cli, "import", bad, "-o", tmp_path / "out", "--workers", 0)
    assert code == 2 and "nan.lhe: non-finite values" in err
    assert "px (1 value, first in event 37)" in err and "E (1 value, first in event 37)" in err


@needs_testdata
def test_an_lhe_file_read_as_hepmc_is_refused(cli, tmp_path):
    code, err = _cli(cli, "import", TESTDATA / LHE, "--format", "hepmc", "-o", tmp_path / "out", "--workers", 0)
    assert code == 2 and "not a HepMC file" in err and not (tmp_path / "out").exists()


@needs_testdata
def test_the_same_input_twice_is_refused(cli, tmp_path):
    copy = tmp_path / "copy.lhe"
    shutil.copy(TESTDATA / LHE, copy)
    for argv in ([TESTDATA / LHE, TESTDATA / LHE], [TESTDATA / LHE, copy]):
        code, err = _cli(cli, "import", *argv, "-o", tmp_path / "out", "--workers", 0)
        assert code == 2 and ("given twice" in err or "the same content" in err), err
    assert not (tmp_path / "out").exists()


@needs_testdata
def test_an_import_may_not_write_among_its_inputs(cli, tmp_path):
    shutil.copy(TESTDATA / LHE, tmp_path / LHE)
    code, err = _cli(cli, "import", tmp_path / LHE, "-o", tmp_path, "--workers", 0)
    assert code == 2 and "holds the input" in err and sorted(p.name for p in tmp_path.iterdir()) == [LHE]


def test_garbage_hepmc_is_our_line_only(capfd, tmp_path):
    """HepMC3's reader prints ERROR::ReaderAscii lines to C stderr; only our line may reach the terminal."""
    bad = tmp_path / "garbage.hepmc3"
    bad.write_text("HepMC::Version 3.02.06\nHepMC::Asciiv3-START_EVENT_LISTING\nE 0 3 x\nP 1 0 oops\nU GEV MM\n"
                   "this is no event\nHepMC::Asciiv3-END_EVENT_LISTING\n")
    try:
        code = main(["-q", "import", str(bad), "-o", str(tmp_path / "out"), "--workers", "0"])
    except SystemExit as exc:
        code = exc.code
    err = capfd.readouterr().err.strip()
    assert code == 2 and err.startswith("anomalyhunt: error:") and "ERROR::" not in err and err.count("\n") == 0


# ----------------------------------------------------------------- rows 14-15: one line, nothing left
@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux's read-only /sys")
def test_an_unwritable_feature_output_is_one_line(cli, datasets):
    code, err = _cli(cli, "features", datasets / "wprime", "-o", "/sys/kernel/x.npy")
    assert code == 2 and err.startswith("anomalyhunt: error: /sys/kernel/x.npy") and err.count("\n") == 0


def test_the_cms_comparison_refuses_a_crafted_model_and_leaves_nothing(tmp_path):
    import torch

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {tmp_path / 'pwned'}",)

    crafted = tmp_path / "crafted.pt"
    torch.save({"format": "anomalyhunt-model", "x": Payload()}, crafted)
    out = tmp_path / "comparison"
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "compare_to_cms.py"), "--cms", str(tmp_path),
                           "--generated", str(tmp_path), "--model", str(crafted), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0, done.stderr
    assert "could run code" in done.stderr and "weights_only" not in done.stderr
    assert not out.exists() and not (tmp_path / "pwned").exists()


# ----------------------------------------------------------------- also seen
def test_argparse_errors_are_one_line_alone(cli):
    code, err = _cli(cli, "generate", "--process", "ttbar", "--events", 10, "--seed", "abc", "--out", "x")
    assert code == 2 and err.count("\n") == 0 and "invalid int value: 'abc'" in err and "usage:" not in err
    code, err = _cli(cli, "generate", "--process", "ttbar", "--events", 10, "--param", "mass=abc", "--out", "x")
    assert code == 2 and err.count("\n") == 0 and "--param expects NAME=NUMBER" in err


def test_an_injection_of_an_unknown_sample_is_refused_before_anything_is_generated(cli, tmp_path):
    config = tmp_path / "search.yaml"
    config.write_text(f"method: rmm_autoencoder\ngenerate:\n  - {{process: ttbar, events: 100, out: {tmp_path}/tt}}\n"
                      "inject: {ssm_wprime_2000: 1.0}\n")
    code, err = _cli(cli, "run", config, "--out", tmp_path / "run")
    assert code == 2 and "inject names samples this run does not read: ['ssm_wprime_2000']" in err
    assert "its samples: ttbar" in err and not (tmp_path / "tt").exists()


def test_info_and_read_accept_an_intact_dataset(cli, datasets):
    """The checks above refuse damage, not data: the intact datasets read as they were written."""
    code, _ = _cli(cli, "info", datasets / "ttbar")
    assert code == 0
    manifest = json.loads((datasets / "ttbar" / "manifest.json").read_text())
    assert len(ingest.read(datasets / "ttbar")) == manifest["n_selected"] and manifest["dataset_id"]
    assert all(ev.read_metadata(datasets / "ttbar" / f["file"])["dataset_id"] == manifest["dataset_id"]
               for f in manifest["files"])


def test_version_and_a_help_written_for_users(capsys):
    from anomalyhunt import __version__

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"anomalyhunt {__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "Heavy imports" not in text and "new physics at the LHC" in text
