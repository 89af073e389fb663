"""Fully connected networks as Level-1 trigger firmware would run them: hls4ml's bit-accurate C++ emulation in
fixed point, and what the layers cost.

hls4ml (optional: `pip install 'anomalyhunt[trigger]'`) turns a PyTorch `nn.Sequential` of `Linear` and `ReLU`
layers into HLS C++ and compiles, with g++ alone, a library that computes exactly what the firmware would (the
`ap_fixed` arithmetic of the Xilinx headers it ships). Vendor synthesis (Vivado/Vitis) is not needed for that,
and is not run here, so latency and resources are estimated from the layers themselves (`layer_costs`).

Precision: a total width W per scan point; the integer bits of each quantity (the inputs, and per Dense layer its
weights, biases and outputs) from the largest magnitude it takes on a profiling sample, plus the sign bit, so
that the W bits go where the values are (hls4ml's per-layer precision). Values are rounded (AP_RND) and
saturated (AP_SAT) rather than truncated and wrapped, so an event beyond the profiled range clips instead of
flipping sign. The accumulators are left to hls4ml ("auto": wide enough for the exact sum).

The anomaly score can be computed in the firmware too (`ReconstructionLoss`): the difference between input and
reconstruction, its square and their sum over the inputs, each a quantity of its own fixed-point type, as a
trigger would compute its loss (Govorkova et al., arXiv:2108.03986, do); the three operations are hls4ml layers
(subtract, multiply, a Dense of unit weights), so the emulation stays hls4ml's.
"""

from __future__ import annotations

import importlib
import math
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..exceptions import ConfigError
from .nets import AutoencoderNet

__all__ = ["FixedPoint", "FirmwareNet", "ReconstructionLoss", "compile_firmware", "integer_bits", "layer_costs",
           "profile_ranges", "require_hls4ml", "sequential_autoencoder"]


def require_hls4ml():
    """The hls4ml module, or one ConfigError line saying how to install it."""
    try:
        return importlib.import_module("hls4ml")
    except ImportError:
        raise ConfigError("the firmware emulation needs hls4ml, an optional dependency: "
                          "pip install 'anomalyhunt[trigger]' (and g++ on the PATH)") from None


@dataclass(frozen=True)
class FixedPoint:
    """ap_fixed<width, integer, AP_RND, AP_SAT>: `integer` bits (sign included) before the binary point."""

    width: int
    integer: int

    def __post_init__(self) -> None:
        if not 2 <= self.width <= 64 or not -32 <= self.integer <= self.width:
            raise ConfigError(f"fixed-point width must be in 2..64 and integer bits <= width, got "
                              f"ap_fixed<{self.width}, {self.integer}>")

    @property
    def hls(self) -> str:
        return f"ap_fixed<{self.width},{self.integer},AP_RND,AP_SAT>"

    @property
    def step(self) -> float:
        return 2.0 ** (self.integer - self.width)

    @property
    def bounds(self) -> tuple[float, float]:
        """The smallest and largest value the type holds."""
        return -(2.0 ** (self.integer - 1)), 2.0 ** (self.integer - 1) - self.step

    def quantise(self, x: np.ndarray) -> np.ndarray:
        """x as this type holds it: rounded to the nearest step (halves up), saturated at the range's ends."""
        lo, hi = self.bounds
        return np.clip(np.floor(np.asarray(x, dtype=np.float64) / self.step + 0.5) * self.step, lo, hi)


def integer_bits(max_abs: float) -> int:
    """Integer bits, sign included, for a signed fixed-point type to hold +-max_abs."""
    if not max_abs > 0:
        return 1
    return max(1, math.floor(math.log2(max_abs)) + 2)


def sequential_autoencoder(net: AutoencoderNet) -> nn.Sequential:
    """The autoencoder's encoder and decoder as one flat `nn.Sequential` (identity layers dropped), the form hls4ml
    converts; it computes the same reconstruction."""
    layers = [m for m in (*net.encoder, *net.decoder) if not isinstance(m, nn.Identity)]
    unsupported = sorted({type(m).__name__ for m in layers} - {"Linear", "ReLU"})
    if unsupported:
        raise ConfigError(f"the firmware emulation takes Linear and ReLU layers only, found {unsupported}")
    return nn.Sequential(*layers).eval()


