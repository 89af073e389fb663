"""Two decorrelated autoencoders (DisCo) with an ABCD background estimate, offline and online (seed 002)."""

from ..base import Method
from .config import DoubleAEConfig, DoubleAEModel

__all__ = ["METHOD", "DoubleAEConfig", "DoubleAEModel"]

METHOD = Method(
    name="double_ae",
    description="two autoencoders decorrelated with DisCo, ABCD background estimate, SIC, trigger emulation, "
                "ONNX (seed 002)",
    config=DoubleAEConfig,
    run="anomalyhunt.methods.double_ae.run:run",
    summary_keys=("dcor_background", "closure", "max_sic", "supervised_ceiling", "abcd_significance",
                  "abcd_significance_background_only", "abcd_method", "injection", "trigger", "onnx", "background",
                  "signals", "training"),
    report_sections=("Maximum SIC", "Supervised ceiling", "ABCD closure on background only",
                     "ABCD significance with signal injected", "Online emulation"),
)
