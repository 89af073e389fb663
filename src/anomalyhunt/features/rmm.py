"""The Rapidity-Mass Matrix (SPEC section 3), computed on whole arrays of events.

Index 0 is MET; each object type t occupies the next N_t indices, objects ordered by descending E_T
(E_T = E pT/|p|); a missing object leaves exact zeros. With C = 0.15 and y the rapidity:

    (0,0)  E_T^miss / sqrt(s)                     (0,i)  m_T(i) / sqrt(s)
    (i,0)  h_L = C (cosh y_i - 1)                 (i,i)  E_T / sqrt(s) (leading) or delta e_T (k >= 2)
    (i,j)  m(i,j) / sqrt(s) for i < j             (i,j)  h = C (cosh((y_i - y_j)/2) - 1) for i > j

Range: every cell lies in [0, 1] for objects within the acceptance of the standard presets, except the
rapidity cells: h_L exceeds 1 for |y| > 2.63 and h for |y_i - y_j| > 5.26 (possible with the adc2021 jets,
|eta| < 4). Mass and m_T cells reach 1 only at the kinematic limit sqrt(s).
"""

from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numba
import numpy as np

from ..exceptions import ConfigError

__all__ = ["RMMLayout", "RMM_PRESETS", "rmm_layout", "rmm", "rmm_cell_names", "object_labels",
           "ordered_objects", "DEFAULT_C"]

DEFAULT_C = 0.15
_COLLECTIONS = ("jets", "bjets", "muons", "electrons", "photons")
_SHORT = {"jets": "j", "bjets": "b", "muons": "mu", "electrons": "e", "photons": "gamma"}


@dataclass(frozen=True)
class RMMLayout:
    """Which object types fill the matrix, in which order, and how many of each."""

    types: tuple[str, ...]
    multiplicities: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.types) != len(self.multiplicities) or not self.types:
            raise ConfigError(f"RMM layout needs one multiplicity per type, got {self.types} / {self.multiplicities}")
        for t in self.types:
            if t not in _COLLECTIONS:
                raise ConfigError(f"RMM layout: unknown object type {t!r}; known: {', '.join(_COLLECTIONS)}")
        if len(set(self.types)) != len(self.types):
            raise ConfigError(f"RMM layout: repeated object type in {self.types}")
        if any(n <= 0 for n in self.multiplicities):
            raise ConfigError(f"RMM layout: multiplicities must be positive, got {self.multiplicities}")

    @property
    def size(self) -> int:
        return 1 + sum(self.multiplicities)

    def offset(self, collection: str) -> int:
        """Matrix index of the leading object of `collection`."""
        i = self.types.index(collection)
        return 1 + sum(self.multiplicities[:i])


RMM_PRESETS: dict[str, RMMLayout] = {
    "T5N10": RMMLayout(_COLLECTIONS, (10, 10, 10, 10, 10)),
    "atlas2024": RMMLayout(_COLLECTIONS, (10, 10, 5, 5, 5)),
}


def rmm_layout(preset: str | RMMLayout | dict) -> RMMLayout:
    """A layout from a preset name, a layout, or a mapping {collection: multiplicity} (in that order)."""
    if isinstance(preset, RMMLayout):
        return preset
    if isinstance(preset, dict):
        return RMMLayout(tuple(preset), tuple(int(n) for n in preset.values()))
    try:
        return RMM_PRESETS[preset]
    except KeyError:
        raise ConfigError(f"unknown RMM preset {preset!r}; known: {', '.join(RMM_PRESETS)}") from None


def object_labels(preset: str | RMMLayout | dict = "T5N10") -> list[str]:
    """Label of every matrix index: 'MET', 'j1', ..., 'gamma5'."""
    layout = rmm_layout(preset)
    return ["MET"] + [f"{_SHORT[t]}{k + 1}" for t, n in zip(layout.types, layout.multiplicities, strict=True)
                      for k in range(n)]


def rmm_cell_names(preset: str | RMMLayout | dict = "T5N10") -> np.ndarray:
    """Human-readable name of every cell, shape (D, D): 'MET', 'mT(j1)', 'h_L(b2)', 'eT(mu1)',
    'delta_eT(j2)', 'm(j1,mu1)', 'h(mu1,j1)'."""
    layout = rmm_layout(preset)
    labels = object_labels(layout)
    leading = {layout.offset(t) for t in layout.types}
    size = len(labels)
    names = np.empty((size, size), dtype=object)
    for i in range(size):
        for j in range(size):
            a, b = labels[i], labels[j]
            if i == j == 0:
                names[i, j] = "MET"
            elif i == 0:
                names[i, j] = f"mT({b})"
            elif j == 0:
                names[i, j] = f"h_L({a})"
            elif i == j:
                names[i, j] = f"eT({a})" if i in leading else f"delta_eT({a})"
            elif i < j:
                names[i, j] = f"m({a},{b})"
            else:
                names[i, j] = f"h({a},{b})"
    return names.astype(str)


def ordered_objects(events: ak.Array, collection: str, n: int) -> dict[str, np.ndarray]:
    """The first `n` objects of a collection by descending E_T, zero-padded: px, py, pz, e, et, y, valid."""
    objs = events[collection]
    pt = ak.values_astype(objs.pt, np.float64)
    eta = ak.values_astype(objs.eta, np.float64)
    mass = ak.values_astype(objs.mass, np.float64)
    p = pt * np.cosh(eta)
    e = np.sqrt(p**2 + mass**2)
    et = e / np.cosh(eta)
    order = ak.argsort(-et, axis=1, stable=True)
    phi = ak.values_astype(objs.phi, np.float64)[order]
    pt, eta, e, et = pt[order], eta[order], e[order], et[order]

    def pad(x):
        return ak.to_numpy(ak.fill_none(ak.pad_none(x, n, axis=1, clip=True), 0.0)).astype(np.float64)

    pt, eta, phi, e, et = pad(pt), pad(eta), pad(phi), pad(e), pad(et)
    valid = pad(ak.ones_like(objs.pt[order])) > 0
    pz = pt * np.sinh(eta)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(valid, 0.5 * np.log((e + pz) / np.maximum(e - pz, 1e-300)), 0.0)
    return {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pz, "e": e, "et": et, "y": y, "valid": valid}


