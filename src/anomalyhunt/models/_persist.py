"""One-file model persistence shared by the estimators: atomic torch.save, and a load that fails clearly."""

from __future__ import annotations

from pathlib import Path

import torch

from ..exceptions import EventFileError


def save_state(state: dict, path: str | Path) -> None:
    """torch.save through a temporary name, so that a killed job never leaves half a model."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.part")
    torch.save(state, tmp)
    tmp.replace(path)


def load_state(path: str | Path) -> dict:
    """The saved dictionary (on CPU), or an EventFileError naming the file."""
    try:
        return torch.load(Path(path), map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError) as exc:
        raise EventFileError(f"{path}: cannot read the model ({exc})") from exc
