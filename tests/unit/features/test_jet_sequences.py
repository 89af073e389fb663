"""The VRNN's constituent preprocessing, vectorised over jets, against a slow per-jet reference written from the
description (Kahn et al.) with `vector`'s own rotations and boosts."""

import awkward as ak
import numpy as np
import pytest
import vector

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.features.jet_sequences import jet_sequences, sequence_feature_spec, sequence_lengths


def reference_sequence(pt, eta, phi, max_length=20) -> np.ndarray:
    """One jet, step by step, with vector objects and Python loops."""
    parts = [vector.obj(pt=p, eta=e, phi=f, mass=0.0) for p, e, f in zip(pt, eta, phi, strict=True)]
    jet = parts[0]
    for p in parts[1:]:
        jet = jet + p
    lead = parts[int(np.argmax(pt))]

    def to_frame(p):
        p = p.rotateZ(-jet.phi)
        return p.boostZ(beta=-jet.rotateZ(-jet.phi).pz / jet.E)

    frame_jet = to_frame(jet)
    scale = 0.25 / jet.mass
    frame_jet = vector.obj(px=frame_jet.px * scale, py=frame_jet.py * scale, pz=frame_jet.pz * scale,
                           E=frame_jet.E * scale)
    # boost along x to E = 1: the frame in which the jet has px = sqrt(1 - 0.25^2)
    target = vector.obj(px=np.sqrt(1 - 0.0625), py=0.0, pz=0.0, E=1.0)
    beta_now, beta_target = frame_jet.px / frame_jet.E, target.px / target.E
    beta_x = (beta_now - beta_target) / (1 - beta_now * beta_target)

    def full(p):
        p = to_frame(p)
        p = vector.obj(px=p.px * scale, py=p.py * scale, pz=p.pz * scale, E=p.E * scale)
        return p.boostX(beta=-beta_x)

    lead_f = full(lead)
    angle = np.arctan2(lead_f.pz, lead_f.py)
    moved = [full(p).rotateX(-angle) for p in parts]
    kept = [(m.pt, m.eta, m.phi) for m in moved if np.hypot(m.eta, m.phi) < 1.0 and m.pt > 0]
    kept = sorted(kept, key=lambda c: -c[0])[:max_length]
    order = [kept.pop(0)]
    while kept:
        prev = order[-1]

        def merit(c, prev=prev):
            dphi = (c[2] - prev[2] + np.pi) % (2 * np.pi) - np.pi
            return c[0] * np.hypot(c[1] - prev[1], dphi)

        best = max(range(len(kept)), key=lambda i: merit(kept[i]))
        order.append(kept.pop(best))
    flip = -1.0 if len(order) > 1 and order[1][1] < 0 else 1.0
    out = np.zeros((max_length, 3))
    for i, (p, e, f) in enumerate(order):
        out[i] = (p / target.px, e * flip, f)
    return out


def _jets(rng, n_jets):
    jets = []
    for i in range(n_jets):
        n = int(rng.integers(3, 40))
        prongs = rng.normal(0, 0.25, (int(rng.integers(1, 4)), 2))
        which = rng.integers(0, len(prongs), n)
        eta0, phi0 = rng.uniform(-2, 2), rng.uniform(-np.pi, np.pi)
        eta = eta0 + prongs[which, 0] + rng.normal(0, 0.05, n)
        phi = (phi0 + prongs[which, 1] + rng.normal(0, 0.05, n) + np.pi) % (2 * np.pi) - np.pi
        pt = rng.exponential(30.0, n) + 1.0
        if i == 0:  # a wide-angle soft constituent that must fall outside dR < 1
            eta[-1], phi[-1], pt[-1] = eta0 + 2.5, phi0, 0.5
        jets.append({"pt": pt, "eta": eta, "phi": phi})
    return jets


