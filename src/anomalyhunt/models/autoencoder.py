"""The autoencoder anomaly detector of seeds 000 and 001, as a scikit-learn-style estimator."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from ..exceptions import ConfigError
from ._persist import load_state, save_state
from .nets import AUTOENCODER_PRESETS, AutoencoderArchitecture, AutoencoderNet
from .train import TrainConfig, TrainHistory, resolve_device, train_model

__all__ = ["Autoencoder"]

_SCORES = {"chekanov2022": "log_mse", "atlas2024": "log_mae", "disco2022": "log_mse"}


class Autoencoder:
    """Autoencoder trained on (mostly Standard-Model) events; `score_samples` is ln of the per-event
    reconstruction error (ln MSE for `chekanov2022`, ln MAE for `atlas2024`): higher = more anomalous.

    Inputs are flattened features (e.g. `flatten(rmm(...))`). `fit` keeps the columns that are non-zero in
    the training data (or the given `columns` indices) and, with `scale="minmax"`, scales them to [0, 1] with
    the training minimum and maximum; both are saved with the weights. `train_fraction` < 1 trains on a random
    subset (the ATLAS search trains on 1% of the data). Training uses the event weights in the loss.
    """

    def __init__(self, preset: str = "chekanov2022", *, max_epochs: int = 200, patience: int = 30,
                 batch_size: int = 100, learning_rate: float = 1e-3, validation_fraction: float = 0.3,
                 train_fraction: float = 1.0, scale: str = "none", columns=None, device: str = "auto",
                 seed: int = 0, progress: bool = False):
        if preset not in AUTOENCODER_PRESETS:
            raise ConfigError(f"unknown autoencoder preset {preset!r}; known: {', '.join(AUTOENCODER_PRESETS)}")
        if scale not in ("none", "minmax"):
            raise ConfigError(f"scale must be 'none' or 'minmax', got {scale!r}")
        if not 0 < train_fraction <= 1:
            raise ConfigError(f"train_fraction must be in (0, 1], got {train_fraction}")
        self.preset = preset
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.train_fraction = train_fraction
        self.scale = scale
        self.columns = columns
        self.device = device
        self.seed = seed
        self.progress = progress
        self._train_config()  # validate now, not at fit time

    def _train_config(self) -> TrainConfig:
        return TrainConfig(batch_size=self.batch_size, max_epochs=self.max_epochs, patience=self.patience,
                           learning_rate=self.learning_rate, validation_fraction=self.validation_fraction,
                           seed=self.seed)

    def get_params(self) -> dict:
        keys = ("preset", "max_epochs", "patience", "batch_size", "learning_rate", "validation_fraction",
                "train_fraction", "scale", "device", "seed")
        return {k: getattr(self, k) for k in keys}

    # --- preprocessing ---------------------------------------------------------------------------------
    def _prepare(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_features_in_:
            raise ConfigError(f"expected inputs of shape (n, {self.n_features_in_}), got {x.shape}")
        x = x[:, self.columns_]
        if self.scale == "minmax":
            x = (x - self.min_) / self.range_
        return x

    def _per_event_loss(self, model, xb):
        err = model(xb) - xb
        return err.pow(2).mean(dim=1) if _SCORES[self.preset] == "log_mse" else err.abs().mean(dim=1)

    def fit(self, x: np.ndarray, sample_weight: np.ndarray | None = None) -> Autoencoder:
        """Train on `x` (n, n_features); returns self."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or len(x) == 0:
            raise ConfigError(f"expected a non-empty 2-D input, got shape {x.shape}")
        self.n_features_in_ = x.shape[1]
        rng = np.random.default_rng(self.seed)
        if self.train_fraction < 1:
            keep = np.sort(rng.choice(len(x), max(4, int(round(self.train_fraction * len(x)))), replace=False))
            x = x[keep]
            sample_weight = None if sample_weight is None else np.asarray(sample_weight)[keep]
        given = self.columns if self.columns is not None else np.flatnonzero(np.any(x != 0, axis=0))
        self.columns_ = np.asarray(given, dtype=np.int64)
        if len(self.columns_) == 0:
            raise ConfigError("every input column is zero in the training data")
        kept = x[:, self.columns_]
        self.min_ = kept.min(axis=0)
        self.range_ = np.where(kept.max(axis=0) > self.min_, kept.max(axis=0) - self.min_, 1.0).astype(np.float32)
        inputs = self._prepare(x)
        self.device_ = resolve_device(self.device)
        architecture = AUTOENCODER_PRESETS[self.preset]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)  # inside fork_rng: the caller's global RNG state is left untouched
            self.model_ = AutoencoderNet(inputs.shape[1], architecture)
        self.history_ = train_model(self.model_, self._per_event_loss, inputs, sample_weight,
                                    config=self._train_config(), device=self.device_, progress=self.progress)
        self.model_.eval()
        return self

    def score_samples(self, x: np.ndarray, *, batch_size: int = 65536) -> np.ndarray:
        """ln of the per-event reconstruction error: higher = more anomalous."""
        inputs = self._prepare(x)
        out = np.empty(len(inputs))
        with torch.no_grad():
            for start in range(0, len(inputs), batch_size):
                xb = torch.as_tensor(inputs[start:start + batch_size], device=self.device_)
                out[start:start + batch_size] = self._per_event_loss(self.model_, xb).double().cpu().numpy()
        return np.log(out + 1e-12)

    # --- persistence -------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """One file with weights, kept columns, scaler, architecture, parameters and the training history."""
        path = Path(path)
        state = {
            "params": self.get_params(), "n_features_in": self.n_features_in_, "columns": self.columns_,
            "min": self.min_, "range": self.range_, "n_inputs": len(self.columns_),
            "architecture": dataclasses.asdict(AUTOENCODER_PRESETS[self.preset]),
            "state_dict": {k: v.cpu() for k, v in self.model_.state_dict().items()},
            "history": dataclasses.asdict(self.history_),
        }
        save_state(state, path)

    @classmethod
    def load(cls, path: str | Path, *, device: str = "auto") -> Autoencoder:
        state = load_state(path)
        params = {**state["params"], "device": device}
        model = cls(**params)
        model.n_features_in_ = state["n_features_in"]
        model.columns_, model.min_, model.range_ = state["columns"], state["min"], state["range"]
        model.device_ = resolve_device(device)
        model.model_ = AutoencoderNet(state["n_inputs"], AutoencoderArchitecture(
            tuple(state["architecture"]["hidden"]), state["architecture"]["activation"],
            state["architecture"]["output_activation"]))
        model.model_.load_state_dict(state["state_dict"])
        model.model_.to(model.device_).eval()
        model.history_ = TrainHistory(**state["history"])
        return model