class ReconstructionLoss(nn.Module):
    """An autoencoder's squared reconstruction error summed over its inputs, sum_i (x_i - r_i)^2 (the mean loss
    times the number of inputs), in the three operations hls4ml converts: a subtract, a multiply and a Dense of
    unit weights without bias (an adder tree in firmware). The difference is formed twice because hls4ml's merge
    layers need two distinct inputs (x * x of one node does not convert); both are the same numbers."""

    def __init__(self, autoencoder: nn.Sequential) -> None:
        super().__init__()
        self.autoencoder = autoencoder
        n = _linear_layers(autoencoder)[0].in_features
        self.total = nn.Linear(n, 1, bias=False)
        with torch.no_grad():
            self.total.weight.fill_(1.0)
        self.eval()

    def parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The difference, its square and the summed loss (n, 1)."""
        difference = x - self.autoencoder(x)
        square = difference * difference
        return difference, square, self.total(square)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.autoencoder(x)
        return self.total((x - r) * (x - r))


# the loss's hls4ml merge layers, by the prefix of their name (that of the torch operation), and what they hold
_MERGE_QUANTITY = {"sub": "difference", "mul": "square"}


def _linear_layers(net: nn.Module) -> list[nn.Linear]:
    return [m for m in net.modules() if isinstance(m, nn.Linear)]


def profile_ranges(net: nn.Module, sample: np.ndarray) -> tuple[list[dict[str, float]], dict[str, float]]:
    """Per Linear layer (in the network's order): the largest |weight|, |bias| and |output| (before its
    activation) of the float network on `sample`; and, for a `ReconstructionLoss`, the largest |difference| and
    square. What sets the integer bits of each quantity."""
    out, handles = [], []
    for module in _linear_layers(net):
        record = {"weight": float(module.weight.detach().abs().max()),
                  "bias": 0.0 if module.bias is None else float(module.bias.detach().abs().max()), "result": 0.0}
        out.append(record)
        handles.append(module.register_forward_hook(
            lambda _m, _i, y, r=record: r.__setitem__("result", max(r["result"], float(y.abs().max())))))
    merges: dict[str, float] = {}
    try:
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(sample), dtype=torch.float32, device=_linear_layers(net)[0].weight.device)
            if isinstance(net, ReconstructionLoss):
                difference, square, _ = net.parts(x)
                merges = {"sub": float(difference.abs().max()), "mul": float(square.abs().max())}
            else:
                net(x)
    finally:
        for h in handles:
            h.remove()
    return out, merges


@dataclass
class FirmwareNet:
    """A compiled hls4ml emulation of one network at one precision."""

    width: int
    input_type: FixedPoint
    layer_types: list[dict[str, str]]  # per Dense layer: its weight, bias and result types
    compile_seconds: float
    project: Path
    _model: object = field(repr=False)
    loss_types: dict[str, str] = field(default_factory=dict)  # a ReconstructionLoss's difference and square

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs for `x` (n, n_in), computed by the bit-accurate C++ emulation; the inputs are
        converted to `input_type` inside it, as the trigger would receive them."""
        x = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
        if len(x) == 0:
            return np.zeros((0, self.n_outputs))
        y = np.asarray(self._model.predict(x), dtype=np.float64)
        return y.reshape(len(x), -1)

    @property
    def n_outputs(self) -> int:
        return int(self._model.get_output_variables()[0].shape[-1])


