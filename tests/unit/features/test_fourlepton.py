"""The four-lepton inputs against masses and momenta worked out by hand (massless leptons)."""

import numpy as np
import pytest

from anomalyhunt.exceptions import ConfigError, StatsInputError
from anomalyhunt.features import fourlepton_input_names, fourlepton_inputs
from tests.conftest import make_events


def _back_to_back(pt, charge_first):
    # two massless leptons at eta = 0, phi = 0 and pi: m = 2 pt
    return [(pt, 0.0, 0.0, 0.0, charge_first), (pt, 0.0, np.pi, 0.0, -charge_first)]


def test_masses_and_momenta_by_hand():
    ev = make_events([{"electrons": _back_to_back(45.0, -1), "muons": _back_to_back(10.0, 1)}])
    m_ee, m_mumu, m_4l = fourlepton_inputs(ev)[0]
    assert m_ee == pytest.approx(90.0, rel=1e-5) and m_mumu == pytest.approx(20.0, rel=1e-5)
    # both pairs at rest: m_4l is the sum of the energies
    assert m_4l == pytest.approx(110.0, rel=1e-5)
    p = fourlepton_inputs(ev, "momenta")[0]
    names = fourlepton_input_names("momenta")
    assert len(p) == 12 and names[:3] == ["px(e+)", "py(e+)", "pz(e+)"]
    # e+ is the second electron (phi = pi), e- the first; mu+ the first muon, mu- the second
    np.testing.assert_allclose(p[0:3], [-45.0, 0.0, 0.0], atol=1e-4)
    np.testing.assert_allclose(p[3:6], [45.0, 0.0, 0.0], atol=1e-4)
    np.testing.assert_allclose(p[6:9], [10.0, 0.0, 0.0], atol=1e-4)
    np.testing.assert_allclose(p[9:12], [-10.0, 0.0, 0.0], atol=1e-4)


def test_events_without_the_two_pairs_are_refused():
    same_sign = [(30.0, 0.0, 0.0, 0.0, 1), (30.0, 0.0, 1.0, 0.0, 1)]
    ev = make_events([{"electrons": _back_to_back(45.0, -1), "muons": same_sign}])
    with pytest.raises(StatsInputError, match="opposite-sign muon pair"):
        fourlepton_inputs(ev)
    with pytest.raises(ConfigError, match="unknown four-lepton input"):
        fourlepton_inputs(ev, "jets")
