"""The variational recurrent network (VRNN, Chung et al. 2015) that tags anomalous large-R jets from their
constituent sequences (Kahn et al., JINST 16 P08012; the ATLAS Y -> X H search; ATLAS), on the shared base.

At each step t of a jet's sequence (x_t = (pT fraction, eta, phi), see `features.jet_sequences`):
  prior      p(z_t | h_{t-1})           = N(mu_p, sigma_p), an MLP of the GRU state (learned prior);
  encoder    q(z_t | x_t, h_{t-1})      = N(mu_q, sigma_q), an MLP of [phi_x(x_t), h_{t-1}];
  decoder    x_hat_t = f(phi_z(z_t), h_{t-1});
  recurrence h_t = GRU([phi_x(x_t), phi_z(z_t)], h_{t-1}), hidden 16; latent dimension 2.
Loss per jet: (sum over real steps of MSE(x_t, x_hat_t) + kl_weight x w_t KL(q || p)_t) / length, with w_t the
mean pT fraction at position t over the training jets (so soft trailing constituents weigh little; Kahn et al.'s
weights, summing to about 1 over the positions) and kl_weight 0.1. Adam, batch 256. The jet's KL is
sum_t w_t KL_t / length; its score is 1 - exp(-KL). `position_weights="normalised"` (our earlier choice, not
Kahn's) rescales w_t to mean 1 over the positions: that multiplies the KL term by ~max_length and collapses the
posterior onto the prior.

Sequences are (n, T, 3) flattened to (n, 3T) for the base's 2-D contract; a step with pT fraction 0 is padding
and is masked out of the loss and out of the state update (the state of a finished jet is carried unchanged).

`standardise` (off by default: our option, in neither the ATLAS talk nor Kahn et al.'s code): each step
feature is divided by its standard deviation over the real training steps, and eta, phi are also centred (the
pT fraction keeps 0 as the padding mark). It was introduced against a posterior collapse on the raw inputs
that came from the normalised position weights, not from the input scale.
Training samples z with the reparameterisation; scoring uses z = mu_q, so scores are deterministic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..exceptions import ConfigError
from .base import Estimator
from .train import Adam, MinValidationLoss, TrainConfig, train_model

__all__ = ["VRNN", "VRNNNet"]

_STEP = 3


def _steps(flat):
    """(n, 3 L) flat jets -> (n, L, 3) constituent sequences; explicit in L so that n = 0 reshapes too."""
    return flat.reshape(len(flat), flat.shape[1] // _STEP, _STEP)


def _mlp(n_in: int, n_hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))


class VRNNNet(nn.Module):
    """The network; `forward(x)` with x (n, T, 3) returns per-jet (reconstruction MSE, KL) summed over real steps
    with the position weights, divided by the jet length, plus the length. `sample=False` takes z = mu_q."""

    def __init__(self, *, hidden: int = 16, latent: int = 2, features: int = 16, step_weights=None,
                 max_length: int = 20):
        super().__init__()
        self.hidden, self.latent = hidden, latent
        self.phi_x = nn.Sequential(nn.Linear(_STEP, features), nn.ReLU())
        self.phi_z = nn.Sequential(nn.Linear(latent, features), nn.ReLU())
        self.prior = _mlp(hidden, features, 2 * latent)
        self.encoder = _mlp(features + hidden, features, 2 * latent)
        self.decoder = _mlp(features + hidden, features, _STEP)
        self.cell = nn.GRUCell(2 * features, hidden)
        weights = torch.ones(max_length) if step_weights is None else torch.as_tensor(step_weights)
        self.register_buffer("step_weights", weights.float())

    def forward(self, x: torch.Tensor, *, sample: bool = True, stop_early: bool = True
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n, steps, _ = x.shape
        real = x[:, :, 0] > 0
        h = x.new_zeros(n, self.hidden)
        mse = x.new_zeros(n)
        kl = x.new_zeros(n)
        for t in range(steps):
            xt, on = x[:, t], real[:, t]
            if stop_early and not bool(on.any()):  # every jet has ended (off for graph export)
                break
            fx = self.phi_x(xt)
            mu_p, logvar_p = self.prior(h).chunk(2, dim=1)
            mu_q, logvar_q = self.encoder(torch.cat([fx, h], dim=1)).chunk(2, dim=1)
            z = mu_q + torch.exp(0.5 * logvar_q) * torch.randn_like(mu_q) if sample else mu_q
            fz = self.phi_z(z)
            x_hat = self.decoder(torch.cat([fz, h], dim=1))
            kl_t = 0.5 * (logvar_p - logvar_q + (torch.exp(logvar_q) + (mu_q - mu_p) ** 2) / torch.exp(logvar_p)
                          - 1.0).sum(dim=1)
            mse_t = (x_hat - xt).pow(2).mean(dim=1)
            mask = on.to(x.dtype)
            mse = mse + mask * mse_t
            kl = kl + mask * self.step_weights[t] * kl_t
            h = torch.where(on[:, None], self.cell(torch.cat([fx, fz], dim=1), h), h)
        length = real.sum(dim=1).clamp(min=1).to(x.dtype)
        return mse / length, kl / length, length


class _KLGraph(nn.Module):
    """Raw flattened sequences -> jet KL: the standardisation, then every position evaluated (no data-dependent
    early exit)."""

    def __init__(self, net: VRNNNet, offset: np.ndarray, scale: np.ndarray):
        super().__init__()
        self.net = net
        self.register_buffer("offset", torch.as_tensor(offset, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq = x.reshape(x.shape[0], -1, _STEP)
        seq = torch.where(seq[:, :, :1] > 0, (seq - self.offset) / self.scale, torch.zeros_like(seq))
        return self.net(seq, sample=False, stop_early=False)[1]


class VRNN(Estimator):
    """VRNN jet tagger (see the module docstring). `fit(x)` takes flattened sequences (n, 3 x max_length) from
    `features.jet_sequences(...).reshape(n, -1)`; `score_samples` gives the jet KL (higher = further from what
    the training jets look like), `anomaly_score` 1 - exp(-KL). Training stops at the lowest validation loss
    (patience epochs) and keeps that epoch."""

    _fitted_attribute = "model_"

    def __init__(self, *, hidden: int = 16, latent: int = 2, features: int = 16, kl_weight: float = 0.1,
                 batch_size: int = 256, learning_rate: float = 1e-3, max_epochs: int = 50, patience: int = 5,
                 validation_fraction: float = 0.2, standardise: bool = False, position_weights: str = "kahn",
                 device: str = "auto", seed: int = 0, progress: bool = False):
        self.standardise = standardise
        self.position_weights = position_weights
        self.hidden = hidden
        self.latent = latent
        self.features = features
        self.kl_weight = kl_weight
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.device = device
        self.seed = seed
        self.progress = progress
        self._validate()

    def _validate(self) -> None:
        for name in ("hidden", "latent", "features", "batch_size", "max_epochs", "patience"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"VRNN: {name} must be a positive integer, got {value!r}")
        if not self.kl_weight >= 0:
            raise ConfigError(f"VRNN: kl_weight must be >= 0, got {self.kl_weight}")
        if self.position_weights not in ("kahn", "normalised"):
            raise ConfigError(f"VRNN: position_weights must be 'kahn' or 'normalised', got {self.position_weights!r}")
        self._train_config()

    def _train_config(self) -> TrainConfig:
        return TrainConfig(batch_size=self.batch_size, max_epochs=self.max_epochs,
                           validation_fraction=self.validation_fraction, seed=self.seed,
                           optimizer=Adam(self.learning_rate), stopping=MinValidationLoss(self.patience))

    def _sequences(self, x: np.ndarray) -> np.ndarray:
        if x.shape[1] % _STEP:
            raise ConfigError(f"VRNN inputs are flattened (T, 3) sequences; {x.shape[1]} columns is not 3 x T")
        return x.reshape(len(x), -1, _STEP)

    def _loss(self, model: VRNNNet, xb: torch.Tensor) -> torch.Tensor:
        mse, kl, _ = model(xb.reshape(len(xb), -1, _STEP), sample=True)
        return mse + self.kl_weight * kl

    def _fit(self, x: np.ndarray, sample_weight: np.ndarray | None) -> None:
        seq = self._sequences(x)
        real = seq[:, :, 0] > 0
        if not real[:, 0].all():
            raise ConfigError(f"{int((~real[:, 0]).sum())} jets have an empty sequence (no constituent within "
                              "dR < 1): drop them before training")
        w = np.ones(len(seq)) if sample_weight is None else sample_weight
        offset, scale = np.zeros(_STEP, np.float32), np.ones(_STEP, np.float32)
        if self.standardise:
            step_w = np.broadcast_to(w[:, None], real.shape)[real]
            for k in range(_STEP):
                values = seq[:, :, k][real]
                mean = np.average(values, weights=step_w)
                std = np.sqrt(np.average((values - mean) ** 2, weights=step_w))
                scale[k] = std if std > 0 else 1.0
                offset[k] = mean if k else 0.0  # the pT fraction is only scaled: 0 stays the padding mark
        self.offset_, self.scale_ = offset, scale
        x = self._transform(x)
        # mean pT fraction at each position over the training jets (padding counts as 0): Kahn et al.'s weights;
        # "normalised" rescales them to mean 1 over the positions (ours, not the paper's)
        position = np.average(seq[:, :, 0], axis=0, weights=w)
        if self.position_weights == "normalised":
            position = position / position.mean()
        self.step_weights_ = position.astype(np.float32)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)  # the caller's global RNG state is left untouched
            model = VRNNNet(hidden=self.hidden, latent=self.latent, features=self.features,
                            step_weights=self.step_weights_, max_length=seq.shape[1])
            if self.device_.type == "cuda":
                torch.cuda.manual_seed_all(self.seed)
            self.history_ = train_model(model, self._loss, x, sample_weight, config=self._train_config(),
                                        device=self.device_, progress=self.progress, desc="training VRNN")
        self.model_ = model.eval()

    def _transform(self, x: np.ndarray) -> np.ndarray:
        seq = _steps(x)
        real = seq[:, :, :1] > 0
        out = np.where(real, (seq - self.offset_) / self.scale_, 0.0).astype(np.float32)
        return out.reshape(x.shape)

    def _score_batch(self, xb: torch.Tensor) -> torch.Tensor:
        _, kl, _ = self.model_(_steps(xb), sample=False)
        return kl

    def reconstruction_error(self, x, *, features=None, batch_size: int = 65536) -> np.ndarray:
        """Per-jet reconstruction MSE (z = mu_q, in the standardised units), the other half of the loss."""
        x = self._check_inputs(x, features)
        return self._batched(x, lambda xb: self.model_(_steps(xb), sample=False)[0], batch_size)

    def anomaly_score(self, x, *, features=None) -> np.ndarray:
        """1 - exp(-KL_jet), in [0, 1)."""
        return -np.expm1(-self.score_samples(x, features=features))

    def export_onnx(self, path: str | Path) -> Path:
        """Write an ONNX graph from flattened sequences (n, 3T) float32 to the jet KL (n,), with a dynamic batch
        dimension: the GRU cell unrolled over the T positions, z = mu_q. The TorchScript tracer does it in under a
        second (the torch.export-based exporter takes ~20 s for the unrolled loop); where a torch release no
        longer has it, the torch.export-based exporter is used."""
        import logging
        import warnings

        self._check_fitted()
        path = Path(path)
        module = _KLGraph(self.model_, self.offset_, self.scale_).to("cpu").eval()
        example = (torch.zeros(2, self.n_features_in_),)
        tmp = path.with_name(f".{path.name}.part")
        quiet = logging.getLogger("torch.onnx")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    torch.onnx.export(module, example, str(tmp), input_names=["sequences"], output_names=["kl"],
                                      dynamic_axes={"sequences": {0: "jets"}, "kl": {0: "jets"}}, dynamo=False)
                except (TypeError, RuntimeError):  # no TorchScript exporter in this torch
                    program = torch.onnx.export(module, example, input_names=["sequences"], output_names=["kl"],
                                                dynamic_shapes=({0: torch.export.Dim("jets")},), verbose=False)
                    program.save(str(tmp))
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
            quiet.setLevel(level)
            self.model_.to(self.device_)
        return path

    # --- persistence --------------------------------------------------------------------------------------------
    def _state(self) -> tuple[dict, dict]:
        tensors = {"step_weights": self.step_weights_, "offset": self.offset_, "scale": self.scale_,
                   **{f"net.{k}": v for k, v in self.model_.state_dict().items()}}
        return {"max_length": int(len(self.step_weights_))}, tensors

    def _restore(self, meta: dict, tensors: dict) -> None:
        self.step_weights_ = tensors["step_weights"].numpy()
        self.offset_, self.scale_ = tensors["offset"].numpy(), tensors["scale"].numpy()
        self.model_ = VRNNNet(hidden=self.hidden, latent=self.latent, features=self.features,
                              step_weights=self.step_weights_, max_length=int(meta["max_length"]))
        self.model_.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
