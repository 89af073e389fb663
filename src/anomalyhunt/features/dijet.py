"""The dijet inputs of Bortolato et al. (LHC Olympics R&D): jet mass and N-subjettiness ratios of the two leading
large-R jets, and the dijet mass that must never be one of them."""

from __future__ import annotations

import awkward as ak
import numpy as np
import vector

from ..exceptions import StatsInputError

__all__ = ["DIJET_INPUT_NAMES", "dijet_inputs", "dijet_mass", "has_dijet"]

vector.register_awkward()

DIJET_INPUT_NAMES = ("m_j1", "tau21_j1", "tau32_j1", "m_j2", "tau21_j2", "tau32_j2")


def _leading_two(events) -> ak.Array:
    if "fatjets" not in events.fields:
        raise StatsInputError("these events have no large-R jets (`fatjets`): generate them with a preset that "
                              "makes them, e.g. dijet_lhco")
    jets = events.fatjets
    if np.any(ak.to_numpy(ak.num(jets)) < 2):
        raise StatsInputError("every event needs two large-R jets; keep those with `has_dijet(events)` first")
    return jets[:, :2]  # pT-ordered in the event contract


def has_dijet(events) -> np.ndarray:
    """Boolean mask of events with at least two large-R jets."""
    if "fatjets" not in events.fields:
        raise StatsInputError("these events have no large-R jets (`fatjets`)")
    return ak.to_numpy(ak.num(events.fatjets) >= 2)


def _ratio(num, den) -> np.ndarray:
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)  # a one-particle jet has tau_1 = 0


def dijet_inputs(events) -> np.ndarray:
    """(n, 6): m_j (GeV), tau2/tau1 and tau3/tau2 of the two highest-pT large-R jets, the heavier jet first
    (`DIJET_INPUT_NAMES`). The dijet mass is not computable from these."""
    jets = _leading_two(events)
    mass = ak.to_numpy(jets.mass).astype(np.float64)
    t1, t2, t3 = (ak.to_numpy(jets[f"tau{i}"]).astype(np.float64) for i in (1, 2, 3))
    per_jet = np.stack([mass, _ratio(t2, t1), _ratio(t3, t2)], axis=2)  # (n, 2, 3)
    heavier_second = mass[:, 1] > mass[:, 0]
    per_jet[heavier_second] = per_jet[heavier_second, ::-1]
    return per_jet.reshape(len(per_jet), 6)


def dijet_mass(events) -> np.ndarray:
    """Invariant mass of the two highest-pT large-R jets (GeV)."""
    jets = _leading_two(events)
    p4 = ak.zip({"pt": jets.pt, "eta": jets.eta, "phi": jets.phi, "mass": jets.mass}, with_name="Momentum4D")
    return ak.to_numpy((p4[:, 0] + p4[:, 1]).mass).astype(np.float64)
