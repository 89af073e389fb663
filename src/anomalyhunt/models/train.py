"""The training loop shared by every model: weighted mini-batches, a validation split, an optimizer and a
stopping rule passed in, the kept epoch restored, seeded and reproducible on CPU, loss curves recorded, progress
shown on a terminal and in a log. Reproducible at a given number of torch threads (a run records it in
provenance.json): the sums are split differently across threads, so 1 and 2 threads differ at ~1e-7 after three
epochs, and after hundreds the stopping rule can keep another epoch.

Optimizers: `Adam`, `Adadelta` (Keras' defaults, which differ from PyTorch's). Stopping rules:
`MinValidationLoss` (patience, the Chekanov & Hopkins rule), `FixedEpochs`, `MaxMonitored` (the epoch at which a
monitored validation quantity peaks, the Bortolato et al. VAE rule).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..exceptions import ConfigError
from ..progress import progress as progress_step

__all__ = ["Adadelta", "Adam", "FixedEpochs", "MaxMonitored", "MinValidationLoss", "TrainConfig", "TrainHistory",
           "EpochLosses", "resolve_device", "run_epochs", "train_model"]

log = logging.getLogger(__name__)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise ConfigError(f"unknown torch device {device!r}") from exc


# --- optimizers -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Adam:
    """torch.optim.Adam with its defaults except the learning rate."""

    learning_rate: float = 1e-3

    def __post_init__(self) -> None:
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")

    def build(self, parameters) -> torch.optim.Optimizer:
        return torch.optim.Adam(parameters, lr=self.learning_rate)


@dataclass(frozen=True)
class Adadelta:
    """Adadelta with Keras' defaults (lr 1e-3, rho 0.95, eps 1e-7); PyTorch's (1.0, 0.9, 1e-6) train differently."""

    learning_rate: float = 1e-3
    rho: float = 0.95
    eps: float = 1e-7

    def __post_init__(self) -> None:
        if not self.learning_rate > 0 or not 0 < self.rho < 1 or not self.eps > 0:
            raise ConfigError(f"Adadelta needs learning_rate > 0, 0 < rho < 1, eps > 0; got {self}")

    def build(self, parameters) -> torch.optim.Optimizer:
        return torch.optim.Adadelta(parameters, lr=self.learning_rate, rho=self.rho, eps=self.eps)


# --- stopping rules: step(history) -> (this epoch is the one to keep so far, stop now) --------------------------
@dataclass(frozen=True)
class MinValidationLoss:
    """Keep the epoch of lowest validation loss; stop after `patience` epochs without a new minimum."""

    patience: int = 30

    def __post_init__(self) -> None:
        if not self.patience > 0:
            raise ConfigError(f"patience must be positive, got {self.patience}")

    def step(self, history: TrainHistory) -> tuple[bool, bool]:
        loss = np.nan_to_num(np.asarray(history.val_loss), nan=np.inf)
        best = len(loss) == 1 or loss[-1] < loss[:-1].min()
        return bool(best), len(loss) - 1 - int(np.argmin(loss)) >= self.patience


@dataclass(frozen=True)
class FixedEpochs:
    """Train for max_epochs and keep the last epoch."""

    def step(self, history: TrainHistory) -> tuple[bool, bool]:
        return True, False


@dataclass(frozen=True)
class MaxMonitored:
    """Keep the epoch at which the monitored validation quantity `key` is largest (ties keep the earlier epoch).

    When to stop, with b the epoch of the maximum so far ("rising for >= rise epochs, then falling for >= fall"):
    - strict=False: b >= rise (the maximum came at least `rise` epochs in) and `fall` epochs have passed since
      b without a new maximum;
    - strict=True (the Bortolato et al. wording taken literally): the value rose at each of the `rise` epochs up to b,
      v[b-rise] < ... < v[b], and fell at each of the `fall` epochs after it, v[b] > v[b+1] > ... > v[b+fall].
      A maximum not followed by `fall` straight decreases is never confirmed: training then runs on until a
      new maximum is confirmed or max_epochs, and the kept epoch is still the largest value seen.
    """

    key: str = "val_kl"
    rise: int = 5
    fall: int = 5
    strict: bool = False

    def __post_init__(self) -> None:
        if self.rise < 0 or self.fall <= 0:
            raise ConfigError(f"MaxMonitored needs rise >= 0 and fall > 0, got {self.rise}, {self.fall}")

    def step(self, history: TrainHistory) -> tuple[bool, bool]:
        values = history.monitored.get(self.key)
        if not values:
            raise ConfigError(f"the stopping rule watches {self.key!r}, which the model does not monitor")
        return self.decide(values)

    def decide(self, values) -> tuple[bool, bool]:
        """(the last epoch is the one to keep so far, stop now) for the monitored values of epochs 0..n-1."""
        values = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=-np.inf)
        best = int(np.argmax(values))  # first occurrence: ties keep the earlier epoch
        is_best = best == len(values) - 1
        after = len(values) - 1 - best
        if best < self.rise or after < self.fall:
            return is_best, False
        if not self.strict:
            return is_best, True
        rose = bool(np.all(np.diff(values[best - self.rise:best + 1]) > 0))
        fell = bool(np.all(np.diff(values[best:best + self.fall + 1]) < 0))
        return is_best, rose and fell


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings: mini-batch size, epochs, validation split, seed, optimizer, stopping rule."""

    batch_size: int = 100
    max_epochs: int = 200
    validation_fraction: float = 0.3
    seed: int = 0
    optimizer: Adam | Adadelta = field(default_factory=Adam)
    stopping: MinValidationLoss | FixedEpochs | MaxMonitored = field(default_factory=MinValidationLoss)

    def __post_init__(self) -> None:
        if self.batch_size <= 0 or self.max_epochs <= 0:
            raise ConfigError("batch_size and max_epochs must be positive, got "
                              f"{self.batch_size}, {self.max_epochs}")
        if not 0 < self.validation_fraction < 1:
            raise ConfigError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}")
        if not hasattr(self.optimizer, "build"):
            raise ConfigError(f"optimizer must be Adam(...) or Adadelta(...), got {self.optimizer!r}")
        if not hasattr(self.stopping, "step"):
            raise ConfigError(f"stopping must be a stopping rule, got {self.stopping!r}")


