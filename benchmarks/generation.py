"""Generation throughput: events/s per process, full chain vs Pythia alone on the same events, Dask scaling,
and several one-chunk samples on one client one after another (`generate` each) against together
(`generate_many`, as a run's `ensure_samples` does).

Run: .venv/bin/python benchmarks/generation.py [--events N] [--only-together]. Prints a Markdown table; ratios
are measured in the same run on the same seeds, so they hold on a shared machine where absolute times do not.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time

import numpy as np

from anomalyhunt.generate import GenerationConfig, generate, generate_many, get_process
from anomalyhunt.generate.pythia import PythiaRun
from anomalyhunt.parallel import dask_client
from anomalyhunt.reco import get_preset, reconstruct, select


def pythia_alone(process: str, n: int, seed: int) -> float:
    run = PythiaRun(get_process(process).pythia_settings(), seed=seed)
    start = time.perf_counter()
    for _ in range(n):
        run.next_weight()
    return time.perf_counter() - start


def full_chain(process: str, n: int, seed: int, preset: str) -> tuple[float, float]:
    """(seconds in nextBatch, seconds in reconstruction + selection) for the same events as pythia_alone."""
    run = PythiaRun(get_process(process).pythia_settings(), seed=seed)
    rng = np.random.default_rng(seed)
    t_gen = t_reco = 0.0
    batches = run.batches(n, batch_size=500)
    while True:
        start = time.perf_counter()
        batch = next(batches, None)
        t_gen += time.perf_counter() - start
        if batch is None:
            return t_gen, t_reco
        start = time.perf_counter()
        objects = reconstruct(batch.particles, batch.b_hadrons, preset=get_preset(preset), rng=rng)
        select(objects, preset=get_preset(preset))
        t_reco += time.perf_counter() - start


def dask_scaling(n: int) -> dict[int, float]:
    times = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as out:
            config = GenerationConfig("ttbar", n, seed=3, chunk_size=max(n // 8, 1))
            start = time.perf_counter()
            generate(config, out, workers=workers)
            times[workers] = time.perf_counter() - start
    return times


def one_after_another_vs_together(n: int, workers: int = 2) -> tuple[float, float]:
    """Seconds for four samples of one chunk each on one `workers`-worker client: `generate` one sample after
    the other, then `generate_many` (the same chunks, into fresh folders)."""
    processes = ("ttbar", "wjets", "ssm_wprime", "zjets_ll")
    times = []
    with dask_client(workers=workers) as client:
        for together in (False, True):
            with tempfile.TemporaryDirectory() as out:
                jobs = [(GenerationConfig(p, n, seed=5, chunk_size=n), f"{out}/{p}") for p in processes]
                start = time.perf_counter()
                if together:
                    generate_many(jobs, client=client)
                else:
                    for config, folder in jobs:
                        generate(config, folder, client=client)
                times.append(time.perf_counter() - start)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--preset", default="chekanov2022")
    parser.add_argument("--only-together", action="store_true", help="only the one-after-another/together figure")
    args = parser.parse_args()
    n = args.events
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}, events: {n}")
    alone, together = one_after_another_vs_together(n)
    print(f"four one-chunk samples of {n} events on one 2-worker client: one after another {alone:.1f} s, "
          f"together {together:.1f} s, speed-up {alone / together:.2f}x")
    if args.only_together:
        return
    print("| process | Pythia alone [ev/s] | nextBatch [ev/s] | full chain [ev/s] | reco / Pythia | full / Pythia |")
    print("|---|---|---|---|---|---|")
    for process in ("ttbar", "qcd", "wjets", "ssm_wprime"):
        alone = pythia_alone(process, n, seed=7)
        t_gen, t_reco = full_chain(process, n, seed=7, preset=args.preset)
        print(f"| {process} | {n / alone:.0f} | {n / t_gen:.0f} | {n / (t_gen + t_reco):.0f} | "
              f"{t_reco / alone:.3f} | {(t_gen + t_reco) / alone:.3f} |")
    times = dask_scaling(4 * n)
    print(f"\nDask LocalCluster, ttbar {4 * n} events in 8 chunks: 1 worker {times[1]:.1f} s, "
          f"2 workers {times[2]:.1f} s, speed-up {times[1] / times[2]:.2f}x")


if __name__ == "__main__":
    main()
