"""Named random streams of one seed: `stream(seed, "split")` gives the generator of the step "split".

Each step of a run draws from its own stream, derived from (seed, the step's name) by NumPy's SeedSequence, so
adding, removing or reordering a step never shifts the draws of another; two names never share a stream.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["stream", "stream_seed"]


def _key(name: str) -> int:
    if not isinstance(name, str) or not name:
        raise ValueError(f"a random stream needs a non-empty name, got {name!r}")
    return zlib.crc32(name.encode())


def stream(seed: int, name: str, *keys: int) -> np.random.Generator:
    """The generator of step `name` (and optional integer sub-keys, e.g. a training seed's index) of `seed`."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), _key(name), *map(int, keys)]))


def stream_seed(seed: int, name: str, *keys: int) -> int:
    """An integer seed in [0, 2^31) for a library that takes one (torch, scikit-learn), from the same stream."""
    return int(np.random.SeedSequence([int(seed), _key(name), *map(int, keys)]).generate_state(1)[0] % 2**31)
