"""Two autoencoders trained together with a distance-correlation penalty (Mikuni, Nachman & Shih), as an estimator.

Loss per batch: weighted mean MSE_1 + weighted mean MSE_2 + lambda * dCor^2(MSE_1, MSE_2) over the batch's
events. The paper uses batches of 10000 (the decorrelation is a batch statistic: small batches estimate dCor
poorly and decorrelate less) and lambda = 100 (10 in the authors' public code); both are parameters.
`score_samples` returns the two per-event reconstruction losses as the columns of an (n, 2) array; ABCD cuts on
them directly. `decorrelate="loss"` (the paper) puts the losses themselves into dCor^2; "log_loss" puts their
logarithms, which ABCD cannot tell apart (cuts are invariant under monotonic maps) but which spreads the dCor
penalty over the tails, where ABCD's signal region lies, instead of letting the bulk dominate it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..exceptions import ConfigError
from .base import Estimator
from .disco import distance_correlation
from .nets import AutoencoderArchitecture, AutoencoderNet
from .train import Adam, MinValidationLoss, TrainConfig, train_model

__all__ = ["DISCO_ARCHITECTURE", "DoubleDisCoAE", "DoubleAutoencoderNet"]

# Mikuni, Nachman & Shih: encoders 256-128-64-32-5, mirrored decoders
DISCO_ARCHITECTURE = AutoencoderArchitecture((256, 128, 64, 32, 5), "relu", "none")


class DoubleAutoencoderNet(nn.Module):
    """Two independent autoencoders on the same inputs; forward returns both per-event MSEs, shape (n, 2)."""

    def __init__(self, n_inputs: int, architecture: AutoencoderArchitecture):
        super().__init__()
        self.ae1 = AutoencoderNet(n_inputs, architecture)
        self.ae2 = AutoencoderNet(n_inputs, architecture)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r1 = (self.ae1(x) - x).pow(2).mean(dim=1)
        r2 = (self.ae2(x) - x).pow(2).mean(dim=1)
        return torch.stack([r1, r2], dim=1)


class _ScaledScores(nn.Module):
    """Raw inputs -> MinMax scaling -> both losses: the graph exported to ONNX."""

    def __init__(self, net: DoubleAutoencoderNet, minimum: np.ndarray, span: np.ndarray):
        super().__init__()
        self.net = net
        self.register_buffer("minimum", torch.as_tensor(minimum, dtype=torch.float32))
        self.register_buffer("span", torch.as_tensor(span, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.minimum) / self.span)


class DoubleDisCoAE(Estimator):
    """Decorrelated double autoencoder. Inputs are MinMax-scaled with the training (background) minimum and
    maximum, saved with the weights. `score_samples` returns the two per-event reconstruction MSEs, shape (n, 2):
    higher = more anomalous in each."""

    def __init__(self, *, lam: float = 100.0, hidden: tuple[int, ...] = DISCO_ARCHITECTURE.hidden,
                 activation: str = "relu", batch_size: int = 10000, max_epochs: int = 200, patience: int = 10,
                 learning_rate: float = 1e-3, validation_fraction: float = 0.3, decorrelate: str = "loss",
                 device: str = "auto", seed: int = 0, progress: bool = False):
        self.lam = lam
        self.hidden = hidden
        self.activation = activation
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.decorrelate = decorrelate
        self.device = device
        self.seed = seed
        self.progress = progress
        self._validate()

    def _validate(self) -> None:
        if self.decorrelate not in ("loss", "log_loss"):
            raise ConfigError(f"decorrelate must be 'loss' or 'log_loss', got {self.decorrelate!r}")
        if not self.lam >= 0:
            raise ConfigError(f"lam must be >= 0, got {self.lam}")
        if self.batch_size < 2:
            raise ConfigError(f"batch_size must be at least 2 (dCor is a batch statistic), got {self.batch_size}")
        self._architecture()
        self._train_config()

    def _architecture(self) -> AutoencoderArchitecture:
        return AutoencoderArchitecture(tuple(int(h) for h in self.hidden), self.activation, "none")

    def _train_config(self) -> TrainConfig:
        return TrainConfig(batch_size=self.batch_size, max_epochs=self.max_epochs,
                           validation_fraction=self.validation_fraction, seed=self.seed,
                           optimizer=Adam(self.learning_rate), stopping=MinValidationLoss(self.patience))

    def _batch_loss(self, model, xb, wb):
        losses = model(xb)
        total = (losses * wb[:, None]).sum() / wb.sum()
        if self.lam > 0:
            pair = torch.log(losses + 1e-12) if self.decorrelate == "log_loss" else losses
            total = total + float(self.lam) * distance_correlation(pair[:, 0], pair[:, 1], wb)
        return total

    def _transform(self, x: np.ndarray) -> np.ndarray:
        return (x - self.min_) / self.range_

    def scaled_inputs(self, x: np.ndarray) -> np.ndarray:
        """`x` MinMax-scaled as the networks see it (the training background's minimum and range)."""
        return self._transform(np.asarray(x, dtype=np.float64))

    def _fit(self, x: np.ndarray, sample_weight: np.ndarray | None) -> None:
        """Train both autoencoders on `x` (n, n_features), normally background only."""
        if len(x) < 4:
            raise ConfigError(f"expected a 2-D input with at least 4 events, got shape {x.shape}")
        self.min_ = x.min(axis=0)
        span = x.max(axis=0) - self.min_
        self.range_ = np.where(span > 0, span, 1.0).astype(np.float32)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            model = DoubleAutoencoderNet(x.shape[1], self._architecture())
        self.history_ = train_model(model, lambda m, xb: m(xb).sum(dim=1), self._transform(x), sample_weight,
                                    config=self._train_config(), device=self.device_, progress=self.progress,
                                    batch_loss=self._batch_loss, desc="training double autoencoder")
        self.model_ = model.eval()

    def _score_batch(self, xb: torch.Tensor) -> torch.Tensor:
        """Per-event reconstruction MSE of each autoencoder, shape (n, 2)."""
        return self.model_(xb)

    # --- persistence and deployment ------------------------------------------------------------------------
    def _state(self) -> tuple[dict, dict]:
        return {}, {"min": self.min_, "range": self.range_,
                    **{f"net.{k}": v for k, v in self.model_.state_dict().items()}}

    def _restore(self, meta: dict, tensors: dict) -> None:
        self.min_, self.range_ = tensors["min"].numpy(), tensors["range"].numpy()
        self.model_ = DoubleAutoencoderNet(self.n_features_in_, self._architecture())
        self.model_.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})

    def export_onnx(self, path: str | Path) -> Path:
        """Write an ONNX graph from raw inputs (n, n_features) float32 to the two losses (n, 2), scaling
        included, with a dynamic batch dimension (torch.export-based exporter)."""
        import logging

        path = Path(path)
        module = _ScaledScores(self.model_, self.min_, self.range_).to("cpu").eval()
        example = (torch.zeros(2, self.n_features_in_),)
        quiet = logging.getLogger("torch.onnx")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                program = torch.onnx.export(module, example, input_names=["inputs"], output_names=["losses"],
                                            dynamic_shapes=({0: torch.export.Dim("events")},), verbose=False)
            tmp = path.with_name(f".{path.name}.part")
            program.save(str(tmp))
            tmp.replace(path)
        finally:
            quiet.setLevel(level)
            self.model_.to(self.device_)
        return path
