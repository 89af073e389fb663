"""A slow, per-event RMM written straight from SPEC section 3, for testing the vectorised one."""

import math

import numpy as np

TYPES = ("jets", "bjets", "muons", "electrons", "photons")


def _four_vector(pt, eta, phi, mass):
    px, py, pz = pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)
    e = math.sqrt(px * px + py * py + pz * pz + mass * mass)
    return px, py, pz, e


def reference_rmm(event: dict, multiplicities, *, sqrt_s=13000.0, c=0.15) -> np.ndarray:
    """event: {collection: [(pt, eta, phi, mass), ...], "met": (pt, phi)} as plain Python numbers."""
    size = 1 + sum(multiplicities)
    m = np.zeros((size, size))
    objects = []  # (index, type position k, et, y, px, py, pz, e)
    index = 1
    for t, n in zip(TYPES, multiplicities, strict=True):
        vecs = []
        for pt, eta, phi, mass in event.get(t, []):
            px, py, pz, e = _four_vector(pt, eta, phi, mass)
            p = math.sqrt(px * px + py * py + pz * pz)
            et = e * pt / p
            y = 0.5 * math.log((e + pz) / (e - pz))
            vecs.append((et, y, px, py, pz, e))
        vecs.sort(key=lambda v: -v[0])  # stable: equal E_T keep input order
        for k, v in enumerate(vecs[:n]):
            objects.append((index + k, k, *v))
        index += n
    met_pt, met_phi = event["met"]
    mpx, mpy = met_pt * math.cos(met_phi), met_pt * math.sin(met_phi)
    m[0, 0] = met_pt / sqrt_s
    previous_et = {}
    for i, k, et, y, px, py, _pz, _e in objects:
        if met_pt > 0:
            mt2 = (et + met_pt) ** 2 - (px + mpx) ** 2 - (py + mpy) ** 2
            m[0, i] = math.sqrt(mt2) / sqrt_s if mt2 > 0 else 0.0
        m[i, 0] = c * (math.cosh(y) - 1)
        if k == 0:
            m[i, i] = et / sqrt_s
        else:
            prev = previous_et[i - 1]
            m[i, i] = (prev - et) / (prev + et)
        previous_et[i] = et
    for a in objects:
        for b in objects:
            i, j = a[0], b[0]
            if i < j:
                e = a[7] + b[7]
                px, py, pz = a[4] + b[4], a[5] + b[5], a[6] + b[6]
                m[i, j] = math.sqrt(max(e * e - px * px - py * py - pz * pz, 0.0)) / sqrt_s
            elif i > j:
                m[i, j] = c * (math.cosh((a[3] - b[3]) / 2) - 1)
    return m
