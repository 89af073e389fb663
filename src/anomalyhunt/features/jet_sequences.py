"""Large-R jet constituents as the sequences the VRNN reads (Kahn et al., JINST 16 P08012; ATLAS), vectorised
over jets: NumPy on padded (n_jets, n_constituents) arrays, with loops only over the few sequence positions.

Per jet, from its massless constituents (pT, eta, phi) and the jet's own four-momentum (`jets`: the large-R
jet's pT, eta, phi and mass, as Kahn et al. do; without it, the sum of the constituents given, which for a jet
stored with only its leading constituents is lighter than the jet):
1. rotate about the beam axis to phi_jet = 0, boost along it to eta_jet = 0 (the jet along x);
2. scale every four-vector by 0.25 / m_jet (jet mass 0.25), boost along x so that E_jet = 1;
3. rotate about x so that the leading constituent (highest pT in the lab) lies in the x-y plane at phi > 0;
4. keep constituents within dR < 1 of the jet axis, at most `max_length` of them, highest pT (in this frame)
   first;
5. order them by "kt": the highest-pT constituent first, then repeatedly the remaining one with the largest
   pT x dR to the one taken before;
6. flip eta so that the second constituent of the sequence has eta >= 0.
Each step is (pT / pT_jet, eta, phi) in the final frame. Positions past a jet's length are zero (pT fraction 0
marks padding).
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from ..exceptions import ConfigError
from .spec import FeatureSpec

__all__ = ["SEQUENCE_STEP_NAMES", "jet_sequences", "sequence_feature_spec", "sequence_lengths"]

SEQUENCE_STEP_NAMES = ("pt_fraction", "eta", "phi")
_TARGET_MASS, _TARGET_ENERGY, _MAX_DR = 0.25, 1.0, 1.0


def sequence_feature_spec(max_length: int = 20, preset: str = "yxh_atlas") -> FeatureSpec:
    """What the flattened (n_jets, max_length x 3) sequence columns are."""
    names = tuple(f"c{i}_{name}" for i in range(max_length) for name in SEQUENCE_STEP_NAMES)
    return FeatureSpec("jet_sequence", preset, names)


def _padded(constituents: ak.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pt, eta, phi, mask), each (n_jets, n_max), float64; padding has mask False and pt 0."""
    n_max = max(int(ak.max(ak.num(constituents), initial=0)), 2)
    arrays = []
    for name in ("pt", "eta", "phi"):
        padded = ak.fill_none(ak.pad_none(constituents[name], n_max, clip=True), 0.0)
        arrays.append(ak.to_numpy(padded).astype(np.float64))
    mask = ak.to_numpy(ak.fill_none(ak.pad_none(ak.ones_like(constituents.pt, dtype=bool), n_max, clip=True),
                                    False))
    pt = np.where(mask, arrays[0], 0.0)
    return pt, arrays[1], arrays[2], mask


def _boost(e, p_along, beta):
    """Boost with velocity `beta` along one axis: (E, p_along) -> (E', p_along')."""
    gamma = 1.0 / np.sqrt(1.0 - beta**2)
    return gamma * (e - beta * p_along), gamma * (p_along - beta * e)


def jet_sequences(constituents: ak.Array, *, max_length: int = 20, jets=None) -> np.ndarray:
    """The VRNN input of each jet, shape (n_jets, max_length, 3): (pT / pT_jet, eta, phi) per step, zero past
    the jet's length. constituents: one list per jet of records with pt, eta, phi (massless particles); jets:
    one record per jet with pt, eta, phi, mass (the frame is the jet's; default: the constituents' sum)."""
    if max_length < 2:
        raise ConfigError(f"max_length must be at least 2, got {max_length}")
    n = len(constituents)
    out = np.zeros((n, max_length, 3))
    if n == 0:
        return out
    pt, eta, phi, mask = _padded(constituents)
    frame = None
    if jets is not None:
        jpt, jeta, jphi, jm = (np.asarray(ak.to_numpy(jets[k]), dtype=np.float64)[:, None]
                               for k in ("pt", "eta", "phi", "mass"))
        if jpt.shape[0] != n:
            raise ConfigError(f"jets: {jpt.shape[0]} jets for {n} constituent lists")
        frame = (np.sqrt((jpt * np.cosh(jeta)) ** 2 + jm**2), jpt * np.cos(jphi), jpt * np.sin(jphi),
                 jpt * np.sinh(jeta), jm)
    with np.errstate(invalid="ignore", divide="ignore"):  # jets with < 2 constituents are masked out below
        steps, valid = _transform(pt, eta, phi, mask, max_length, frame)
    width = steps.shape[1]
    out[:, :width] = np.where(valid[:, :, None], steps, 0.0)
    return out


