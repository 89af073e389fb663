"""Pythia 8 event generation through the `pythia8mc` wheel, in awkward batches (`Pythia.nextBatch`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import awkward as ak
import numpy as np

from ..exceptions import GenerationError
from ..native_output import quiet_native
from ..reco.reconstruction import is_b_hadron

__all__ = ["PythiaBatch", "PythiaRun", "pythia_version", "quiet_stdout", "MB_TO_PB"]

MB_TO_PB = 1e9


def quiet_stdout():
    """Send C-level stdout to /dev/null: Pythia prints an LHE file's SLHA header at init whatever Print:quiet, and
    FastJet its banner at the first clustering."""
    return quiet_native(1)


def pythia_version() -> str:
    from importlib.metadata import version

    return version("pythia8mc")


@dataclass(frozen=True)
class PythiaBatch:
    """Final-state particles and b hadrons of a batch of events, with their raw generator weights."""

    particles: ak.Array
    b_hadrons: ak.Array
    weights: np.ndarray
    # With keep_failed: which of the requested events Pythia produced, and (id1, id2, x1, x2) of the incoming
    # partons of those it did (to match events to the lines of an LHE file).
    accepted: np.ndarray | None = None
    incoming: np.ndarray | None = None


class PythiaRun:
    """One initialised Pythia instance for pp collisions, seeded, silent, yielding awkward batches."""

    def __init__(self, settings: Sequence[str], *, seed: int, sqrt_s: float = 13000.0):
        import pythia8mc

        if not 0 <= seed <= 900_000_000:
            raise GenerationError(f"Pythia seed must be in [0, 900000000], got {seed}")
        self._pythia = pythia8mc.Pythia("", False)
        lines = [
            f"Beams:eCM = {sqrt_s:g}",
            "Random:setSeed = on",
            f"Random:seed = {seed}",
            "Print:quiet = on",
            "Next:numberCount = 0",
            "Next:numberShowEvent = 0",
            "Next:numberShowInfo = 0",
            "Next:numberShowProcess = 0",
            *settings,
        ]
        for line in lines:
            if not self._pythia.readString(line):
                raise GenerationError(f"Pythia rejected the setting {line!r}")
        if not self._pythia.init():
            raise GenerationError("Pythia failed to initialise with the settings: " + "; ".join(settings))
        # nextBatch does not carry event weights, so the pTHat bias weight is recomputed from Pythia's own
        # settings: w = (pTHatRef / pTHat)^pow, exactly what info.weight() returns (checked in the tests).
        self._bias = None
        if self._pythia.flag("PhaseSpace:bias2Selection"):
            self._bias = (self._pythia.parm("PhaseSpace:bias2SelectionRef"),
                          self._pythia.parm("PhaseSpace:bias2SelectionPow"))

    def next_weight(self) -> tuple[float, float]:
        """Generate one event the classic way; return (info.weight(), pTHat). For cross-checks."""
        if not self._pythia.next():
            raise GenerationError("Pythia failed to generate an event")
        info = self._pythia.infoPython()
        return info.weight(), info.pTHat()

    def batches(self, n_events: int, *, batch_size: int = 500, keep_failed: bool = False) -> Iterator[PythiaBatch]:
        """Generate `n_events` events in batches of at most `batch_size`.

        keep_failed: one attempt per requested event (events read from a file: a failure, or the end of the file,
        must not pull in the next one unnoticed); `accepted` and `incoming` of each batch say which succeeded."""
        done = 0
        while done < n_events:
            n = min(batch_size, n_events - done)
            try:
                raw = self._pythia.nextBatch(n, "none" if keep_failed else 10.0)
            except Exception as exc:  # pythia8mc raises plain RuntimeErrors
                raise GenerationError(f"Pythia failed to generate events: {exc}") from exc
            accepted = incoming = None
            if keep_failed:
                accepted = ~ak.to_numpy(ak.is_none(raw, axis=0))
                raw = ak.drop_none(raw, axis=0)
                incoming = np.stack([ak.to_numpy(raw.info[k]).astype(np.float64) for k in ("id1", "id2", "x1", "x2")],
                                    axis=1) if len(raw) else np.zeros((0, 4))
            prt = raw.prt
            final = prt[prt.status > 0]
            particles = ak.zip({"id": final.id, "px": final.p.px, "py": final.p.py,
                                "pz": final.p.pz, "e": final.p.e})
            # weakly decaying b hadrons only (no b hadron among the daughters: B* -> B gamma and B0 mixing are
            # one b hadron, not two); daughter index 0 is the event itself, never a hadron
            ids = prt.id
            bh = prt[is_b_hadron(ids) & ~is_b_hadron(ids[prt.daughter1]) & ~is_b_hadron(ids[prt.daughter2])]
            b_hadrons = ak.zip({"px": bh.p.px, "py": bh.p.py, "pz": bh.p.pz, "e": bh.p.e})
            weights = np.ones(len(raw), dtype=np.float64)
            if self._bias is not None:
                ref, power = self._bias
                weights = (ref / np.sqrt(ak.to_numpy(raw.info.pT2Hat))) ** power
            done += n
            yield PythiaBatch(ak.without_parameters(particles), ak.without_parameters(b_hadrons), weights,
                              accepted, incoming)

    @property
    def sigma_pb(self) -> tuple[float, float]:
        """Pythia's estimate of the generated cross section and its error, in pb."""
        info = self._pythia.infoPython()
        return info.sigmaGen() * MB_TO_PB, info.sigmaErr() * MB_TO_PB
