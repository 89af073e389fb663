"""The estimator base every model shares (the scikit-learn contract, plus safe one-file persistence).

- Hyperparameters are exactly the keyword arguments of `__init__`, stored unchanged under the same names, so
  `get_params`, `set_params` and `sklearn.base.clone` work; they are validated when the estimator is built.
- `fit(x, sample_weight=None, *, features=None)` returns self; learned state ends in `_`.
- `score_samples(x, *, features=None)` scores in batches; before `fit` it raises `NotFittedError`.
- `features` (a `FeatureSpec`) says what the columns of `x` are; it is recorded at fit time, saved in the model
  file, and scoring refuses features of another kind, preset or layout.
- `save(path)` / `load(path)` write and read tensors plus JSON (`_persist`), never pickled objects.

A subclass implements `_validate()`, `_fit(x, w)`, `_score_batch(x_batch) -> tensor`, `_state() -> (meta,
tensors)` and `_restore(meta, tensors)`.
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from ..exceptions import ConfigError, ModelFileError, NotFittedError
from ..features.spec import FeatureSpec
from ._persist import load_model_file, save_model_file
from .train import TrainHistory, resolve_device

__all__ = ["Estimator"]


class Estimator:
    """Base of every anomalyhunt model; see the module docstring for the contract."""

    #: attribute that exists once the estimator is fitted
    _fitted_attribute: ClassVar[str] = "model_"

    # --- hyperparameters --------------------------------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments (`deep` is accepted for scikit-learn; no parameter is an estimator)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> Estimator:
        known = set(self._param_names())
        for name in params:
            if name not in known:
                raise ConfigError(f"{type(self).__name__} has no parameter {name!r}; known: {', '.join(sorted(known))}")
        for name, value in params.items():
            setattr(self, name, value)
        self._validate()
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _validate(self) -> None:
        """Raise ConfigError naming the first bad hyperparameter."""

    # --- fitting and scoring ----------------------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return hasattr(self, self._fitted_attribute)

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(x) before scoring or "
                                 "saving it")

    def _check_inputs(self, x, features: FeatureSpec | None) -> np.ndarray:
        self._check_fitted()
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_features_in_:
            raise ConfigError(f"expected inputs of shape (n, {self.n_features_in_})"
                              + (f" ({self.features_.label})" if self.features_ else "") + f", got {x.shape}")
        if features is not None and self.features_ is not None and (why := self.features_.mismatch(features)):
            raise ConfigError(f"these features do not fit the model: {why}")
        return x

    def fit(self, x, sample_weight=None, *, features: FeatureSpec | None = None) -> Estimator:
        """Train on `x` (n, n_features) with optional per-event weights; returns self."""
        self._validate()
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or len(x) == 0:
            raise ConfigError(f"expected a non-empty 2-D input, got shape {x.shape}")
        if features is not None and len(features.names) != x.shape[1]:
            raise ConfigError(f"the feature description names {len(features.names)} columns, the input has "
                              f"{x.shape[1]}")
        if not np.isfinite(x).all():
            raise ConfigError(f"the input holds {int((~np.isfinite(x)).sum())} non-finite values (NaN or inf)")
        self.n_features_in_ = x.shape[1]
        self.features_ = features
        self.device_ = resolve_device(self.device)
        self._fit(x, None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64))
        return self

    def score_samples(self, x, *, features: FeatureSpec | None = None, batch_size: int = 65536) -> np.ndarray:
        """One anomaly score per event (higher = more anomalous; see the subclass for its meaning)."""
        x = self._check_inputs(x, features)
        getattr(self, self._fitted_attribute).eval()
        return self._finish_scores(self._batched(x, self._score_batch, batch_size))

    def _batched(self, x: np.ndarray, per_batch, batch_size: int = 65536) -> np.ndarray:
        """`per_batch(transformed batch tensor) -> (n, ...) tensor` over `x` in batches, without gradients, as one
        float64 NumPy array (x already checked). An empty `x` goes through as one empty batch, so the result has
        the per-event shape of a non-empty one ((0,) or (0, 2) for the double autoencoder)."""
        parts = []
        with torch.no_grad():
            for start in range(0, max(len(x), 1), batch_size):
                xb = torch.as_tensor(self._transform(x[start:start + batch_size]), device=self.device_)
                parts.append(per_batch(xb).double().cpu().numpy())
        return np.concatenate(parts)

    def _transform(self, x: np.ndarray) -> np.ndarray:
        """Column selection and scaling of a batch of raw inputs (identity by default)."""
        return x

    def _finish_scores(self, raw: np.ndarray) -> np.ndarray:
        return raw

    # --- persistence ------------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """One file: hyperparameters, the features trained on, training history, learned arrays and weights."""
        self._check_fitted()
        meta, tensors = self._state()
        meta = {"params": self.get_params(), "n_features_in": int(self.n_features_in_),
                "features": self.features_.as_dict() if self.features_ is not None else None,
                "history": dataclasses.asdict(self.history_) if getattr(self, "history_", None) else None, **meta}
        return save_model_file(path, estimator=type(self).__name__, meta=meta, tensors=tensors)

    @classmethod
    def load(cls, path: str | Path, *, device: str = "auto") -> Estimator:
        """A fitted estimator from `save`'s file, on `device`."""
        meta, tensors = load_model_file(path, estimator=cls.__name__)
        try:
            params = {**meta["params"], "device": device}
            model = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
            model.n_features_in_ = int(meta["n_features_in"])
            model.features_ = FeatureSpec.from_dict(meta["features"]) if meta.get("features") else None
            model.device_ = resolve_device(device)
            if meta.get("history"):
                model.history_ = TrainHistory(**meta["history"])
            model._restore(meta, tensors)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            if isinstance(exc, ConfigError):
                raise ModelFileError(f"{path}: the stored hyperparameters are not valid here ({exc})") from None
            raise ModelFileError(f"{path}: damaged {cls.__name__} model file ({type(exc).__name__}: "
                                 f"{str(exc)[:200]})") from None
        getattr(model, cls._fitted_attribute).to(model.device_).eval()
        return model

    # --- what a subclass provides -----------------------------------------------------------------------------
    def _fit(self, x: np.ndarray, sample_weight: np.ndarray | None) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score_batch(self, xb: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _state(self) -> tuple[dict, dict]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _restore(self, meta: dict, tensors: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