def compile_firmware(net: nn.Module, sample: np.ndarray, width: int, *, output_dir: str | Path | None = None,
                     reuse_factor: int = 1, input_max: float | None = None,
                     loss_max: float | None = None, result_bits: Sequence[int] | None = None,
                     loss_width: int | None = None) -> FirmwareNet:
    """Convert `net` (an `nn.Sequential` of Linear/ReLU layers, or a `ReconstructionLoss` around one) with
    hls4ml at total width `width`, integer bits per quantity from `sample` (inputs: the largest |x| of the
    sample, or `input_max`), and compile its C++ emulation (g++).
    output_dir: where the HLS project goes (a temporary folder by default, kept for the object's life).
    loss_max (a `ReconstructionLoss` only): a summed loss its types must hold whatever the sample says, the
    difference up to sqrt(loss_max), the square and the sum up to loss_max. Sized on Standard Model events
    alone, they saturate on the anomalous events a trigger is for (a square clipped at the SM's largest can take
    an event's loss below the threshold); with loss_max above the trigger's threshold, any clipped quantity is
    still above it, so saturation changes no decision.
    result_bits: the integer bits of the autoencoder's Dense results, in order, instead of the profile's (those a
    quantisation-aware training froze, `FixedPointForward.result_bits`, so the firmware is the network trained).
    loss_width (a `ReconstructionLoss` only): the total width of the loss's difference, square and sum, when it
    is to differ from the network's (57 squares and an adder tree cost little beside the network's products)."""
    hls4ml = require_hls4ml()
    if loss_width is not None and not isinstance(net, ReconstructionLoss):
        raise ConfigError("loss_width needs a ReconstructionLoss")
    net = net.eval()
    n_in = _linear_layers(net)[0].in_features
    sample = np.asarray(sample, dtype=np.float32)
    ranges, merges = profile_ranges(net, sample)
    if loss_max is not None:
        if not isinstance(net, ReconstructionLoss) or not loss_max > 0:
            raise ConfigError(f"loss_max needs a ReconstructionLoss and a positive value, got {loss_max}")
        merges = {"sub": max(merges["sub"], math.sqrt(loss_max)), "mul": max(merges["mul"], loss_max)}
        ranges[-1]["result"] = max(ranges[-1]["result"], loss_max)
    input_type = FixedPoint(width, integer_bits(float(np.abs(sample).max()) if input_max is None else input_max))
    if output_dir is None:
        output_dir = tempfile.mkdtemp(prefix="anomalyhunt-hls-")
    config = hls4ml.utils.config_from_pytorch_model(net, input_shape=(n_in,), granularity="name",
                                                    default_precision=f"ap_fixed<{width},{width // 2}>",
                                                    default_reuse_factor=reuse_factor, backend="Vitis")
    layers = config["LayerName"]
    dense = [name for name, c in layers.items() if "weight" in c.get("Precision", {})]
    if len(dense) != len(ranges):
        raise ConfigError(f"hls4ml found {len(dense)} dense layers where the network has {len(ranges)}")
    input_name = next(name for name in layers if name not in dense and "table" not in layers[name]["Precision"])
    layers[input_name]["Precision"]["result"] = input_type.hls
    loss_types = {}
    for name in layers:  # the loss's subtract and multiply layers (hls4ml names them after the torch operation)
        if name in dense or name == input_name or "table" in layers[name]["Precision"]:
            continue
        prefix = next((k for k in merges if name.startswith(k)), None)
        if prefix is None:
            raise ConfigError(f"the firmware emulation does not know how to size hls4ml layer {name!r}")
        hls_type = FixedPoint(loss_width or width, integer_bits(merges[prefix])).hls
        layers[name]["Precision"]["result"] = hls_type
        loss_types[_MERGE_QUANTITY[prefix]] = hls_type
    types = []
    names = list(layers)
    if result_bits is not None:
        n_ae = len(ranges) - (1 if isinstance(net, ReconstructionLoss) else 0)
        if len(result_bits) != n_ae:
            raise ConfigError(f"{len(result_bits)} result types for an autoencoder of {n_ae} Dense layers")
    for k, (name, r) in enumerate(zip(dense, ranges, strict=True)):
        is_sum = isinstance(net, ReconstructionLoss) and k == len(ranges) - 1  # the loss's adder tree
        bits = (loss_width or width) if is_sum else width
        chosen = {q: FixedPoint(bits, integer_bits(r[q])).hls for q in ("weight", "bias", "result")}
        if result_bits is not None and k < len(result_bits):
            chosen["result"] = FixedPoint(width, int(result_bits[k])).hls
        layers[name]["Precision"].update(chosen)
        layers[name]["ReuseFactor"] = reuse_factor
        follower = names[names.index(name) + 1] if names.index(name) + 1 < len(names) else None
        if follower is not None and "table" in layers[follower]["Precision"]:  # the ReLU after it
            layers[follower]["Precision"]["result"] = chosen["result"]
        types.append(chosen)
    start = time.perf_counter()
    model = hls4ml.converters.convert_from_pytorch_model(net, hls_config=config, output_dir=str(output_dir),
                                                        backend="Vitis", io_type="io_parallel")
    model.compile()
    return FirmwareNet(width, input_type, types, time.perf_counter() - start, Path(output_dir), model, loss_types)


def layer_costs(net: nn.Module, *, reuse_factor: int = 1) -> list[dict[str, int]]:
    """Per Linear layer: inputs, outputs, multiplications per event, parameters, and the multipliers it needs at
    `reuse_factor` (each multiplier used reuse_factor times per event: ceil(multiplications / R)). For a
    `ReconstructionLoss`, its loss is one more entry: n squares (multiplications) summed by an adder tree (its
    unit weights are no multiplications and no parameters)."""
    if reuse_factor < 1:
        raise ConfigError(f"reuse_factor must be >= 1, got {reuse_factor}")
    layers = _linear_layers(net)
    if isinstance(net, ReconstructionLoss):
        layers = layers[:-1]
    out = []
    for module in layers:
        mults = module.in_features * module.out_features
        out.append({"inputs": module.in_features, "outputs": module.out_features, "multiplications": mults,
                    "parameters": mults + module.out_features, "multipliers": -(-mults // reuse_factor)})
    if isinstance(net, ReconstructionLoss):
        n = net.total.in_features
        out.append({"inputs": n, "outputs": 1, "multiplications": n, "parameters": 0,
                    "multipliers": -(-n // reuse_factor)})
    return out
