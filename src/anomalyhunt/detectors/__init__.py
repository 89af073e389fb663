"""Anomaly detectors by name, apart from the searches that use them.

A search takes any detector its inputs allow (`anomalyhunt detectors` lists the built-ins and what each takes);
a YAML `detector:` section names a built-in, a user's class (`import: "package.module:Class"`, which runs that
code by design) or a trained ONNX model (`onnx: file`). Every detector has the estimator contract: `fit(x,
sample_weight=None)` returns self, `score_samples(x)` gives one score per event, higher = more anomalous.
"""

from .adapters import ImportedDetector, OnnxDetector
from .registry import (
    BUILTIN_DETECTORS,
    BuiltinDetector,
    build_classifier,
    build_detector,
    detector_names,
    get_detector,
)
from .spec import DetectorSpec, import_target

__all__ = ["BUILTIN_DETECTORS", "BuiltinDetector", "DetectorSpec", "ImportedDetector", "OnnxDetector",
           "build_classifier", "build_detector", "detector_names", "get_detector", "import_target"]
