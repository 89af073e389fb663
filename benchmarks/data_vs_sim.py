"""Krzyzanska & Nachman study trainings: trials batched into one model against one ensemble at a time and one network
at a time, and the Dask fan-out against one process, all in the same run.

Sizes are those of the example study (examples/data_vs_sim.yaml): 1680 simulation events, N_exp = 1590 "data"
events, 3 standardised inputs (Gaussian toys: the cost depends on the sizes only), the paper's networks
(3 x 50 ReLU, 20 epochs, batch 32), MLC loss, 2 folds. Reported: seconds per network (one network = one fold's
member, trained on half a dataset) and the ratios.

Run: .venv/bin/python benchmarks/data_vs_sim.py [--group-size 48] [--workers 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from anomalyhunt.methods.data_vs_sim import DataVsSimModel  # noqa: E402
from anomalyhunt.methods.data_vs_sim.study import Pools, Trial, train_group  # noqa: E402
from anomalyhunt.parallel import dask_client, run_futures  # noqa: E402


def timed(trials, pools, model, device, *, group_size: int) -> tuple[float, int]:
    start, networks = time.perf_counter(), 0
    for i in range(0, len(trials), group_size):
        networks += train_group(trials[i:i + group_size], pools, model, "mlc", 2, 1, device)["networks"]
    return time.perf_counter() - start, networks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group-size", type=int, default=48)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    pools = Pools(rng.normal(size=(1680, 3)), rng.normal(size=(6700, 3)), (rng.normal(size=(900, 3)) + 1.0,), 1590.0)
    paper = DataVsSimModel()
    single = DataVsSimModel(n_members=1)
    device = torch.device(args.device)
    print(f"device {device}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}")
    rows = []
    t, n = timed([Trial("independent", i) for i in range(2)], pools, single, device, group_size=1)
    rows.append(("one network at a time (K = 1)", t / n))
    t, n = timed([Trial("independent", i) for i in range(4)], pools, paper, device, group_size=1)
    rows.append(("one dataset's ensembles at a time (K = 20)", t / n))
    batch = [Trial("independent", i) for i in range(args.group_size)]
    t, n = timed(batch, pools, paper, device, group_size=args.group_size)
    rows.append((f"{args.group_size} datasets as one model (K = {n})", t / n))
    base = rows[0][1]
    for name, per in rows:
        print(f"{name:48s} {1000 * per:8.1f} ms/network   speed-up {base / per:6.1f}x")
    # the fan-out: the same groups in this process and as Dask futures
    groups = [[Trial("bootstrap", g * 12 + i) for i in range(12)] for g in range(4)]
    start = time.perf_counter()
    for group in groups:
        train_group(group, pools, paper, "mlc", 2, 1, device)
    local = time.perf_counter() - start
    with dask_client(workers=args.workers) as client:
        start = time.perf_counter()
        run_futures(client, train_group, [(g, pools, paper, "mlc", 2, 1, "cpu", 1) for g in groups],
                    on_result=lambda r: None, name="bench")
        fanned = time.perf_counter() - start
    print(f"4 groups of 12 datasets: in process {local:.1f} s, Dask LocalCluster({args.workers}) {fanned:.1f} s, "
          f"ratio {local / fanned:.2f}")
    full = 2 * 491 * 20
    print(f"full example study ({full} networks) projected at the batched rate: {full * rows[-1][1] / 60:.1f} min")


if __name__ == "__main__":
    main()
