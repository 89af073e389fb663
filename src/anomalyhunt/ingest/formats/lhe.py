"""Les Houches Event files (MadGraph, POWHEG, Pythia's own LHAup output), showered and hadronised by Pythia
(`Beams:frameType = 4`), then reconstructed with one of our detector presets like generated events.

Cross section: the sum of XSECUP over the processes of the `<init>` block (pb). Weights: each event carries its
XWGTUP, and the importer scales the weights so that the file's events sum to that cross section. Pythia reads
the events in order; an event it cannot shower is dropped (its weight is not given to another), and every
showered event is matched back to its LHE line by the flavours and momentum fractions of the incoming partons,
so a dropped event can never shift the weights of the others.
"""

from __future__ import annotations

import gzip
import math
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from ...exceptions import EventFileError
from ...generate.pythia import PythiaRun, quiet_stdout
from ...reco.detector import get_preset
from ...reco.reconstruction import reconstruct
from .base import FileSummary, Reader, Selection
from .objects import assemble

__all__ = ["ParticleLevelSelection", "PARTICLE_LEVEL_SELECTIONS", "LHEFile", "read_lhe_header", "LHE",
           "reconstruct_particles"]


@dataclass(frozen=True)
class ParticleLevelSelection(Selection):
    """Particle-level events (LHE after Pythia, HepMC3) go through one of our detector presets (SPEC section 2):
    its isolation, jet clustering, smearing and b-tagging; its event selection is applied only with --select."""

    detector: str = "chekanov2022"

    def __post_init__(self) -> None:
        super().__post_init__()
        get_preset(self.detector)


PARTICLE_LEVEL_SELECTIONS = {s.name: s for s in (
    ParticleLevelSelection("particle_chekanov2022", detector="chekanov2022"),
    ParticleLevelSelection("particle_atlas2024", detector="atlas2024"),
    ParticleLevelSelection("particle_fourlepton", detector="fourlepton"),
)}


@dataclass(frozen=True)
class LHEFile:
    """What the header and event lines of an LHE file say, without showering anything.

    weights: XWGTUP per event; incoming: (n, 2, 2) [(id, x) of the parton moving along +z, then -z]."""

    beam_energies: tuple[float, float]
    idwtup: int
    cross_section_pb: float
    cross_section_error_pb: float
    weights: np.ndarray
    incoming: np.ndarray

    @property
    def n_events(self) -> int:
        return len(self.weights)

    @property
    def sqrt_s(self) -> float:
        return 2.0 * float(np.sqrt(self.beam_energies[0] * self.beam_energies[1]))


