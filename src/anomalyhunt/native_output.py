"""Silencing what compiled libraries (Pythia, FastJet, HepMC3) print straight to the process's file descriptors,
below Python's `sys.stdout`/`sys.stderr`, so that the terminal and the logs show our lines only."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["quiet_native"]


@contextmanager
def quiet_native(*fds: int) -> Iterator[None]:
    """Send the C-level output of the file descriptors `fds` (default: 1, stdout) to /dev/null while inside."""
    fds = fds or (1,)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(fd) for fd in fds]
    try:
        with open(os.devnull, "w") as null:
            for fd in fds:
                os.dup2(null.fileno(), fd)
            yield
    finally:
        for fd, copy in zip(fds, saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