@dataclass
class TrainHistory:
    """Weighted mean loss per epoch (training: mean over the epoch's mini-batches as they were taken;
    validation: after the epoch), extra monitored validation quantities, and the epoch kept."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0
    device: str = "cpu"
    monitored: dict[str, list[float]] = field(default_factory=dict)

    @property
    def seconds_per_epoch(self) -> float:
        return self.seconds / max(len(self.train_loss), 1)


def _mean_loss(model, loss_fn, x, w, batch_size) -> float:
    total = torch.zeros((), dtype=torch.float64, device=x.device)
    with torch.no_grad():
        for start in range(0, len(x), batch_size * 10):
            xb, wb = x[start:start + batch_size * 10], w[start:start + batch_size * 10]
            total += (loss_fn(model, xb) * wb).sum().double()
    return float(total) / max(float(w.sum()), 1e-300)


def _mean_batch_loss(model, batch_loss, x, w, batch_size) -> float:
    total, norm = 0.0, 0.0
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            xb, wb = x[start:start + batch_size], w[start:start + batch_size]
            if len(xb) < 2:
                continue
            total += float(batch_loss(model, xb, wb)) * float(wb.sum())
            norm += float(wb.sum())
    return total / max(norm, 1e-300)


def split_validation(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) indices of a seeded random split."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(fraction * n)))
    return order[n_val:], order[:n_val]


def check_weights(weights, n: int) -> np.ndarray:
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or np.any(w < 0) or not np.isfinite(w).all():
        raise ConfigError("weights must be finite, non-negative and one per event")
    return w


@dataclass(frozen=True)
class EpochLosses:
    """One epoch's figures, one value per member: training loss, validation loss, monitored quantities."""

    train: Sequence[float]
    val: Sequence[float]
    monitored: Mapping[str, Sequence[float]] = field(default_factory=dict)


def run_epochs(one_epoch: Callable[[int], EpochLosses], *, n_members: int, max_epochs: int, stopping,
               keep: Callable[[np.ndarray], None], desc: str, progress: bool = False, device: str = "cpu"
               ) -> tuple[list[TrainHistory], int, np.ndarray]:
    """The epoch loop every trainer shares (one model, a batched ensemble, the VAE members, the latent decoders).

    Each epoch: `one_epoch(epoch)` trains and validates and returns the members' losses; each member still
    training records them in its history and asks `stopping` whether this epoch is its best so far and whether to
    stop; `keep(mask)` is called with the members whose weights of this epoch are to be kept; the loop ends when
    every member has stopped or after `max_epochs`. Returns the histories (`seconds` set), the epochs run, and
    which members the stopping rule stopped (False: ran to `max_epochs`).
    """
    histories = [TrainHistory(device=device) for _ in range(n_members)]
    stopped = np.zeros(n_members, dtype=bool)
    start = time.perf_counter()
    epoch = -1
    with progress_step(desc, total=max_epochs, unit="epoch", logger=log, enabled=progress) as bar:
        for epoch in range(max_epochs):
            losses = one_epoch(epoch)
            kept = np.zeros(n_members, dtype=bool)
            for m in np.flatnonzero(~stopped):
                h = histories[m]
                h.train_loss.append(float(losses.train[m]))
                h.val_loss.append(float(losses.val[m]))
                for key, values in losses.monitored.items():
                    h.monitored.setdefault(key, []).append(float(values[m]))
                is_best, stop = stopping.step(h)
                if is_best:
                    h.best_epoch = epoch
                    kept[m] = True
                stopped[m] = stop
            if kept.any():
                keep(kept)
            postfix = {"val_loss": float(np.mean(losses.val))}
            if n_members > 1:
                postfix["training"] = int((~stopped).sum())
            bar.update(epoch + 1, **postfix)
            if stopped.all():
                break
    seconds = time.perf_counter() - start
    for h in histories:
        h.seconds = seconds
    return histories, epoch + 1, stopped