def test_vectorised_preprocessing_matches_the_per_jet_reference():
    rng = np.random.default_rng(5)
    jets = _jets(rng, 40)
    constituents = ak.Array([[{"pt": p, "eta": e, "phi": f} for p, e, f in zip(j["pt"], j["eta"], j["phi"],
                                                                                strict=True)] for j in jets])
    got = jet_sequences(constituents)
    expected = np.stack([reference_sequence(j["pt"], j["eta"], j["phi"]) for j in jets])
    np.testing.assert_allclose(got, expected, atol=1e-7)
    lengths = sequence_lengths(got)
    assert lengths.max() == 20 and lengths.min() >= 2
    # the frame: the leading step is the hardest, the second has eta >= 0; a jet whose constituents are all kept
    # has its momentum along x: sum pT_i cos(phi_i) = pT_jet and sum pT_i sin(phi_i) = 0
    assert np.all(got[:, 1, 1] >= 0)
    assert np.all(got[:, 0, 0] >= got[:, 1:, 0].max(axis=1))
    short = np.array([len(j["pt"]) <= 20 for j in jets]) & (lengths == [len(j["pt"]) for j in jets])
    frac, phi = got[short, :, 0], got[short, :, 2]
    np.testing.assert_allclose((frac * np.cos(phi)).sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose((frac * np.sin(phi)).sum(axis=1), 0.0, atol=1e-6)
    # the dR < 1 cut removed the wide-angle constituent of jet 0
    assert lengths[0] == min(len(jets[0]["pt"]) - 1, 20)


def test_preprocessing_is_invariant_to_the_jet_boost_and_scale():
    rng = np.random.default_rng(9)
    jet = _jets(rng, 1)[0]
    base = ak.Array([[{"pt": p, "eta": e, "phi": f} for p, e, f in zip(jet["pt"], jet["eta"], jet["phi"],
                                                                       strict=True)]])
    moved = ak.Array([[{"pt": 3.0 * p, "eta": e + 0.7, "phi": (f + 1.0 + np.pi) % (2 * np.pi) - np.pi}
                       for p, e, f in zip(jet["pt"], jet["eta"], jet["phi"], strict=True)]])
    np.testing.assert_allclose(jet_sequences(base), jet_sequences(moved), atol=1e-9)


def test_degenerate_jets_give_empty_sequences_and_bad_lengths_are_refused():
    one = ak.Array([[{"pt": 10.0, "eta": 0.1, "phi": 0.2}], []])
    assert np.all(jet_sequences(one) == 0)
    assert jet_sequences(one[:0]).shape == (0, 20, 3)
    with pytest.raises(ConfigError, match="max_length"):
        jet_sequences(one, max_length=1)
    spec = sequence_feature_spec(4)
    assert spec.names[:3] == ("c0_pt_fraction", "c0_eta", "c0_phi") and len(spec.names) == 12


def test_the_frame_is_the_jets_own_four_momentum_when_given():
    """With the jet given as the constituents' own sum the sequence is unchanged; with the jet heavier (the
    stored constituents are only its leading ones) the frame, and so the sequence, follows the jet."""
    import vector

    rng = np.random.default_rng(11)
    jet = _jets(rng, 1)[0]
    cons = ak.Array([[{"pt": p, "eta": e, "phi": f} for p, e, f in zip(jet["pt"], jet["eta"], jet["phi"],
                                                                       strict=True)]])
    p4 = vector.zip({"pt": cons.pt, "eta": cons.eta, "phi": cons.phi, "mass": ak.zeros_like(cons.pt)})
    total = ak.sum(p4, axis=1)
    own = ak.Array([{"pt": float(total.pt[0]), "eta": float(total.eta[0]), "phi": float(total.phi[0]),
                     "mass": float(total.mass[0])}])
    np.testing.assert_allclose(jet_sequences(cons, jets=own), jet_sequences(cons), atol=1e-7)
    heavier = ak.Array([{"pt": float(total.pt[0]) * 1.1, "eta": float(total.eta[0]), "phi": float(total.phi[0]),
                         "mass": float(total.mass[0]) * 1.6}])
    moved = jet_sequences(cons, jets=heavier)
    assert not np.allclose(moved, jet_sequences(cons), atol=1e-3)
    assert moved[0, :, 0].sum() < jet_sequences(cons)[0, :, 0].sum()  # pT fractions of the jet's larger pT
    with pytest.raises(ConfigError, match="2 jets for 1"):
        jet_sequences(cons, jets=ak.concatenate([own, own]))
