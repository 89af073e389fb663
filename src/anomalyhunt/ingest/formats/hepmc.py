"""HepMC3 (and HepMC2) ASCII event records through `pyhepmc`: the final-state particles (status 1) and the b
hadrons of each event go through one of our detector presets, like generated events.

Weights: the first event weight (1 when an event has none). Cross section: the `GenCrossSection` attribute of
the last event that carries one (generators refine it as they run), in pb. Momenta in MeV are converted to GeV.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import awkward as ak
import numpy as np

from ...exceptions import EventFileError
from ...native_output import quiet_native
from ...reco.reconstruction import is_b_hadron
from .base import FileSummary, Reader
from .lhe import ParticleLevelSelection, reconstruct_particles
from .objects import assemble

__all__ = ["HEPMC"]

_SUFFIXES = (".hepmc", ".hepmc3", ".hepmc2", ".hepmc.gz", ".hepmc3.gz")


def _looks_like_hepmc(path: Path) -> bool:
    """Whether the file's first lines carry a HepMC header (pyhepmc also opens LHE and other formats)."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as handle:
            return "HepMC::" in handle.read(512)
    except (OSError, UnicodeDecodeError, EOFError):
        return False


def _open(path: Path):
    import pyhepmc

    if not path.is_file():
        raise EventFileError(f"{path}: no such file")
    if not _looks_like_hepmc(path):
        raise EventFileError(f"{path}: not a HepMC file (no 'HepMC::' header in its first lines)")
    try:
        with quiet_native(1, 2):
            return pyhepmc.open(path)
    except Exception as exc:  # pyhepmc raises IOError or ValueError on foreign files
        raise EventFileError(f"{path}: not a readable HepMC file ({type(exc).__name__}: {exc})") from exc


def _detect(path: Path) -> bool:
    return path.name.lower().endswith(_SUFFIXES) and _looks_like_hepmc(path)


def _events(path: Path):
    handle = _open(path)
    try:
        with handle as reader:
            while True:
                # HepMC3's reader prints its complaints about a damaged record to C stderr; ours is the one line
                with quiet_native(1, 2):
                    event = reader.read()
                if event is None:
                    return
                yield event
    except EventFileError:
        raise
    except Exception as exc:
        raise EventFileError(f"{path}: corrupt HepMC file ({type(exc).__name__}: {exc})") from exc


def _inspect(path: Path, selection: ParticleLevelSelection) -> FileSummary:
    import pyhepmc

    n, total, sigma = 0, 0.0, None
    for event in _events(path):
        n += 1
        total += float(event.weights[0]) if len(event.weights) else 1.0
        cross = event.cross_section
        if cross is not None and cross.is_valid:
            sigma = float(cross.xsec())
        if n == 1 and event.momentum_unit not in (pyhepmc.Units.GEV, pyhepmc.Units.MEV):
            raise EventFileError(f"{path}: unknown momentum unit {event.momentum_unit}")
    if n == 0:
        raise EventFileError(f"{path}: the file holds no events (or is not a HepMC file)")
    notes = () if sigma else (f"{path.name}: no GenCrossSection attribute: give --cross-section",)
    return FileSummary(str(path), n, total, False, cross_section_pb=sigma, notes=notes)


def _read(path: Path, selection: ParticleLevelSelection, start: int, stop: int, seed: int = 0) -> ak.Array:
    import pyhepmc

    final, bhad, counts, bcounts, weights = [], [], [], [], []
    for index, event in enumerate(_events(path)):
        if index < start:
            continue
        if index >= stop:
            break
        p = event.numpy.particles
        scale = 1e-3 if event.momentum_unit == pyhepmc.Units.MEV else 1.0
        block = np.stack([p.pid, p.px * scale, p.py * scale, p.pz * scale, p.e * scale], axis=1)
        is_final, is_b = np.asarray(p.status) == 1, is_b_hadron(np.asarray(p.pid))
        final.append(block[is_final])
        bhad.append(block[is_b])
        counts.append(int(is_final.sum()))
        bcounts.append(int(is_b.sum()))
        weights.append(float(event.weights[0]) if len(event.weights) else 1.0)
    if not counts:
        raise EventFileError(f"{path}: no events in entries {start}-{stop}")

    def jagged(blocks, n):
        flat = np.concatenate(blocks) if blocks else np.zeros((0, 5))
        record = {"px": flat[:, 1], "py": flat[:, 2], "pz": flat[:, 3], "e": flat[:, 4]}
        return ak.unflatten(ak.zip({"id": flat[:, 0].astype(np.int64), **record}), n)

    particles, b_hadrons = jagged(final, counts), jagged(bhad, bcounts)[["px", "py", "pz", "e"]]
    objects = reconstruct_particles(particles, b_hadrons, selection, seed=seed, key=path.name, start=start)
    met = objects.met
    return assemble({name: objects[name] for name in objects.fields if name != "met"}, ak.to_numpy(met.pt),
                    ak.to_numpy(met.phi), np.asarray(weights), np.arange(start, start + len(counts)),
                    where=str(path))


HEPMC = Reader(
    name="hepmc",
    description="HepMC3/HepMC2 ASCII (pyhepmc): final-state particles through a detector preset",
    units="GeV or MeV (from the file)",
    selection_type=ParticleLevelSelection,
    default_selection="particle_chekanov2022",
    detect=_detect,
    inspect=_inspect,
    read=_read,
    test_files="a file written in the tests with pyhepmc from Pythia showers of the LHE test file",
)
