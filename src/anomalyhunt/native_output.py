"""Silencing what compiled libraries (Pythia, FastJet, HepMC3) print straight to the process's file descriptors,
below Python's `sys.stdout`/`sys.stderr`, so that the terminal and the logs show our lines only."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["quiet_native", "swallow_fastjet_banner"]

_FASTJET_BANNER_SHOWN = False


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


def swallow_fastjet_banner() -> None:
    """FastJet prints a banner to C stdout at its first clustering in a process: run that one on a dummy jet with
    fd 1 on /dev/null, so that no clustering of ours shows it."""
    global _FASTJET_BANNER_SHOWN
    if _FASTJET_BANNER_SHOWN:
        return
    _FASTJET_BANNER_SHOWN = True
    import fastjet  # only where jets are clustered: the readers that use this module need not load it

    with quiet_native(1):
        one = [fastjet.PseudoJet(1.0, 0.0, 0.0, 1.0)]
        fastjet.ClusterSequence(one, fastjet.JetDefinition(fastjet.antikt_algorithm, 0.4))
