"""ATLAS jet tagging: the constituent preprocessing vectorised over jets against the per-jet reference of the
tests (same jets, same run), the VRNN's training seconds per epoch, and jets scored per second by PyTorch and by
onnxruntime from the exported graph.

Jets are toys with the example's sizes (up to 30 constituents kept, sequences of 20, ~13k training jets, batch
256); the cost depends on the sizes only. Reported: jets/s of both preprocessings and their ratio; seconds per
epoch; jets/s scored by torch (batched) and by onnxruntime (1 thread), and their ratio.

Run: .venv/bin/python benchmarks/vrnn_tagger.py [--jets 13000] [--epochs 3] [--device auto]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import awkward as ak
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "unit" / "features"))
from test_jet_sequences import reference_sequence  # noqa: E402

from anomalyhunt.features import jet_sequences  # noqa: E402
from anomalyhunt.models import VRNN, resolve_device  # noqa: E402


def toy_jets(rng: np.random.Generator, n: int) -> ak.Array:
    counts = rng.integers(10, 31, n)
    total = int(counts.sum())
    eta0, phi0 = np.repeat(rng.uniform(-2, 2, n), counts), np.repeat(rng.uniform(-3, 3, n), counts)
    jets = {"pt": rng.exponential(30.0, total) + 1.0, "eta": eta0 + rng.normal(0, 0.3, total),
            "phi": (phi0 + rng.normal(0, 0.3, total) + np.pi) % (2 * np.pi) - np.pi}
    return ak.unflatten(ak.zip(jets), counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jets", type=int, default=13000)
    parser.add_argument("--reference-jets", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = str(resolve_device(args.device))
    rng = np.random.default_rng(0)
    jets = toy_jets(rng, args.jets)
    start = time.perf_counter()
    seq = jet_sequences(jets)
    vectorised = args.jets / (time.perf_counter() - start)
    few = jets[: args.reference_jets]
    start = time.perf_counter()
    for jet in few:
        reference_sequence(np.asarray(jet.pt), np.asarray(jet.eta), np.asarray(jet.phi))
    reference = args.reference_jets / (time.perf_counter() - start)

    x = seq.reshape(len(seq), -1).astype(np.float32)
    model = VRNN(max_epochs=args.epochs, patience=args.epochs, device=device, seed=0).fit(x)
    per_epoch = model.history_.seconds_per_epoch
    model.score_samples(x[:1000])  # warm-up
    start = time.perf_counter()
    model.score_samples(x)
    torch_rate = len(x) / (time.perf_counter() - start)
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        path = model.export_onnx(Path(tmp) / "vrnn.onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        session.run(None, {"sequences": x[:1000]})
        start = time.perf_counter()
        out = session.run(None, {"sequences": x})[0]
        onnx_rate = len(x) / (time.perf_counter() - start)
    diff = float(np.max(np.abs(out - model.score_samples(x)) / np.maximum(model.score_samples(x), 1e-6)))
    name = torch.cuda.get_device_name() if device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    print(f"VRNN jet tagger, {args.jets} toy jets (10-30 constituents), sequences of 20, on {name}")
    print(f"  preprocessing vectorised: {vectorised:,.0f} jets/s; per-jet reference: {reference:,.0f} jets/s; "
          f"ratio {vectorised / reference:.0f}x")
    print(f"  training: {per_epoch:.2f} s per epoch ({int(len(x) * 0.8)} jets, batch 256)")
    print(f"  scoring: torch {torch_rate:,.0f} jets/s; onnxruntime (1 thread) {onnx_rate:,.0f} jets/s; "
          f"ratio {onnx_rate / torch_rate:.2f}; largest relative difference {diff:.1e}")


if __name__ == "__main__":
    main()
