"""Reconstruction on hand-built particle lists, with a smearing-free detector so values are exact."""

import awkward as ak
import numpy as np
import pytest

from anomalyhunt.reco import DetectorPreset, reconstruct, select
from anomalyhunt.reco.reconstruction import delta_r, is_b_hadron

EXACT = DetectorPreset("exact", jet_pt_min=20.0, lepton_pt_min=10.0, photon_pt_min=10.0, btag_eff=1.0,
                       btag_mistag=0.0, jet_stochastic=0.0, jet_constant=0.0, em_stochastic=0.0, em_constant=0.0,
                       mu_constant=0.0, mu_linear=0.0)


def particle(pdg, pt, eta, phi, m=0.0):
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return {"id": pdg, "px": px, "py": py, "pz": pz, "e": float(np.sqrt(px**2 + py**2 + pz**2 + m**2))}


def run(events, b_hadrons=None, preset=EXACT, seed=0, forced=False):
    particles = ak.Array(events)
    bh = ak.Array(b_hadrons if b_hadrons is not None else [[] for _ in events])
    if len(ak.flatten(bh)) == 0:
        bh = ak.unflatten(ak.zip({k: np.zeros(0) for k in ("px", "py", "pz", "e")}), np.zeros(len(events), int))
    return reconstruct(particles, bh, preset=preset, rng=np.random.default_rng(seed), forced_fake=forced)


def jet_spray(pt, eta, phi, n=4):
    """A collimated bunch of pions summing to about `pt`."""
    offsets = 0.02 * (np.arange(n) - (n - 1) / 2)
    return [particle(211, pt / n, eta + d, phi - d, 0.1396) for d in offsets]


def test_isolated_electron_is_an_electron_and_leaves_the_jet_inputs():
    ev = run([[particle(11, 50, 0.5, 1.0, 0.000511), *jet_spray(80, -1.0, -2.0)]])
    assert ak.num(ev.electrons).tolist() == [1]
    assert ev.electrons.pt[0, 0] == pytest.approx(50, rel=1e-6)
    assert ev.electrons.charge[0, 0] == -1
    assert ak.num(ev.jets).tolist() == [1]
    assert ev.jets.pt[0, 0] == pytest.approx(80, rel=1e-3)


def test_electron_inside_hadronic_activity_is_not_isolated_and_ends_in_the_jet():
    ev = run([[particle(-11, 30, 0.5, 1.0), *jet_spray(60, 0.55, 1.05)]])
    assert ak.num(ev.electrons).tolist() == [0]
    assert ak.num(ev.jets).tolist() == [1]
    assert ev.jets.pt[0, 0] == pytest.approx(90, rel=0.02)


def test_isolation_threshold_is_the_energy_fraction_in_the_cone():
    # A muon with a pion at dR = 0.1 carrying 5% (kept) or 20% (rejected) of the cone energy.
    kept = run([[particle(13, 95, 0.0, 0.0), particle(211, 5, 0.0, 0.1)]])
    lost = run([[particle(13, 80, 0.0, 0.0), particle(211, 20, 0.0, 0.1)]])
    assert ak.num(kept.muons).tolist() == [1]
    assert ak.num(lost.muons).tolist() == [0]


def test_overlap_removal_drops_leptons_near_jets_only_when_the_preset_asks():
    event = [particle(13, 50, 0.0, 0.0), *jet_spray(100, 0.0, 0.3)]
    no_or = run([event])
    with_or = run([event], preset=DetectorPreset(**{**EXACT.as_dict(), "overlap_dr": 0.4}))
    assert ak.num(no_or.muons).tolist() == [1]
    assert ak.num(with_or.muons).tolist() == [0]
    assert ak.num(with_or.jets).tolist() == [1]


def test_b_tag_by_b_hadron_match_within_0p4():
    near = [particle(511, 30, 0.1, 1.1, 5.28)]
    far = [particle(511, 30, -2.0, -1.0, 5.28)]
    ev = run([jet_spray(100, 0.0, 1.0), jet_spray(100, 0.0, 1.0)], b_hadrons=[near, far])
    assert ak.num(ev.bjets).tolist() == [1, 0]
    assert ak.num(ev.jets).tolist() == [0, 1]


def test_met_balances_invisible_particles_and_neutrinos_make_no_objects():
    ev = run([[particle(12, 70, 0.3, 2.0), *jet_spray(70, -0.3, 2.0 - np.pi)]])
    assert ev.met.pt[0] == pytest.approx(70, rel=1e-3)
    assert ev.met.phi[0] == pytest.approx(2.0, abs=1e-3)
    assert ak.num(ev.jets).tolist() == [1]


def test_met_includes_smearing_of_objects(rng):
    smeared = DetectorPreset(**{**EXACT.as_dict(), "jet_constant": 0.3})
    ev = run([jet_spray(200, 0.0, 0.0) + jet_spray(200, 0.0, np.pi)], preset=smeared, seed=4)
    jets = ev.jets[0]
    px = np.sum(jets.pt * np.cos(jets.phi))
    assert ev.met.pt[0] == pytest.approx(abs(px), rel=1e-3)
    assert ev.met.pt[0] > 1.0


