"""The Mikuni, Nachman & Shih (ADC2021) processes generate what their names promise, under the adc2021 preset."""

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import vector

from anomalyhunt import events as event_io
from anomalyhunt import ingest

vector.register_awkward()


@pytest.fixture(scope="module")
def generated(disco_samples, disco_other_samples):
    """process -> (manifest, events): the session's Mikuni, Nachman & Shih samples (w_lnu, z_ll, a_4l, h0_tautau) and
    the others (lq_btau, hpm_taunu, qcd_fake_lepton)."""
    paths = {Path(p).name: p for p in [*disco_samples, *disco_other_samples]}
    return {process: (event_io.read_manifest(path), ingest.read(path)) for process, path in paths.items()}


def _leptons(ev):
    leptons = ak.concatenate([ev.electrons, ev.muons], axis=1)
    return ak.zip({"pt": leptons.pt, "eta": leptons.eta, "phi": leptons.phi, "mass": leptons.mass},
                  with_name="Momentum4D")


def test_a_4l_gives_four_leptons_at_the_scalar_mass(generated):
    manifest, ev = generated["a_4l"]
    four = _leptons(ev)[ak.num(ev.electrons) + ak.num(ev.muons) == 4]
    assert len(four) > 20
    m4l = ak.to_numpy((four[:, 0] + four[:, 1] + four[:, 2] + four[:, 3]).mass)
    assert np.median(m4l) == pytest.approx(50.0, abs=3.0)


def test_z_ll_peaks_at_the_z_mass(generated):
    _, ev = generated["z_ll"]
    pairs = _leptons(ev)[ak.num(ev.electrons) + ak.num(ev.muons) == 2]
    mll = ak.to_numpy((pairs[:, 0] + pairs[:, 1]).mass)
    assert np.median(mll) == pytest.approx(91.2, abs=4.0)


def test_w_lnu_has_a_jacobian_peak_in_mt(generated):
    manifest, ev = generated["w_lnu"]
    assert manifest["sigma_pb"] > 1e4  # W -> l nu at 13 TeV, LO: ~ 6e4 pb x BR
    lep = _leptons(ev)[:, 0]
    mt = np.sqrt(2 * lep.pt * ev.met.pt * (1 - np.cos(lep.phi - ev.met.phi)))
    assert 55 < np.median(ak.to_numpy(mt)) < 85


# Pythia events per signal: enough for ~15 or more selected (efficiencies ~12%, ~6% and ~0.7%)
@pytest.mark.parametrize("process", ["lq_btau", "h0_tautau", "hpm_taunu"])
def test_tau_signals_select_events_with_missing_energy(generated, process):
    manifest, ev = generated[process]
    assert manifest["sigma_pb"] > 0 and len(ev) > 3
    assert np.mean(ak.to_numpy(ev.met.pt)) > 15.0  # neutrinos from the tau decays
    assert set(ev.label.to_list()) == {1}


def test_qcd_fake_lepton_entries_are_jets_made_leptons_with_flat_weights(generated):
    n = 400
    manifest, ev = generated["qcd_fake_lepton"]
    weight = np.asarray(ev.weight)
    assert len(ev) > 50
    assert weight.sum() == pytest.approx(manifest["selected_sigma_pb"], rel=1e-9)
    assert weight.max() / weight.min() < 1 + 1e-3  # p (1 - p)^(n - 1): flat to order p
    ids = np.asarray(ev.event_id)
    assert len(np.unique(ids)) == len(ids)
    leptons = ak.concatenate([ev.electrons.pt, ev.muons.pt], axis=1)
    assert ak.all(ak.max(leptons, axis=1) > 23.0)
    # sigma_selected = sigma x (fake_e + fake_mu) x (entries per generated event), to order p
    assert manifest["selected_sigma_pb"] / manifest["sigma_pb"] == pytest.approx(2.2e-5 * len(ev) / n, rel=1e-3)
    assert set(ev.label.to_list()) == {0}
