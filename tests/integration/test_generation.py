"""Pythia generation end to end: determinism, resumption, cross sections, weights, CLI errors."""

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from anomalyhunt import events, ingest
from anomalyhunt.exceptions import ConfigError
from anomalyhunt.generate import GenerationConfig, generate, generate_many
from anomalyhunt.generate.processes import get_process
from anomalyhunt.generate.pythia import PythiaRun
from anomalyhunt.pipeline import SampleRequest, ensure_samples

CLI = [sys.executable, "-m", "anomalyhunt.cli"]


@pytest.fixture(scope="module")
def ttbar_reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ttbar")
    config = GenerationConfig("ttbar", 300, seed=11, chunk_size=100)
    manifest = generate(config, out, workers=0)
    return config, out, manifest


def test_same_seed_gives_identical_events_on_dask_and_in_process(ttbar_reference, tmp_path):
    config, out, _ = ttbar_reference
    generate(config, tmp_path, workers=2)
    assert ak.to_list(ingest.read(tmp_path)) == ak.to_list(ingest.read(out))


def test_different_seed_gives_different_events(ttbar_reference, tmp_path):
    config, out, _ = ttbar_reference
    generate(GenerationConfig("ttbar", 200, seed=12, chunk_size=200), tmp_path, workers=0)
    first = ingest.read(out)
    other = ingest.read(tmp_path)
    assert ak.to_list(other.jets[:20]) != ak.to_list(first.jets[:20])


def test_manifest_counts_and_weights_sum_to_selected_cross_section(ttbar_reference):
    _, out, manifest = ttbar_reference
    ev = ingest.read(out)
    assert manifest["complete"] and manifest["n_generated"] == 300
    assert manifest["n_selected"] == len(ev) > 0
    assert np.sum(ev.weight) == pytest.approx(manifest["selected_sigma_pb"], rel=1e-9)
    assert len(np.unique(ev.event_id)) == len(ev)
    meta = events.read_metadata(out / manifest["files"][0]["file"])
    for key in ("generator_version", "process", "seed", "detector_preset", "selection", "sqrt_s", "chunk",
                "package_version"):
        assert key in meta


def test_ttbar_cross_section_near_the_leading_order_value(ttbar_reference):
    # LO ttbar at 13 TeV is about 500 pb; Pythia's estimate must be within 30%.
    _, _, manifest = ttbar_reference
    assert manifest["sigma_pb"] == pytest.approx(500.0, rel=0.3)


def test_bias_weight_formula_matches_pythia_event_weights():
    # Pythia biases with the pTHat of its massless phase-space point; info.pTHat() is reported after the
    # heavy-quark mass correction, so the two differ by up to ~0.5% for c/b final states, exact otherwise.
    run = PythiaRun(get_process("qcd").pythia_settings(), seed=5)
    weights, expected = np.array([run.next_weight() for _ in range(200)]).T
    expected = (50.0 / expected) ** 4
    assert weights == pytest.approx(expected, rel=1e-2)
    assert np.mean(np.isclose(weights, expected, rtol=1e-9)) > 0.5
    assert np.ptp(weights) > 0.01


def test_datasets_generated_together_match_alone_and_each_resumes(ttbar_reference, tmp_path, generation_client):
    """generate_many: the chunks of two datasets on one client at once; each dataset is what `generate` makes
    alone, its manifest what its own chunk files say, and a lost chunk is redone without touching the other."""
    config, out, _ = ttbar_reference
    jobs = [(config, tmp_path / "tt"), (GenerationConfig("wjets", 100, seed=11, chunk_size=100), tmp_path / "w")]
    seen = []
    manifests = generate_many(jobs, client=generation_client, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 4) and seen[-1] == (4, 4) and len(seen) == 5
    assert ak.to_list(ingest.read(tmp_path / "tt")) == ak.to_list(ingest.read(out))
    for (job, folder), manifest in zip(jobs, manifests, strict=True):
        assert manifest["complete"] and manifest["sample"] == job.sample and manifest["n_generated"] == job.n_events
        assert len(ingest.read(folder)) == manifest["n_selected"]
        assert generate(job, folder, workers=0) == manifest  # rebuilt from the chunk files alone: the same
    untouched = (tmp_path / "w" / "chunk-00000.parquet").stat().st_mtime_ns
    (tmp_path / "tt" / "chunk-00001.parquet").unlink()
    (tmp_path / "tt" / ".chunk-00001.parquet.abc.part").write_bytes(b"half")  # a killed writer's temporary
    seen.clear()
    again = generate_many(jobs, client=generation_client, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(3, 4), (4, 4)] and again == manifests
    assert not list((tmp_path / "tt").glob(".*.part"))
    assert ak.to_list(ingest.read(tmp_path / "tt")) == ak.to_list(ingest.read(out))
    assert (tmp_path / "w" / "chunk-00000.parquet").stat().st_mtime_ns == untouched


