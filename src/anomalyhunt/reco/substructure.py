"""Jet substructure from a jet's constituents, through fastjet's own implementations (not re-implemented here).

N-subjettiness tau_N (Thaler & Van Tilburg) with the normalised measure,
tau_N = sum_k pT_k min_a dR(k, a) ** beta / (sum_k pT_k R0 ** beta), by default with fastjet contrib's
`OnePass_KT_Axes`: exclusive-kt axes followed by one pass of the minimisation (the recommended axes of the
N-subjettiness authors; the LHC Olympics R&D sample's tau_N came through Delphes' N-subjettiness module,
which uses them too). Plain `KT_Axes` (the axes without the minimisation, this toolkit's definition before
2026-12) gave tau_2/tau_1 > 1 for 6-11% of jets: a tau_N above tau_(N-1) can only come from unminimised axes.

D2 (Larkoski, Moult & Neill) with beta = 1 from fastjet contrib's EnergyCorrelator (pT and rapidity-azimuth
distances): D2 = ECF(3) ECF(1)^3 / ECF(2)^3, ECF(N) the sum over N-tuples of constituents of their pT product
times the product of their pairwise dR ** beta. The ATLAS Y -> XH comparison tagger is D2 < 1.2.
"""

from __future__ import annotations

import awkward as ak
import fastjet
import numpy as np

from ..native_output import swallow_fastjet_banner

__all__ = ["d2", "nsubjettiness"]


def nsubjettiness(constituents: ak.Array, *, njets: tuple[int, ...] = (1, 2, 3), beta: float = 1.0,
                  r0: float = 1.0, axes: str = "OnePass_KT_Axes") -> np.ndarray:
    """tau_N of each jet, shape (n_jets, len(njets)), dimensionless.

    axes: fastjet contrib's axes definition (`OnePass_KT_Axes`, `KT_Axes`, `WTA_KT_Axes`, ...).
    constituents: one list of particles per jet, records with px, py, pz, e (GeV). A jet with no more than N
    particles has tau_N = 0 (its N axes sit on the particles).
    """
    if len(constituents) == 0:
        return np.zeros((0, len(njets)))
    # Each jet goes in as its own "event": njettiness uses every input particle of that event.
    sequence = _per_jet_sequence(constituents, fastjet.antikt_algorithm, r0)
    taus = sequence.njettiness(measure_definition="NormalizedMeasure", axes_definition=axes,
                               njets=list(njets), beta=beta, R0=r0)
    return ak.to_numpy(taus).astype(np.float64).reshape(len(constituents), len(njets))


def d2(constituents: ak.Array, *, beta: float = 1.0) -> np.ndarray:
    """D2 of each jet (beta = 1 by default), shape (n_jets,); NaN for a jet with fewer than two particles
    (ECF(2) = 0). constituents: as for `nsubjettiness`."""
    n = len(constituents)
    out = np.full(n, np.nan)
    usable = ak.to_numpy(ak.num(constituents) >= 2)
    if not usable.any():
        return out
    # each jet as its own "event", reclustered into exactly one jet (C/A, exclusive: every particle merged)
    sequence = _per_jet_sequence(constituents[usable], fastjet.cambridge_algorithm, 10.0)
    values = sequence.exclusive_jets_energy_correlator(njets=1, func="d2", beta=beta)
    out[usable] = ak.to_numpy(ak.flatten(values, axis=None)).astype(np.float64)
    return out


def _per_jet_sequence(constituents: ak.Array, algorithm, r: float):
    swallow_fastjet_banner()
    momenta = ak.zip({"px": constituents.px, "py": constituents.py, "pz": constituents.pz, "E": constituents.e})
    return fastjet.ClusterSequence(momenta, fastjet.JetDefinition(algorithm, r))
