"""ADC2021 HDF5 files: a file written by hand in the public layout reads into the contract, and round trips."""

import awkward as ak
import h5py
import numpy as np
import pytest

from anomalyhunt.events import schema_problems
from anomalyhunt.exceptions import EventFileError
from anomalyhunt.features import adc2021_slots
from anomalyhunt.ingest import read_adc2021, write_adc2021
from tests.conftest import make_events


def _hand_written(path, n=3):
    """The public layout, filled slot by slot: (N, 19, 4) float64 [pT, eta, phi, class]."""
    p = np.zeros((n, 19, 4))
    p[:, 0] = [[35.0, 0.0, 1.2, 1], [10.0, 0.0, -0.4, 1], [0.5, 0.0, 3.0, 1]]
    p[0, 1] = [40.0, 0.5, 0.1, 2]           # one electron
    p[0, 5:7] = [[30.0, -1.0, 2.0, 3], [25.0, 1.5, -2.0, 3]]  # two muons
    p[0, 9:12] = [[120.0, 0.3, 0.3, 4], [60.0, -3.5, 1.0, 4], [20.0, 2.0, -1.0, 4]]
    p[1, 5] = [24.0, 0.2, 0.2, 3]
    p[2, 9:19, 0] = np.linspace(200, 20, 10)
    p[2, 9:19, 3] = 4
    with h5py.File(path, "w") as f:
        f.create_dataset("Particles", data=p)
        f.create_dataset("Particles_Names", data=[b"Pt", b"Eta", b"Phi", b"Class"])
    return p


def test_a_file_in_the_public_layout_reads_into_the_contract(tmp_path):
    p = _hand_written(tmp_path / "background.h5")
    events = read_adc2021(tmp_path / "background.h5", cross_section_pb=30.0)
    assert schema_problems(events) == []
    assert ak.num(events.electrons).tolist() == [1, 0, 0]
    assert ak.num(events.muons).tolist() == [2, 1, 0]
    assert ak.num(events.jets).tolist() == [3, 0, 10]
    assert events.jets[0].eta.tolist() == pytest.approx([0.3, -3.5, 2.0])
    assert events.met.pt.tolist() == pytest.approx([35.0, 10.0, 0.5])
    assert np.allclose(events.weight, 10.0) and set(events.process.to_list()) == {"background"}
    # and the 57-number feature layout gives back the file's (pT, eta, phi) columns
    np.testing.assert_allclose(adc2021_slots(events), p[:, :, :3].reshape(3, 57), rtol=1e-6)


def test_the_published_files_quirks_read_as_they_are(tmp_path):
    """What the challenge's own files hold beyond the bare layout: the black-box file's int64 `EvtId`, the
    `Particles_Classes` names, and jet slots emptied after the fact (the organisers zeroed pT and eta of jets
    beyond |eta| = 4 but left phi and class 4), which can sit between filled slots."""
    p = np.zeros((2, 19, 4))
    p[:, 0] = [[50.0, 0.0, 0.7, 1], [20.0, 0.0, -1.1, 1]]
    p[0, 1] = [30.0, 0.4, 0.2, 2]
    p[0, 9:12] = [[150.0, 1.0, 0.5, 4], [0.0, 0.0, 1.7, 4], [40.0, -2.0, -0.3, 4]]  # slot 10 emptied
    p[1, 5] = [25.0, -0.5, 2.5, 3]
    p[1, 9] = [0.0, 0.0, -2.9, 4]  # the only jet emptied
    with h5py.File(tmp_path / "BlackBox.h5", "w") as f:
        f.create_dataset("Particles", data=p, compression="gzip")
        f.create_dataset("Particles_Names", data=[b"Pt", b"Eta", b"Phi", b"Class"])
        f.create_dataset("Particles_Classes",
                         data=[b"MET_class_1", b"Four_Ele_class_2", b"Four_Mu_class_3", b"Ten_Jet_class_4"])
        f.create_dataset("EvtId", data=np.array([7001, 7002], dtype=np.int64))
    events = read_adc2021(tmp_path / "BlackBox.h5")
    assert schema_problems(events) == []
    assert events.event_id.tolist() == [7001, 7002]
    assert ak.num(events.jets).tolist() == [2, 0]
    assert events.jets[0].pt.tolist() == [150.0, 40.0] and events.jets[0].phi.tolist() == pytest.approx([0.5, -0.3])
    # the 57 inputs pack the remaining jets (the file keeps the hole and the stale phi in slot 10)
    assert adc2021_slots(events)[0, 27:33].tolist() == pytest.approx([150.0, 1.0, 0.5, 40.0, -2.0, -0.3])


def test_write_then_read_round_trips_the_kinematics(tmp_path):
    events = make_events([
        {"jets": [(80.0, 0.1, 0.2, 5.0)], "bjets": [(120.0, -0.5, 1.0, 4.0)],
         "muons": [(30.0, 1.0, -1.0, 0.1, 1)], "electrons": [(50.0, 0.0, 0.5, 0.0, -1)]},
        {"electrons": [(26.0, 2.0, 3.0, 0.0, 1)]},
    ], met=[[40.0, 1.0], [5.0, -2.0]])
    write_adc2021(events, tmp_path / "x.h5")
    again = read_adc2021(tmp_path / "x.h5", process="x", label=1)
    np.testing.assert_allclose(adc2021_slots(again), adc2021_slots(events))
    assert again.jets[0].pt.tolist() == [120.0, 80.0]  # b-jets merged in, by pT
    assert again.label.tolist() == [1, 1]


def test_bad_files_are_refused(tmp_path):
    with h5py.File(tmp_path / "wrong.h5", "w") as f:
        f.create_dataset("Particles", data=np.zeros((2, 18, 4)))
    with pytest.raises(EventFileError, match=r"\(N, 19, 4\)"):
        read_adc2021(tmp_path / "wrong.h5")
    p = np.zeros((1, 19, 4))
    p[0, 1] = [10.0, 0.0, 0.0, 3]  # a muon in an electron row
    with h5py.File(tmp_path / "mixed.h5", "w") as f:
        f.create_dataset("Particles", data=p)
    with pytest.raises(EventFileError, match="electrons"):
        read_adc2021(tmp_path / "mixed.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(EventFileError, match="cannot read"):
        read_adc2021(tmp_path / "text.h5")