def test_fake_leptons_from_jets_follow_the_probability():
    preset = DetectorPreset(**{**EXACT.as_dict(), "fake_e": 0.3, "fake_mu": 0.1})
    ev = run([jet_spray(100, 0.0, 0.0)] * 2000, preset=preset)
    n_e, n_mu, n_j = (int(ak.sum(ak.num(ev[c]))) for c in ("electrons", "muons", "jets"))
    assert n_e + n_mu + n_j == 2000
    assert n_e / 2000 == pytest.approx(0.3, abs=0.04)
    assert n_mu / 2000 == pytest.approx(0.1, abs=0.03)


def test_objects_sorted_by_descending_pt_and_typed_for_the_contract():
    ev = run([[particle(13, 20, 0, 0), particle(13, 60, 1.5, 2.0), particle(-13, 40, -1.5, -2.0)]])
    assert ev.muons.pt[0].tolist() == pytest.approx([60, 40, 20], rel=1e-5)
    assert ev.muons.charge[0].tolist() == [-1, 1, -1]
    assert str(ev.muons.type.content) == "var * {pt: float32, eta: float32, phi: float32, mass: float32, charge: int8}"


def test_selection_counts_leptons_and_jets():
    lepton_jets = [particle(11, 40, 0, 0), *jet_spray(50, 1.0, 2.0), *jet_spray(50, -1.0, -2.0)]
    one_jet = [particle(11, 40, 0, 0), *jet_spray(50, 1.0, 2.0)]
    preset = DetectorPreset(**{**EXACT.as_dict(), "min_leptons": 1, "selection_lepton_pt": 30, "min_jets": 2,
                               "selection_jet_pt": 30})
    ev = run([lepton_jets, one_jet], preset=preset)
    assert select(ev, preset=preset).tolist() == [True, False]


def test_helpers():
    assert delta_r(0.0, np.pi - 0.05, 0.0, -np.pi + 0.05) == pytest.approx(0.1)
    assert is_b_hadron(np.array([511, -521, 5122, 411, 2212, 5])).tolist() == [True, True, True, False, False, False]


FAKES = DetectorPreset(**{**EXACT.as_dict(), "jet_eta_max": 4.0, "fake_e": 0.01, "fake_mu": 0.005,
                          "min_leptons": 1, "selection_lepton_pt": 30.0})
# two jets that could make a selected lepton, one too soft (20 GeV) and one outside the lepton acceptance
TWO_ELIGIBLE = jet_spray(50, 0.0, 0.0) + jet_spray(40, 1.0, 2.5) + jet_spray(25, -1.0, -1.0) + jet_spray(60, 3.0, 1.0)


def test_forced_fakes_make_one_entry_per_eligible_jet_with_its_probability():
    ev = run([TWO_ELIGIBLE, jet_spray(25, 0.0, 0.0), jet_spray(45, 0.5, 0.0)], preset=FAKES, seed=3,
             forced=True)
    assert ak.to_numpy(ev.fake_source).tolist() == [0, 0, 2]
    assert ak.to_numpy(ev.fake_rank).tolist() == [0, 1, 0]
    p = 0.015
    assert ak.to_numpy(ev.fake_weight) == pytest.approx([p * (1 - p), p * (1 - p), p])
    leptons = ak.concatenate([ev.electrons.pt, ev.muons.pt], axis=1)
    assert ak.num(leptons).tolist() == [1, 1, 1]
    lead = ak.to_numpy(leptons[:, 0])
    assert sorted(lead[:2]) == pytest.approx([40, 50], rel=1e-3)  # each eligible jet once, in clustering order
    assert lead[2] == pytest.approx(45, rel=1e-3)
    # the faking jet left the jets; the others stayed
    assert ak.num(ev.jets).tolist() == [3, 3, 0]


def test_forced_fakes_agree_with_drawing_the_fakes():
    """Sum of the entry weights = the rate of selected fake-lepton events when the fakes are drawn (to p^2)."""
    n = 20_000
    drawn = run([TWO_ELIGIBLE] * n, preset=FAKES, seed=5)
    passing = select(drawn, preset=FAKES)
    forced = run([TWO_ELIGIBLE], preset=FAKES, forced=True)
    expected = n * float(ak.sum(forced.fake_weight))
    assert expected == pytest.approx(n * 2 * 0.015 * 0.985)
    assert abs(passing.sum() - expected) < 3.5 * np.sqrt(expected)
    # e:mu = fake_e : fake_mu among the forced entries
    many = run([TWO_ELIGIBLE] * 2000, preset=FAKES, seed=6, forced=True)
    n_e = int(ak.sum(ak.num(many.electrons)))
    assert n_e / len(many) == pytest.approx(2 / 3, abs=0.03)
