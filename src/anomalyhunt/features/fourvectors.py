"""Alternative network inputs (Chekanov & Hopkins section 4; Mikuni, Nachman & Shih): padded four-vectors and ADC2021
slots."""

from __future__ import annotations

import awkward as ak
import numpy as np

from ..ingest.adc2021 import ADC2021_SLOTS, adc2021_names, adc2021_slots
from .rmm import RMMLayout, ordered_objects, rmm_layout

# the ADC2021 slot layout belongs to its reader (ingest.adc2021); it is re-exported here as a feature space
__all__ = ["padded_four_vectors", "four_vector_names", "adc2021_slots", "adc2021_names", "ADC2021_SLOTS"]


def padded_four_vectors(events: ak.Array, *, preset: str | RMMLayout | dict = "T5N10") -> np.ndarray:
    """(px, py) of MET followed by zero-padded (px, py, pz, E) of up to N objects per type, in GeV.

    Objects are ordered by E_T as in the RMM. Shape (n, 2 + 4 * sum N), float32. Scaling to [0, 1] is the
    model's job (the scaler is fitted on training data and saved with it).
    """
    layout = rmm_layout(preset)
    met_phi = ak.to_numpy(events.met.phi).astype(np.float64)
    met = ak.to_numpy(events.met.pt).astype(np.float64)
    columns = [np.stack([met * np.cos(met_phi), met * np.sin(met_phi)], axis=1)]
    for t, n in zip(layout.types, layout.multiplicities, strict=True):
        o = ordered_objects(events, t, n)
        columns.append(np.stack([o["px"], o["py"], o["pz"], o["e"]], axis=2).reshape(len(events), 4 * n))
    return np.concatenate(columns, axis=1).astype(np.float32)


def four_vector_names(preset: str | RMMLayout | dict = "T5N10") -> list[str]:
    from .rmm import object_labels

    labels = object_labels(preset)[1:]
    return ["px(MET)", "py(MET)"] + [f"{c}({lab})" for lab in labels for c in ("px", "py", "pz", "E")]
