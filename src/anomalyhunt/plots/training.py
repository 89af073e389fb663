"""Figures of model training."""

from __future__ import annotations

from ._style import pyplot

__all__ = ["loss_figure"]


def loss_figure(history, *, title: str = ""):
    """Training and validation loss per epoch (log scale) with the epoch that was kept."""
    plt = pyplot()
    fig, ax = plt.subplots()
    ax.plot(history.train_loss, label="training")
    ax.plot(history.val_loss, label="validation")
    ax.axvline(history.best_epoch, color="gray", ls=":", label=f"best epoch {history.best_epoch}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("weighted mean loss")
    ax.set_title(title, fontsize=12)
    ax.legend()
    return fig
