import numpy as np
import pytest

from anomalyhunt.features import adc2021_names, adc2021_slots, four_vector_names, padded_four_vectors
from tests.conftest import make_events


def test_padded_four_vectors_place_objects_by_type_and_pad_with_zeros():
    events = make_events([{"jets": [(30.0, 0.0, 0.0, 0.0), (100.0, 1.0, np.pi / 2, 10.0)],
                           "muons": [(50.0, 0.0, np.pi, 0.0, 1)]}], met=[[20.0, 0.0]])
    x = padded_four_vectors(events, preset={"jets": 3, "muons": 1})
    names = four_vector_names({"jets": 3, "muons": 1})
    assert x.shape == (1, len(names)) == (1, 2 + 4 * 4)
    row = dict(zip(names, x[0], strict=True))
    assert row["px(MET)"] == pytest.approx(20.0)
    assert row["px(j1)"] == pytest.approx(0.0, abs=1e-4) and row["py(j1)"] == pytest.approx(100.0)
    assert row["E(j1)"] == pytest.approx(np.sqrt((100 * np.cosh(1.0)) ** 2 + 100), rel=1e-5)
    assert row["px(j2)"] == pytest.approx(30.0)
    assert row["E(j3)"] == 0.0
    assert row["px(mu1)"] == pytest.approx(-50.0)


def test_adc2021_slots_have_57_numbers_with_bjets_merged_into_jets():
    events = make_events([{"jets": [(40.0, 0.5, 0.1, 5.0)], "bjets": [(80.0, -0.5, 0.2, 5.0)],
                           "electrons": [(25.0, 1.0, 1.0, 0.0, -1)]}], met=[[33.0, 2.0]])
    x = adc2021_slots(events)
    names = adc2021_names()
    assert x.shape == (1, 57) and len(names) == 57
    row = dict(zip(names, x[0], strict=True))
    assert row["pt(MET)"] == pytest.approx(33.0) and row["eta(MET)"] == 0.0 and row["phi(MET)"] == pytest.approx(2.0)
    assert row["pt(electron1)"] == pytest.approx(25.0)
    assert row["pt(jet1)"] == pytest.approx(80.0) and row["pt(jet2)"] == pytest.approx(40.0)
    assert row["pt(muon1)"] == 0.0
