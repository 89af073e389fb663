"""The Bortolato et al. dijet inputs: leading two large-R jets by pT, ordered by mass, N-subjettiness ratios, m_jj."""

import awkward as ak
import numpy as np
import pytest
import vector

from anomalyhunt.events.schema import empty_events
from anomalyhunt.exceptions import StatsInputError
from anomalyhunt.features import DIJET_INPUT_NAMES, dijet_inputs, dijet_mass, has_dijet


def _events(fatjets):
    def jet(pt, eta, phi, m, t1, t2, t3):
        return {"pt": np.float32(pt), "eta": np.float32(eta), "phi": np.float32(phi), "mass": np.float32(m),
                "tau1": np.float32(t1), "tau2": np.float32(t2), "tau3": np.float32(t3)}

    arr = ak.values_astype(ak.Array([[jet(*j) for j in ev] for ev in fatjets]), np.float32)
    return ak.with_field(empty_events(len(fatjets)), arr, "fatjets")


def test_inputs_are_ordered_by_mass_and_ignore_the_third_jet():
    ev = _events([
        [(1500, 0.1, 0.0, 100, 0.4, 0.2, 0.1), (1300, -0.5, 3.0, 450, 0.5, 0.1, 0.05), (200, 1, 1, 900, 1, 1, 1)],
        [(1400, 0.0, 0.0, 300, 0.3, 0.15, 0.12), (1350, 0.2, 3.1, 50, 0.2, 0.1, 0.0)],
    ])
    x = dijet_inputs(ev)
    assert x.shape == (2, 6) and len(DIJET_INPUT_NAMES) == 6
    np.testing.assert_allclose(x[0], [450, 0.2, 0.5, 100, 0.5, 0.5], rtol=1e-6)
    np.testing.assert_allclose(x[1], [300, 0.5, 0.8, 50, 0.5, 0.0], rtol=1e-6)
    # m_jj from the two leading jets, independently with vector's objects
    j = [vector.obj(pt=1500, eta=0.1, phi=0.0, mass=100), vector.obj(pt=1300, eta=-0.5, phi=3.0, mass=450)]
    assert dijet_mass(ev)[0] == pytest.approx((j[0] + j[1]).mass, rel=1e-5)


def test_a_jet_with_tau1_zero_gets_ratio_zero_and_events_need_two_jets():
    ev = _events([[(1500, 0, 0, 10, 0.0, 0.0, 0.0), (1400, 0, 3, 5, 0.2, 0.1, 0.05)], [(1500, 0, 0, 10, 1, 1, 1)]])
    assert has_dijet(ev).tolist() == [True, False]
    with pytest.raises(StatsInputError, match="two large-R jets"):
        dijet_inputs(ev)
    x = dijet_inputs(ev[has_dijet(ev)])
    assert x[0, 1] == 0.0 and x[0, 2] == 0.0 and np.isfinite(x).all()
    with pytest.raises(StatsInputError, match="fatjets"):
        dijet_inputs(empty_events(2))
