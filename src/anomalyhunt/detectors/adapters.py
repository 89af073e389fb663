"""A user's own detector with the estimator base's contract.

- `ImportedDetector`: any class or factory named "package.module:Class" that offers `fit` and `score_samples` or
  `decision_function`. Its scores are turned to higher = more anomalous: scikit-learn outlier detectors (whose
  scores are higher = more normal) are recognised, `higher_is_anomalous=False` turns anything else. Event weights
  reach `fit` when it takes `sample_weight` (`weights_used_` says whether it does). It cannot be saved
  safely (we never pickle), so `saves_model` is False and `save` refuses: a run keeps its scores and says so.
- `OnnxDetector`: an already trained model in an ONNX file, scored with onnxruntime (`fit` only checks and
  records the inputs). Its one output must be one number per event. The file is data, not code: `save` embeds
  its bytes in our model file.
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from ..exceptions import ConfigError, FitError, ModelFileError
from ..features.spec import FeatureSpec
from ..models._persist import load_model_file, save_model_file
from ..models.base import Estimator
from ..models.train import resolve_device
from .spec import construct

__all__ = ["ImportedDetector", "OnnxDetector"]

log = logging.getLogger(__name__)
_WARNED: set[str] = set()


def _is_sklearn_outlier_detector(obj) -> bool:
    try:
        from sklearn.base import is_outlier_detector
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        return False
    return bool(is_outlier_detector(obj))


class ImportedDetector(Estimator):
    """A user's detector (see the module docstring). `params` go to the constructor; `seed` becomes its
    `random_state` (or `seed`) when it takes one and `params` do not set it."""

    saves_model: ClassVar[bool] = False
    _fitted_attribute = "detector_"

    def __init__(self, target: str, params: dict | None = None, *, higher_is_anomalous: bool | None = None,
                 seed: int = 0, device: str = "cpu"):
        self.target = target
        self.params = params
        self.higher_is_anomalous = higher_is_anomalous
        self.seed = seed
        self.device = device
        self._validate()

    def _validate(self) -> None:
        probe = self._build()
        if not callable(getattr(probe, "fit", None)):
            raise ConfigError(f"detector: import: {self.target} has no fit method")
        if not callable(getattr(probe, "score_samples", None)) and not callable(getattr(probe, "decision_function",
                                                                                       None)):
            raise ConfigError(f"detector: import: {self.target} has neither score_samples nor decision_function")

    def _build(self):
        return construct(self.target, self.params, seed=self.seed)

    @property
    def sign_(self) -> float:
        """-1 when the wrapped scores are higher = more normal."""
        if self.higher_is_anomalous is not None:
            return 1.0 if self.higher_is_anomalous else -1.0
        return -1.0 if _is_sklearn_outlier_detector(self.detector_) else 1.0

    def _fit(self, x: np.ndarray, sample_weight: np.ndarray | None) -> None:
        detector = self._build()
        takes_weights = "sample_weight" in inspect.signature(detector.fit).parameters
        if sample_weight is not None and not takes_weights and not np.allclose(sample_weight, sample_weight[0]) \
                and self.target not in _WARNED:
            _WARNED.add(self.target)  # once per detector and process, not once per training
            log.warning("%s.fit takes no sample_weight: the event weights are not used in training", self.target)
        try:
            if sample_weight is not None and takes_weights:
                detector.fit(x, sample_weight=sample_weight)
            else:
                detector.fit(x)
        except Exception as exc:  # the user's code: its failure is one line naming it, not a traceback
            raise FitError(f"{self.target} failed to fit: {type(exc).__name__}: {str(exc)[:300]}") from exc
        self.weights_used_ = takes_weights
        self.detector_ = detector

    def score_samples(self, x, *, features: FeatureSpec | None = None, batch_size: int = 65536) -> np.ndarray:
        """The wrapped detector's scores, sign turned so that higher = more anomalous, in batches."""
        x = self._check_inputs(x, features)
        score = getattr(self.detector_, "score_samples", None) or self.detector_.decision_function
        try:
            parts = [np.asarray(score(x[start:start + batch_size]), dtype=np.float64).reshape(-1)
                     for start in range(0, len(x), batch_size)]
        except Exception as exc:  # the user's code: one line naming it
            raise FitError(f"{self.target} failed to score: {type(exc).__name__}: {str(exc)[:300]}") from exc
        out = np.concatenate(parts) if parts else np.zeros(0)
        if len(out) != len(x):
            raise ConfigError(f"{self.target} returned {len(out)} scores for {len(x)} events")
        return self.sign_ * out

    def save(self, path: str | Path) -> Path:
        raise ModelFileError(f"{self.target} cannot be saved safely (anomalyhunt never pickles a model); its "
                             "scores are kept instead")


