"""Cost of the DisCo term (Mikuni, Nachman & Shih) per batch, forward + backward: our formulation vs the textbook
O(n^2) one, in float32 and float64, and the double-AE training step it sits in; ONNX latency of the exported networks.

Run: .venv/bin/python benchmarks/disco.py [--device cuda] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from anomalyhunt.models import DoubleDisCoAE  # noqa: E402
from anomalyhunt.models.disco import distance_correlation, distance_correlation_reference  # noqa: E402
from anomalyhunt.models.onnx_timing import onnx_timing  # noqa: E402


def _time(f, x, y, repeats):
    best = float("inf")
    for _ in range(repeats):
        a, b = x.detach().clone().requires_grad_(), y.detach().clone().requires_grad_()
        if a.is_cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        f(a, b).backward()
        if a.is_cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rng = np.random.default_rng(0)
    print(f"device {device}, {torch.get_num_threads()} threads")
    for n in (1000, 2000, 5000, 10000):
        x0 = rng.random(n)
        y0 = x0**2 + rng.random(n)
        row = [f"n = {n:>6}"]
        for dtype in (torch.float32, torch.float64):
            x = torch.tensor(x0, dtype=dtype, device=device)
            y = torch.tensor(y0, dtype=dtype, device=device)
            ours = _time(distance_correlation, x, y, 3)
            ref = _time(distance_correlation_reference, x, y, 1 if n >= 5000 else 3)
            row.append(f"{str(dtype)[6:]}: ours {ours * 1e3:8.1f} ms, textbook {ref * 1e3:8.1f} ms, "
                       f"ratio {ref / ours:5.1f}x")
        print("  ".join(row), flush=True)
    # one training step of the double AE on 57 inputs: networks vs DisCo term
    x = rng.random((10000, 57), dtype=np.float32)
    for lam in (0.0, 100.0):
        model = DoubleDisCoAE(lam=lam, batch_size=10000, max_epochs=3, patience=3, device=args.device)
        model.fit(np.concatenate([x, x[:4286]]))  # 10k training events after the 30% validation split
        print(f"double AE, batch 10000, lambda = {lam:g}: {model.history_.seconds_per_epoch:.2f} s/epoch "
              "(1 step + evaluation of the training and validation loss)")
    with tempfile.TemporaryDirectory() as tmp:
        path = model.export_onnx(Path(tmp) / "m.onnx")
        for threads in (1, args.threads):
            t = onnx_timing(path, 57, threads=threads)
            print(f"ONNX ({threads} thread(s)): {t['single_event_latency_us_median']:.1f} us/event median, "
                  f"p99 {t['single_event_latency_us_p99']:.1f} us, {t['throughput_events_per_s']:.3g} events/s at "
                  f"batch {t['batch']}")


if __name__ == "__main__":
    main()
