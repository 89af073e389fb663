"""Anomalous-jet tagging over large-R jet constituents and the Y -> X H(bb) search it serves: jet-level ROC/SIC
against D2, tau21 and mass, a sideband-reweighting background estimate with its closure, and the (m_Y, m_X)
significance map; by default the VRNN tagger of ATLAS, PRD 108 (2023) 052009."""

from ..base import Method
from .config import DoubleB, Reweighting, VRNNModel, VRNNYXHConfig

__all__ = ["METHOD", "DoubleB", "Reweighting", "VRNNModel", "VRNNYXHConfig"]

METHOD = Method(
    name="vrnn_yxh",
    description="anomalous-jet tagger on large-R jet constituents, Y -> X H(bb) search with a sideband-"
                "reweighting background estimate and an (m_Y, m_X) significance map; by default the VRNN "
                "(ATLAS 2023)",
    config=VRNNYXHConfig,
    run="anomalyhunt.methods.vrnn_yxh.run:run",
    result="anomalyhunt.methods.vrnn_yxh.run:VRNNYXHResult",
    accepts=("jet_sequence", "flat"),
    detectors="any per-jet detector on the flattened constituent sequences (vrnn, or a flat-input one)",
)