def _transform(pt, eta, phi, mask, max_length, frame=None):
    n = len(pt)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = pt * np.cosh(eta)
    if frame is None:  # the constituents' own sum
        jet = [v.sum(axis=1, keepdims=True) for v in (e, px, py, pz)]
        mass = np.sqrt(np.maximum(jet[0] ** 2 - jet[1] ** 2 - jet[2] ** 2 - jet[3] ** 2, 0.0))
    else:  # the jet's four-momentum (E, px, py, pz) and mass
        jet, mass = list(frame[:4]), frame[4]
    usable = (mask.sum(axis=1) >= 2) & (mass[:, 0] > 0)
    safe_mass = np.where(mass > 0, mass, 1.0)
    # 1. rotate about z to phi_jet = 0
    phi_jet = np.arctan2(jet[2], jet[1])
    c, s = np.cos(phi_jet), np.sin(phi_jet)
    px, py = c * px + s * py, -s * px + c * py
    jet_px = np.hypot(jet[1], jet[2])
    # boost along z to eta_jet = 0
    e, pz = _boost(e, pz, jet[3] / jet[0])
    jet_e = np.sqrt(jet_px**2 + mass**2)
    # 2. scale to mass 0.25, boost along x to E = 1
    scale = _TARGET_MASS / safe_mass
    e, px, py, pz = e * scale, px * scale, py * scale, pz * scale
    jet_e, jet_px = jet_e * scale, jet_px * scale
    target_px = np.sqrt(_TARGET_ENERGY**2 - _TARGET_MASS**2)
    # velocity taking (jet_e, jet_px) to (1, target_px): relativistic velocity subtraction of the two frames
    v_now, v_target = jet_px / jet_e, target_px / _TARGET_ENERGY
    e, px = _boost(e, px, (v_now - v_target) / (1.0 - v_now * v_target))
    # 3. rotate about x so that the leading constituent has pz = 0 and py > 0
    lead = np.argmax(np.where(mask, pt, -1.0), axis=1)[:, None]
    angle = np.arctan2(np.take_along_axis(pz, lead, 1), np.take_along_axis(py, lead, 1))
    c, s = np.cos(angle), np.sin(angle)
    py, pz = c * py + s * pz, -s * py + c * pz
    new_pt = np.hypot(px, py)
    new_eta = np.arcsinh(pz / np.where(new_pt > 0, new_pt, 1.0))
    new_phi = np.arctan2(py, px)
    # 4. dR < 1 to the jet axis (eta = phi = 0), at most max_length, highest pT first
    keep = mask & (np.hypot(new_eta, new_phi) < _MAX_DR) & (new_pt > 0) & usable[:, None]
    order = np.argsort(np.where(keep, -new_pt, np.inf), axis=1, kind="stable")[:, :max_length]
    take = lambda a: np.take_along_axis(a, order, 1)  # noqa: E731
    cpt, ceta, cphi, ckeep = take(new_pt), take(new_eta), take(new_phi), take(keep)
    width = cpt.shape[1]
    # 5. kt ordering: position 0 is the hardest; then argmax pT x dR(previous) among those not yet taken
    rows = np.arange(n)
    taken = ~ckeep.copy()
    sequence = np.zeros((n, width), dtype=np.int64)
    taken[:, 0] = True
    previous = np.zeros(n, dtype=np.int64)
    for step in range(1, width):
        dr = np.hypot(ceta - ceta[rows, previous][:, None],
                      (cphi - cphi[rows, previous][:, None] + np.pi) % (2 * np.pi) - np.pi)
        merit = np.where(taken, -np.inf, cpt * dr)
        previous = np.argmax(merit, axis=1)
        sequence[:, step] = previous
        taken[rows, previous] = True
    lengths = ckeep.sum(axis=1)
    valid = np.arange(width)[None, :] < lengths[:, None]
    spt, seta, sphi = (np.take_along_axis(a, sequence, 1) for a in (cpt, ceta, cphi))
    # 6. flip eta so that the second constituent has eta >= 0
    flip = np.where(seta[:, 1:2] < 0, -1.0, 1.0)
    return np.stack([spt / target_px, seta * flip, sphi], axis=2), valid


def sequence_lengths(sequences: np.ndarray) -> np.ndarray:
    """Number of real steps of each (n, T, 3) sequence (padding has pT fraction 0)."""
    return (np.asarray(sequences)[:, :, 0] > 0).sum(axis=1)
