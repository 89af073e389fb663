"""The Krzyzanska & Nachman processes: the scalar_4l signal and the e+e-mu+mu- background, under the fourlepton
preset."""

import awkward as ak
import numpy as np
import pytest
import vector

from anomalyhunt import events as event_io
from anomalyhunt import ingest
from anomalyhunt.generate import GenerationConfig, generate

vector.register_awkward()


def test_scalar_4l_gives_its_three_masses_under_the_fourlepton_preset(tmp_path):
    # Krzyzanska & Nachman's signal: m_4l at m_A, m_ee at m_B, m_mumu at m_C (the parameters, not the defaults)
    manifest = generate(GenerationConfig("scalar_4l", 300, seed=3, preset="fourlepton", chunk_size=300,
                                         params={"mass": 125.0, "m_b": 30.0, "m_c": 12.0}), tmp_path, workers=0)
    ev = ingest.read(tmp_path)
    assert manifest["n_selected"] > 50  # exactly e+e-mu+mu-: about a third pass
    pair = {}
    for name in ("electrons", "muons"):
        v = ak.zip({k: ev[name][k] for k in ("pt", "eta", "phi", "mass")}, with_name="Momentum4D")
        pair[name] = v[:, 0] + v[:, 1]
    assert np.median(ak.to_numpy(pair["electrons"].mass)) == pytest.approx(30.0, abs=1.0)
    assert np.median(ak.to_numpy(pair["muons"].mass)) == pytest.approx(12.0, abs=0.5)
    assert np.median(ak.to_numpy((pair["electrons"] + pair["muons"]).mass)) == pytest.approx(125.0, abs=3.0)
    assert set(ev.label.to_list()) == {1} and set(ev.process.to_list()) == {"scalar_4l_125"}


def test_scalar_4l_refuses_daughters_heavier_than_the_parent():
    from anomalyhunt.exceptions import ConfigError

    with pytest.raises(ConfigError, match="must be below mass"):
        GenerationConfig("scalar_4l", 10, params={"mass": 30.0, "m_b": 25.0, "m_c": 15.0})


def test_fourlepton_background_is_mostly_on_shell_zz(fourlepton_samples):
    simulation = fourlepton_samples[0]  # the session's 2500 fourlepton_bkg events (tests/integration/conftest.py)
    manifest, ev = event_io.read_manifest(simulation), ingest.read(simulation)
    assert manifest["n_generated"] == 2500 and manifest["n_selected"] > 75
    v = ak.zip({k: ev.electrons[k] for k in ("pt", "eta", "phi", "mass")}, with_name="Momentum4D")
    m_ee = ak.to_numpy((v[:, 0] + v[:, 1]).mass)
    assert np.median(m_ee) == pytest.approx(91.2, abs=3.0)
    # the generated cross section: LO q qbar -> ZZ*/gamma* plus gg -> h -> ZZ*, to 2e/2mu pairs (see docs/methods.md)
    assert 0.1 < manifest["sigma_pb"] < 0.25
