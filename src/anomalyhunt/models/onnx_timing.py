"""Latency and throughput of an exported model with onnxruntime on CPU."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

__all__ = ["onnx_timing"]


def onnx_timing(path: str | Path, n_features: int, *, reference: tuple[np.ndarray, np.ndarray] | None = None,
                single_repeats: int = 2000, batch: int = 10000, batch_repeats: int = 10,
                threads: int = 1) -> dict:
    """Median single-event latency (batch of 1, `single_repeats` calls) and batch throughput (events/s at
    `batch`), on `threads` intra-op threads. With `reference` = (inputs, expected outputs) the largest relative
    difference between onnxruntime and the expected outputs is reported too."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    rng = np.random.default_rng(0)
    one = rng.random((1, n_features), dtype=np.float32)
    for _ in range(50):
        session.run(None, {name: one})
    times = np.empty(single_repeats)
    for i in range(single_repeats):
        start = time.perf_counter()
        session.run(None, {name: one})
        times[i] = time.perf_counter() - start
    block = rng.random((batch, n_features), dtype=np.float32)
    session.run(None, {name: block})
    start = time.perf_counter()
    for _ in range(batch_repeats):
        session.run(None, {name: block})
    elapsed = time.perf_counter() - start
    result = {"single_event_latency_us_median": float(np.median(times) * 1e6),
              "single_event_latency_us_p99": float(np.percentile(times, 99) * 1e6),
              "batch": batch, "throughput_events_per_s": float(batch * batch_repeats / elapsed),
              "threads": threads, "onnxruntime": ort.__version__, "file_bytes": Path(path).stat().st_size}
    if reference is not None:
        inputs, expected = reference
        (got,) = session.run(None, {name: np.asarray(inputs, dtype=np.float32)})
        result["max_rel_diff_vs_torch"] = float(np.max(np.abs(got - expected) / np.maximum(np.abs(expected),
                                                                                             1e-12)))
    return result
