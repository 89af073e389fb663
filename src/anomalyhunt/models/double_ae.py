"""Two autoencoders trained together with a distance-correlation penalty (Mikuni, Nachman & Shih), as an estimator.

Loss per batch: weighted mean MSE_1 + weighted mean MSE_2 + lambda * dCor^2(MSE_1, MSE_2) over the batch's
events. The paper uses batches of 10000 (the decorrelation is a batch statistic: small batches estimate dCor
poorly and decorrelate less) and lambda = 100 (10 in the authors' public code); both are parameters.
With `fixed_point_width` set, training and scoring run both autoencoders in the fixed-point arithmetic of their
trigger firmware (`models.quantisation_aware`, quantisation-aware training); `quantisation_aware(x, width)`
fine-tunes a trained float model that way.
`score_samples` returns the two per-event reconstruction losses as the columns of an (n, 2) array; ABCD cuts on
them directly. `decorrelate="loss"` (the paper) puts the losses themselves into dCor^2; "log_loss" puts their
logarithms, which ABCD cannot tell apart (cuts are invariant under monotonic maps) but which spreads the dCor
penalty over the tails, where ABCD's signal region lies, instead of letting the bulk dominate it.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..exceptions import ConfigError
from .base import Estimator
from .disco import distance_correlation
from .nets import AutoencoderArchitecture, AutoencoderNet
from .quantisation_aware import FixedPointForward
from .train import Adam, MinValidationLoss, TrainConfig, train_model

__all__ = ["DISCO_ARCHITECTURE", "DoubleDisCoAE", "DoubleAutoencoderNet"]

# Mikuni, Nachman & Shih: encoders 256-128-64-32-5, mirrored decoders
DISCO_ARCHITECTURE = AutoencoderArchitecture((256, 128, 64, 32, 5), "relu", "none")


class DoubleAutoencoderNet(nn.Module):
    """Two independent autoencoders on the same inputs; forward returns both per-event MSEs, shape (n, 2).
    With `fixed_point` (one `FixedPointForward` per autoencoder) each runs in fixed point and its MSE is taken
    against the quantised inputs, as the firmware sees them."""

    def __init__(self, n_inputs: int, architecture: AutoencoderArchitecture):
        super().__init__()
        self.ae1 = AutoencoderNet(n_inputs, architecture)
        self.ae2 = AutoencoderNet(n_inputs, architecture)
        self.fixed_point: tuple[FixedPointForward, FixedPointForward] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fixed_point is None:
            pairs = [(x, self.ae1(x)), (x, self.ae2(x))]
        else:
            pairs = [fp.reconstruct(ae, x) for fp, ae in zip(self.fixed_point, (self.ae1, self.ae2), strict=True)]
        return torch.stack([(r - xq).pow(2).mean(dim=1) for xq, r in pairs], dim=1)


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
    higher = more anomalous in each.

    fixed_point_width: None (float) or W: both networks train and score in `ap_fixed<W, I>` (inputs of at most 1
    after scaling; the integer bits of each layer's result from the batch in training, frozen afterwards from the
    training events, in `fixed_point_`)."""

    def __init__(self, *, lam: float = 100.0, hidden: tuple[int, ...] = DISCO_ARCHITECTURE.hidden,
                 activation: str = "relu", batch_size: int = 10000, max_epochs: int = 200, patience: int = 10,
                 learning_rate: float = 1e-3, validation_fraction: float = 0.3, decorrelate: str = "loss",
                 fixed_point_width: int | None = None, device: str = "auto", seed: int = 0, progress: bool = False):
        self.lam = lam
        self.hidden = hidden
        self.activation = activation
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.decorrelate = decorrelate
        self.fixed_point_width = fixed_point_width
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
        if self.fixed_point_width is not None:
            FixedPointForward(self.fixed_point_width)
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
        self._train(model, self._transform(x), sample_weight, "training double autoencoder")

    def _train(self, model: DoubleAutoencoderNet, scaled: np.ndarray, sample_weight: np.ndarray | None,
               desc: str, input_max: float = 1.0) -> None:
        """Train `model` on the scaled inputs (in fixed point when `fixed_point_width` is set, inputs held up to
        `input_max`, the result types then frozen from `scaled`) and keep it."""
        width = self.fixed_point_width
        model.fixed_point = (None if width is None else
                             (FixedPointForward(width, input_max), FixedPointForward(width, input_max)))
        self.history_ = train_model(model, lambda m, xb: m(xb).sum(dim=1), scaled, sample_weight,
                                    config=self._train_config(), device=self.device_, progress=self.progress,
                                    batch_loss=self._batch_loss, desc=desc)
        if model.fixed_point is not None:
            model.fixed_point = tuple(fp.calibrate(ae, scaled) for fp, ae in
                                      zip(model.fixed_point, (model.ae1, model.ae2), strict=True))
        self.model_ = model.eval()

    @property
    def fixed_point_(self) -> tuple[FixedPointForward, FixedPointForward] | None:
        """The fixed-point forward of each autoencoder (None for a float model)."""
        self._check_fitted()
        return self.model_.fixed_point

    def quantisation_aware(self, x, width: int, *, max_epochs: int = 30, patience: int = 10,
                           learning_rate: float = 1e-4, input_max: float = 1.0,
                           sample_weight=None) -> DoubleDisCoAE:
        """A copy of this fitted model fine-tuned on `x` (raw inputs, normally its training events) with both
        networks in `ap_fixed<width, I>` (quantisation-aware training from the float weights): the same loss,
        scaling, validation split and seed; its own epochs, patience and learning rate; the input type holds
        scaled inputs up to `input_max`. This model is unchanged."""
        x = self._check_inputs(x, None)
        tuned = DoubleDisCoAE(**{**self.get_params(), "fixed_point_width": width, "max_epochs": max_epochs,
                                 "patience": patience, "learning_rate": learning_rate})
        tuned.n_features_in_, tuned.features_, tuned.device_ = self.n_features_in_, self.features_, self.device_
        tuned.min_, tuned.range_ = self.min_.copy(), self.range_.copy()
        model = copy.deepcopy(self.model_)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        tuned._train(model, tuned._transform(x), weights, f"quantisation-aware training at {width} bits",
                     input_max)
        return tuned

    def _score_batch(self, xb: torch.Tensor) -> torch.Tensor:
        """Per-event reconstruction MSE of each autoencoder, shape (n, 2)."""
        return self.model_(xb)

    # --- persistence and deployment ------------------------------------------------------------------------
    def _state(self) -> tuple[dict, dict]:
        fixed = self.model_.fixed_point
        return ({"fixed_point": None if fixed is None else [fp.as_dict() for fp in fixed]},
                {"min": self.min_, "range": self.range_,
                 **{f"net.{k}": v for k, v in self.model_.state_dict().items()}})

    def _restore(self, meta: dict, tensors: dict) -> None:
        self.min_, self.range_ = tensors["min"].numpy(), tensors["range"].numpy()
        self.model_ = DoubleAutoencoderNet(self.n_features_in_, self._architecture())
        self.model_.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
        if meta.get("fixed_point"):
            self.model_.fixed_point = tuple(FixedPointForward.from_dict(d) for d in meta["fixed_point"])

    def export_onnx(self, path: str | Path) -> Path:
        """Write an ONNX graph from raw inputs (n, n_features) float32 to the two losses (n, 2), scaling
        included, with a dynamic batch dimension (torch.export-based exporter)."""
        import logging

        if self.fixed_point_ is not None:
            raise ConfigError("this model computes in fixed point, which the ONNX graph would not: its deployment is "
                              "the firmware (`anomalyhunt trigger`)")
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
