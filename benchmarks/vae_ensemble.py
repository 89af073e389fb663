"""Bortolato et al. training: one epoch of the 20-VAE ensemble trained as one batched module against the same 20 VAEs
trained one after the other, in the same run.

Sizes are the example's (examples/vae_latent.yaml): ~13k training events (6 MaxAbs-scaled inputs, Gaussian toys:
the cost depends on the sizes only), batch 1000, the paper's networks (latent 1, 3 x 64 SeLU). The sequential
baseline is the same estimator with n_members = 1, so both do exactly the same arithmetic per member. Reported:
seconds per epoch of all 20 members, and the ratio.

Run: .venv/bin/python benchmarks/vae_ensemble.py [--events 13000] [--epochs 5] [--device auto]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from anomalyhunt.models import VAEEnsemble, resolve_device  # noqa: E402


def per_epoch(x: np.ndarray, *, members: int, epochs: int, device: str, seed: int) -> float:
    vae = VAEEnsemble(n_members=members, max_epochs=epochs, rise=epochs, fall=epochs, seed=seed, device=device)
    start = time.perf_counter()
    vae.fit(x)
    return (time.perf_counter() - start) / vae.epochs_run_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=13000)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = str(resolve_device(args.device))
    rng = np.random.default_rng(0)
    x = np.abs(rng.normal(size=(args.events, 6))) * [300.0, 0.5, 0.7, 150.0, 0.6, 0.8]
    per_epoch(x[:2000], members=2, epochs=1, device=device, seed=0)  # warm-up (allocator, kernels)
    batched = per_epoch(x, members=args.members, epochs=args.epochs, device=device, seed=1)
    sequential = sum(per_epoch(x, members=1, epochs=args.epochs, device=device, seed=100 + k)
                     for k in range(args.members))
    name = torch.cuda.get_device_name() if device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    print(f"VAE ensemble, {args.events} events, batch 1000, {args.members} members, {args.epochs} epochs on {name}")
    print(f"  batched ({args.members} as one module): {batched:.3f} s per epoch")
    print(f"  sequential ({args.members} x 1):         {sequential:.3f} s per epoch")
    print(f"  speed-up: {sequential / batched:.2f}x")


if __name__ == "__main__":
    main()
