"""Jet substructure from a jet's constituents, through fastjet's own implementations (not re-implemented here).

N-subjettiness tau_N (Thaler & Van Tilburg) with the normalised measure,
tau_N = sum_k pT_k min_a dR(k, a) ** beta / (sum_k pT_k R0 ** beta), axes from exclusive-kt clustering of the
constituents (fastjet contrib's `KT_Axes`): the LHC Olympics / seed-004 definition.
"""

from __future__ import annotations

import awkward as ak
import fastjet
import numpy as np

__all__ = ["nsubjettiness"]


def nsubjettiness(constituents: ak.Array, *, njets: tuple[int, ...] = (1, 2, 3), beta: float = 1.0,
                  r0: float = 1.0) -> np.ndarray:
    """tau_N of each jet, shape (n_jets, len(njets)), dimensionless.

    constituents: one list of particles per jet, records with px, py, pz, e (GeV). A jet with no more than N
    particles has tau_N = 0 (its N axes sit on the particles).
    """
    if len(constituents) == 0:
        return np.zeros((0, len(njets)))
    from .reconstruction import _swallow_fastjet_banner  # reconstruction imports this module

    _swallow_fastjet_banner()
    momenta = ak.zip({"px": constituents.px, "py": constituents.py, "pz": constituents.pz, "E": constituents.e})
    # Each jet goes in as its own "event": njettiness uses every input particle of that event.
    sequence = fastjet.ClusterSequence(momenta, fastjet.JetDefinition(fastjet.antikt_algorithm, r0))
    taus = sequence.njettiness(measure_definition="NormalizedMeasure", axes_definition="KT_Axes",
                               njets=list(njets), beta=beta, R0=r0)
    return ak.to_numpy(taus).astype(np.float64).reshape(len(constituents), len(njets))
