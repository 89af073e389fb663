"""Throughput of the fixed-point trigger emulation (hls4ml's compiled C++ of both autoencoders) on one and on
several CPU cores, measured in the same run: events per second through the pair, and the ratio.

Run: .venv/bin/python benchmarks/firmware_throughput.py RUN_FOLDER [--width 8] [--events 2000] [--workers 2]
RUN_FOLDER is a finished double_ae run (its model.pt). Each Dask worker converts and compiles both autoencoders
at `ap_fixed<width, ...>` into a folder of its own with `models.firmware.compile_firmware` (what
`anomalyhunt trigger` runs; g++, not timed), then emulates its chunks of events through AE1 and AE2 with
`FirmwareNet.predict`. The inputs, and the sample that sets the integer bits, are uniform numbers in [0, 1]
(the scaled inputs' range): an io_parallel network does the same arithmetic whatever the values, so the
throughput does not depend on them. One worker runs every chunk in turn; N workers share them; the wall time of
the chunks (not the compilation) gives events/s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from anomalyhunt.models import DoubleDisCoAE
from anomalyhunt.models.firmware import compile_firmware, require_hls4ml, sequential_autoencoder
from anomalyhunt.parallel import dask_client

_ATTRIBUTE = "anomalyhunt_firmware"  # where a Dask worker keeps its two compiled autoencoders


def _compile(model_path: str, width: int, n_in: int, dask_worker=None) -> float:
    """On a worker (`client.run` passes it as `dask_worker`): both autoencoders compiled at `width` into a folder
    of this process; the seconds it took."""
    start = time.perf_counter()
    model = DoubleDisCoAE.load(model_path, device="cpu")
    sample = np.random.default_rng(0).uniform(0, 1, size=(2000, n_in)).astype(np.float32)
    root = Path(tempfile.mkdtemp(prefix=f"anomalyhunt-fw-{os.getpid()}-"))
    nets = [compile_firmware(sequential_autoencoder(ae), sample, width, output_dir=root / f"ae{j + 1}", input_max=1.0)
            for j, ae in enumerate((model.model_.ae1, model.model_.ae2))]
    setattr(dask_worker, _ATTRIBUTE, nets)
    return time.perf_counter() - start


def _emulate(x: np.ndarray) -> None:
    """On a worker: x through both compiled autoencoders."""
    from dask.distributed import get_worker

    for net in getattr(get_worker(), _ATTRIBUTE):
        net.predict(x)


def measure(model_path: str, width: int, x: np.ndarray, workers: int, chunk: int) -> dict[str, float]:
    with dask_client(workers=workers) as client:
        compile_seconds = client.run(_compile, model_path, width, x.shape[1])
        chunks = [x[i:i + chunk] for i in range(0, len(x), chunk)]
        start = time.perf_counter()
        client.gather(client.map(_emulate, chunks, pure=False))
        wall = time.perf_counter() - start
    return {"workers": workers, "events_per_second": len(x) / wall, "wall_seconds": wall,
            "compile_seconds_per_worker": float(np.mean(list(compile_seconds.values())))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_folder", type=Path)
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=100)
    args = parser.parse_args()
    require_hls4ml()
    model_path = str((args.run_folder / "model.pt").resolve())
    model = DoubleDisCoAE.load(model_path, device="cpu")
    layers = [m.out_features for m in sequential_autoencoder(model.model_.ae1) if hasattr(m, "out_features")]
    x = np.random.default_rng(1).uniform(0, 1, size=(args.events, model.n_features_in_)).astype(np.float32)
    one = measure(model_path, args.width, x, 1, args.chunk)
    many = measure(model_path, args.width, x, args.workers, args.chunk)
    print(f"autoencoders {model.n_features_in_}-{'-'.join(map(str, layers))} at ap_fixed<{args.width}, .>, "
          f"{args.events} events in chunks of {args.chunk}, {os.cpu_count()} CPU cores")
    print("| workers | events/s (both AEs) | wall s | compile s per worker |")
    print("|---|---|---|---|")
    for r in (one, many):
        print(f"| {r['workers']} | {r['events_per_second']:.0f} | {r['wall_seconds']:.1f} | "
              f"{r['compile_seconds_per_worker']:.0f} |")
    print(f"ratio {args.workers} workers / 1: {many['events_per_second'] / one['events_per_second']:.2f}")


if __name__ == "__main__":
    main()
