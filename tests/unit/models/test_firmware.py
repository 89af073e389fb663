"""The firmware emulation's pieces: ap_fixed quantisation, integer bits, layer costs, the flattened autoencoder,
the missing-hls4ml line; and (slow: two g++ compilations) hls4ml's emulation of a tiny autoencoder against float."""

import numpy as np
import pytest
import torch

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.models.firmware import (
    FixedPoint,
    ReconstructionLoss,
    compile_firmware,
    integer_bits,
    layer_costs,
    require_hls4ml,
    sequential_autoencoder,
)
from anomalyhunt.models.nets import AutoencoderArchitecture, AutoencoderNet


def _tiny(seed=0):
    torch.manual_seed(seed)
    return AutoencoderNet(6, AutoencoderArchitecture((8, 3), "relu", "none"))


def test_quantise_rounds_to_the_step_and_saturates():
    q = FixedPoint(8, 3)  # step 2^-5, range [-4, 4 - 2^-5]
    assert q.step == 2**-5 and q.hls == "ap_fixed<8,3,AP_RND,AP_SAT>"
    x = np.array([0.0, 0.01, 0.0157, -0.0157, 1.0 + 2**-6, 3.99, 9.0, -9.0])
    np.testing.assert_array_equal(q.quantise(x), [0.0, 0.0, 2**-5, -2**-5, 1.0 + 2**-5, 4 - 2**-5, 4 - 2**-5, -4.0])
    with pytest.raises(ConfigError, match="width"):
        FixedPoint(1, 1)


def test_integer_bits_hold_the_largest_value_with_its_sign():
    for max_abs in (0.3, 0.999, 1.0, 1.7, 5.0, 100.0):
        bits = integer_bits(max_abs)
        assert 2 ** (bits - 1) > max_abs >= 2 ** (bits - 2) or bits == 1
    assert integer_bits(0.0) == 1


def test_flattened_autoencoder_computes_the_same_reconstruction_and_costs_count_its_layers():
    ae = _tiny()
    flat = sequential_autoencoder(ae)
    x = torch.rand(50, 6)
    torch.testing.assert_close(flat(x), ae(x))
    costs = layer_costs(flat, reuse_factor=4)
    assert [(c["inputs"], c["outputs"]) for c in costs] == [(6, 8), (8, 3), (3, 8), (8, 6)]
    assert [c["multiplications"] for c in costs] == [48, 24, 24, 48]
    assert [c["multipliers"] for c in costs] == [12, 6, 6, 12]
    assert sum(c["parameters"] for c in costs) == 48 + 8 + 24 + 3 + 24 + 8 + 48 + 6


def test_the_reconstruction_loss_is_the_summed_squared_error_and_costs_its_squares():
    flat = sequential_autoencoder(_tiny())
    loss = ReconstructionLoss(flat)
    x = torch.rand(50, 6)
    expected = ((x - flat(x)) ** 2).sum(dim=1, keepdim=True)
    torch.testing.assert_close(loss(x), expected)
    difference, square, total = loss.parts(x)
    torch.testing.assert_close(square, difference**2)
    torch.testing.assert_close(total, expected)
    costs = layer_costs(loss, reuse_factor=4)
    assert costs[:-1] == layer_costs(flat, reuse_factor=4)
    assert costs[-1] == {"inputs": 6, "outputs": 1, "multiplications": 6, "parameters": 0, "multipliers": 2}


def test_a_missing_hls4ml_is_one_line_naming_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "hls4ml", None)  # import hls4ml now raises ImportError
    with pytest.raises(ConfigError, match=r"pip install 'anomalyhunt\[trigger\]'"):
        require_hls4ml()


@pytest.mark.slow
def test_hls4ml_emulation_agrees_with_float_at_high_precision_and_not_at_six_bits(tmp_path):
    pytest.importorskip("hls4ml")
    net = sequential_autoencoder(_tiny())
    x = np.random.default_rng(0).random((400, 6)).astype(np.float32)
    reference = net(torch.as_tensor(x)).detach().numpy()
    wide = compile_firmware(net, x, 32, output_dir=tmp_path / "w32")
    assert np.abs(wide.predict(x) - reference).max() < 1e-3
    narrow = compile_firmware(net, x, 6, output_dir=tmp_path / "w6")
    assert np.abs(narrow.predict(x) - reference).max() > 1e-2
    assert wide.input_type == FixedPoint(32, 1) and wide.predict(x[:0]).shape == (0, 6)


@pytest.mark.slow
def test_the_loss_computed_in_fixed_point_agrees_at_high_precision_and_not_at_six_bits(tmp_path):
    pytest.importorskip("hls4ml")
    loss = ReconstructionLoss(sequential_autoencoder(_tiny(1)))
    x = np.random.default_rng(1).random((400, 6)).astype(np.float32)
    reference = loss(torch.as_tensor(x)).detach().numpy()[:, 0]
    wide = compile_firmware(loss, x, 32, output_dir=tmp_path / "w32")
    assert wide.predict(x).shape == (400, 1)
    assert np.abs(wide.predict(x)[:, 0] - reference).max() < 1e-3 * reference.max()
    assert set(wide.loss_types) == {"difference", "square"}
    narrow = compile_firmware(loss, x, 6, output_dir=tmp_path / "w6")
    assert np.median(np.abs(narrow.predict(x)[:, 0] - reference) / reference) > 1e-2


@pytest.mark.slow
def test_a_loss_sized_on_the_profile_clips_an_outlier_and_loss_max_keeps_it(tmp_path):
    pytest.importorskip("hls4ml")
    loss = ReconstructionLoss(sequential_autoencoder(_tiny(2)))
    x = np.random.default_rng(2).random((400, 6)).astype(np.float32)
    outlier = np.array([[3.5, 0.5, 0.5, 0.5, 0.5, 0.5]], dtype=np.float32)  # far beyond the profile
    reference = float(loss(torch.as_tensor(outlier)).detach()[0, 0])
    profiled = compile_firmware(loss, x, 16, output_dir=tmp_path / "profile", input_max=4.0)
    assert profiled.predict(outlier)[0, 0] < 0.8 * reference  # its square saturated at the SM-sized type
    sized = compile_firmware(loss, x, 16, output_dir=tmp_path / "sized", input_max=4.0, loss_max=1.5 * reference)
    assert sized.predict(outlier)[0, 0] == pytest.approx(reference, rel=1e-2)
    assert sized.loss_types["square"] == FixedPoint(16, integer_bits(1.5 * reference)).hls
    with pytest.raises(ConfigError, match="loss_max"):
        compile_firmware(sequential_autoencoder(_tiny()), x, 16, loss_max=1.0)