def test_generate_many_checks_every_folder_before_generating(ttbar_reference, tmp_path):
    config, out, _ = ttbar_reference
    fresh = tmp_path / "fresh"
    with pytest.raises(ConfigError, match="share one folder"):
        generate_many([(config, fresh), (config, tmp_path / "x" / ".." / "fresh")], workers=0)
    other = GenerationConfig("ttbar", 300, seed=12, chunk_size=100)  # `out` holds the seed-11 dataset
    with pytest.raises(ConfigError, match="holds a different dataset"):
        generate_many([(config, fresh), (other, out)], workers=0)
    assert not list(fresh.glob("*.parquet"))  # refused before the first dataset's first event


def test_killed_run_resumes_to_exactly_the_requested_events(ttbar_reference, tmp_path):
    config, out, _ = ttbar_reference
    args = [*CLI, "generate", "--process", "ttbar", "--events", "300", "--seed", "11", "--chunk-size", "100",
            "--workers", "0", "--out", str(tmp_path)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while not (tmp_path / "chunk-00000.parquet").exists() and time.time() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (events.read_manifest(tmp_path)["complete"])
    subprocess.run(args, check=True, capture_output=True)
    manifest = events.read_manifest(tmp_path)
    assert manifest["complete"] and manifest["n_generated"] == 300
    assert ak.to_list(ingest.read(tmp_path)) == ak.to_list(ingest.read(out))


def test_rerun_into_a_folder_of_another_dataset_is_refused(ttbar_reference):
    _, out, _ = ttbar_reference
    with pytest.raises(ConfigError, match="different dataset"):
        generate(GenerationConfig("ttbar", 300, seed=99, chunk_size=100), out, workers=0)


def test_dataset_made_with_another_preset_definition_is_neither_reused_nor_extended(ttbar_reference, tmp_path):
    """A preset whose numbers changed since a dataset was made (here: its jet threshold, as recorded in the
    manifest) makes the dataset stale: `generate` refuses it by name, and a run regenerates nothing from it."""
    import shutil

    from anomalyhunt.generate import detector_changes
    from anomalyhunt.pipeline.generation import _done
    from anomalyhunt.pipeline.runconfig import SampleRequest

    config, out, _ = ttbar_reference
    old = tmp_path / "old"
    shutil.copytree(out, old)
    manifest = events.read_manifest(old)
    assert detector_changes(manifest, "chekanov2022") == []
    request = SampleRequest("ttbar", 300, seed=11, chunk_size=100, out=str(old))
    assert _done(request) is not None
    manifest["detector"]["jet_pt_min"] = 35.0
    del manifest["detector"]["fake_e"]  # a field added later counts as its default (0), which differs here
    events.write_manifest(old, manifest)
    assert detector_changes(manifest, "chekanov2022") == ["jet_pt_min: 35.0 -> 40.0", "fake_e: 0.0 -> 0.01"]
    assert _done(request) is None
    with pytest.raises(ConfigError, match="another definition of detector preset 'chekanov2022'.*jet_pt_min"):
        generate(config, old, workers=0)


def test_a_fake_lepton_process_needs_a_preset_with_fake_rates():
    with pytest.raises(ConfigError, match="no fake rates"):
        GenerationConfig("qcd_fake_lepton", 10, preset="atlas2024")


def _cli(*args):
    return subprocess.run([*CLI, *args], capture_output=True, text=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "--process", "nope", "--events", "10", "--out", "{tmp}/x"], "unknown process 'nope'"),
        (["generate", "--process", "ttbar", "--events", "-5", "--out", "{tmp}/x"], "n_events must be a positive"),
        (["generate", "--process", "ssm_zprime", "--param", "mass=-1", "--events", "5", "--out", "{tmp}/x"],
         "must be a positive"),
        (["generate", "--process", "ttbar", "--events", "10", "--out", "{tmp}/file.txt/x"], "not writable"),
        (["info", "{tmp}/corrupt.parquet"], "not a readable Parquet file"),
    ],
)
def test_cli_bad_input_gives_one_line_and_nonzero_exit(tmp_path, args, message):
    (tmp_path / "file.txt").write_text("a file, not a folder")
    (tmp_path / "corrupt.parquet").write_bytes(b"PAR1 garbage")
    result = _cli(*[a.format(tmp=tmp_path) for a in args])
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not Path(tmp_path / "x").exists()