def _objects_in_matrix_order(events: ak.Array, layout: RMMLayout) -> dict[str, np.ndarray]:
    """Flat arrays of every object that enters the matrix, event by event in matrix-index order."""
    parts = []
    for t, n in zip(layout.types, layout.multiplicities, strict=True):
        objs = events[t]
        pt = ak.values_astype(objs.pt, np.float64)
        eta = ak.values_astype(objs.eta, np.float64)
        p = pt * np.cosh(eta)
        e = np.sqrt(p**2 + ak.values_astype(objs.mass, np.float64) ** 2)
        et = e / np.cosh(eta)
        order = ak.argsort(-et, axis=1, stable=True)[:, :n]
        phi = ak.values_astype(objs.phi, np.float64)[order]
        pt, eta, e, et = pt[order], eta[order], e[order], et[order]
        parts.append({"pt": pt, "eta": eta, "phi": phi, "e": e, "et": et,
                      "index": ak.local_index(pt) + layout.offset(t)})
    joined = {key: ak.concatenate([p[key] for p in parts], axis=1) for key in parts[0]}
    flat = {key: ak.to_numpy(ak.flatten(value)) for key, value in joined.items()}
    pt, eta, phi, e = flat["pt"], flat["eta"], flat["phi"], flat["e"]
    pz = pt * np.sinh(eta)
    return {
        "counts": ak.to_numpy(ak.num(joined["pt"])).astype(np.int64),
        "index": flat["index"].astype(np.int64),
        "px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pz, "e": e, "et": flat["et"],
        "y": 0.5 * np.log((e + pz) / np.maximum(e - pz, 1e-300)),
    }


def rmm(events: ak.Array, *, preset: str | RMMLayout | dict = "T5N10", sqrt_s: float = 13000.0,
        c: float = DEFAULT_C, chunk_size: int = 20_000, out: np.ndarray | None = None) -> np.ndarray:
    """RMMs of `events` (event contract), float32 array of shape (n_events, D, D); see the module docstring.

    Work is done `chunk_size` events at a time, so the temporary memory is bounded whatever the input size.
    `out` (float32, (n_events, D, D)), if given, is overwritten and returned: a reused buffer or a slice of a
    memory-mapped file avoids allocating fresh pages for every call.
    """
    layout = rmm_layout(preset)
    if sqrt_s <= 0:
        raise ConfigError(f"sqrt_s must be positive, got {sqrt_s}")
    n = len(events)
    shape = (n, layout.size, layout.size)
    if out is None:
        out = np.zeros(shape, dtype=np.float32)
    elif out.shape != shape or out.dtype != np.float32:
        raise ConfigError(f"out must be float32 of shape {shape}, got {out.dtype} {out.shape}")
    else:
        out.fill(0.0)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        _fill(out[start:stop], events[start:stop], layout, sqrt_s, c)
    return out


def _fill(out: np.ndarray, events: ak.Array, layout: RMMLayout, sqrt_s: float, c: float) -> None:
    obj = _objects_in_matrix_order(events, layout)
    met = ak.to_numpy(events.met.pt).astype(np.float64)
    met_phi = ak.to_numpy(events.met.phi).astype(np.float64)
    leading = np.zeros(layout.size, dtype=np.bool_)
    leading[[layout.offset(t) for t in layout.types]] = True
    _fill_kernel(out, obj["counts"], obj["index"], obj["et"], obj["y"], obj["px"], obj["py"], obj["pz"], obj["e"],
                 met * np.cos(met_phi), met * np.sin(met_phi), met, leading, sqrt_s, c)


@numba.njit(cache=True, nogil=True)
def _fill_kernel(out, counts, index, et, y, px, py, pz, e, mpx, mpy, met, leading, sqrt_s, c):  # pragma: no cover
    start = 0
    for ev in range(counts.shape[0]):
        stop = start + counts[ev]
        out[ev, 0, 0] = met[ev] / sqrt_s
        for a in range(start, stop):
            i = index[a]
            if met[ev] > 0:
                mt2 = (et[a] + met[ev]) ** 2 - (px[a] + mpx[ev]) ** 2 - (py[a] + mpy[ev]) ** 2
                if mt2 > 0:
                    out[ev, 0, i] = np.sqrt(mt2) / sqrt_s
            out[ev, i, 0] = c * (np.cosh(y[a]) - 1.0)
            if leading[i]:
                out[ev, i, i] = et[a] / sqrt_s
            else:  # the previous object in the flat list is the previous one of the same type
                out[ev, i, i] = (et[a - 1] - et[a]) / (et[a - 1] + et[a])
            for b in range(a + 1, stop):
                j = index[b]
                m2 = (e[a] + e[b]) ** 2 - (px[a] + px[b]) ** 2 - (py[a] + py[b]) ** 2 - (pz[a] + pz[b]) ** 2
                out[ev, i, j] = np.sqrt(m2) / sqrt_s if m2 > 0 else 0.0
                out[ev, j, i] = c * (np.cosh((y[a] - y[b]) / 2.0) - 1.0)
        start = stop
