"""From matrices to network input: flattening, the kept-column list, and the ATLAS removal of search masses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..exceptions import ConfigError
from .rmm import rmm_cell_names

__all__ = ["InputColumns", "SEARCH_MASS_CELLS", "flatten", "fit_columns"]

# The nine two-body masses of the ATLAS search (ATLAS): kept out of the input so the selection cannot
# sculpt them; they are the search spectra instead.
SEARCH_MASS_CELLS: dict[str, str] = {
    "m_jj": "m(j1,j2)", "m_jb": "m(j1,b1)", "m_jmu": "m(j1,mu1)", "m_je": "m(j1,e1)", "m_jgamma": "m(j1,gamma1)",
    "m_bb": "m(b1,b2)", "m_bmu": "m(b1,mu1)", "m_be": "m(b1,e1)", "m_bgamma": "m(b1,gamma1)",
}


def flatten(matrices: np.ndarray) -> np.ndarray:
    """(n, D, D) -> (n, D*D), row-major, matching `rmm_cell_names(...).ravel()`."""
    matrices = np.asarray(matrices)
    if matrices.ndim != 3 or matrices.shape[1] != matrices.shape[2]:
        raise ConfigError(f"expected matrices of shape (n, D, D), got {matrices.shape}")
    return matrices.reshape(len(matrices), -1)


@dataclass(frozen=True)
class InputColumns:
    """The cells a model reads: their names and their indices into the flattened matrix."""

    names: tuple[str, ...]
    indices: tuple[int, ...]
    size: int

    def transform(self, flat: np.ndarray) -> np.ndarray:
        """Select the kept columns from flattened matrices (n, size) -> (n, len(indices))."""
        if flat.ndim != 2 or flat.shape[1] != self.size:
            raise ConfigError(f"expected flattened inputs with {self.size} columns, got shape {flat.shape}")
        return flat[:, list(self.indices)]

    def to_dict(self) -> dict:
        return {"names": list(self.names), "indices": list(self.indices), "size": self.size}

    @classmethod
    def from_dict(cls, data: dict) -> InputColumns:
        return cls(tuple(data["names"]), tuple(int(i) for i in data["indices"]), int(data["size"]))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | Path) -> InputColumns:
        return cls.from_dict(json.loads(Path(path).read_text()))


def fit_columns(reference: np.ndarray, *, preset="T5N10", drop_search_masses: bool = False,
                drop: tuple[str, ...] = ()) -> InputColumns:
    """Columns that are non-zero somewhere in `reference` (n, D, D), less the named cells to drop.

    drop_search_masses removes the nine ATLAS search-mass cells (SEARCH_MASS_CELLS).
    """
    names = rmm_cell_names(preset).ravel()
    flat = flatten(reference)
    if flat.shape[1] != names.size:
        raise ConfigError(f"reference matrices have {flat.shape[1]} cells, preset {preset!r} has {names.size}")
    dropped = set(drop) | (set(SEARCH_MASS_CELLS.values()) if drop_search_masses else set())
    unknown = dropped - set(names)
    if unknown:
        raise ConfigError(f"cannot drop unknown cells {sorted(unknown)}")
    keep = np.any(flat != 0, axis=0) & ~np.isin(names, list(dropped))
    idx = np.flatnonzero(keep)
    return InputColumns(tuple(names[idx]), tuple(int(i) for i in idx), int(names.size))
