"""Quantisation-aware training: the fixed-point forward against FixedPoint.quantise and a slow layer-by-layer
reference, its straight-through gradient, the fine-tuned double autoencoder (saved and loaded, the float model
untouched), and (slow: one g++ compilation) the forward against hls4ml's bit-accurate emulation."""

import numpy as np
import pytest
import torch

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.models import DoubleDisCoAE
from anomalyhunt.models.firmware import (
    FixedPoint,
    ReconstructionLoss,
    compile_firmware,
    integer_bits,
    sequential_autoencoder,
)
from anomalyhunt.models.nets import AutoencoderArchitecture, AutoencoderNet
from anomalyhunt.models.quantisation_aware import FixedPointForward, fake_quantise


def _tiny(seed=0):
    torch.manual_seed(seed)
    return AutoencoderNet(6, AutoencoderArchitecture((8, 3), "relu", "none")).eval()


def _at_eight_bits(seed):
    """A tiny network, 400 events in [0, 1), its 8-bit forward calibrated on them, and that forward's quantised
    inputs and reconstruction."""
    net = _tiny(seed)
    x = np.random.default_rng(seed).random((400, 6)).astype(np.float32)
    forward = FixedPointForward(8).calibrate(net, x)
    with torch.no_grad():
        xq, r = forward.reconstruct(net, torch.as_tensor(x))
    return net, x, forward, xq, r


def _reference(net, x, width, result_bits):
    """The fixed-point forward one layer at a time in float64 with FixedPoint.quantise (NumPy)."""
    h = FixedPoint(width, integer_bits(1.0)).quantise(x)
    k = 0
    for m in sequential_autoencoder(net):
        if isinstance(m, torch.nn.Linear):
            w, b = m.weight.detach().double().numpy(), m.bias.detach().double().numpy()
            w = FixedPoint(width, integer_bits(np.abs(w).max())).quantise(w)
            b = FixedPoint(width, integer_bits(np.abs(b).max())).quantise(b)
            h = FixedPoint(width, result_bits[k]).quantise(h @ w.T + b)
            k += 1
        else:
            h = np.maximum(h, 0.0)
    return h


def test_fake_quantise_rounds_like_the_fixed_point_type_and_passes_the_gradient_through():
    t = FixedPoint(8, 3)
    x = torch.tensor([0.0, 0.01, 0.0157, -0.0157, 1.0 + 2**-6, 3.99, 9.0, -9.0], requires_grad=True)
    q = fake_quantise(x, t)
    np.testing.assert_array_equal(q.detach().numpy(), t.quantise(x.detach().numpy()).astype(np.float32))
    q.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(8))


def test_the_fixed_point_forward_is_the_layer_by_layer_reference_and_differs_from_float():
    net = _tiny()
    x = np.random.default_rng(0).random((300, 6)).astype(np.float32)
    forward = FixedPointForward(8).calibrate(net, x)
    # the calibrated types hold the float network's largest result of each Dense layer on the sample
    with torch.no_grad():
        h = torch.as_tensor(x)
        largest = []
        for m in sequential_autoencoder(net):
            h = m(h)
            if isinstance(m, torch.nn.Linear):
                largest.append(float(h.abs().max()))
    assert forward.result_bits == tuple(integer_bits(v) for v in largest)
    with torch.no_grad():
        xq, r = forward.reconstruct(net, torch.as_tensor(x))
        float_r = net(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(r.numpy(), _reference(net, x, 8, forward.result_bits), atol=1e-6)
    np.testing.assert_array_equal(xq.numpy(), FixedPoint(8, 2).quantise(x).astype(np.float32))
    assert np.abs(r.numpy() - float_r).max() > 1e-2
    with pytest.raises(ConfigError, match="result types"):
        FixedPointForward(8, result_bits=(1, 1)).reconstruct(net, torch.as_tensor(x))


def test_quantisation_aware_fine_tuning_gives_a_fixed_point_model_and_leaves_the_float_one():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1200, 7)).astype(np.float32)
    model = DoubleDisCoAE(hidden=(12, 6, 2), batch_size=300, max_epochs=4, patience=4, seed=2).fit(x)
    before = model.score_samples(x)
    weights = {k: v.clone() for k, v in model.model_.state_dict().items()}
    tuned = model.quantisation_aware(x, 8, max_epochs=3, learning_rate=1e-3)
    assert model.fixed_point_ is None and tuned.fixed_point_width == 8 and len(tuned.fixed_point_) == 2
    assert tuned.fixed_point_[0].input_type == FixedPoint(8, 2)  # MinMax-scaled inputs up to 1 (and < 2)
    wide_inputs = model.quantisation_aware(x, 8, max_epochs=1, input_max=8.0)
    assert wide_inputs.fixed_point_[1].input_type == FixedPoint(8, 5)  # up to 8 (and < 16)
    np.testing.assert_array_equal(model.score_samples(x), before)
    assert all(torch.equal(weights[k], v) for k, v in model.model_.state_dict().items())
    assert not all(torch.equal(weights[k], v) for k, v in tuned.model_.state_dict().items())  # it trained
    scores = tuned.score_samples(x)
    assert scores.shape == (1200, 2) and np.all(scores >= 0)
    # the scores are the fixed-point forward's: the MSE against the quantised inputs
    with torch.no_grad():
        xs = torch.as_tensor(tuned.scaled_inputs(x), dtype=torch.float32)
        xq, r = tuned.fixed_point_[0].reconstruct(tuned.model_.ae1, xs)
    np.testing.assert_allclose(scores[:, 0], ((r - xq) ** 2).mean(dim=1).numpy(), rtol=1e-5)


