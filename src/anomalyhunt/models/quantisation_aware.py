"""An autoencoder's forward pass in the fixed-point arithmetic of its firmware, differentiable for training
(quantisation-aware training, QAT).

What the hls4ml emulation of `models.firmware` computes, written in PyTorch: the inputs rounded and saturated to
`ap_fixed<W, I_in>`; per Dense layer the weights and biases each to `ap_fixed<W, I>` with I from their largest
magnitude, the exact sum (hls4ml's accumulator is wide enough), then the result rounded and saturated to its own
`ap_fixed<W, I>`; the ReLU after it in the same type. Rounding is to the nearest step, halves up (AP_RND), as
`FixedPoint.quantise`. The gradient goes straight through each rounding (the straight-through estimator: the
identity, saturation included), so the float weights learn to sit where the rounded ones work.

Written here rather than taken from brevitas or QKeras: those quantise with their own rounding and range rules,
which hls4ml would then have to be told about layer by layer; this forward uses the very types that
`compile_firmware` picks (integer bits from the largest |value|, `integer_bits`), so the trained network is the
one the emulation runs. The integer bits of each layer's result come from the batch during training and are
frozen afterwards (`calibrate`) from a sample, as `compile_firmware` profiles them; the emulation is the judge of
what the trained network does in firmware.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..exceptions import ConfigError
from .firmware import FixedPoint, integer_bits, profile_ranges, sequential_autoencoder
from .nets import AutoencoderNet

__all__ = ["FixedPointForward", "fake_quantise"]


def fake_quantise(x: torch.Tensor, t: FixedPoint) -> torch.Tensor:
    """`x` as the type `t` holds it (nearest step, halves up, saturated) in the forward pass; the gradient of the
    identity in the backward pass."""
    lo, hi = t.bounds
    q = torch.clamp(torch.floor(x / t.step + 0.5) * t.step, lo, hi)
    return x + (q - x).detach()


def _max_abs(x: torch.Tensor) -> float:
    return float(x.detach().abs().max()) if x.numel() else 0.0


@dataclass(frozen=True)
class FixedPointForward:
    """The forward pass of an autoencoder at total width `width`. input_max: the largest |input| the input type
    holds (1 for MinMax-scaled inputs, as the trigger scan's emulation uses); result_bits: the integer bits of
    each Dense layer's result, in the network's order (None: from each batch's largest |result|)."""

    width: int
    input_max: float = 1.0
    result_bits: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        FixedPoint(self.width, integer_bits(self.input_max))  # validates the width
        if not self.input_max > 0:
            raise ConfigError(f"input_max must be positive, got {self.input_max}")

    @property
    def input_type(self) -> FixedPoint:
        return FixedPoint(self.width, integer_bits(self.input_max))

    def _type(self, max_abs: float) -> FixedPoint:
        return FixedPoint(self.width, integer_bits(max_abs))

    def reconstruct(self, net: AutoencoderNet, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(the quantised inputs, the reconstruction) of `net` for `x` in fixed point."""
        layers = list(sequential_autoencoder(net))
        n_dense = sum(isinstance(m, nn.Linear) for m in layers)
        if self.result_bits is not None and len(self.result_bits) != n_dense:
            raise ConfigError(f"{len(self.result_bits)} result types for a network of {n_dense} Dense layers")
        xq = fake_quantise(x, self.input_type)
        h, k = xq, 0
        for m in layers:
            if isinstance(m, nn.Linear):
                w = fake_quantise(m.weight, self._type(_max_abs(m.weight)))
                b = None if m.bias is None else fake_quantise(m.bias, self._type(_max_abs(m.bias)))
                h = nn.functional.linear(h, w, b)
                bits = integer_bits(_max_abs(h)) if self.result_bits is None else self.result_bits[k]
                h = fake_quantise(h, FixedPoint(self.width, bits))
                k += 1
            else:  # ReLU: a quantised value stays on the grid of its type
                h = m(h)
        return xq, h

    def calibrate(self, net: AutoencoderNet, sample: np.ndarray) -> FixedPointForward:
        """This forward with the result types frozen from `sample`: per Dense layer the integer bits of the largest
        |result| of the float network on it, as `compile_firmware` profiles them."""
        ranges, _ = profile_ranges(sequential_autoencoder(net), sample)
        return FixedPointForward(self.width, self.input_max, tuple(integer_bits(r["result"]) for r in ranges))

    def as_dict(self) -> dict:
        return {"width": self.width, "input_max": self.input_max,
                "result_bits": None if self.result_bits is None else list(self.result_bits)}

    @classmethod
    def from_dict(cls, data: dict) -> FixedPointForward:
        bits: Sequence[int] | None = data.get("result_bits")
        return cls(int(data["width"]), float(data["input_max"]), None if bits is None else tuple(int(b) for b in bits))
