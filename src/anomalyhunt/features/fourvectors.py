"""Alternative network inputs (seed 000 section 4; seed 002): padded four-vectors and ADC2021 slots."""

from __future__ import annotations

import awkward as ak
import numpy as np

from .rmm import RMMLayout, ordered_objects, rmm_layout

__all__ = ["padded_four_vectors", "four_vector_names", "adc2021_slots", "adc2021_names", "ADC2021_SLOTS"]

ADC2021_SLOTS = (("met", 1), ("electrons", 4), ("muons", 4), ("jets", 10))


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


def adc2021_slots(events: ak.Array) -> np.ndarray:
    """The ADC2021 layout: (pT, eta, phi) of MET (eta = 0), 4 electrons, 4 muons and 10 jets (b-jets merged in,
    by descending pT), zero-padded: shape (n, 57), float32."""
    n = len(events)
    parts = [np.stack([ak.to_numpy(events.met.pt), np.zeros(n), ak.to_numpy(events.met.phi)], axis=1)]
    jets = ak.concatenate([events.jets, events.bjets], axis=1)
    collections = {"electrons": events.electrons, "muons": events.muons, "jets": jets}
    for name, count in ADC2021_SLOTS[1:]:
        objs = collections[name]
        objs = objs[ak.argsort(objs.pt, ascending=False, stable=True)]
        cols = [ak.to_numpy(ak.fill_none(ak.pad_none(objs[f], count, axis=1, clip=True), 0.0))
                for f in ("pt", "eta", "phi")]
        parts.append(np.stack(cols, axis=2).reshape(n, 3 * count))
    return np.concatenate(parts, axis=1).astype(np.float32)


def adc2021_names() -> list[str]:
    names = []
    for name, count in ADC2021_SLOTS:
        for k in range(count):
            label = "MET" if name == "met" else f"{name[:-1]}{k + 1}"
            names += [f"pt({label})", f"eta({label})", f"phi({label})"]
    return names