def test_cli_lists_processes():
    result = _cli("processes")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    for name in ("qcd", "wjets", "zjets", "ttbar", "single_top", "diboson", "zz4l", "ssm_wprime", "ssm_zprime",
                 "charged_higgs", "dm_zprime"):
        assert name in names


def test_batch_weights_are_pythias_own_event_weights():
    # nextBatch runs next() event by event: with one seed the two runs see the same events, so the weights our
    # batches carry (recomputed from the bias settings) must be Pythia's info.weight() event by event.
    settings = get_process("qcd").pythia_settings()
    ours = np.concatenate([b.weights for b in PythiaRun(settings, seed=5).batches(150, batch_size=50)])
    reference = PythiaRun(settings, seed=5)
    pythia = np.array([reference.next_weight()[0] for _ in range(150)])
    assert ours == pytest.approx(pythia, rel=1e-2)
    assert np.ptp(np.log(pythia)) > 2  # the bias spreads the weights over orders of magnitude


def test_total_weight_does_not_depend_on_the_chunking(tmp_path, generate_together):
    # each chunk carries its share n_chunk / N of its own cross-section estimate: 1 or 4 chunks, same total
    sizes = (800, 200)
    folders = generate_together([(GenerationConfig("ttbar", 800, seed=31, chunk_size=c), tmp_path / f"c{c}")
                                 for c in sizes])
    totals = {}
    for chunk_size, out in zip(sizes, folders, strict=True):
        manifest = events.read_manifest(out)
        assert len(manifest["files"]) == 800 // chunk_size
        totals[chunk_size] = np.sum(ingest.read(out).weight) / (manifest["n_selected"] / manifest["n_generated"])
        assert totals[chunk_size] == pytest.approx(manifest["sigma_pb"], rel=0.1)
    assert totals[200] == pytest.approx(totals[800], rel=0.15)


def test_no_two_chunks_share_events(ttbar_reference):
    _, out, manifest = ttbar_reference
    assert len(manifest["files"]) == 3
    keys = []
    for entry in manifest["files"]:
        ev = ingest.read(out / entry["file"])
        keys.append({(round(float(m), 4), len(j)) + tuple(np.round(ak.to_numpy(j.pt[:2]), 4))
                     for m, j in zip(ev.met.pt, ev.jets, strict=True)})
    assert not (keys[0] & keys[1]) and not (keys[1] & keys[2]) and not (keys[0] & keys[2])


def test_a_runs_missing_samples_are_made_together_and_then_reused(tmp_path, generation_client, caplog):
    """ensure_samples on a scheduler: both samples in one go (one progress line over their 3 chunks), and a
    second call finds them finished and generates nothing."""
    requests = (SampleRequest("ttbar", 100, seed=3, chunk_size=100, out=str(tmp_path / "tt")),
                SampleRequest("wjets", 100, seed=3, chunk_size=50, out=str(tmp_path / "w")))
    address = generation_client.scheduler.address
    with caplog.at_level(logging.INFO, logger="anomalyhunt"):
        records = ensure_samples(requests, scheduler=address)
    assert [(r["sample"], r["n_generated"]) for r in records] == [("ttbar", 100), ("wjets", 100)]
    assert "generating 2 samples: 3/3 chunk" in caplog.text
    written = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.parquet")}
    assert len(written) == 3
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="anomalyhunt"):
        assert ensure_samples(requests, scheduler=address) == records
    assert "generating" not in caplog.text
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.parquet")} == written
