"""K small networks of one architecture trained together as one batched module.

Krzyzanska & Nachman averages 10 classifiers per event and trains hundreds of bootstrap ensembles; Bortolato et al.
averages 20 VAEs. Training K networks one after the other spends most of its time in Python and kernel-launch overhead;
here every layer holds K weight matrices, (K, in, out), and one `torch.baddbmm` runs all members at once.
Members stay independent: each has its own initialisation (its own seed), its own order of mini-batches, its own
per-event weights if given (bootstrap replicas), and its own stopping state and kept epoch. The summed loss has
no cross-member terms and Adam's update is elementwise, so each member trains exactly as it would alone.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math

import numpy as np
import torch
from torch import nn

from ..exceptions import ConfigError
from .base import Estimator
from .nets import _ACTIVATIONS
from .train import (
    Adam,
    EpochLosses,
    FixedEpochs,
    MinValidationLoss,
    TrainConfig,
    TrainHistory,
    check_weights,
    run_epochs,
    split_validation,
)

__all__ = ["CLASSIFIER_LOSSES", "BatchedMLP", "ClassifierEnsemble", "member_seed", "train_ensemble",
           "train_member_datasets"]

log = logging.getLogger(__name__)


def member_seed(seed: int, member: int) -> int:
    """The seed of ensemble member `member` (initialisation and batch order)."""
    return int(np.random.SeedSequence([seed, member]).generate_state(1)[0])


class BatchedMLP(nn.Module):
    """K fully connected networks sizes[0] -> ... -> sizes[-1]; forward maps (K, B, in) to (K, B, out).

    Member k is initialised from its own seed, `member_seed(seed, k)` or `member_seeds[k]` when given (so that a
    member's network does not depend on which batch of members it is trained in): init="torch" like
    `torch.nn.Linear` (weights and biases uniform in +-1/sqrt(fan_in)); init="keras" like a Keras Dense layer
    (Glorot-uniform weights, +-sqrt(6 / (fan_in + fan_out)), zero biases), for papers trained with TensorFlow.
    """

    def __init__(self, n_members: int, sizes: tuple[int, ...], activation: str = "relu",
                 output_activation: str = "none", *, seed: int = 0, member_seeds=None, init: str = "torch"):
        super().__init__()
        if n_members < 1 or len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ConfigError(f"need n_members >= 1 and positive layer sizes, got {n_members}, {sizes}")
        if member_seeds is not None and len(member_seeds) != n_members:
            raise ConfigError(f"member_seeds: need {n_members} seeds, got {len(member_seeds)}")
        if init not in ("torch", "keras"):
            raise ConfigError(f"init must be 'torch' or 'keras', got {init!r}")
        self.n_members, self.sizes = n_members, tuple(sizes)
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        seeds = member_seeds if member_seeds is not None else [member_seed(seed, k) for k in range(n_members)]
        generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = 1.0 / math.sqrt(fan_in) if init == "torch" else math.sqrt(6.0 / (fan_in + fan_out))
            w = torch.stack([(torch.rand(fan_in, fan_out, generator=g) * 2 - 1) * bound for g in generators])
            b = torch.stack([(torch.rand(fan_out, generator=g) * 2 - 1) * bound for g in generators])
            if init == "keras":
                b = torch.zeros_like(b)
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))
        self.activation = _ACTIVATIONS[activation]()
        self.output_activation = _ACTIVATIONS[output_activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:  # the same events for every member
            x = x.unsqueeze(0).expand(self.n_members, -1, -1)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(b.unsqueeze(1), x, w)
            x = self.output_activation(x) if i == last else self.activation(x)
        return x


def train_ensemble(model: BatchedMLP, per_event_loss, x: np.ndarray, weights: np.ndarray | None = None, *,
                   config: TrainConfig, device: torch.device, progress: bool = False,
                   targets: np.ndarray | None = None, desc: str = "training ensemble") -> list[TrainHistory]:
    """Train every member of `model` in place; returns one history per member.

    per_event_loss(outputs (K, B, out), targets (K, B) or None) -> (K, B) losses. `weights` is (n,) for all
    members or (K, n), one row per member (bootstrap replicas, zeros allowed). The validation split is shared
    (seeded by `config.seed`); batch order is per member. Each member keeps the epoch its stopping rule keeps
    (`MinValidationLoss` or `FixedEpochs`); training ends when every member has stopped.
    """
    k_members, n = model.n_members, len(x)
    if n < 4:
        raise ConfigError(f"need at least 4 events to train, got {n}")
    if not isinstance(config.stopping, MinValidationLoss | FixedEpochs):
        raise ConfigError("ensembles support the MinValidationLoss and FixedEpochs stopping rules")
    w = np.asarray(weights, dtype=np.float64) if weights is not None else np.ones(n)
    w = np.broadcast_to(w, (k_members, n)) if w.ndim == 1 else w
    if w.shape != (k_members, n):
        raise ConfigError(f"weights must have shape ({n},) or ({k_members}, {n}), got {w.shape}")
    for row in w:
        check_weights(row, n)
    train_idx, val_idx = split_validation(n, config.validation_fraction, config.seed)
    mean_w = np.where(w[:, train_idx].sum(axis=1) > 0, w[:, train_idx].mean(axis=1), 1.0)
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32), device=device)
    wt = torch.as_tensor(w / mean_w[:, None], dtype=torch.float32, device=device)
    yt = None if targets is None else torch.as_tensor(np.asarray(targets, dtype=np.float32), device=device)
    tr, va = torch.as_tensor(train_idx, device=device), torch.as_tensor(val_idx, device=device)
    model.to(device)
    optimiser = config.optimizer.build(model.parameters())
    generators = [torch.Generator().manual_seed(member_seed(config.seed, k)) for k in range(k_members)]
    best = copy.deepcopy(model.state_dict())
    members = torch.arange(k_members, device=device)[:, None]
    n_train = len(train_idx)

    def one_epoch(epoch: int) -> EpochLosses:
        model.train()
        perms = torch.stack([torch.randperm(n_train, generator=g) for g in generators]).to(device)
        running = torch.zeros(k_members, dtype=torch.float64, device=device)
        for b in range(0, n_train, config.batch_size):
            rows = tr[perms[:, b:b + config.batch_size]]  # (K, B) event indices
            out = model(xt[rows])
            losses = per_event_loss(out, None if yt is None else yt[rows]) * wt[members, rows]
            loss_per_member = losses.mean(dim=1)
            optimiser.zero_grad()
            loss_per_member.sum().backward()
            optimiser.step()
            running += loss_per_member.detach().double() * rows.shape[1]
        model.eval()
        with torch.no_grad():
            val = torch.zeros(k_members, dtype=torch.float64, device=device)
            for s in range(0, len(val_idx), 65536):
                rows = va[s:s + 65536]
                out = model(xt[rows])
                lv = per_event_loss(out, None if yt is None else yt[rows].expand(k_members, -1))
                val += (lv * wt[:, rows]).sum(dim=1).double()
            val = (val / wt[:, va].sum(dim=1).double().clamp_min(1e-300)).cpu().numpy()
        return EpochLosses((running / n_train).cpu().numpy(), val)

    def keep(kept: np.ndarray) -> None:
        with torch.no_grad():
            for name, tensor in model.state_dict().items():
                mask = torch.as_tensor(kept, device=tensor.device)
                best[name][mask] = tensor[mask]

    histories, _, _ = run_epochs(one_epoch, n_members=k_members, max_epochs=config.max_epochs,
                                 stopping=config.stopping, keep=keep, desc=desc, progress=progress,
                                 device=str(device))
    model.load_state_dict(best)
    return histories


def train_member_datasets(model: BatchedMLP, per_event_loss, x: np.ndarray, rows: np.ndarray, lengths: np.ndarray,
                          targets: np.ndarray, weights: np.ndarray, *, epochs: int, steps_per_epoch: int,
                          batch_size: int, learning_rate: float, seeds, device: torch.device) -> None:
    """Train member k of `model` in place on its own dataset: the events x[rows[k, :lengths[k]]] with labels
    targets[k] and weights weights[k] (rows padded beyond lengths[k] are never used), with Adam.

    This is how many small trainings on different datasets (bootstrap replicas, toys, injections, k-fold
    splits) run as one batched model. Every member takes `steps_per_epoch` mini-batches an epoch, drawn in
    order from a permutation of its own rows (from its seed `seeds[k]`), cycled if it has fewer rows than
    steps x batch. So a member trains exactly as it would alone, whatever the other members' sizes: give a
    steps_per_epoch that covers the nominal dataset size once. No validation split (Krzyzanska & Nachman's fixed
    epochs).
    """
    k_members, width = rows.shape
    lengths = np.asarray(lengths, dtype=np.int64)
    if targets.shape != rows.shape or weights.shape != rows.shape or len(seeds) != k_members or \
            lengths.shape != (k_members,) or lengths.min() < 1 or lengths.max() > width:
        raise ConfigError(f"rows, targets and weights must share the shape {rows.shape}, with one seed and one "
                          "length (1 .. row width) per member")
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32), device=device)
    rt = torch.as_tensor(rows, dtype=torch.long, device=device)
    yt = torch.as_tensor(targets, dtype=torch.float32, device=device)
    wt = torch.as_tensor(weights, dtype=torch.float32, device=device)
    model.to(device).train()
    # fused Adam: one kernel over all members' parameters (the unfused update took half of each step on CPU)
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate, fused=True)
    generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
    positions = torch.arange(steps_per_epoch * batch_size)
    for _ in range(epochs):
        order = torch.stack([torch.randperm(int(n), generator=g)[positions % int(n)]
                             for n, g in zip(lengths, generators, strict=True)]).to(device)
        for b in range(0, order.shape[1], batch_size):
            slots = order[:, b:b + batch_size]  # (K, B) positions in each member's own row list
            out = model(xt[torch.gather(rt, 1, slots)])
            losses = per_event_loss(out, torch.gather(yt, 1, slots)) * torch.gather(wt, 1, slots)
            optimiser.zero_grad()
            losses.mean(dim=1).sum().backward()
            optimiser.step()
    model.eval()


def _bce(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy_with_logits(out.squeeze(-1), y, reduction="none")


_MLC_CAP = 30.0  # see _mlc


def _mlc(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Maximum-likelihood classifier loss per event (NPLM's form): e^f - 1 for class 0 ("simulation"), -f for
    class 1 ("data"). Weighted by w for class 0, its minimum is f(x) = ln(n_1(x) / (w n_0(x))), the log density
    ratio when w = N_1 / N_0. (Krzyzanska & Nachman's printed eq. 3.2 is unbounded below as printed; this is the
    bounded form.)"""
    f = out.squeeze(-1)
    # above f = 30 (a density ratio of 1e13) e^f continues as its tangent, so that one far outlier in the
    # simulation cannot overflow float32 and turn a member's weights into NaN; below it the loss is exact
    capped = torch.clamp(f, max=_MLC_CAP)
    exp = torch.exp(capped) * (1.0 + f - capped)
    return torch.where(y > 0.5, -f, exp - 1.0)


CLASSIFIER_LOSSES = {"bce": _bce, "mlc": _mlc}


class ClassifierEnsemble(Estimator):
    """`n_members` binary classifiers (MLP, linear output f), trained as one batched module; inputs standardised
    with the training mean and standard deviation. Training weights are normalised per member (only their ratios
    matter).

    loss "bce": f is the logit; `score_samples` is the members' mean probability of class 1 (higher = more like
    class 1, e.g. "data" against "simulation"). loss "mlc": f estimates the log density ratio ln(p_1 / p_0)
    when class 0 carries weight N_1 / N_0 (see `_mlc`); `score_samples` is the members' mean f (higher = more
    like class 1). `member_scores` gives each member's score."""

    def __init__(self, n_members: int = 10, *, hidden: tuple[int, ...] = (50, 50, 50), activation: str = "relu",
                 batch_size: int = 256, max_epochs: int = 20, patience: int | None = None,
                 learning_rate: float = 1e-3, validation_fraction: float = 0.2, device: str = "auto",
                 seed: int = 0, progress: bool = False, loss: str = "bce"):
        self.loss = loss
        self.n_members = n_members
        self.hidden = hidden
        self.activation = activation
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.device = device
        self.seed = seed
        self.progress = progress
        self._validate()

    def _validate(self) -> None:
        if not isinstance(self.n_members, int) or self.n_members < 1:
            raise ConfigError(f"n_members must be a positive integer, got {self.n_members!r}")
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise ConfigError(f"hidden widths must be positive, got {self.hidden}")
        if self.activation not in _ACTIVATIONS:
            raise ConfigError(f"unknown activation {self.activation!r}; known: {', '.join(_ACTIVATIONS)}")
        if self.loss not in CLASSIFIER_LOSSES:
            raise ConfigError(f"unknown loss {self.loss!r}; known: {', '.join(CLASSIFIER_LOSSES)}")
        self._train_config()

    def _train_config(self) -> TrainConfig:
        stopping = FixedEpochs() if self.patience is None else MinValidationLoss(self.patience)
        return TrainConfig(batch_size=self.batch_size, max_epochs=self.max_epochs,
                           validation_fraction=self.validation_fraction, seed=self.seed,
                           optimizer=Adam(self.learning_rate), stopping=stopping)

    def _network(self, n_inputs: int) -> BatchedMLP:
        return BatchedMLP(self.n_members, (n_inputs, *(int(h) for h in self.hidden), 1), self.activation,
                          seed=self.seed)

    def fit(self, x, y, sample_weight=None, *, features=None) -> ClassifierEnsemble:
        """Train every member on `x` with labels `y` (0/1); `sample_weight` (n,) or (n_members, n)."""
        y = np.asarray(y)
        if y.shape != (len(np.asarray(x)),) or not np.isin(y, (0, 1)).all():
            raise ConfigError("y must hold one 0/1 label per event")
        self._labels = y.astype(np.float32)
        try:
            return super().fit(x, sample_weight, features=features)
        finally:
            del self._labels

    def _fit(self, x: np.ndarray, sample_weight: np.ndarray | None) -> None:
        self.mean_ = x.mean(axis=0)
        std = x.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0).astype(np.float32)
        model = self._network(x.shape[1])
        self.histories_ = train_ensemble(model, CLASSIFIER_LOSSES[self.loss], self._transform(x), sample_weight,
                                         config=self._train_config(), device=self.device_,
                                         progress=self.progress, targets=self._labels,
                                         desc=f"training {self.n_members} classifiers")
        self.history_ = self.histories_[0]
        self.model_ = model.eval()

    def _transform(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean_) / self.scale_

    def _member_batch(self, xb: torch.Tensor) -> torch.Tensor:
        f = self.model_(xb).squeeze(-1)
        return torch.sigmoid(f) if self.loss == "bce" else f

    def _score_batch(self, xb: torch.Tensor) -> torch.Tensor:
        return self._member_batch(xb).mean(dim=0)

    def member_scores(self, x, *, features=None) -> np.ndarray:
        """Each member's score (probability of class 1 for BCE, f for MLC), shape (n_members, n)."""
        x = self._check_inputs(x, features)
        with torch.no_grad():
            xb = torch.as_tensor(self._transform(x), device=self.device_)
            return self._member_batch(xb).double().cpu().numpy()

    def _state(self) -> tuple[dict, dict]:
        return ({"member_histories": [dataclasses.asdict(h) for h in self.histories_]},
                {"mean": self.mean_, "scale": self.scale_,
                 **{f"net.{k}": v for k, v in self.model_.state_dict().items()}})

    def _restore(self, meta: dict, tensors: dict) -> None:
        self.mean_, self.scale_ = tensors["mean"].numpy(), tensors["scale"].numpy()
        self.histories_ = [TrainHistory(**h) for h in meta["member_histories"]]
        self.model_ = self._network(self.n_features_in_)
        self.model_.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
