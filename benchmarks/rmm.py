"""RMM throughput on one core: the vectorised `rmm` against the per-event reference loop, same events.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rmm.py
Also reports peak working memory (tracemalloc; the output array itself excluded) for a 100k-event call
done in 20k-event chunks, and the output size per million events.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

import awkward as ak
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.unit.features.reference_rmm import TYPES, reference_rmm  # noqa: E402

from anomalyhunt.features import rmm, rmm_layout  # noqa: E402

MEAN_MULTIPLICITY = {"jets": 4.0, "bjets": 1.2, "muons": 0.6, "electrons": 0.6, "photons": 0.3}


def synthetic_events(n: int, seed: int = 1) -> ak.Array:
    """ttbar-like multiplicities, random kinematics, in the event contract."""
    rng = np.random.default_rng(seed)
    fields = {}
    for c in TYPES:
        counts = rng.poisson(MEAN_MULTIPLICITY[c], n)
        total = counts.sum()
        rec = {"pt": rng.exponential(80, total) + 30, "eta": rng.uniform(-2.5, 2.5, total),
               "phi": rng.uniform(-np.pi, np.pi, total),
               "mass": rng.uniform(0, 30, total) if c in ("jets", "bjets") else np.zeros(total)}
        rec = {k: v.astype(np.float32) for k, v in rec.items()}
        if c in ("muons", "electrons"):
            rec["charge"] = rng.choice(np.array([-1, 1], dtype=np.int8), total)
        fields[c] = ak.unflatten(ak.zip(rec), counts)
    fields["met"] = ak.zip({"pt": rng.exponential(50, n).astype(np.float32),
                            "phi": rng.uniform(-np.pi, np.pi, n).astype(np.float32)})
    return ak.zip(fields, depth_limit=1)


def as_python(events: ak.Array) -> list[dict]:
    rows = []
    for ev in ak.to_list(events):
        row = {c: [(o["pt"], o["eta"], o["phi"], o["mass"]) for o in ev[c]] for c in TYPES}
        row["met"] = (ev["met"]["pt"], ev["met"]["phi"])
        rows.append(row)
    return rows


def main() -> None:
    print("| preset | rmm, new array [ev/s] | rmm, reused buffer [ev/s] | reference on Python lists [ev/s] | "
          "reference looping over awkward records [ev/s] | ratios (new, reused) vs lists | ratios vs awkward loop | "
          "working memory per 20k chunk | output per 1M events |")
    print("|---|---|---|---|---|---|---|---|---|")
    for preset in ("T5N10", "atlas2024"):
        layout = rmm_layout(preset)
        events = synthetic_events(20_000)
        rmm(events[:100], preset=preset)  # warm-up (numba compilation)
        start = time.perf_counter()
        buffer = rmm(events, preset=preset)
        fresh = len(events) / (time.perf_counter() - start)
        start = time.perf_counter()
        rmm(events, preset=preset, out=buffer)
        reused = len(events) / (time.perf_counter() - start)
        rows = as_python(events[:300])
        start = time.perf_counter()
        for row in rows:
            reference_rmm(row, layout.multiplicities)
        lists = len(rows) / (time.perf_counter() - start)
        start = time.perf_counter()
        for event in events[:100]:  # the naive per-event loop: read each record from the awkward array
            row = {c: list(zip(event[c].pt, event[c].eta, event[c].phi, event[c].mass, strict=True)) for c in TYPES}
            row["met"] = (event.met.pt, event.met.phi)
            reference_rmm(row, layout.multiplicities)
        loop = 100 / (time.perf_counter() - start)
        big = synthetic_events(100_000, seed=2)
        tracemalloc.start()
        out = rmm(big, preset=preset, chunk_size=20_000)
        peak = tracemalloc.get_traced_memory()[1] - out.nbytes
        tracemalloc.stop()
        per_million = out.nbytes / len(big) * 1e6
        print(f"| {preset} ({layout.size}x{layout.size}) | {fresh:,.0f} | {reused:,.0f} | {lists:,.0f} | {loop:,.0f} | "
              f"{fresh / lists:.1f}x, {reused / lists:.1f}x | {fresh / loop:.0f}x, {reused / loop:.0f}x | "
              f"{peak / 2**20:,.0f} MiB | {per_million / 2**30:.1f} GiB |")


if __name__ == "__main__":
    main()
