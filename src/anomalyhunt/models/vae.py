"""The Bortolato et al. VAE: an ensemble of small variational autoencoders trained together, scored by the KL divergence
of each event's encoding to the prior.

Each member: encoder inputs -> 3 x 64 SeLU -> (mean, log variance) of a `latent_dim` Gaussian, decoder
z -> 3 x 64 SeLU -> inputs, linear outputs. Loss per event: alpha x MSE (mean over the inputs, MaxAbs-scaled) +
KL(N(mean, var) || N(0, 1)). Adadelta with Keras' defaults, batch 1000. Every member keeps the epoch of largest
mean validation KL, with training stopped once that peak is confirmed ("rising then falling", see
`MaxMonitored`), as Bortolato et al. prescribes. Members are independent (own initialisation, batch order and noise,
own stopping) and run as one batched module (`BatchedMLP`): one forward pass trains all twenty.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import torch

from ..exceptions import ConfigError
from .base import Estimator
from .ensemble import BatchedMLP
from .train import (
    Adadelta,
    Adam,
    EpochLosses,
    MaxMonitored,
    MinValidationLoss,
    TrainHistory,
    check_weights,
    run_epochs,
    split_validation,
)

__all__ = ["SCALERS", "VAEEnsemble", "kl_to_prior", "latent_decoder_inputs", "train_latent_decoders"]

log = logging.getLogger(__name__)


def kl_to_prior(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, 1)) summed over the last (latent) axis."""
    return 0.5 * (mean**2 + logvar.exp() - 1.0 - logvar).sum(-1)


def _seeds(seed: int, n: int, part: int) -> list[int]:
    return [int(np.random.SeedSequence([seed, k, part]).generate_state(1)[0]) for k in range(n)]


def latent_decoder_inputs(mean: np.ndarray, sigma: np.ndarray, mass: np.ndarray, *, mass_resolution: float,
                          mass_centre: float, mass_spread: float, rng: np.random.Generator) -> np.ndarray:
    """Bortolato et al.'s characterisation inputs for K members: z ~ N(mean, sigma) and the dijet mass smeared by
    N(0, mass_resolution x m), standardised with (mass_centre, mass_spread); shape (K, n, latent_dim + 1)."""
    z = mean + sigma * rng.standard_normal(mean.shape)
    m = mass * (1.0 + mass_resolution * rng.standard_normal((mean.shape[0], len(mass))))
    return np.concatenate([z, ((m - mass_centre) / mass_spread)[..., None]], axis=2).astype(np.float32)

SCALERS = ("maxabs", "maxabs_centred", "standard")


def _scaling(x: np.ndarray, w: np.ndarray, scaler: str) -> tuple[np.ndarray, np.ndarray]:
    """(offset, scale) of the inputs from the training sample, inputs -> (x - offset) / scale:
    - "maxabs": Bortolato et al.'s MaxAbs scaling, no offset (all-positive inputs stay all-positive);
    - "maxabs_centred" (ours): the weighted mean subtracted first, then MaxAbs;
    - "standard" (ours): weighted mean and standard deviation."""
    offset = np.zeros(x.shape[1])
    if scaler == "maxabs":
        scale = np.abs(x).max(axis=0)
    else:
        offset = np.average(x, axis=0, weights=w)
        scale = (np.abs(x - offset).max(axis=0) if scaler == "maxabs_centred"
                 else np.sqrt(np.average((x - offset) ** 2, axis=0, weights=w)))
    return offset.astype(np.float32), np.where(scale > 0, scale, 1.0).astype(np.float32)


class _BatchedVAE(torch.nn.Module):
    def __init__(self, n_members: int, n_inputs: int, latent_dim: int, hidden: tuple[int, ...], activation: str,
                 seed: int, init: str):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = BatchedMLP(n_members, (n_inputs, *hidden, 2 * latent_dim), activation,
                                  member_seeds=_seeds(seed, n_members, 1), init=init)
        self.decoder = BatchedMLP(n_members, (latent_dim, *hidden, n_inputs), activation,
                                  member_seeds=_seeds(seed, n_members, 2), init=init)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.encoder(x)
        return out[..., : self.latent_dim], out[..., self.latent_dim:]


def _epoch_order(generators, n: int, device) -> torch.Tensor:
    return torch.stack([torch.randperm(n, generator=g) for g in generators]).to(device)


def _copy_members(params, store: list[torch.Tensor], members: torch.Tensor) -> None:
    """store[i][k] = params[i][k] for the members k in `members` (a bool mask)."""
    with torch.no_grad():
        for p, s in zip(params, store, strict=True):
            s[members] = p[members]


