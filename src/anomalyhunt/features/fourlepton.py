"""The four-lepton (e+e-mu+mu-) inputs of Krzyzanska & Nachman: the three masses, or the twelve lepton momenta."""

from __future__ import annotations

import awkward as ak
import numpy as np
import vector

from ..exceptions import ConfigError, StatsInputError

__all__ = ["FOURLEPTON_INPUTS", "fourlepton_inputs", "fourlepton_input_names"]

vector.register_awkward()

FOURLEPTON_INPUTS = ("masses", "momenta")
_LEPTONS = (("electrons", 1, "e+"), ("electrons", -1, "e-"), ("muons", 1, "mu+"), ("muons", -1, "mu-"))


def _check(events) -> None:
    for name in ("electrons", "muons"):
        n = ak.to_numpy(ak.num(events[name]))
        charge = ak.to_numpy(ak.sum(events[name].charge, axis=1))
        bad = np.flatnonzero((n != 2) | (charge != 0))
        if bad.size:
            raise StatsInputError(f"{bad.size} events lack exactly one opposite-sign {name[:-1]} pair (first: "
                                   f"event {bad[0]} has {n[bad[0]]} {name}); select them with the fourlepton preset")


def _momentum(events, name: str) -> ak.Array:
    c = events[name]
    return ak.zip({"pt": c.pt, "eta": c.eta, "phi": c.phi, "mass": c.mass}, with_name="Momentum4D")


def fourlepton_inputs(events, kind: str = "masses") -> np.ndarray:
    """(n, 3) [m_ee, m_mumu, m_4l] in GeV, or (n, 12) (px, py, pz) of e+, e-, mu+, mu- in GeV, for events with
    exactly one e+e- and one mu+mu- pair (the `fourlepton` preset)."""
    if kind not in FOURLEPTON_INPUTS:
        raise ConfigError(f"unknown four-lepton input {kind!r}; known: {', '.join(FOURLEPTON_INPUTS)}")
    _check(events)
    if kind == "masses":
        ee = ak.sum(_momentum(events, "electrons"), axis=1)
        mm = ak.sum(_momentum(events, "muons"), axis=1)
        return np.column_stack([ak.to_numpy(ee.mass), ak.to_numpy(mm.mass), ak.to_numpy((ee + mm).mass)])
    columns = []
    for name, sign, _ in _LEPTONS:
        p = _momentum(events, name)
        lepton = ak.firsts(p[events[name].charge == sign])
        columns += [ak.to_numpy(lepton.px), ak.to_numpy(lepton.py), ak.to_numpy(lepton.pz)]
    return np.column_stack(columns).astype(np.float64)


def fourlepton_input_names(kind: str = "masses") -> list[str]:
    if kind == "masses":
        return ["m_ee", "m_mumu", "m_4l"]
    return [f"{c}({label})" for _, _, label in _LEPTONS for c in ("px", "py", "pz")]