def _open_text(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def read_lhe_header(path: str | Path) -> LHEFile:
    """Parse the `<init>` block and the first line and incoming partons of every `<event>` (no showering)."""
    path = Path(path)
    if not path.is_file():
        raise EventFileError(f"{path}: no such file")
    init: list[list[float]] = []
    weights, incoming = [], []
    state, event_lines = "", []
    closed, line_number, event_start = False, 0, 0
    nonfinite: dict[str, list[int]] = {}  # field -> the events (0-based) where it is NaN or infinite
    if not _has_lhe_tag(path):
        raise EventFileError(f"{path}: not a Les Houches Event file (no <LesHouchesEvents> tag at the start)")
    try:
        with _open_text(path) as handle:
            for line_number, line in enumerate(handle, start=1):  # noqa: B007 - read after the loop
                text = line.strip()
                if text.startswith("<init"):
                    state = "init"
                elif text.startswith("</init"):
                    state = ""
                elif text.startswith("<event"):
                    state, event_lines, event_start = "event", [], line_number
                elif text.startswith("</event"):
                    _nonfinite_fields(event_lines, len(weights), nonfinite)
                    weights.append(float(event_lines[0].split()[2]))
                    incoming.append(_incoming(event_lines, init, path))
                    state = ""
                elif text.startswith("</LesHouchesEvents"):
                    closed = True
                elif state == "init" and text and not text.startswith("<") and not text.startswith("#"):
                    init.append([float(x) for x in text.split()])
                elif state == "event" and text and not text.startswith(("<", "#")):
                    event_lines.append(text)
    except (OSError, UnicodeDecodeError, EOFError, zlib.error) as exc:
        raise EventFileError(f"{path}: cannot read as a Les Houches Event file ({exc})") from exc
    except (ValueError, IndexError) as exc:
        raise EventFileError(f"{path}: malformed Les Houches Event file ({exc})") from exc
    if state == "event":
        raise EventFileError(f"{path}: cut off inside event {len(weights) + 1} (opened at line {event_start}, the "
                             f"file ends at line {line_number}); {len(weights)} whole events before it. The file "
                             "is truncated: copy or generate it again")
    if weights and not closed:
        raise EventFileError(f"{path}: no closing </LesHouchesEvents> tag after {len(weights)} events (line "
                             f"{line_number}): the file is truncated; copy or generate it again")
    if nonfinite:
        described = ", ".join(f"{field} ({len(events)} value{'s' if len(events) > 1 else ''}, first in event "
                              f"{events[0] + 1})" for field, events in nonfinite.items())
        raise EventFileError(f"{path}: non-finite values (NaN or inf): {described}; Pythia would drop those events "
                             "and their weight with them")
    if not init or len(init[0]) < 10:
        raise EventFileError(f"{path}: no usable <init> block (beams, PDFs, IDWTUP, NPRUP)")
    beam, processes = init[0], init[1:1 + int(init[0][9])]
    if not weights:
        raise EventFileError(f"{path}: the file holds no <event> blocks")
    sigma = float(sum(p[0] for p in processes))
    sigma_err = float(np.sqrt(sum(p[1] ** 2 for p in processes)))
    return LHEFile((beam[2], beam[3]), int(beam[8]), sigma, sigma_err, np.asarray(weights),
                   np.asarray(incoming, dtype=np.float64).reshape(-1, 2, 2))


_EVENT_FIELDS = {2: "XWGTUP", 3: "SCALUP", 4: "AQEDUP", 5: "AQCDUP"}
_PARTICLE_FIELDS = {6: "px", 7: "py", 8: "pz", 9: "E", 10: "m", 11: "VTIMUP", 12: "SPINUP"}


def _nonfinite_fields(lines: list[str], event: int, found: dict[str, list[int]]) -> None:
    """Record in `found` each field of one event (its first line and its NUP particle lines) that is NaN or inf."""
    if not lines:
        return
    blocks = [(lines[0].split(), _EVENT_FIELDS)]
    blocks += [(line.split(), _PARTICLE_FIELDS) for line in lines[1:1 + int(lines[0].split()[0])]]
    for fields, names in blocks:
        for column, name in names.items():
            if column < len(fields) and not math.isfinite(float(fields[column])):
                found.setdefault(name, []).append(event)


def _incoming(lines: list[str], init, path: Path) -> list[list[float]]:
    """[(id, x) along +z, (id, x) along -z] of the event's two incoming partons (status -1)."""
    beam_e = (init[0][2], init[0][3]) if init else (1.0, 1.0)
    partons = []
    for line in lines[1:1 + int(lines[0].split()[0])]:  # the NUP particle lines; optional lines follow
        fields = line.split()
        if len(fields) >= 10 and int(fields[1]) == -1:
            partons.append((int(fields[0]), float(fields[8]), float(fields[9])))
    if len(partons) != 2:
        raise EventFileError(f"{path}: an event has {len(partons)} incoming partons, expected 2")
    plus, minus = sorted(partons, key=lambda p: -p[1])
    # Light-cone momentum fraction (E + |pz|) / (2 E_beam), as Pythia computes it for massive partons too.
    return [[plus[0], (plus[2] + abs(plus[1])) / (2 * beam_e[0])],
            [minus[0], (minus[2] + abs(minus[1])) / (2 * beam_e[1])]]


def _has_lhe_tag(path: Path) -> bool:
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as handle:
            return b"<LesHouchesEvents" in handle.read(4096)
    except (OSError, EOFError, zlib.error):
        return False


def _detect(path: Path) -> bool:
    name = path.name.lower()
    return (name.endswith(".lhe") or name.endswith(".lhe.gz") or name.endswith(".lhef")) and _has_lhe_tag(path)


def _inspect(path: Path, selection: ParticleLevelSelection) -> FileSummary:
    lhe = read_lhe_header(path)
    notes = []
    if lhe.cross_section_pb <= 0:
        notes.append(f"{path.name}: the <init> block gives no positive cross section")
    return FileSummary(str(path), lhe.n_events, float(lhe.weights.sum()), False,
                       cross_section_pb=lhe.cross_section_pb if lhe.cross_section_pb > 0 else None,
                       sqrt_s=lhe.sqrt_s, notes=tuple(notes))


def reconstruct_particles(particles: ak.Array, b_hadrons: ak.Array, selection: ParticleLevelSelection, *,
                          seed: int, key: str, start: int) -> ak.Array:
    """Our reconstruction (isolation, jets, smearing, b-tagging, MET) of particle-level events, seeded from
    (seed, file, first entry) so that a chunk gives the same events whichever worker reads it."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(key.encode()), start]))
    return reconstruct(particles, b_hadrons, preset=get_preset(selection.detector), rng=rng)


def _match(lhe_incoming: np.ndarray, pythia_incoming: np.ndarray, path: Path, start: int) -> np.ndarray:
    """For each showered event, the index (within the chunk) of the LHE event it came from. The flavours
    must be equal and the light-cone momentum fractions agree to 1e-3."""
    out, j = np.empty(len(pythia_incoming), dtype=np.int64), 0
    for i, (id1, id2, x1, x2) in enumerate(pythia_incoming):
        while j < len(lhe_incoming):
            (ida, xa), (idb, xb) = lhe_incoming[j]
            if (ida, idb) == (id1, id2) and np.isclose(xa, x1, rtol=1e-3) and np.isclose(xb, x2, rtol=1e-3):
                break
            j += 1
        if j == len(lhe_incoming):
            raise EventFileError(f"{path}: Pythia's event {start + i} matches no LHE event after it (incoming "
                                 f"{int(id1)} {int(id2)}, x = {x1:.4g}, {x2:.4g})")
        out[i] = j
        j += 1
    return out


def _read(path: Path, selection: ParticleLevelSelection, start: int, stop: int, seed: int = 0) -> ak.Array:
    lhe = read_lhe_header(path)
    stop = min(stop, lhe.n_events)
    pythia_seed = int(np.random.SeedSequence([seed, zlib.crc32(path.name.encode()), start]).generate_state(1)[0]
                      % 900_000_000) + 1
    with tempfile.TemporaryDirectory(prefix="anomalyhunt-lhe-") as tmp:
        source = path
        if path.suffix == ".gz":  # Pythia reads plain text
            source = Path(tmp) / path.stem
            with gzip.open(path, "rb") as fin, open(source, "wb") as fout:
                shutil.copyfileobj(fin, fout)
        settings = ["Beams:frameType = 4", f"Beams:LHEF = {source}", f"Beams:nSkipLHEFatInit = {start}",
                    *([] if get_preset(selection.detector).mpi else ["PartonLevel:MPI = off"])]
        with quiet_stdout():
            run = PythiaRun(settings, seed=pythia_seed, sqrt_s=lhe.sqrt_s)
            batches = list(run.batches(stop - start, batch_size=500, keep_failed=True))
    particles = ak.concatenate([b.particles for b in batches])
    b_hadrons = ak.concatenate([b.b_hadrons for b in batches])
    incoming = np.concatenate([b.incoming for b in batches])
    index = _match(lhe.incoming[start:stop], incoming, path, start)
    objects = reconstruct_particles(particles, b_hadrons, selection, seed=seed, key=path.name, start=start)
    met = objects.met
    return assemble({name: objects[name] for name in objects.fields if name != "met"}, ak.to_numpy(met.pt),
                    ak.to_numpy(met.phi), lhe.weights[start:stop][index], start + index, where=str(path))


LHE = Reader(
    name="lhe",
    description="Les Houches Event file, showered by Pythia and reconstructed with a detector preset",
    units="GeV",
    selection_type=ParticleLevelSelection,
    default_selection="particle_chekanov2022",
    detect=_detect,
    inspect=_inspect,
    read=_read,
    test_files="pylhe-testfile-madgraph-2.0.0-wbj.lhe, pylhe-testfile-pythia-8.3.14-weakbosons.lhe",
)
