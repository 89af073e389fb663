"""What every reader of an outside format provides, and the object-selection presets they share a shape with."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import awkward as ak

from ...exceptions import ConfigError, EventFileError

__all__ = ["Selection", "FileSummary", "Reader", "open_root_tree"]


@dataclass(frozen=True)
class Selection:
    """Base of the per-format object selections: a preset name plus validated fields.

    Subclasses list the allowed values of their string fields in `CHOICES` and say what each field means in
    their docstring; `describe()` is what the dataset metadata and `anomalyhunt selections` show."""

    name: str
    CHOICES: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                continue
            if isinstance(value, int | float) and not value >= 0:
                raise ConfigError(f"selection {self.name!r}: {f.name} must be >= 0, got {value}")
            if f.name in self.CHOICES and value not in self.CHOICES[f.name]:
                raise ConfigError(f"selection {self.name!r}: {f.name} must be one of "
                                  f"{', '.join(self.CHOICES[f.name])}, got {value!r}")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def with_overrides(self, overrides: Mapping[str, str]) -> Selection:
        """A copy with fields changed from NAME=VALUE strings (the CLI's --cut), each converted to the field's
        type; an unknown name is an error listing the known ones."""
        known = {f.name: f for f in dataclasses.fields(self) if f.name != "name"}
        changes: dict[str, Any] = {}
        for key, text in overrides.items():
            if key not in known:
                raise ConfigError(f"selection {self.name!r} has no field {key!r} (known: {', '.join(known)})")
            current = getattr(self, key)
            try:
                if isinstance(current, bool):
                    if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError
                    changes[key] = text.lower() in ("true", "1", "yes")
                else:
                    changes[key] = type(current)(text)
            except ValueError:
                raise ConfigError(f"selection {self.name!r}: {key} expects a {type(current).__name__}, "
                                  f"got {text!r}") from None
        name = self.name + ("+" + ",".join(f"{k}={v}" for k, v in sorted(overrides.items())) if overrides else "")
        return dataclasses.replace(self, name=name, **changes)


@dataclass(frozen=True)
class FileSummary:
    """What a reader learns from a file before reading its events (all checks done here, before any long work).

    sum_weights: generator weights summed over every event of the file (the event count for unweighted files);
    cross_section_pb: from the file's own header (LHE init block, HepMC3 cross-section attribute), else None;
    notes: selections or collections the file did not allow, in words, for the dataset metadata."""

    path: str
    n_events: int
    sum_weights: float
    is_data: bool
    cross_section_pb: float | None = None
    sqrt_s: float | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reader:
    """One outside format: how to recognise it, check a file, and read a range of its events into the contract.

    `read(path, selection, start, stop, seed)` returns events [start, stop) of the file with `weight` holding the
    raw generator weight (1 for unweighted and data events) and `event_id` the entry number in the file; the
    importer normalises the weights and sets `process` and `label`."""

    name: str
    description: str
    units: str
    selection_type: type[Selection]
    default_selection: str
    detect: Callable[[Path], bool]
    inspect: Callable[[Path, Selection], FileSummary]
    read: Callable[..., ak.Array]
    test_files: str = ""

    def read_range(self, path: Path, selection: Selection, start: int, stop: int, seed: int = 0) -> ak.Array:
        """`read`, with whatever a damaged file makes the libraries raise turned into one EventFileError line."""
        try:
            return self.read(path, selection, start, stop, seed)
        except EventFileError:
            raise
        except (KeyError, ValueError, OSError, EOFError) as exc:
            raise EventFileError(f"{path}: could not read entries {start}-{stop} as {self.name} "
                                 f"({type(exc).__name__}: {exc})") from exc


def open_root_tree(path: Path, tree_name: str, *, what: str):
    """The TTree `tree_name` of a ROOT file, or one clear error (not ROOT, no such tree, empty)."""
    import uproot

    if not path.is_file():
        raise EventFileError(f"{path}: no such file")
    try:
        handle = uproot.open(path)
    except Exception as exc:  # uproot raises ValueError, OSError or its own errors on foreign bytes
        raise EventFileError(f"{path}: not a readable ROOT file ({type(exc).__name__}: {exc})") from exc
    names = [key.split(";")[0] for key in handle.keys(recursive=False)]
    if tree_name not in names:
        raise EventFileError(f"{path}: not a {what} file: no '{tree_name}' tree (found: {', '.join(names) or 'none'})")
    tree = handle[tree_name]
    if tree.num_entries == 0:
        raise EventFileError(f"{path}: the '{tree_name}' tree holds no events")
    return tree
