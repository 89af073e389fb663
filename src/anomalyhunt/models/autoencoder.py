"""The autoencoder anomaly detector of seeds 000 and 001, as an estimator on the shared base."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ..exceptions import ConfigError
from .base import Estimator
from .nets import AUTOENCODER_PRESETS, AutoencoderArchitecture, AutoencoderNet
from .train import Adadelta, Adam, FixedEpochs, MinValidationLoss, TrainConfig, train_model

__all__ = ["Autoencoder"]

_SCORES = {"chekanov2022": "log_mse", "atlas2024": "log_mae", "disco2022": "log_mse"}
OPTIMIZERS = {"adam": Adam, "adadelta": Adadelta}


class Autoencoder(Estimator):
    """Autoencoder trained on (mostly Standard-Model) events; `score_samples` is ln of the per-event
    reconstruction error (ln MSE for `chekanov2022`, ln MAE for `atlas2024`): higher = more anomalous.

    Inputs are flattened features (e.g. `flatten(rmm(...))`). `fit` keeps the columns that are non-zero in
    the training data (or the given `columns` indices) and, with `scale="minmax"`, scales them to [0, 1] with
    the training minimum and maximum; both are saved with the weights. `train_fraction` < 1 trains on a random
    subset (the ATLAS search trains on 1% of the data). Training uses the event weights in the loss (normalised,
    so only their ratios matter). `optimizer` is 'adam' or 'adadelta' (Keras defaults); `patience=None` trains
    for exactly `max_epochs` and keeps the last epoch.
    """

    def __init__(self, preset: str = "chekanov2022", *, max_epochs: int = 200, patience: int | None = 30,
                 batch_size: int = 100, learning_rate: float = 1e-3, optimizer: str = "adam",
                 validation_fraction: float = 0.3, train_fraction: float = 1.0, scale: str = "none",
                 columns=None, device: str = "auto", seed: int = 0, progress: bool = False):
        self.preset = preset
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.validation_fraction = validation_fraction
        self.train_fraction = train_fraction
        self.scale = scale
        self.columns = columns
        self.device = device
        self.seed = seed
        self.progress = progress
        self._validate()

    def _validate(self) -> None:
        if self.preset not in AUTOENCODER_PRESETS:
            raise ConfigError(f"unknown autoencoder preset {self.preset!r}; known: {', '.join(AUTOENCODER_PRESETS)}")
        if self.scale not in ("none", "minmax"):
            raise ConfigError(f"scale must be 'none' or 'minmax', got {self.scale!r}")
        if not 0 < self.train_fraction <= 1:
            raise ConfigError(f"train_fraction must be in (0, 1], got {self.train_fraction}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        self._train_config()  # validate now, not at fit time

    def _train_config(self) -> TrainConfig:
        stopping = FixedEpochs() if self.patience is None else MinValidationLoss(self.patience)
        return TrainConfig(batch_size=self.batch_size, max_epochs=self.max_epochs,
                           validation_fraction=self.validation_fraction, seed=self.seed,
                           optimizer=OPTIMIZERS[self.optimizer](self.learning_rate), stopping=stopping)

    # --- preprocessing ------------------------------------------------------------------------------------------
    def _transform(self, x: np.ndarray) -> np.ndarray:
        x = x[:, self.columns_]
        if self.scale == "minmax":
            x = (x - self.min_) / self.range_
        return x

    def _per_event_loss(self, model, xb):
        err = model(xb) - xb
        return err.pow(2).mean(dim=1) if _SCORES[self.preset] == "log_mse" else err.abs().mean(dim=1)

    def _fit(self, x: np.ndarray, sample_weight: np.ndarray | None) -> None:
        rng = np.random.default_rng(self.seed)
        if self.train_fraction < 1:
            keep = np.sort(rng.choice(len(x), max(4, int(round(self.train_fraction * len(x)))), replace=False))
            x = x[keep]
            sample_weight = None if sample_weight is None else sample_weight[keep]
        given = self.columns if self.columns is not None else np.flatnonzero(np.any(x != 0, axis=0))
        self.columns_ = np.asarray(given, dtype=np.int64)
        if len(self.columns_) == 0:
            raise ConfigError("every input column is zero in the training data")
        kept = x[:, self.columns_]
        self.min_ = kept.min(axis=0)
        self.range_ = np.where(kept.max(axis=0) > self.min_, kept.max(axis=0) - self.min_, 1.0).astype(np.float32)
        inputs = self._transform(x)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)  # inside fork_rng: the caller's global RNG state is left untouched
            model = AutoencoderNet(inputs.shape[1], AUTOENCODER_PRESETS[self.preset])
        self.history_ = train_model(model, self._per_event_loss, inputs, sample_weight,
                                    config=self._train_config(), device=self.device_, progress=self.progress,
                                    desc=f"training {self.preset} autoencoder")
        self.model_ = model.eval()

    def _score_batch(self, xb: torch.Tensor) -> torch.Tensor:
        return self._per_event_loss(self.model_, xb)

    def _finish_scores(self, raw: np.ndarray) -> np.ndarray:
        """ln of the per-event reconstruction error: higher = more anomalous."""
        return np.log(raw + 1e-12)

    # --- persistence --------------------------------------------------------------------------------------------
    def _state(self) -> tuple[dict, dict]:
        meta = {"architecture": dataclasses.asdict(AUTOENCODER_PRESETS[self.preset]),
                "n_inputs": int(len(self.columns_))}
        tensors = {"columns": self.columns_, "min": self.min_, "range": self.range_,
                   **{f"net.{k}": v for k, v in self.model_.state_dict().items()}}
        return meta, tensors

    def _restore(self, meta: dict, tensors: dict) -> None:
        self.columns_ = tensors["columns"].numpy().astype(np.int64)
        self.min_, self.range_ = tensors["min"].numpy(), tensors["range"].numpy()
        arch = meta["architecture"]
        self.model_ = AutoencoderNet(int(meta["n_inputs"]), AutoencoderArchitecture(
            tuple(arch["hidden"]), arch["activation"], arch["output_activation"]))
        self.model_.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
