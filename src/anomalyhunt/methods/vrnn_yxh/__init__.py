"""VRNN anomalous-jet tagging over large-R jet constituents and the Y -> X H(bb) search it serves: jet-level
ROC/SIC against D2, tau21 and mass, a sideband-reweighting background estimate with its closure, and the
(m_Y, m_X) significance map (seed 001, second analysis)."""

from ..base import Method
from .config import DoubleB, Reweighting, VRNNModel, VRNNYXHConfig

__all__ = ["METHOD", "DoubleB", "Reweighting", "VRNNModel", "VRNNYXHConfig"]

METHOD = Method(
    name="vrnn_yxh",
    description="VRNN anomalous-jet tagger on large-R jet constituents, Y -> X H(bb) search with a sideband-"
                "reweighting background estimate and an (m_Y, m_X) significance map (seed 001)",
    config=VRNNYXHConfig,
    run="anomalyhunt.methods.vrnn_yxh.run:run",
    summary_keys=("jet_auc", "supervised_ceiling", "sb_gain", "d2_gain", "working_points", "direction", "closure",
                  "closure_injected", "z_global", "grid", "training", "scoring", "events", "device", "seconds"),
    report_sections=("Anomalous-jet tagging", "Supervised ceiling", "Background estimate and its closure",
                     "Significance over the (m_Y, m_X) grid"),
)
