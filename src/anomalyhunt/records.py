"""Result objects a physicist can read: a one-screen `repr` (scalars, and arrays by shape and range) and
`to_dict()` (JSON-safe), shared by the statistics results and the methods' results."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = ["Readable", "jsonable", "short_repr"]


def jsonable(value: Any) -> Any:
    """`value` as JSON-ready data: objects with a `record()` by it, other dataclasses field by field, arrays as
    lists, NumPy scalars as Python numbers."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "record") and callable(value.record):
        return value.record()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str | int | float | bool) else k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def short_repr(value: Any, limit: int = 60) -> str:
    """A value in a few characters: floats to 4 digits, arrays by shape and range, containers by size, nested
    results by their class."""
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    if isinstance(value, np.ndarray):
        if value.size and np.issubdtype(value.dtype, np.number):
            return f"<array {value.shape}, {np.nanmin(value):.4g}..{np.nanmax(value):.4g}>"
        return f"<array {value.shape} {value.dtype}>"
    if isinstance(value, dict | list | tuple):
        return f"<{type(value).__name__} of {len(value)}>"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return f"<{type(value).__name__}>"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Readable:
    """Mixin for frozen result dataclasses (declare them with `repr=False`): `repr` shows every field in short
    form (see `short_repr`), `to_dict()` the whole result as JSON-ready data."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={short_repr(getattr(self, f.name))}" for f in dataclasses.fields(self)
                          if f.repr)
        return f"{type(self).__name__}({shown})"