class OnnxDetector(Estimator):
    """An ONNX model scored with onnxruntime (see the module docstring)."""

    saves_model: ClassVar[bool] = True
    _fitted_attribute = "session_"

    def __init__(self, path: str, *, higher_is_anomalous: bool | None = None, device: str = "cpu"):
        self.path = path
        self.higher_is_anomalous = higher_is_anomalous
        self.device = device
        self._validate()

    def _validate(self) -> None:
        self._inspect(self._session(Path(self.path).read_bytes() if Path(self.path).is_file() else None))

    def _session(self, model: bytes | None):
        import onnxruntime

        if model is None:
            raise ConfigError(f"detector: onnx: no such file {self.path}")
        try:
            return onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for a damaged file
            raise ConfigError(f"detector: onnx: {self.path} is not a readable ONNX model ({str(exc)[:200]})") \
                from None

    def _inspect(self, session) -> int | None:
        """The model's input width (None when dynamic); one input and one output are required."""
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise ConfigError(f"detector: onnx: {self.path} must have one input (events x features), has "
                              f"{len(inputs)}")
        shape = inputs[0].shape
        if len(shape) != 2:
            raise ConfigError(f"detector: onnx: {self.path} takes inputs of rank {len(shape)}, not (events, "
                              "features)")
        return shape[1] if isinstance(shape[1], int) else None

    def fit(self, x, sample_weight=None, *, features: FeatureSpec | None = None) -> OnnxDetector:
        """No training: checks the input width against the model's and records the features."""
        x = np.asarray(x, dtype=np.float32)
        model = Path(self.path).read_bytes() if Path(self.path).is_file() else None
        session = self._session(model)
        width = self._inspect(session)
        if x.ndim != 2 or (width is not None and x.shape[1] != width):
            raise ConfigError(f"detector: onnx: {self.path} takes {width} inputs per event, the features have "
                              f"shape {x.shape}")
        self.n_features_in_, self.features_ = x.shape[1], features
        self.device_ = resolve_device("cpu")
        self.model_bytes_, self.session_ = model, session
        return self

    def score_samples(self, x, *, features: FeatureSpec | None = None, batch_size: int = 65536) -> np.ndarray:
        x = self._check_inputs(x, features)
        name = self.session_.get_inputs()[0].name
        parts = []
        for start in range(0, len(x), batch_size):
            out = np.asarray(self.session_.run(None, {name: x[start:start + batch_size]})[0], dtype=np.float64)
            if out.ndim > 2 or (out.ndim == 2 and out.shape[1] != 1):
                raise ConfigError(f"detector: onnx: {self.path} gives {out.shape[1:]} numbers per event; an anomaly "
                                  "detector gives one")
            parts.append(out.reshape(-1))
        out = np.concatenate(parts) if parts else np.zeros(0)
        return out if self.higher_is_anomalous in (None, True) else -out

    def save(self, path: str | Path) -> Path:
        self._check_fitted()
        meta = {"params": self.get_params(), "n_features_in": int(self.n_features_in_),
                "features": self.features_.as_dict() if self.features_ is not None else None, "history": None}
        tensors = {"onnx": torch.as_tensor(np.frombuffer(self.model_bytes_, dtype=np.uint8).copy())}
        return save_model_file(path, estimator=type(self).__name__, meta=meta, tensors=tensors)

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> OnnxDetector:
        meta, tensors = load_model_file(path, estimator=cls.__name__)
        model = cls.__new__(cls)
        model.path = meta["params"]["path"]
        model.higher_is_anomalous = meta["params"].get("higher_is_anomalous")
        model.device = "cpu"
        model.model_bytes_ = bytes(tensors["onnx"].numpy().tobytes())
        model.session_ = model._session(model.model_bytes_)
        model.n_features_in_ = int(meta["n_features_in"])
        model.features_ = FeatureSpec.from_dict(meta["features"]) if meta.get("features") else None
        model.device_ = resolve_device("cpu")
        return model
