"""K classifiers trained as one batched module against K sequential trainings, in the same run.

Krzyzanska & Nachman networks: 3 hidden layers x 50, ReLU, BCE, Adam, fixed 20 epochs, on 10k events with 3 standardised
inputs (two overlapping Gaussian classes). Sequential = `train_model` on one `nn.Sequential` MLP per member (the
same loop a single model uses); batched = `train_ensemble` on a `BatchedMLP` of K members. Targets (CPU): at least
5x faster at K = 10 and 20x at K = 100.

Run: .venv/bin/python benchmarks/ensemble.py [--members 10 100] [--batch-size 256] [--device cuda]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from anomalyhunt.models import BatchedMLP, FixedEpochs, TrainConfig, resolve_device, train_ensemble, train_model  # noqa: E402
from anomalyhunt.models.nets import mlp  # noqa: E402


def toy(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = (rng.random(n) < 0.5).astype(np.float32)
    x = rng.normal(0, 1, (n, 3)).astype(np.float32) + 0.5 * y[:, None]
    return x, y


def sequential(x, y, k: int, config: TrainConfig, device) -> float:
    xy = np.concatenate([x, y[:, None]], axis=1)

    def loss(model, batch):
        return torch.nn.functional.binary_cross_entropy_with_logits(model(batch[:, :3]).squeeze(-1), batch[:, 3],
                                                                    reduction="none")

    start = time.perf_counter()
    for member in range(k):
        torch.manual_seed(member)
        net = mlp((3, 50, 50, 50, 1), "relu")
        train_model(net, loss, xy, config=config, device=device)
    return time.perf_counter() - start


def batched(x, y, k: int, config: TrainConfig, device) -> float:
    def loss(out, targets):
        return torch.nn.functional.binary_cross_entropy_with_logits(out.squeeze(-1), targets, reduction="none")

    start = time.perf_counter()
    net = BatchedMLP(k, (3, 50, 50, 50, 1), "relu", seed=0)
    train_ensemble(net, loss, x, config=config, device=device, targets=y)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    x, y = toy(args.events, np.random.default_rng(1))
    config = TrainConfig(batch_size=args.batch_size, max_epochs=args.epochs, validation_fraction=0.2,
                         stopping=FixedEpochs())
    print(f"{args.events} events, 3 x 50 ReLU, {args.epochs} epochs, batch {args.batch_size}, {device}, "
          f"{torch.get_num_threads()} threads")
    print("| K | sequential [s] | batched [s] | speed-up |")
    print("|---|---|---|---|")
    for k in args.members:
        t_seq = sequential(x, y, k, config, device)
        t_bat = batched(x, y, k, config, device)
        print(f"| {k} | {t_seq:.1f} | {t_bat:.2f} | {t_seq / t_bat:.1f}x |")


if __name__ == "__main__":
    main()
