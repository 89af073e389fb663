"""The VRNN jet tagger: its KL against torch.distributions, masking of padded steps, training, persistence."""

import numpy as np
import pytest
import torch

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.models import VRNN
from anomalyhunt.models.vrnn import VRNNNet
from anomalyhunt.stats import auc


def _toy_sequences(rng, n, prongs, length=12):
    """(n, length, 3) sequences: pT fractions falling along the sequence; 1-prong jets narrow, 2-prong jets with
    a hard second constituent at dR ~ 0.4."""
    x = np.zeros((n, length, 3), dtype=np.float32)
    lengths = rng.integers(5, length + 1, n)
    for i in range(n):
        frac = np.sort(rng.exponential(1.0, lengths[i]))[::-1]
        if prongs == 2:
            frac[1] = frac[0] * rng.uniform(0.6, 0.9)
        frac = frac / frac.sum()
        x[i, : lengths[i], 0] = frac
        x[i, : lengths[i], 1] = np.abs(rng.normal(0, 0.05, lengths[i]))
        x[i, : lengths[i], 2] = rng.normal(0, 0.05, lengths[i])
        if prongs == 2:
            x[i, 1, 1:] = (0.3, 0.25)
    return x


def test_step_kl_is_the_gaussian_kl_of_encoder_to_learned_prior():
    torch.manual_seed(0)
    net = VRNNNet(max_length=1, step_weights=[1.7])
    x = torch.tensor([[[0.6, 0.1, -0.2]], [[0.3, -0.4, 0.5]]])
    _, kl, length = net(x, sample=False)
    h = torch.zeros(2, 16)
    mu_p, logvar_p = net.prior(h).chunk(2, dim=1)
    mu_q, logvar_q = net.encoder(torch.cat([net.phi_x(x[:, 0]), h], dim=1)).chunk(2, dim=1)
    q = torch.distributions.Normal(mu_q, torch.exp(0.5 * logvar_q))
    p = torch.distributions.Normal(mu_p, torch.exp(0.5 * logvar_p))
    expected = 1.7 * torch.distributions.kl_divergence(q, p).sum(dim=1)
    torch.testing.assert_close(kl, expected, rtol=1e-5, atol=1e-6)
    assert length.tolist() == [1.0, 1.0]


def test_padding_is_masked_and_jets_are_scored_independently():
    rng = np.random.default_rng(1)
    x = _toy_sequences(rng, 50, 1)
    model = VRNN(max_epochs=2, seed=0).fit(x.reshape(50, -1))
    scores = model.score_samples(x.reshape(50, -1))
    # the same jets with 8 more padding steps, and scored in another company
    longer = np.concatenate([x, np.zeros((50, 8, 3), np.float32)], axis=1)
    net = model.model_
    with torch.no_grad():
        _, kl_long, _ = net(torch.as_tensor(model._transform(longer.reshape(50, -1))).reshape(50, -1, 3),
                            sample=False)
    np.testing.assert_allclose(kl_long.numpy(), scores, rtol=1e-5)
    np.testing.assert_allclose(model.score_samples(x[7:9].reshape(2, -1)), scores[7:9], rtol=1e-5)
    assert np.all(model.anomaly_score(x.reshape(50, -1)) < 1) and np.all(scores >= 0)


def test_a_jets_score_and_reconstruction_do_not_depend_on_its_padding_or_batch_neighbours():
    """A 3-step jet scored alone, with its 9 padding steps evaluated (no early exit), and batched with a 6-step
    jet: the same KL and the same reconstruction error, since padded steps enter neither term."""
    rng = np.random.default_rng(4)
    x = _toy_sequences(rng, 40, 1, length=12)
    model = VRNN(max_epochs=2, seed=0).fit(x.reshape(40, -1))
    short, long = np.zeros((1, 12, 3), np.float32), np.zeros((1, 12, 3), np.float32)
    short[0, :3] = [[0.5, 0.02, 0.01], [0.3, 0.05, -0.02], [0.2, 0.08, 0.03]]
    long[0, :6] = [[0.4, 0.01, 0.0], [0.2, 0.03, 0.02], [0.15, 0.05, -0.01], [0.1, 0.06, 0.04],
                   [0.1, 0.09, -0.05], [0.05, 0.1, 0.02]]
    alone = (model.score_samples(short.reshape(1, -1)), model.reconstruction_error(short.reshape(1, -1)))
    pair = np.concatenate([short, long]).reshape(2, -1)
    together = (model.score_samples(pair)[:1], model.reconstruction_error(pair)[:1])
    with torch.no_grad():
        reco_pad, kl_pad, length = model.model_(
            torch.as_tensor(model._transform(short.reshape(1, -1))).reshape(1, -1, 3), sample=False,
            stop_early=False)
    assert length.item() == 3
    for value, reference in zip(together, alone, strict=True):
        np.testing.assert_allclose(value, reference, rtol=1e-5)
    np.testing.assert_allclose(kl_pad.numpy(), alone[0], rtol=1e-5)
    np.testing.assert_allclose(reco_pad.numpy(), alone[1], rtol=1e-5)


