"""Particle-level reconstruction: detector presets (isolation, jets, smearing, b-tagging, event selection),
reconstruction of stable particles into the event contract, jet substructure (tau_N, D2) and PDG helpers.
Used by generation (Pythia) and by the readers of particle-level files (LHE, HepMC3)."""

from .detector import PRESETS, DetectorPreset, get_preset
from .reconstruction import INVISIBLE_IDS, delta_r, is_b_hadron, reconstruct, select
from .substructure import d2, nsubjettiness

__all__ = ["INVISIBLE_IDS", "PRESETS", "DetectorPreset", "d2", "delta_r", "get_preset", "is_b_hadron",
           "nsubjettiness", "reconstruct", "select"]
