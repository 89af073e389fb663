"""Autoencoder training time per epoch against a bare torch loop, in the same process on the same events.

70k synthetic T5N10 RMM events (Chekanov & Hopkins architecture, 1124 non-zero inputs after column selection), batch
100, Adam: `Autoencoder("chekanov2022").fit` (validation split, weighted loss, per-epoch validation pass, stopping rule,
best-state copy) against a plain forward/backward/step loop over the same 49k training events. Target: within
1.5x of the bare loop. Then the scoring rate of the trained model (events/s, host arrays in and out).

Run: .venv/bin/python benchmarks/training.py [--events 70000] [--epochs 3] [--device cuda]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from anomalyhunt.features import flatten, rmm  # noqa: E402
from anomalyhunt.models import Autoencoder, AutoencoderNet, resolve_device  # noqa: E402
from anomalyhunt.models.nets import AUTOENCODER_PRESETS  # noqa: E402
from benchmarks.rmm import synthetic_events  # noqa: E402


def bare_loop(x: np.ndarray, *, epochs: int, batch_size: int, device: torch.device) -> float:
    """Seconds per epoch of forward/backward/step over `x` with nothing else."""
    torch.manual_seed(0)
    model = AutoencoderNet(x.shape[1], AUTOENCODER_PRESETS["chekanov2022"]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt = torch.as_tensor(x, device=device)
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(xt), device=device)
        for b in range(0, len(xt), batch_size):
            xb = xt[perm[b:b + batch_size]]
            loss = (model(xb) - xb).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / epochs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="auto")
    parser.add_argument("--events", type=int, default=70_000)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    device = resolve_device(args.device)
    x = flatten(rmm(synthetic_events(args.events), preset="T5N10"))
    kept = x[:, np.flatnonzero(np.any(x != 0, axis=0))]
    n_train = len(x) - int(round(0.3 * len(x)))
    print(f"{len(x)} events, {kept.shape[1]} non-zero inputs, {n_train} training events, batch 100, "
          f"{torch.get_num_threads()} threads, {device}")
    bare = bare_loop(kept[:n_train], epochs=args.epochs, batch_size=100, device=device)
    model = Autoencoder("chekanov2022", max_epochs=args.epochs, patience=args.epochs, batch_size=100,
                        device=str(device)).fit(x)
    ours = model.history_.seconds_per_epoch
    print(f"bare loop {bare:.2f} s/epoch; Autoencoder.fit {ours:.2f} s/epoch; ratio {ours / bare:.2f}x")
    model.score_samples(x[:1000])  # warm-up (CUDA context, allocator)
    start = time.perf_counter()
    model.score_samples(x)
    if device.type == "cuda":
        torch.cuda.synchronize()
    print(f"scoring: {len(x) / (time.perf_counter() - start):.3g} events/s (Autoencoder.score_samples, all "
          f"{len(x)} events, inputs on the host)")


if __name__ == "__main__":
    main()