def test_a_fixed_point_model_saves_and_loads_its_types_and_refuses_an_onnx_graph(tmp_path):
    x = np.random.default_rng(4).normal(size=(800, 5)).astype(np.float32)
    model = DoubleDisCoAE(hidden=(8, 2), batch_size=200, max_epochs=2, fixed_point_width=10, seed=1).fit(x)
    assert model.fixed_point_[0].width == 10 and model.fixed_point_[0].result_bits is not None
    back = DoubleDisCoAE.load(model.save(tmp_path / "m.pt"), device="cpu")
    assert back.fixed_point_ == model.fixed_point_
    np.testing.assert_array_equal(back.score_samples(x), model.score_samples(x))
    with pytest.raises(ConfigError, match="fixed point"):
        model.export_onnx(tmp_path / "m.onnx")
    with pytest.raises(ConfigError, match="width"):
        DoubleDisCoAE(fixed_point_width=1)


@pytest.mark.slow
def test_the_fixed_point_forward_computes_what_the_hls4ml_emulation_computes(tmp_path):
    pytest.importorskip("hls4ml")
    net, x, forward, _, r = _at_eight_bits(5)
    fw = compile_firmware(sequential_autoencoder(net), x, 8, output_dir=tmp_path / "w8", input_max=1.0,
                          result_bits=forward.result_bits)
    emulated = fw.predict(x)
    assert [FixedPoint(8, b).hls for b in forward.result_bits] == [t["result"] for t in fw.layer_types]
    np.testing.assert_array_equal(emulated, r.numpy())  # the same numbers, event by event
    assert np.abs(emulated - net(torch.as_tensor(x)).detach().numpy()).max() > 1e-2  # and not float's


@pytest.mark.slow
def test_a_wider_loss_sums_the_squares_of_the_narrow_networks_reconstruction(tmp_path):
    pytest.importorskip("hls4ml")
    net, x, forward, xq, r = _at_eight_bits(6)
    expected = ((r - xq) ** 2).sum(dim=1).numpy()
    loss = ReconstructionLoss(sequential_autoencoder(net))
    kwargs = {"input_max": 1.0, "result_bits": forward.result_bits, "loss_max": 2 * float(expected.max())}
    wide = compile_firmware(loss, x, 8, output_dir=tmp_path / "wide", loss_width=18, **kwargs)
    narrow = compile_firmware(loss, x, 8, output_dir=tmp_path / "narrow", **kwargs)
    assert wide.layer_types[0]["weight"].startswith("ap_fixed<8,") and wide.loss_types["square"].startswith(
        "ap_fixed<18,") and wide.layer_types[-1]["result"].startswith("ap_fixed<18,")
    err_wide = np.abs(wide.predict(x)[:, 0] - expected)
    err_narrow = np.abs(narrow.predict(x)[:, 0] - expected)
    assert np.median(err_wide / expected) < 2e-3 < np.median(err_narrow / expected)
    with pytest.raises(ConfigError, match="loss_width"):
        compile_firmware(sequential_autoencoder(net), x, 8, loss_width=18)
