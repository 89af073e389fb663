import awkward as ak
import numpy as np
import pytest

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.features import (
    SEARCH_MASS_CELLS,
    fit_columns,
    flatten,
    object_labels,
    rmm,
    rmm_cell_names,
    rmm_layout,
    search_masses,
)
from tests.conftest import make_events
from tests.unit.features.reference_rmm import reference_rmm

COLLS = ("jets", "bjets", "muons", "electrons", "photons")


def random_events(rng, n):
    """Randomised events covering the edge cases: empty, one object, MET = 0, overflow, ties, large |y|."""
    rows, mets = [], []
    for i in range(n):
        ev = {}
        kind = i % 6
        for c in COLLS:
            if kind == 0:
                count = 0
            elif kind == 1:
                count = int(c == "jets")
            elif kind == 2:
                count = int(rng.integers(11, 15))  # more objects than N
            else:
                count = int(rng.poisson(2.5))
            objs = []
            for _ in range(count):
                pt = float(rng.uniform(5, 1500))
                eta = float(rng.uniform(-4.5, 4.5) if kind == 5 else rng.uniform(-2.5, 2.5))
                mass = float(rng.uniform(0, 200) if c in ("jets", "bjets") else rng.uniform(0, 0.2))
                obj = (pt, eta, float(rng.uniform(-np.pi, np.pi)), mass)
                objs.append((*obj, float(rng.choice([-1, 1]))) if c in ("muons", "electrons") else obj)
            if kind == 4 and len(objs) >= 2:
                objs[1] = objs[0]  # exactly equal E_T
            ev[c] = objs
        rows.append(ev)
        mets.append([0.0 if kind in (0, 3) else float(rng.uniform(0, 800)), float(rng.uniform(-np.pi, np.pi))])
    return rows, make_events(rows, met=mets)


@pytest.mark.parametrize("preset", ["T5N10", "atlas2024", {"jets": 3, "muons": 2}])
def test_vectorised_rmm_equals_per_event_reference(rng, preset):
    rows, events = random_events(rng, 600)
    layout = rmm_layout(preset)
    matrices = rmm(events, preset=preset, chunk_size=128)
    mult = [layout.multiplicities[layout.types.index(t)] if t in layout.types else 0 for t in COLLS]
    assert matrices.dtype == np.float32 and matrices.shape == (600, layout.size, layout.size)
    for i, row in enumerate(rows):
        # reference works on the float32 values the events actually hold
        ev32 = {c: [tuple(float(np.float32(x)) for x in o[:4]) for o in row.get(c, [])] for c in COLLS}
        ev32["met"] = (float(events.met.pt[i]), float(events.met.phi[i]))
        ref = reference_rmm(ev32, mult)
        np.testing.assert_allclose(matrices[i], ref, rtol=2e-5, atol=2e-7, err_msg=f"event {i}")


def test_missing_objects_leave_exact_zeros_and_met_zero_kills_mt():
    events = make_events([{}, {"jets": [(100.0, 0.5, 0.0, 10.0)]}], met=[[0, 0], [0, 0]])
    m = rmm(events)
    assert not m[0].any()
    assert m[1, 0, 1] == 0.0  # m_T with MET = 0
    nonzero = np.argwhere(m[1] != 0).tolist()
    assert nonzero == [[1, 0], [1, 1]]


def test_known_values_for_a_simple_event():
    # two massless back-to-back jets at eta = 0, pt = 650: m = 1300 GeV, h = 0, eT = 650/13000
    events = make_events([{"jets": [(650.0, 0.0, 0.0, 0.0), (650.0, 0.0, np.pi, 0.0)]}], met=[[0, 0]])
    m = rmm(events)[0]
    assert m[1, 1] == pytest.approx(0.05)
    assert m[2, 2] == pytest.approx(0.0, abs=1e-7)
    assert m[1, 2] == pytest.approx(0.1, rel=1e-6)
    assert m[2, 1] == pytest.approx(0.0, abs=1e-7)


def test_cell_names_follow_the_layout():
    names = rmm_cell_names("T5N10")
    assert names.shape == (51, 51)
    assert names[0, 0] == "MET"
    assert names[0, 1] == "mT(j1)"
    assert names[12, 0] == "h_L(b2)"
    assert names[11, 11] == "eT(b1)" and names[12, 12] == "delta_eT(b2)"
    assert names[1, 21] == "m(j1,mu1)"
    assert names[21, 1] == "h(mu1,j1)"
    assert object_labels("atlas2024")[-1] == "gamma5"
    assert len(set(names.ravel())) == 51 * 51


def test_input_columns_drop_zero_cells_and_search_masses(rng):
    _, events = random_events(rng, 300)
    m = rmm(events, preset="atlas2024")
    plain = fit_columns(m, preset="atlas2024")
    atlas = fit_columns(m, preset="atlas2024", drop_search_masses=True)
    assert set(plain.names) - set(atlas.names) == set(SEARCH_MASS_CELLS.values())
    x = atlas.transform(flatten(m))
    assert x.shape == (300, len(atlas.names))
    nonzero = np.any(flatten(m) != 0, axis=0)
    assert len(plain.names) == nonzero.sum()
    with pytest.raises(ConfigError, match="columns"):
        atlas.transform(flatten(m)[:, :10])


def test_search_masses_match_rmm_cells_times_sqrt_s(rng):
    _, events = random_events(rng, 300)
    m = rmm(events, preset="atlas2024")
    names = rmm_cell_names("atlas2024")
    masses = search_masses(events)
    for key, cell in SEARCH_MASS_CELLS.items():
        i, j = np.argwhere(names == cell)[0]
        present = ~np.isnan(masses[key])
        np.testing.assert_allclose(masses[key][present], 13000.0 * m[present, i, j], rtol=1e-4, atol=1e-3)
        assert np.all(m[~present, i, j] == 0)


def test_rapidity_cells_are_the_only_ones_above_one():
    # |y| = 3 gives h_L = 0.15 (cosh 3 - 1) = 1.36, as documented; everything else stays in [0, 1].
    events = make_events([{"jets": [(100.0, 3.0, 0.0, 0.0), (100.0, -3.0, 1.0, 0.0)]}], met=[[50, 2.0]])
    m = rmm(events)[0]
    names = rmm_cell_names("T5N10")
    above = set(names[m > 1])
    assert above == {"h_L(j1)", "h_L(j2)", "h(j2,j1)"}


def test_bad_presets_are_clear_errors():
    with pytest.raises(ConfigError, match="unknown RMM preset"):
        rmm_layout("T9")
    with pytest.raises(ConfigError, match="unknown object type"):
        rmm_layout({"taus": 3})
    with pytest.raises(ConfigError, match="positive"):
        rmm(ak.Array([]), sqrt_s=-1)
