"""K networks as one batched module: members are independent, each as it would be alone, and the ensemble
classifier learns (AUC against scikit-learn)."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.models import (
    BatchedMLP,
    ClassifierEnsemble,
    FixedEpochs,
    MinValidationLoss,
    TrainConfig,
    train_ensemble,
)
from anomalyhunt.models.ensemble import member_seed


def _bce(out, y):
    return torch.nn.functional.binary_cross_entropy_with_logits(out.squeeze(-1), y, reduction="none")


def _toy(n, seed=0, shift=1.0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.5).astype(np.float32)
    return (rng.normal(0, 1, (n, 3)) + shift * y[:, None]).astype(np.float32), y


def test_members_do_not_influence_each_other():
    """Member k trains identically whether it has 1 or 3 companions: no cross-member terms, elementwise Adam."""
    x, y = _toy(600)
    config = TrainConfig(batch_size=64, max_epochs=3, stopping=FixedEpochs())
    cpu = torch.device("cpu")
    three, two = BatchedMLP(3, (3, 8, 1), seed=7), BatchedMLP(2, (3, 8, 1), seed=7)
    train_ensemble(three, _bce, x, config=config, device=cpu, targets=y)
    train_ensemble(two, _bce, x, config=config, device=cpu, targets=y)
    for a, b in zip(three.parameters(), two.parameters(), strict=True):
        torch.testing.assert_close(a[:2], b, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(three.weights[0][0], three.weights[0][1])  # each member its own initialisation


@pytest.mark.parametrize("member", [0, 1, 2])
def test_a_member_equals_the_same_network_trained_alone(member):
    """Member k of the batch vs a plain loop over one network with the same initial weights and the batch order of
    `member_seed(seed, k)`: every member, not only the first, sees its own order."""
    x, y = _toy(300, seed=1)
    config = TrainConfig(batch_size=50, max_epochs=2, validation_fraction=0.2, stopping=FixedEpochs())
    batched = BatchedMLP(3, (3, 5, 1), seed=3)
    alone = [(w[member].detach().clone().requires_grad_(), b[member].detach().clone().requires_grad_())
             for w, b in zip(batched.weights, batched.biases, strict=True)]
    train_ensemble(batched, _bce, x, config=config, device=torch.device("cpu"), targets=y)
    from anomalyhunt.models.train import split_validation

    train_idx, _ = split_validation(len(x), 0.2, config.seed)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    opt = torch.optim.Adam([p for layer in alone for p in layer], lr=1e-3)
    gen = torch.Generator().manual_seed(member_seed(config.seed, member))
    for _ in range(2):
        perm = torch.randperm(len(train_idx), generator=gen)
        for s in range(0, len(perm), 50):
            rows = torch.as_tensor(train_idx)[perm[s:s + 50]]
            h = xt[rows]
            for i, (w, b) in enumerate(alone):
                h = h @ w + b
                h = torch.relu(h) if i < len(alone) - 1 else h
            loss = _bce(h, yt[rows]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    for (w, b), bw, bb in zip(alone, batched.weights, batched.biases, strict=True):
        torch.testing.assert_close(w, bw[member], rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(b, bb[member], rtol=1e-4, atol=1e-6)


def test_each_member_keeps_its_own_best_epoch_with_its_own_weights():
    x, y = _toy(800, seed=2)
    weights = np.ones((2, len(x)))
    weights[1] = np.random.default_rng(5).poisson(1.0, len(x))  # a bootstrap replica
    config = TrainConfig(batch_size=40, max_epochs=30, stopping=MinValidationLoss(3))
    histories = train_ensemble(BatchedMLP(2, (3, 16, 1), seed=1), _bce, x, weights, config=config,
                               device=torch.device("cpu"), targets=y)
    for h in histories:
        assert h.best_epoch == int(np.argmin(h.val_loss))
        assert len(h.val_loss) == 30 or len(h.val_loss) - 1 - h.best_epoch == 3  # stopped after its own patience
    assert histories[0].val_loss != histories[1].val_loss
    with pytest.raises(ConfigError, match="weights must have shape"):
        train_ensemble(BatchedMLP(2, (3, 4, 1)), _bce, x, np.ones((3, len(x))), config=config,
                       device=torch.device("cpu"), targets=y)


def test_classifier_ensemble_separates_two_classes():
    x, y = _toy(4000, seed=3, shift=1.5)
    xt, yt = _toy(2000, seed=4, shift=1.5)
    model = ClassifierEnsemble(5, max_epochs=5, seed=0).fit(x, y)
    auc = roc_auc_score(yt, model.score_samples(xt))
    members = model.member_scores(xt)
    assert members.shape == (5, len(xt))
    np.testing.assert_allclose(members.mean(axis=0), model.score_samples(xt), rtol=1e-6)
    assert auc > 0.8  # Bayes-optimal for unit Gaussians 1.5 sigma apart in 3 dims: ~0.97
    assert max(roc_auc_score(yt, m) for m in members) - min(roc_auc_score(yt, m) for m in members) < 0.05
    with pytest.raises(ConfigError, match="0/1 label"):
        ClassifierEnsemble(2).fit(x, y + 2)


@pytest.mark.parametrize(("n_data", "n_sim"), [(20000, 20000), (10000, 40000)])
def test_mlc_output_converges_to_the_true_log_density_ratio(n_data, n_sim):
    # data ~ N(0.4, 1), simulation ~ N(0, 1): ln(p_data / p_sim)(x) = 0.4 x - 0.08, known analytically. With a
    # larger simulation each simulated event weighs N_D / N_R (NPLM's reference weighting).
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(0.4, 1.0, n_data), rng.normal(0.0, 1.0, n_sim)])[:, None]
    y = np.concatenate([np.ones(n_data), np.zeros(n_sim)])
    w = np.where(y == 1, 1.0, n_data / n_sim)
    model = ClassifierEnsemble(4, hidden=(16, 16), max_epochs=30, batch_size=512, seed=1, loss="mlc",
                               validation_fraction=0.1).fit(x, y, sample_weight=w)
    grid = np.linspace(-1.5, 1.5, 13)[:, None]
    truth = 0.4 * grid[:, 0] - 0.08
    f = model.score_samples(grid)
    assert np.max(np.abs(f - truth)) < 0.08, (f, truth)
    # the BCE logit estimates the same ratio up to ln(N_D / sum of simulation weights) = 0 here
    bce = ClassifierEnsemble(4, hidden=(16, 16), max_epochs=30, batch_size=512, seed=1, loss="bce",
                             validation_fraction=0.1).fit(x, y, sample_weight=w)
    p = bce.score_samples(grid)
    assert np.max(np.abs(np.log(p / (1 - p)) - truth)) < 0.08


def test_mlc_is_saved_and_loaded_with_its_loss(tmp_path):
    x, y = _toy(600, seed=5, shift=1.0)
    model = ClassifierEnsemble(2, max_epochs=2, seed=0, loss="mlc").fit(x, y)
    model.save(tmp_path / "m.pt")
    loaded = ClassifierEnsemble.load(tmp_path / "m.pt")
    assert loaded.loss == "mlc"
    np.testing.assert_allclose(loaded.score_samples(x), model.score_samples(x), rtol=1e-6)
    assert np.any(model.score_samples(x) < 0)  # f, not a probability
    with pytest.raises(ConfigError, match="unknown loss"):
        ClassifierEnsemble(2, loss="hinge")


def test_mlc_loss_stays_finite_for_far_outliers():
    # e^f overflows float32 at f ~ 89; above f = 30 the loss continues as its tangent (value and slope match)
    from anomalyhunt.models.ensemble import CLASSIFIER_LOSSES

    f = torch.tensor([[[-3.0], [10.0], [29.0], [30.0], [31.0], [500.0], [1e6]]], requires_grad=True)
    for label in (0.0, 1.0):
        loss = CLASSIFIER_LOSSES["mlc"](f, torch.full((1, 7), label))
        (grad,) = torch.autograd.grad(loss.sum(), f)
        assert torch.isfinite(loss).all() and torch.isfinite(grad).all()
    sim = CLASSIFIER_LOSSES["mlc"](f, torch.zeros(1, 7)).detach().double().squeeze()
    exact = torch.expm1(f.detach().double().squeeze()[:4])
    torch.testing.assert_close(sim[:4], exact, rtol=1e-6, atol=1e-6)  # exact below the cap
    assert sim[4] == pytest.approx(np.exp(30.0) * 2 - 1, rel=1e-5)  # tangent above it
