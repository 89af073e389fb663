"""What a feature matrix is: its kind, its preset and its column names. Models record it and refuse others."""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import ConfigError
from .fourvectors import adc2021_names, four_vector_names
from .rmm import rmm_cell_names, rmm_layout

__all__ = ["FEATURE_KINDS", "FeatureSpec", "feature_spec"]

FEATURE_KINDS = ("rmm", "fourvec", "adc2021")


@dataclass(frozen=True)
class FeatureSpec:
    """Kind ('rmm', 'fourvec', 'adc2021', or any other name for user-built inputs), preset and the name of each
    column of the flattened feature matrix."""

    kind: str
    preset: str
    names: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.kind} ({self.preset}, {len(self.names)} columns)"

    def mismatch(self, other: FeatureSpec) -> str:
        """Why `other` is not these features ('' when it is)."""
        if (self.kind, self.preset) != (other.kind, other.preset):
            return f"trained on {self.label}, given {other.label}"
        if self.names != other.names:
            diff = next(i for i, (a, b) in enumerate(zip(self.names, other.names, strict=False)) if a != b) \
                if len(self.names) == len(other.names) else min(len(self.names), len(other.names))
            return f"trained on {self.label}, given columns that differ from column {diff}"
        return ""

    def as_dict(self) -> dict:
        return {"kind": self.kind, "preset": self.preset, "names": list(self.names)}

    @classmethod
    def from_dict(cls, data: dict) -> FeatureSpec:
        return cls(str(data["kind"]), str(data["preset"]), tuple(str(n) for n in data["names"]))


def feature_spec(kind: str, preset: str = "T5N10") -> FeatureSpec:
    """The spec of one of the built-in feature spaces (flattened RMM cells, padded four-vectors, ADC2021)."""
    if kind == "rmm":
        rmm_layout(preset)
        return FeatureSpec(kind, preset, tuple(rmm_cell_names(preset).ravel().tolist()))
    if kind == "fourvec":
        return FeatureSpec(kind, preset, tuple(four_vector_names(preset)))
    if kind == "adc2021":
        return FeatureSpec(kind, "adc2021", tuple(adc2021_names()))
    raise ConfigError(f"unknown feature kind {kind!r}; known: {', '.join(FEATURE_KINDS)}")
