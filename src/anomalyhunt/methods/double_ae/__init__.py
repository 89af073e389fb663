"""Two decorrelated autoencoders (DisCo) with an ABCD background estimate, offline and online: Mikuni, Nachman &
Shih, "Online-compatible Unsupervised Non-resonant Anomaly Detection", PRD 105 (2022) 055006."""

from ..base import Method
from .config import DoubleAEConfig, DoubleAEModel

__all__ = ["METHOD", "DoubleAEConfig", "DoubleAEModel"]

METHOD = Method(
    name="double_ae",
    description="two autoencoders decorrelated with DisCo, ABCD background estimate, SIC, trigger emulation, "
                "ONNX (Mikuni, Nachman & Shih 2022)",
    config=DoubleAEConfig,
    run="anomalyhunt.methods.double_ae.run:run",
    result="anomalyhunt.methods.double_ae.run:DoubleAEResult",
    accepts=(),
    detectors="its own pair (double_ae): the ABCD estimate needs two scores decorrelated in training",
)
