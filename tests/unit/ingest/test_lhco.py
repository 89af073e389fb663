"""The LHC Olympics 2020 reader on a small file written in exactly the published layout (pandas "fixed" format:
group `df`, `block0_values` of 700 x (pT, eta, phi) plus the R&D set's label column), checked against a direct
fastjet run and a brute-force N-subjettiness."""

import math

import awkward as ak
import fastjet
import h5py
import numpy as np
import pytest

from anomalyhunt import ingest
from anomalyhunt.features import dijet_inputs
from anomalyhunt.ingest.formats import detect_format

N_EVENTS = 24


def _spray(rng, pt, eta, phi, n, width):
    """n massless particles around (eta, phi) sharing pt."""
    share = rng.dirichlet(np.ones(n) * 0.7) * pt
    return np.stack([share, eta + rng.normal(0, width, n), phi + rng.normal(0, width, n)], axis=1)


def _write_rnd(path, rng, labelled=True):
    rows = np.zeros((N_EVENTS, 2100 + labelled))
    for i in range(N_EVENTS):
        phi = rng.uniform(-math.pi, math.pi)
        parts = [_spray(rng, 1300, rng.uniform(-1, 1), phi, 45, 0.15),
                 _spray(rng, 1100, rng.uniform(-1, 1), phi + math.pi, 38, 0.25),
                 _spray(rng, 60, 0.0, phi + 1.5, 8, 0.8),
                 np.stack([rng.uniform(0.5, 3, 25), rng.uniform(-4, 4, 25), rng.uniform(-3, 3, 25)], axis=1)]
        p = np.concatenate(parts)
        p[:, 2] = (p[:, 2] + math.pi) % (2 * math.pi) - math.pi
        rows[i, : p.size] = p.ravel()
        if labelled:
            rows[i, -1] = i % 3 == 0
    with h5py.File(path, "w") as f:  # the layout pandas.to_hdf(format="fixed") writes
        group = f.create_group("df")
        group.attrs["pandas_type"] = np.bytes_("frame")
        group.create_dataset("axis0", data=np.arange(rows.shape[1]))
        group.create_dataset("axis1", data=np.arange(N_EVENTS))
        group.create_dataset("block0_items", data=np.arange(rows.shape[1]))
        group.create_dataset("block0_values", data=rows)
    return rows


def _reference(row):
    """Large-R jets of one event by fastjet's own classic interface; tau_N by brute force with exclusive-kt axes."""
    trip = row[:2100].reshape(700, 3)
    trip = trip[trip[:, 0] > 0]
    particles = [fastjet.PseudoJet(pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta), pt * math.cosh(eta))
                 for pt, eta, phi in trip]
    sequence = fastjet.ClusterSequence(particles, fastjet.JetDefinition(fastjet.antikt_algorithm, 1.0))
    jets = [j for j in fastjet.sorted_by_pt(sequence.inclusive_jets(100.0)) if abs(j.eta()) < 2.5]
    out = []
    for j in jets[:2]:
        cons = list(j.constituents())
        taus = []
        for n in (1, 2, 3):
            if len(cons) <= n:
                taus.append(0.0)
                continue
            axes = fastjet.ClusterSequence(cons, fastjet.JetDefinition(fastjet.kt_algorithm, 1000.0)).exclusive_jets(n)
            num = sum(c.pt() * min(math.hypot(c.rap() - a.rap(), math.remainder(c.phi() - a.phi(), 2 * math.pi))
                                   for a in axes) for c in cons)
            taus.append(num / sum(c.pt() for c in cons))
        out.append((j.pt(), j.eta(), j.m(), *taus))
    return np.array(out)


@pytest.fixture(scope="module")
def rnd(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lhco")
    rows = _write_rnd(folder / "events_anomalydetection_small.h5", np.random.default_rng(5))
    path = str(folder / "events_anomalydetection_small.h5")
    # the brute-force reference finds exclusive-kt axes without the minimisation: compare with those axes
    manifest = ingest.import_files(ingest.ImportConfig(inputs=(path,), chunk_size=10,
                                                       cuts={"nsubjettiness_axes": "KT_Axes"}), folder / "rnd",
                                   workers=0)
    default = ingest.import_files(ingest.ImportConfig(inputs=(path,), chunk_size=10), folder / "default", workers=0)
    assert default["object_selection"]["nsubjettiness_axes"] == "OnePass_KT_Axes"
    return rows, manifest, ingest.read(folder / "rnd"), ingest.read(folder / "default")


def test_the_layout_is_recognised_and_the_label_column_names_the_signal(rnd, tmp_path):
    rows, manifest, events, _ = rnd
    assert manifest["format"] == "lhco" and len(events) == N_EVENTS
    assert any("R&D set" in note for note in manifest["notes"])
    labels = np.asarray(events.label)
    np.testing.assert_array_equal(labels, rows[:, -1].astype(np.int8))
    assert set(np.asarray(events.process)[labels == 1]) == {"events_anomalydetection_small_signal"}
    assert set(np.asarray(events.process)[labels == 0]) == {"events_anomalydetection_small"}
    _write_rnd(tmp_path / "blackbox.h5", np.random.default_rng(6), labelled=False)
    assert detect_format(tmp_path / "blackbox.h5") == "lhco"
    with h5py.File(tmp_path / "adc.h5", "w") as f:
        f.create_dataset("Particles", data=np.zeros((2, 19, 4)))
    assert detect_format(tmp_path / "adc.h5") == "adc2021"  # the other HDF5 layout is still the ADC2021 reader's


def test_jets_and_the_six_inputs_match_a_direct_fastjet_run(rnd):
    rows, _, events, minimised = rnd
    inputs = dijet_inputs(events)
    for i, row in enumerate(rows):
        ref = _reference(row)
        got = events.fatjets[i]
        assert len(got) >= 2 and len(ref) == 2
        np.testing.assert_allclose(ak.to_numpy(got.pt[:2]), ref[:, 0], rtol=1e-5)
        np.testing.assert_allclose(ak.to_numpy(got.eta[:2]), ref[:, 1], atol=1e-5)
        np.testing.assert_allclose(ak.to_numpy(got.mass[:2]), ref[:, 2], rtol=1e-4)
        for k in range(3):
            np.testing.assert_allclose(ak.to_numpy(got[f"tau{k + 1}"][:2]), ref[:, 3 + k], rtol=1e-4, atol=1e-6)
        heavier_first = ref[np.argsort(-ref[:, 2])]
        expected = np.concatenate([[j[2], j[4] / j[3], j[5] / j[4]] for j in heavier_first])
        np.testing.assert_allclose(inputs[i], expected, rtol=1e-4)
        # the default, minimised axes: the same jets, each tau_N no larger than on the unminimised axes
        for k in range(3):
            assert np.all(ak.to_numpy(minimised.fatjets[i][f"tau{k + 1}"][:2]) <= ref[:, 3 + k] * (1 + 1e-5) + 1e-7)
    met = np.asarray(events.met.pt)
    assert np.all(met >= 0) and np.all(np.isfinite(met))


def test_a_file_of_another_layout_is_refused(tmp_path):
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f.create_group("df").create_dataset("block0_values", data=np.zeros((3, 50)))
    with pytest.raises(Exception, match="ADC2021|LHC Olympics"):
        ingest.import_files(ingest.ImportConfig(inputs=(str(tmp_path / "x.h5"),), format="lhco"), tmp_path / "d",
                            workers=0)