def test_vrnn_learns_the_training_jets_and_flags_other_shapes():
    rng = np.random.default_rng(2)
    train = _toy_sequences(rng, 1500, 1)
    model = VRNN(max_epochs=15, patience=3, seed=3).fit(train.reshape(len(train), -1))
    hist = model.history_
    assert hist.val_loss[hist.best_epoch] < hist.val_loss[0]
    one, two = _toy_sequences(rng, 300, 1), _toy_sequences(rng, 300, 2)
    s1, s2 = model.score_samples(one.reshape(300, -1)), model.score_samples(two.reshape(300, -1))
    r1 = model.reconstruction_error(one.reshape(300, -1))
    r2 = model.reconstruction_error(two.reshape(300, -1))
    # one of the two halves of the loss must see the unseen shape; the KL is the tagger's score
    assert max(auc(s1, s2), auc(r1, r2)) > 0.8
    # Kahn et al.'s position weights: the mean pT fraction per step over the training jets (not normalised)
    np.testing.assert_allclose(model.step_weights_, train[:, :, 0].mean(axis=0), rtol=1e-5)
    assert model.step_weights_[0] > model.step_weights_[-1]
    ours = VRNN(max_epochs=1, position_weights="normalised").fit(train.reshape(len(train), -1))
    np.testing.assert_allclose(ours.step_weights_.mean(), 1.0, rtol=1e-6)


def test_standardisation_keeps_the_padding_mark_and_uses_real_steps_only():
    rng = np.random.default_rng(8)
    x = _toy_sequences(rng, 300, 1)
    model = VRNN(max_epochs=1, standardise=True).fit(x.reshape(300, -1))  # our option, off by default
    real = x[:, :, 0] > 0
    np.testing.assert_allclose(model.scale_, [x[:, :, k][real].std() for k in range(3)], rtol=1e-4)
    np.testing.assert_allclose(model.offset_[1:], [x[:, :, k][real].mean() for k in (1, 2)], rtol=1e-4, atol=1e-7)
    assert model.offset_[0] == 0.0
    t = model._transform(x.reshape(300, -1)).reshape(300, -1, 3)
    assert np.all((t[:, :, 0] > 0) == real) and np.all(t[~real] == 0)
    raw = VRNN(max_epochs=1).fit(x.reshape(300, -1))
    assert np.all(raw.scale_ == 1) and np.all(raw.offset_ == 0)


def test_seeded_training_reproduces_and_persistence_round_trips(tmp_path):
    rng = np.random.default_rng(4)
    x = _toy_sequences(rng, 200, 1).reshape(200, -1)
    a = VRNN(max_epochs=3, seed=5).fit(x)
    b = VRNN(max_epochs=3, seed=5).fit(x)
    np.testing.assert_array_equal(a.score_samples(x), b.score_samples(x))
    path = a.save(tmp_path / "vrnn.pt")
    loaded = VRNN.load(path, device="cpu")
    np.testing.assert_allclose(loaded.score_samples(x), a.score_samples(x), rtol=1e-6)
    np.testing.assert_allclose(loaded.step_weights_, a.step_weights_)


def test_vrnn_refuses_bad_settings_and_inputs():
    with pytest.raises(ConfigError, match="hidden"):
        VRNN(hidden=0)
    with pytest.raises(ConfigError, match="kl_weight"):
        VRNN(kl_weight=-1.0)
    x = np.zeros((10, 12), np.float32)
    with pytest.raises(ConfigError, match="empty sequence"):
        VRNN(max_epochs=1).fit(x)
    with pytest.raises(ConfigError, match="not 3 x T"):
        VRNN(max_epochs=1).fit(np.ones((10, 7), np.float32))


def test_onnx_export_scores_like_torch(tmp_path):
    import onnxruntime as ort

    rng = np.random.default_rng(6)
    x = _toy_sequences(rng, 120, 2).reshape(120, -1)
    model = VRNN(max_epochs=1, seed=1).fit(x)
    path = model.export_onnx(tmp_path / "vrnn.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = session.run(None, {"sequences": x[:37]})[0]  # another batch size than the export's example
    np.testing.assert_allclose(out, model.score_samples(x[:37]), rtol=1e-4, atol=1e-6)
