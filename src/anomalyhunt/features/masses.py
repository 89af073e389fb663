"""The nine two-body search masses of the leading objects (GeV), the spectra of the ATLAS search."""

from __future__ import annotations

import awkward as ak
import numpy as np

from .rmm import ordered_objects

__all__ = ["search_masses", "SEARCH_MASSES"]

SEARCH_MASSES: dict[str, tuple[tuple[str, int], tuple[str, int]]] = {
    "m_jj": (("jets", 0), ("jets", 1)),
    "m_jb": (("jets", 0), ("bjets", 0)),
    "m_bb": (("bjets", 0), ("bjets", 1)),
    "m_je": (("jets", 0), ("electrons", 0)),
    "m_jmu": (("jets", 0), ("muons", 0)),
    "m_jgamma": (("jets", 0), ("photons", 0)),
    "m_be": (("bjets", 0), ("electrons", 0)),
    "m_bmu": (("bjets", 0), ("muons", 0)),
    "m_bgamma": (("bjets", 0), ("photons", 0)),
}


def search_masses(events: ak.Array) -> dict[str, np.ndarray]:
    """m_jj, m_jb, m_bb, m_je, m_jmu, m_jgamma, m_be, m_bmu, m_bgamma in GeV (float64); NaN where the pair
    does not exist. Objects are ordered by E_T as in the RMM, so m = sqrt(s) x the matching RMM cell."""
    leading = {c: ordered_objects(events, c, 2) for c in ("jets", "bjets", "electrons", "muons", "photons")}
    out = {}
    for name, ((ca, ia), (cb, ib)) in SEARCH_MASSES.items():
        a, b = leading[ca], leading[cb]
        m2 = ((a["e"][:, ia] + b["e"][:, ib]) ** 2 - (a["px"][:, ia] + b["px"][:, ib]) ** 2
              - (a["py"][:, ia] + b["py"][:, ib]) ** 2 - (a["pz"][:, ia] + b["pz"][:, ib]) ** 2)
        ok = a["valid"][:, ia] & b["valid"][:, ib]
        out[name] = np.where(ok, np.sqrt(np.maximum(m2, 0.0)), np.nan)
    return out
