"""Limits against pyhf, limit coverage, and the bump hunt's signal absorption.

Run: .venv/bin/python benchmarks/limits.py [--coverage N] [--absorption N]
1. Our CLs limits (q-tilde, asymptotic) vs pyhf 0.7 on single-bin and shape models with a fixed background.
2. Coverage: a true signal at twice the median expected limit, on a falling dijet spectrum whose background the
   "auto" fit describes with 4-5 parameters; the fraction of pseudo-experiments that exclude it (CLs promises at
   most 5%), for the profiled and the fixed background.
3. Absorption: mean fitted signal of the bump hunt for 500 injected events, first-order profiled vs fixed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from anomalyhunt.stats import (
    SignalPlusBackground,
    cls_limits,
    dijet_expected,
    dijet_fit,
    local_scan,
    profile_factors,
    resolution_binning,
    signal_templates,
    upper_limits,
)

CASES = [
    ("1 bin, b = 100, n = 80", [80], [100], [1]),
    ("1 bin, b = 100, n = 100", [100], [100], [1]),
    ("1 bin, b = 100, n = 130", [130], [100], [1]),
    ("1 bin, b = 12, n = 8", [8], [12], [1]),
    ("1 bin, b = 12, n = 12", [12], [12], [1]),
    ("5 bins, shape", [95, 60, 48, 22, 14], [100, 70, 45, 30, 18], [0.1, 0.25, 0.35, 0.2, 0.1]),
]
TRUTH = np.array([1.0, 8.0, -5.0, -0.6])  # a 4-parameter dijet shape; 2e5 events from 200 GeV
EDGES = resolution_binning(200.0, 6000.0)


def pyhf_limits(n, b, t):
    import pyhf

    pyhf.set_backend("numpy")
    spec = {"channels": [{"name": "sr", "samples": [
        {"name": "signal", "data": [float(x) for x in t],
         "modifiers": [{"name": "mu", "type": "normfactor", "data": None}]},
        {"name": "background", "data": [float(x) for x in b], "modifiers": []}]}]}
    model = pyhf.Model(spec, poi_name="mu")
    bounds = model.config.suggested_bounds()
    bounds[model.config.poi_index] = (0.0, 1000.0)
    obs, exp = pyhf.infer.intervals.upper_limits.upper_limit([float(x) for x in n], model, scan=None,
                                                             par_bounds=bounds, rtol=1e-8)
    return float(obs), [float(x) for x in exp]  # expected: -2, -1, 0, +1, +2 sigma


def compare_with_pyhf() -> None:
    print("| model | observed: ours / pyhf | expected -2, -1, 0, +1, +2 sigma: ours / pyhf | largest difference |")
    print("|---|---|---|---|")
    for name, n, b, t in CASES:
        n, b, t = (np.asarray(a, dtype=np.float64) for a in (n, b, t))
        obs, bands = cls_limits(n, SignalPlusBackground(t, background=b))
        ref_obs, ref_exp = pyhf_limits(n, b, t)
        ours = [bands[k] for k in (-2, -1, 0, 1, 2)]
        worst = max(abs(a / r - 1) for a, r in zip([obs, *ours], [ref_obs, *ref_exp], strict=True))
        pairs = ", ".join(f"{a:.2f}/{r:.2f}" for a, r in zip(ours, ref_exp, strict=True))
        print(f"| {name} | {obs:.3f} / {ref_obs:.3f} | {pairs} | {worst:.1e} |")


def truth(total: float = 2e5) -> np.ndarray:
    b = dijet_expected(TRUTH, EDGES)
    return b * total / b.sum()


def template_at(mass: float) -> tuple[float, np.ndarray]:
    tm = signal_templates(EDGES, widths=("resolution",))
    k = int(np.argmin(np.abs(tm.masses - mass)))
    return float(tm.masses[k]), tm.dense(len(EDGES) - 1)[k]


def coverage(mass: float, n_pe: int, background: str, seed: int = 7) -> dict:
    """Fraction of pseudo-experiments whose observed limit excludes a true signal at 2x the median expected limit
    (the method's own, on the Asimov data of the true background)."""
    b = truth()
    m, t = template_at(mass)
    expected = upper_limits(b, EDGES, fit=dijet_fit(b, EDGES, n_params="auto"), masses=[m],
                            background=background).expected[0]
    s_true = 2.0 * expected
    rng = np.random.default_rng(seed)
    excluded, start = 0, time.perf_counter()
    for _ in range(n_pe):
        n = rng.poisson(b + s_true * t).astype(np.float64)
        fit = dijet_fit(n, EDGES, n_params="auto")
        if not fit.converged:
            continue
        excluded += upper_limits(n, EDGES, fit=fit, masses=[m], background=background).observed[0] < s_true
    return {"mass": m, "expected": expected, "s_true": s_true, "excluded": int(excluded), "n": n_pe,
            "seconds": time.perf_counter() - start}


def absorption(n_pe: int, events: float = 500.0, mass: float = 1967.0, seed: int = 3) -> dict:
    """Mean fitted signal at the injected mass (resolution width), first-order profiled and with the background
    held at its background-only fit."""
    b = truth()
    m, t = template_at(mass)
    tm = signal_templates(EDGES, widths=("resolution",), masses=[m])
    rng = np.random.default_rng(seed)
    profiled, fixed = [], []
    for _ in range(n_pe):
        n = rng.poisson(b + events * t).astype(np.float64)
        fit = dijet_fit(n, EDGES, n_params="auto")
        s_fixed, _ = local_scan(n[None], fit.expected[None], tm)
        s_prof, _ = local_scan(n[None], fit.expected[None], tm, factors=profile_factors(fit, tm))
        fixed.append(s_fixed[0, 0])
        profiled.append(s_prof[0, 0])
    return {"injected": events, "profiled": float(np.mean(profiled)), "fixed": float(np.mean(fixed)),
            "profiled_error": float(np.std(profiled) / np.sqrt(n_pe)),
            "fixed_error": float(np.std(fixed) / np.sqrt(n_pe))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--coverage", type=int, default=300, help="pseudo-experiments per mass (0: skip)")
    parser.add_argument("--absorption", type=int, default=100, help="pseudo-experiments (0: skip)")
    args = parser.parse_args()
    compare_with_pyhf()
    if args.coverage:
        print("\n| mass [GeV] | background | median expected limit | true signal | excluded | seconds |")
        print("|---|---|---|---|---|---|")
        for mass in (1967.0, 2700.0):
            for background in ("profiled", "fixed"):
                c = coverage(mass, args.coverage, background)
                frac = c["excluded"] / c["n"]
                err = np.sqrt(frac * (1 - frac) / c["n"])
                print(f"| {c['mass']:.0f} | {background} | {c['expected']:.1f} | {c['s_true']:.1f} | "
                      f"{c['excluded']}/{c['n']} = {frac:.3f} +- {err:.3f} | {c['seconds']:.0f} |", flush=True)
    if args.absorption:
        a = absorption(args.absorption)
        print(f"\nabsorption: {a['injected']:.0f} injected; fitted {a['profiled']:.0f} +- {a['profiled_error']:.0f} "
              f"(first-order profiled), {a['fixed']:.0f} +- {a['fixed_error']:.0f} (background fixed to its fit)")


if __name__ == "__main__":
    main()
