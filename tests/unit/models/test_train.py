"""The shared training loop: the kept epoch is really restored, weights enter only through their ratios,
optimizers and stopping rules are pluggable and do what they say."""

import numpy as np
import pytest
import torch

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.models import (
    Adadelta,
    Adam,
    Autoencoder,
    FixedEpochs,
    MaxMonitored,
    MinValidationLoss,
    TrainConfig,
    TrainHistory,
    train_model,
)
from anomalyhunt.models.nets import mlp
from anomalyhunt.models.train import split_validation

from .test_autoencoder import low_rank_data


def _mse(model, xb):
    return (model(xb) - xb).pow(2).mean(dim=1)


def test_returned_model_is_the_best_epoch_not_the_last(rng):
    x = low_rank_data(rng, n=600)
    torch.manual_seed(0)
    net = mlp((30, 8, 30), "relu")
    config = TrainConfig(batch_size=50, max_epochs=40, seed=3, optimizer=Adam(0.05), stopping=MinValidationLoss(4))
    h = train_model(net, _mse, x, config=config, device=torch.device("cpu"))
    assert h.best_epoch < len(h.val_loss) - 1  # the high learning rate makes it overshoot and stop later
    _, val = split_validation(len(x), config.validation_fraction, config.seed)
    with torch.no_grad():
        again = float(_mse(net, torch.as_tensor(x[val])).mean())
    assert again == pytest.approx(h.val_loss[h.best_epoch], rel=1e-5)
    assert again < h.val_loss[-1]


def test_scores_do_not_change_when_every_weight_is_scaled(rng):
    x = low_rank_data(rng, n=800)
    w = np.random.default_rng(4).uniform(0.1, 3.0, len(x))
    a = Autoencoder(max_epochs=5, seed=1).fit(x, w).score_samples(x)
    b = Autoencoder(max_epochs=5, seed=1).fit(x, 10 * w).score_samples(x)
    np.testing.assert_allclose(a, b, rtol=1e-5)


def _history(values, key="val_kl"):
    return TrainHistory(train_loss=[0.0] * len(values), val_loss=[0.0] * len(values), monitored={key: list(values)})


def test_max_monitored_rises_then_falls():
    rule = MaxMonitored("val_kl", rise=5, fall=5)
    rising = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    falling = [0.55, 0.5, 0.45, 0.4]
    # the maximum at epoch 5 is kept; four falling epochs are not yet five
    assert rule.step(_history(rising)) == (True, False)
    assert rule.step(_history(rising + falling)) == (False, False)
    assert rule.step(_history(rising + falling + [0.35])) == (False, True)
    # a peak reached before `rise` epochs does not stop training, however long it falls
    early = [0.5, 0.9, 0.3, 0.2, 0.1, 0.05, 0.04, 0.03]
    assert rule.step(_history(early)) == (False, False)
    # a tie does not move the maximum
    assert rule.step(_history(rising + [0.6])) == (False, False)


def test_max_monitored_strict_needs_straight_rise_and_fall():
    rule = MaxMonitored("val_kl", rise=3, fall=3, strict=True)
    loose = MaxMonitored("val_kl", rise=3, fall=3)
    up = [0.1, 0.2, 0.3, 0.4]
    assert rule.decide(up + [0.35, 0.3, 0.25]) == (False, True)
    # a wobble inside the rise: the peak was not reached by 3 straight increases (the loose rule stops)
    wobble = [0.1, 0.3, 0.25, 0.4, 0.35, 0.3, 0.25]
    assert loose.decide(wobble) == (False, True)
    assert rule.decide(wobble) == (False, False)
    # a tick up after the peak, still below it: never confirmed, however long it then falls
    tick = up + [0.35, 0.36, 0.3, 0.2, 0.1, 0.05]
    assert loose.decide(tick) == (False, True)
    assert rule.decide(tick) == (False, False)
    # a later, higher, clean peak is confirmed and is the one kept
    later = tick + [0.5, 0.6, 0.7, 0.8]
    assert rule.decide(later) == (True, False)
    assert rule.decide(later + [0.7, 0.6, 0.5]) == (False, True)
    # NaN never counts as a maximum
    assert rule.decide(up + [float("nan")]) == (False, False)
    # the window's edges: a tick up at the last step of the fall window is not a fall of 3 (it must not stop) ...
    assert rule.decide(up + [0.35, 0.3, 0.32]) == (False, False)
    # ... one just after the window comes too late to matter (it must stop) ...
    assert rule.decide(up + [0.35, 0.3, 0.25, 0.27]) == (False, True)
    # ... and the same on the rise side: a dip at the first step of the rise window is not a rise of 3
    assert rule.decide([0.25, 0.2, 0.3, 0.4, 0.35, 0.3, 0.25]) == (False, False)
    assert rule.decide([0.2, 0.1, 0.15, 0.3, 0.4, 0.35, 0.3, 0.25]) == (False, True)


