"""Network architectures (nn.Module), apart from training."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..exceptions import ConfigError

__all__ = ["AutoencoderArchitecture", "AUTOENCODER_PRESETS", "AutoencoderNet", "mlp"]

_ACTIVATIONS = {"relu": lambda: nn.ReLU(), "leaky_relu": lambda: nn.LeakyReLU(0.2), "selu": lambda: nn.SELU(),
                "none": lambda: nn.Identity()}


@dataclass(frozen=True)
class AutoencoderArchitecture:
    """Encoder widths down to the latent layer (decoder mirrors them) and the activations."""

    hidden: tuple[int, ...]
    activation: str
    output_activation: str

    def __post_init__(self) -> None:
        for name in (self.activation, self.output_activation):
            if name not in _ACTIVATIONS:
                raise ConfigError(f"unknown activation {name!r}; known: {', '.join(_ACTIVATIONS)}")
        if not self.hidden or any(h <= 0 for h in self.hidden):
            raise ConfigError(f"hidden widths must be positive, got {self.hidden}")


AUTOENCODER_PRESETS = {
    # Chekanov & Hopkins: inputs -> 20 -> 10 -> 5 -> 10 -> 20 -> inputs, ReLU on every layer
    "chekanov2022": AutoencoderArchitecture((20, 10, 5), "relu", "relu"),
    # ATLAS: 800 -> 400 -> 200 -> 400 -> 800, leaky ReLU (0.2)
    "atlas2024": AutoencoderArchitecture((800, 400, 200), "leaky_relu", "none"),
    # Mikuni, Nachman & Shih's single-AE comparison: one of the double AE's networks, 256-128-64-32-5, trained alone
    "disco2022": AutoencoderArchitecture((256, 128, 64, 32, 5), "relu", "none"),
}


def mlp(sizes: tuple[int, ...], activation: str, output_activation: str = "none") -> nn.Sequential:
    """Fully connected layers sizes[0] -> ... -> sizes[-1] with `activation` between and at the end."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        last = i == len(sizes) - 2
        layers.append(_ACTIVATIONS[output_activation if last else activation]())
    return nn.Sequential(*layers)


class AutoencoderNet(nn.Module):
    """Symmetric autoencoder; forward returns the reconstruction."""

    def __init__(self, n_inputs: int, architecture: AutoencoderArchitecture):
        super().__init__()
        widths = (n_inputs, *architecture.hidden)
        self.encoder = mlp(widths, architecture.activation, architecture.activation)
        self.decoder = mlp(widths[::-1], architecture.activation, architecture.output_activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))
