"""Detectors compared on the same events: `anomalyhunt compare CONFIG --out DIR` (or `method: compare`)."""

from ..base import Method
from .config import FEATURE_KINDS, CompareConfig

__all__ = ["FEATURE_KINDS", "METHOD", "CompareConfig"]

METHOD = Method(
    name="compare",
    description="detectors compared on the same events and split: AUC, 1/eps_b, SIC, max SIC over training seeds "
                "against a supervised ceiling (the LHC Olympics figures)",
    config=CompareConfig,
    run="anomalyhunt.methods.compare.run:run",
    result="anomalyhunt.methods.compare.run:CompareResult",
    accepts=("flat",),
    detectors="a list of any flat detectors (detectors:), each trained n_seeds times",
    parallel=True,
)
