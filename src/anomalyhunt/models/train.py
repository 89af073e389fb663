"""The training loop shared by every model: weighted mini-batches, validation split, early stopping that
restores the best epoch, seeded and reproducible on CPU, loss curves recorded, progress shown."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ..exceptions import ConfigError

__all__ = ["TrainConfig", "TrainHistory", "resolve_device", "train_model"]


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


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (Adam)."""

    batch_size: int = 100
    max_epochs: int = 200
    patience: int = 30
    learning_rate: float = 1e-3
    validation_fraction: float = 0.3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.batch_size <= 0 or self.max_epochs <= 0 or self.patience <= 0:
            raise ConfigError("batch_size, max_epochs and patience must be positive, got "
                              f"{self.batch_size}, {self.max_epochs}, {self.patience}")
        if not 0 < self.validation_fraction < 1:
            raise ConfigError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")


@dataclass
class TrainHistory:
    """Weighted mean loss per epoch on the training and validation parts, and the epoch kept."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0
    device: str = "cpu"

    @property
    def seconds_per_epoch(self) -> float:
        return self.seconds / max(len(self.train_loss), 1)


def _mean_loss(model, loss_fn, x, w, batch_size) -> float:
    total, norm = 0.0, 0.0
    with torch.no_grad():
        for start in range(0, len(x), batch_size * 10):
            xb, wb = x[start:start + batch_size * 10], w[start:start + batch_size * 10]
            total += float((loss_fn(model, xb) * wb).sum())
            norm += float(wb.sum())
    return total / max(norm, 1e-300)


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


def train_model(model: torch.nn.Module, per_event_loss: Callable, x: np.ndarray, weights: np.ndarray | None = None,
                *, config: TrainConfig, device: torch.device, progress: bool = False,
                batch_loss: Callable | None = None) -> TrainHistory:
    """Train `model` in place to minimise the weighted mean of `per_event_loss(model, x_batch)`.

    Weights are normalised to mean 1 over the training part, so a batch's loss is sum(w l) / batch size.
    Returns the history; the model ends with the weights of the best validation epoch.

    batch_loss: for losses that are not a sum over events (the DisCo term of seed 002), a function
    (model, x_batch, w_batch) -> scalar that replaces the weighted mean of `per_event_loss` in the optimiser
    step and in the recorded epoch losses (validation in batches of `batch_size`, weighted by batch weight).
    """
    from tqdm import tqdm

    n = len(x)
    if n < 4:
        raise ConfigError(f"need at least 4 events to train, got {n}")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or np.any(w < 0) or not np.isfinite(w).all():
        raise ConfigError("weights must be finite, non-negative and one per event")
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(n)
    n_val = max(1, int(round(config.validation_fraction * n)))
    val_idx, train_idx = order[:n_val], order[n_val:]
    mean_w = w[train_idx].mean() if w[train_idx].sum() > 0 else 1.0
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32), device=device)
    wt = torch.as_tensor(w / mean_w, dtype=torch.float32, device=device)
    x_train, w_train, x_val, w_val = xt[train_idx], wt[train_idx], xt[val_idx], wt[val_idx]
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    generator = torch.Generator().manual_seed(config.seed)
    history = TrainHistory(device=str(device))
    best_state, best_loss, since_best = None, float("inf"), 0
    start = time.perf_counter()
    epochs = tqdm(range(config.max_epochs), desc="training", unit="epoch", disable=None if progress else True,
                  leave=False)
    for epoch in epochs:
        model.train()
        perm = torch.randperm(len(x_train), generator=generator).to(device)
        for b in range(0, len(perm), config.batch_size):
            idx = perm[b:b + config.batch_size]
            if batch_loss is not None:
                if len(idx) < 2:
                    continue
                loss = batch_loss(model, x_train[idx], w_train[idx])
            else:
                loss = (per_event_loss(model, x_train[idx]) * w_train[idx]).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        model.eval()
        if batch_loss is not None:
            history.train_loss.append(_mean_batch_loss(model, batch_loss, x_train, w_train, config.batch_size))
            history.val_loss.append(_mean_batch_loss(model, batch_loss, x_val, w_val, config.batch_size))
        else:
            history.train_loss.append(_mean_loss(model, per_event_loss, x_train, w_train, config.batch_size))
            history.val_loss.append(_mean_loss(model, per_event_loss, x_val, w_val, config.batch_size))
        epochs.set_postfix(val=f"{history.val_loss[-1]:.3g}")
        if history.val_loss[-1] < best_loss:
            best_loss, since_best, history.best_epoch = history.val_loss[-1], 0, epoch
            best_state = copy.deepcopy(model.state_dict())
        else:
            since_best += 1
            if since_best >= config.patience:
                break
    history.seconds = time.perf_counter() - start
    if best_state is not None:
        model.load_state_dict(best_state)
    return history
