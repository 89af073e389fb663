"""Readers of outside formats into the event contract, one module per format, found through `READERS`.

| format | module | what it reads |
|---|---|---|
| nanoaod | nanoaod.py | CMS NanoAOD / PFNano |
| physlite | physlite.py | ATLAS PHYSLITE |
| delphes | delphes.py | Delphes ROOT output |
| lhe | lhe.py | Les Houches events, showered by Pythia, through a detector preset |
| hepmc | hepmc.py | HepMC3/2 ASCII final-state particles, through a detector preset |
| adc2021 | (ingest/adc2021.py) | the ADC2021 challenge HDF5 layout |
| lhco | lhco.py | the LHC Olympics 2020 HDF5 files (R&D set, black boxes) |

Object selections are named presets (`SELECTIONS`), one type per format, recorded in the dataset metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from ...events.io import MANIFEST
from ...exceptions import ConfigError, EventFileError
from ..adc2021 import read_adc2021
from .base import FileSummary, Reader, Selection
from .delphes import DELPHES, DELPHES_SELECTIONS, DelphesSelection
from .hepmc import HEPMC
from .lhco import LHCO, LHCO_SELECTIONS, LHCOSelection, is_lhco_file
from .lhe import LHE, PARTICLE_LEVEL_SELECTIONS, ParticleLevelSelection, read_lhe_header
from .nanoaod import NANOAOD, NANOAOD_SELECTIONS, NanoAODSelection
from .physlite import PHYSLITE, PHYSLITE_SELECTIONS, PhysliteSelection

__all__ = ["READERS", "SELECTIONS", "Reader", "Selection", "FileSummary", "NanoAODSelection", "PhysliteSelection",
           "DelphesSelection", "ParticleLevelSelection", "AsStoredSelection", "LHCOSelection", "detect_format",
           "get_reader", "get_selection", "read_lhe_header"]


@dataclass(frozen=True)
class AsStoredSelection(Selection):
    """Formats that store analysis objects already chosen (ADC2021): taken as they are."""


def _adc_detect(path: Path) -> bool:
    """An HDF5 file that is not an LHC Olympics table (the ADC2021 inspection then checks its 'Particles')."""
    return path.suffix.lower() in (".h5", ".hdf5") and not is_lhco_file(path)


def _adc_inspect(path: Path, selection: Selection) -> FileSummary:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            if "Particles" not in handle:
                raise EventFileError(f"{path}: not an ADC2021 file: no 'Particles' dataset")
            n = int(handle["Particles"].shape[0])
    except OSError as exc:
        raise EventFileError(f"{path}: cannot read as HDF5 ({exc})") from exc
    if n == 0:
        raise EventFileError(f"{path}: the 'Particles' dataset holds no events")
    return FileSummary(str(path), n, float(n), False,
                       notes=(f"{path.name}: ADC2021 stores no masses, charges, b-jets or photons",))


def _adc_read(path: Path, selection: Selection, start: int, stop: int, seed: int = 0) -> ak.Array:
    events = read_adc2021(path, start=start, stop=stop)
    return ak.with_field(events, np.ones(len(events)), "weight")


ADC2021 = Reader("adc2021", "ADC2021 challenge HDF5 (Particles: MET, 4 e, 4 mu, 10 jets)", "GeV",
                 AsStoredSelection, "adc2021_as_stored", _adc_detect, _adc_inspect, _adc_read,
                 test_files="files written by write_adc2021 in the tests")

READERS: dict[str, Reader] = {r.name: r for r in (NANOAOD, PHYSLITE, DELPHES, LHE, HEPMC, LHCO, ADC2021)}
SELECTIONS: dict[str, Selection] = {**NANOAOD_SELECTIONS, **PHYSLITE_SELECTIONS, **DELPHES_SELECTIONS,
                                    **PARTICLE_LEVEL_SELECTIONS, **LHCO_SELECTIONS,
                                    "adc2021_as_stored": AsStoredSelection("adc2021_as_stored")}


def get_reader(name: str) -> Reader:
    try:
        return READERS[name]
    except KeyError:
        raise ConfigError(f"unknown format {name!r}; known: {', '.join(READERS)}") from None


def get_selection(name: str | None, reader: Reader) -> Selection:
    """The named selection preset (the format's default when None), checked to fit the format."""
    name = name or reader.default_selection
    if name not in SELECTIONS:
        raise ConfigError(f"unknown selection preset {name!r}; known: {', '.join(SELECTIONS)}")
    selection = SELECTIONS[name]
    if not isinstance(selection, reader.selection_type):
        fitting = [n for n, s in SELECTIONS.items() if isinstance(s, reader.selection_type)]
        raise ConfigError(f"selection preset {name!r} is not for {reader.name} files (those are: {', '.join(fitting)})")
    return selection


def detect_format(path: str | Path) -> str:
    """'anomalyhunt' for our Parquet files and dataset folders, else the name of the reader that recognises the
    file; an error naming the file when none does."""
    path = Path(path)
    if not path.exists():
        raise EventFileError(f"{path}: no such file or folder")
    if path.is_dir():
        if (path / MANIFEST).exists() or any(path.glob("*.parquet")):
            return "anomalyhunt"
        raise EventFileError(f"{path}: a folder, but not an event dataset (no {MANIFEST}, no .parquet files)")
    if path.suffix.lower() == ".parquet":
        return "anomalyhunt"
    for reader in READERS.values():
        if reader.detect(path):
            return reader.name
    with open(path, "rb") as handle:
        head = handle.read(4)
    what = "a ROOT file of no known layout" if head == b"root" else "no known format"
    raise EventFileError(f"{path}: {what} (readers: {', '.join(READERS)}); give the format explicitly")
