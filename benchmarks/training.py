"""Autoencoder training time per epoch for 70k T5N10 RMM events (seed-000 architecture, batch 100).

Run: .venv/bin/python benchmarks/training.py [--device cuda]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from anomalyhunt.features import flatten, rmm  # noqa: E402
from anomalyhunt.models import Autoencoder  # noqa: E402
from benchmarks.rmm import synthetic_events  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="auto")
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    x = flatten(rmm(synthetic_events(args.events), preset="T5N10"))
    for preset in ("chekanov2022", "atlas2024"):
        start = time.perf_counter()
        model = Autoencoder(preset, max_epochs=3, patience=3, batch_size=100, validation_fraction=0.3,
                            device=args.device).fit(x)
        total = time.perf_counter() - start
        h = model.history_
        print(f"{preset}: {len(model.columns_)} inputs, {int(0.7 * args.events)} training events, "
              f"{h.seconds_per_epoch:.1f} s/epoch on {h.device} (3 epochs, {total:.0f} s with set-up)")


if __name__ == "__main__":
    main()