class VAEEnsemble(Estimator):
    """`n_members` VAEs trained together; `score_samples` = the mean over members of the per-event KL of the
    encoding to N(0, 1) (higher = more anomalous; invariant to the sign of each member's latent axis), or with
    `score="reco"` the mean over members of the reconstruction MSE of the decoded encoder mean.

    Inputs are MaxAbs-scaled with the training sample's maxima (saved with the model), as Bortolato et al. do;
    `scaler="maxabs_centred"` or `"standard"` (ours) centre them first (see `_scaling`). `validation_fraction` of
    the events (a seeded split) watch the training: each member keeps its epoch of largest mean validation KL
    (strict "rise for `rise`, fall for `fall`" stop, `MaxMonitored(strict=True)`). Weighted events (pTHat-biased
    simulation) weigh the loss and the validation KL; weights are normalised to mean 1.
    """

    def __init__(self, *, n_members: int = 20, latent_dim: int = 1, hidden: tuple[int, ...] = (64, 64, 64),
                 activation: str = "selu", alpha: float = 5000.0, batch_size: int = 1000, max_epochs: int = 100,
                 validation_fraction: float = 0.2, rise: int = 5, fall: int = 5, learning_rate: float = 1e-3,
                 rho: float = 0.95, eps: float = 1e-7, init: str = "keras", seed: int = 0, device: str = "auto",
                 score: str = "kl", scaler: str = "maxabs"):
        self.n_members = n_members
        self.latent_dim = latent_dim
        self.hidden = tuple(hidden)
        self.activation = activation
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.validation_fraction = validation_fraction
        self.rise = rise
        self.fall = fall
        self.learning_rate = learning_rate
        self.rho = rho
        self.eps = eps
        self.init = init
        self.seed = seed
        self.device = device
        self.score = score
        self.scaler = scaler
        self._validate()

    def _validate(self) -> None:
        if self.scaler not in SCALERS:
            raise ConfigError(f"VAEEnsemble: scaler must be one of {', '.join(SCALERS)}, got {self.scaler!r}")
        if self.score not in ("kl", "reco"):
            raise ConfigError(f"VAEEnsemble: score must be 'kl' or 'reco', got {self.score!r}")
        for name in ("n_members", "latent_dim", "batch_size", "max_epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"VAEEnsemble: {name} must be a positive integer, got {value!r}")
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise ConfigError(f"VAEEnsemble: hidden must list positive layer sizes, got {self.hidden}")
        if self.activation not in ("selu", "relu", "leaky_relu"):
            raise ConfigError(f"VAEEnsemble: activation must be selu, relu or leaky_relu, got {self.activation!r}")
        if not self.alpha > 0:
            raise ConfigError(f"VAEEnsemble: alpha must be positive, got {self.alpha}")
        if not 0 < self.validation_fraction < 1:
            raise ConfigError(f"VAEEnsemble: validation_fraction must be in (0, 1), got {self.validation_fraction}")
        MaxMonitored("val_kl", self.rise, self.fall, strict=True)
        Adadelta(self.learning_rate, self.rho, self.eps)
        if self.init not in ("torch", "keras"):
            raise ConfigError(f"VAEEnsemble: init must be 'torch' or 'keras', got {self.init!r}")

    # --- training -------------------------------------------------------------------------------------------
    def fit(self, x, sample_weight=None, *, features=None, monitor=None, progress: bool = False) -> VAEEnsemble:
        """Train on `x` (n, n_features). monitor: optional (x_eval, measure): after every epoch the members' KL and
        reconstruction errors on x_eval, each (K, n_eval), go to measure(kl, reco), whose array lands in
        `epoch_monitor_` (one entry per epoch; e.g. test AUCs for the paper's fig. 2). It never steers training."""
        self._monitor = monitor
        self._progress = progress
        try:
            return super().fit(x, sample_weight, features=features)
        finally:
            del self._monitor, self._progress

    def _fit(self, x: np.ndarray, sample_weight: np.ndarray | None) -> None:
        n, k = len(x), self.n_members
        if n < 10:
            raise ConfigError(f"VAEEnsemble: need at least 10 events to train, got {n}")
        w = check_weights(sample_weight, n)
        self.offset_, self.scale_ = _scaling(x, w, self.scaler)
        dev = self.device_
        train_idx, val_idx = split_validation(n, self.validation_fraction, self.seed)
        xt = torch.as_tensor(self._transform(x), dtype=torch.float32, device=dev)
        wt = torch.as_tensor(w / w[train_idx].mean(), dtype=torch.float32, device=dev)
        x_train, w_train, x_val, w_val = xt[train_idx], wt[train_idx], xt[val_idx], wt[val_idx]
        net = _BatchedVAE(k, x.shape[1], self.latent_dim, self.hidden, self.activation, self.seed, self.init).to(dev)
        optimiser = Adadelta(self.learning_rate, self.rho, self.eps).build(net.parameters())
        rule = MaxMonitored("val_kl", self.rise, self.fall, strict=True)
        order = [torch.Generator().manual_seed(s) for s in _seeds(self.seed, k, 3)]
        # one noise stream per member, so that a member trains the same alone or in any ensemble
        noise = [torch.Generator(device=dev).manual_seed(s) for s in _seeds(self.seed, k, 4)]
        params = list(net.parameters())
        best = [p.detach().clone() for p in params]
        epoch_monitor = []
        n_train = len(x_train)

        def one_epoch(epoch: int) -> EpochLosses:
            net.train()
            perms = _epoch_order(order, n_train, dev)
            running = torch.zeros(k, dtype=torch.float64, device=dev)
            for b in range(0, n_train, self.batch_size):
                idx = perms[:, b:b + self.batch_size]
                xb, wb = x_train[idx], w_train[idx]
                loss, _ = self._loss(net, xb, noise)
                per_member = (loss * wb).mean(dim=1)
                optimiser.zero_grad(set_to_none=True)
                per_member.sum().backward()
                optimiser.step()
                running += per_member.detach().double() * idx.shape[1]
            net.eval()
            val_loss, val_kl = self._validation(net, x_val, w_val, noise)
            if self._monitor is not None:
                x_eval, measure = self._monitor
                scores = self._member_scores(net, np.asarray(x_eval, dtype=np.float32))
                epoch_monitor.append(np.asarray(measure(*scores)))
            return EpochLosses((running / n_train).cpu().numpy(), val_loss.numpy(), {"val_kl": val_kl.numpy()})

        histories, epochs_run, stopped = run_epochs(
            one_epoch, n_members=k, max_epochs=self.max_epochs, stopping=rule, desc=f"training {k} VAEs",
            progress=self._progress, device=str(dev),
            keep=lambda kept: _copy_members(params, best, torch.as_tensor(kept, device=dev)))
        seconds = histories[0].seconds
        with torch.no_grad():
            for p, s in zip(params, best, strict=True):
                p.copy_(s)
        self.model_ = net.eval()
        self.histories_ = histories
        self.epochs_run_ = epochs_run
        self.seconds_ = seconds
        self.stopped_ = stopped  # members whose KL peak was confirmed before max_epochs
        self.epoch_monitor_ = np.array(epoch_monitor) if epoch_monitor else None

    def _loss(self, net: _BatchedVAE, xb: torch.Tensor, noise: list[torch.Generator]
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-event (loss, KL), each (K, B): alpha x MSE of a sampled reconstruction + KL to the prior."""
        mean, logvar = net.encode(xb)
        eps = torch.stack([torch.randn(mean.shape[1:], generator=g, device=xb.device) for g in noise])
        z = mean + (0.5 * logvar).exp() * eps
        mse = ((net.decoder(z) - xb) ** 2).mean(-1)
        kl = kl_to_prior(mean, logvar)
        return self.alpha * mse + kl, kl

    def _validation(self, net, x_val, w_val, noise) -> tuple[torch.Tensor, torch.Tensor]:
        loss = torch.zeros(self.n_members, dtype=torch.float64, device=x_val.device)
        kl = torch.zeros_like(loss)
        with torch.no_grad():
            for start in range(0, len(x_val), 65536):
                xb, wb = x_val[start:start + 65536], w_val[start:start + 65536].double()
                batch_loss, batch_kl = self._loss(net, xb.unsqueeze(0).expand(self.n_members, -1, -1), noise)
                loss += (batch_loss.double() * wb).sum(1)
                kl += (batch_kl.double() * wb).sum(1)
        total = w_val.double().sum()
        return (loss / total).cpu(), (kl / total).cpu()

    # --- scoring ----------------------------------------------------------------------------------------------
    def _member_scores(self, net, x: np.ndarray, batch_size: int = 65536) -> tuple[np.ndarray, np.ndarray]:
        kl, reco = [], []
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                xb = torch.as_tensor(self._transform(x[start:start + batch_size]), device=self.device_)
                mean, logvar = net.encode(xb)
                # in float64: exp(logvar) overflows float32 for far outliers, whose score must stay finite
                kl.append(kl_to_prior(mean.double(), logvar.double()).cpu().numpy())
                reco.append(((net.decoder(mean) - xb) ** 2).mean(-1).double().cpu().numpy())
        if not kl:
            return np.zeros((self.n_members, 0)), np.zeros((self.n_members, 0))
        return np.concatenate(kl, axis=1), np.concatenate(reco, axis=1)

    def member_scores(self, x, *, features=None) -> tuple[np.ndarray, np.ndarray]:
        """(KL, reconstruction error), each (n_members, n): the KL of each member's encoding to N(0, 1), and the
        MSE (mean over the scaled inputs) of the decoded encoder mean."""
        x = self._check_inputs(x, features)
        return self._member_scores(self.model_, x)

    def encode(self, x, *, features=None) -> tuple[np.ndarray, np.ndarray]:
        """Encoder means and standard deviations, each (n_members, n, latent_dim)."""
        x = self._check_inputs(x, features)
        with torch.no_grad():
            mean, logvar = self.model_.encode(torch.as_tensor(self._transform(x), device=self.device_))
        return mean.double().cpu().numpy(), (0.5 * logvar).exp().double().cpu().numpy()

    def _transform(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.offset_) / self.scale_).astype(np.float32)

    def _score_batch(self, xb: torch.Tensor) -> torch.Tensor:
        mean, logvar = self.model_.encode(xb)
        if self.score == "reco":  # MSE of the decoded encoder mean, averaged over members
            return ((self.model_.decoder(mean) - xb) ** 2).mean(-1).mean(0)
        return kl_to_prior(mean.double(), logvar.double()).mean(0)  # float64: finite for far outliers

    @property
    def best_epochs(self) -> np.ndarray:
        return np.array([h.best_epoch for h in self.histories_])

    # --- persistence ------------------------------------------------------------------------------------------
    def _state(self) -> tuple[dict, dict]:
        meta = {"histories": [dataclasses.asdict(h) for h in self.histories_], "epochs_run": self.epochs_run_}
        tensors = {f"net.{k}": v for k, v in self.model_.state_dict().items()}
        tensors["scale"] = torch.as_tensor(self.scale_)
        tensors["offset"] = torch.as_tensor(self.offset_)
        return meta, tensors

    def _restore(self, meta: dict, tensors: dict) -> None:
        net = _BatchedVAE(self.n_members, self.n_features_in_, self.latent_dim, self.hidden, self.activation,
                          self.seed, self.init)
        net.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
        self.model_ = net
        self.scale_ = tensors["scale"].numpy().astype(np.float32)
        # models saved before the scaler option were MaxAbs-scaled, without an offset
        self.offset_ = (tensors["offset"].numpy().astype(np.float32) if "offset" in tensors
                        else np.zeros_like(self.scale_))
        self.histories_ = [TrainHistory(**h) for h in meta["histories"]]
        self.epochs_run_ = int(meta["epochs_run"])
        self.epoch_monitor_ = None


def train_latent_decoders(inputs: np.ndarray, targets: np.ndarray, *, hidden: tuple[int, ...] = (64, 64, 64),
                          activation: str = "selu", batch_size: int = 1000, max_epochs: int = 100,
                          patience: int = 5, learning_rate: float = 1e-3, validation_fraction: float = 0.2,
                          seed: int = 0, device: torch.device, progress: bool = False
                          ) -> tuple[BatchedMLP, list[TrainHistory]]:
    """Bortolato et al.'s characterisation decoders, one per member: (z, standardised m_jj) -> the scaled inputs, MSE,
    Adam, until the validation loss stops improving (`patience`). inputs: (K, n, d_in), one sample per member
    (each member's own encodings); targets: (n, d_out). Returns the decoders (each at its best epoch) and their
    histories."""
    k, n, d_in = inputs.shape
    dec = BatchedMLP(k, (d_in, *hidden, targets.shape[1]), activation, member_seeds=_seeds(seed, k, 5),
                     init="keras").to(device)
    rule = MinValidationLoss(patience)
    optimiser = Adam(learning_rate).build(dec.parameters())
    train_idx, val_idx = split_validation(n, validation_fraction, seed)
    xi = torch.as_tensor(inputs, dtype=torch.float32, device=device)
    yt = torch.as_tensor(targets, dtype=torch.float32, device=device)
    order = [torch.Generator().manual_seed(s) for s in _seeds(seed, k, 6)]
    tr = torch.as_tensor(train_idx, device=device)
    members = torch.arange(k, device=device)[:, None]
    params = list(dec.parameters())
    best = [p.detach().clone() for p in params]

    def one_epoch(epoch: int) -> EpochLosses:
        perms = tr[_epoch_order(order, len(tr), device)]
        for b in range(0, len(tr), batch_size):
            idx = perms[:, b:b + batch_size]
            err = ((dec(xi[members, idx]) - yt[idx]) ** 2).mean((1, 2))
            optimiser.zero_grad(set_to_none=True)
            err.sum().backward()
            optimiser.step()
        with torch.no_grad():
            val = ((dec(xi[:, val_idx]) - yt[val_idx]) ** 2).mean((1, 2)).cpu().numpy()
        return EpochLosses(np.full(k, np.nan), val)

    histories, _, _ = run_epochs(one_epoch, n_members=k, max_epochs=max_epochs, stopping=rule,
                                 desc="training latent decoders", progress=progress, device=str(device),
                                 keep=lambda kept: _copy_members(params, best, torch.as_tensor(kept, device=device)))
    with torch.no_grad():
        for p, s in zip(params, best, strict=True):
            p.copy_(s)
    return dec.eval(), histories