def test_min_validation_loss_counts_patience_from_the_best_epoch():
    rule = MinValidationLoss(patience=2)
    h = TrainHistory(val_loss=[3.0, 2.0, 2.5])
    assert rule.step(h) == (False, False)
    h.val_loss.append(2.0)  # equal is not better
    assert rule.step(h) == (False, True)
    assert FixedEpochs().step(h) == (True, False)


def test_max_monitored_drives_training_through_a_monitor(rng):
    x = low_rank_data(rng, n=300)
    torch.manual_seed(0)
    net = mlp((30, 4, 30), "relu")
    calls = []

    def monitor(model, xv, wv):
        calls.append(len(xv))
        return {"val_kl": -float(_mse(model, xv).mean())}  # rises while the loss falls

    config = TrainConfig(batch_size=30, max_epochs=12, stopping=MaxMonitored("val_kl", rise=1, fall=3))
    h = train_model(net, _mse, x, config=config, device=torch.device("cpu"), monitor=monitor)
    assert len(h.monitored["val_kl"]) == len(h.val_loss) == len(calls)
    assert h.best_epoch == int(np.argmax(h.monitored["val_kl"]))
    with pytest.raises(ConfigError, match="monitor"):
        train_model(mlp((30, 4, 30), "relu"), _mse, x, device=torch.device("cpu"),
                    config=TrainConfig(max_epochs=2, stopping=MaxMonitored("val_kl")))


def test_optimizers_are_keras_adadelta_and_adam():
    opt = Adadelta().build([torch.nn.Parameter(torch.zeros(2))])
    assert isinstance(opt, torch.optim.Adadelta)
    assert opt.defaults["lr"] == 1e-3 and opt.defaults["rho"] == 0.95 and opt.defaults["eps"] == 1e-7
    assert isinstance(Adam(2e-3).build([torch.nn.Parameter(torch.zeros(2))]), torch.optim.Adam)
    with pytest.raises(ConfigError, match="learning_rate"):
        Adam(0.0)
    with pytest.raises(ConfigError, match="rho"):
        Adadelta(rho=1.5)
    with pytest.raises(ConfigError, match="optimizer"):
        TrainConfig(optimizer="sgd")


def test_adadelta_trains_an_autoencoder(rng):
    x = low_rank_data(rng, n=600)
    model = Autoencoder(max_epochs=5, optimizer="adadelta", learning_rate=1.0, patience=None, seed=0).fit(x)
    assert len(model.history_.val_loss) == 5 and model.history_.best_epoch == 4
    assert model.history_.val_loss[-1] < model.history_.val_loss[0]


def test_the_shared_epoch_loop_stops_and_keeps_each_member_on_its_own():
    """Three members with scripted validation losses under MinValidationLoss(patience=2): each keeps its own
    minimum, stops two epochs after it, stops recording once stopped, and the loop ends when the last one stops."""
    from anomalyhunt.models.train import EpochLosses, run_epochs

    val = np.array([[5, 4, 3, 2, 1, 0.5, 0.4],   # still improving at the end: runs all 7 epochs
                    [5, 1, 2, 3, 4, 5, 6],       # best at 1, stops at 3
                    [5, 4, 1, 2, 3, 4, 5]]).T    # best at 2, stops at 4
    kept = []

    def one_epoch(epoch):
        return EpochLosses(train=val[epoch] * 2, val=val[epoch], monitored={"x": val[epoch] + 1})

    histories, epochs, stopped = run_epochs(one_epoch, n_members=3, max_epochs=7, stopping=MinValidationLoss(2),
                                   keep=lambda mask: kept.append(mask.copy()), desc="test")
    assert epochs == 7 and stopped.tolist() == [False, True, True]
    assert [h.best_epoch for h in histories] == [6, 1, 2]
    assert [len(h.val_loss) for h in histories] == [7, 4, 5]
    assert histories[1].monitored["x"] == [6, 2, 3, 4]
    assert histories[2].train_loss == [10, 8, 2, 4, 6]
    assert [m.tolist() for m in kept] == [[True, True, True], [True, True, True], [True, False, True],
                                          [True, False, False], [True, False, False], [True, False, False],
                                          [True, False, False]]
    _, epochs, _ = run_epochs(lambda e: EpochLosses(val[e, 1:], val[e, 1:]), n_members=2, max_epochs=7,
                           stopping=MinValidationLoss(2), keep=lambda mask: None, desc="test")
    assert epochs == 5  # the second member stops after epoch 4