def train_model(model: torch.nn.Module, per_event_loss: Callable, x: np.ndarray, weights: np.ndarray | None = None,
                *, config: TrainConfig, device: torch.device, progress: bool = False,
                batch_loss: Callable | None = None,
                monitor: Callable[[torch.nn.Module, torch.Tensor, torch.Tensor], dict[str, float]] | None = None,
                desc: str = "training") -> TrainHistory:
    """Train `model` in place to minimise the weighted mean of `per_event_loss(model, x_batch)`.

    Weights are normalised to mean 1 over the training part, so a batch's loss is sum(w l) / batch size (scaling
    every weight by a constant changes nothing). Returns the history; the model ends with the weights of the
    epoch the stopping rule keeps.

    batch_loss: for losses that are not a sum over events (the DisCo term of Mikuni, Nachman & Shih), a function
    (model, x_batch, w_batch) -> scalar that replaces the weighted mean of `per_event_loss` in the optimiser
    step and in the recorded epoch losses (validation in batches of `batch_size`, weighted by batch weight).
    monitor: (model, x_val, w_val) -> {name: value}, evaluated after each epoch without gradients; the values
    land in `history.monitored` and a `MaxMonitored` rule can watch one of them.
    """
    n = len(x)
    if n < 4:
        raise ConfigError(f"need at least 4 events to train, got {n}")
    w = check_weights(weights, n)
    train_idx, val_idx = split_validation(n, config.validation_fraction, config.seed)
    mean_w = w[train_idx].mean() if w[train_idx].sum() > 0 else 1.0
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32), device=device)
    wt = torch.as_tensor(w / mean_w, dtype=torch.float32, device=device)
    x_train, w_train, x_val, w_val = xt[train_idx], wt[train_idx], xt[val_idx], wt[val_idx]
    model.to(device)
    optimiser = config.optimizer.build(model.parameters())
    generator = torch.Generator().manual_seed(config.seed)
    best: dict[str, dict] = {}

    def one_epoch(epoch: int) -> EpochLosses:
        model.train()
        perm = torch.randperm(len(x_train), generator=generator).to(device)
        running = torch.zeros((), dtype=torch.float64, device=device)
        norm = 0.0
        for b in range(0, len(perm), config.batch_size):
            idx = perm[b:b + config.batch_size]
            if batch_loss is not None:
                if len(idx) < 2:
                    continue
                wb = w_train[idx]
                loss = batch_loss(model, x_train[idx], wb)
                scale = wb.sum()
            else:
                loss = (per_event_loss(model, x_train[idx]) * w_train[idx]).mean()
                scale = len(idx)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            running += loss.detach().double() * scale
            norm += float(scale) if batch_loss is not None else scale
        model.eval()
        if batch_loss is not None:
            val = _mean_batch_loss(model, batch_loss, x_val, w_val, config.batch_size)
        else:
            val = _mean_loss(model, per_event_loss, x_val, w_val, config.batch_size)
        monitored = {}
        if monitor is not None:
            with torch.no_grad():
                monitored = {key: [float(value)] for key, value in monitor(model, x_val, w_val).items()}
        return EpochLosses([float(running) / max(norm, 1e-300)], [val], monitored)

    def keep(_members: np.ndarray) -> None:
        best["state"] = copy.deepcopy(model.state_dict())

    (history,), _, _ = run_epochs(one_epoch, n_members=1, max_epochs=config.max_epochs, stopping=config.stopping,
                               keep=keep, desc=desc, progress=progress, device=str(device))
    if best:
        model.load_state_dict(best["state"])
    return history

