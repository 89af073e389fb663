import numpy as np
import pytest
import torch

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.models import Autoencoder, resolve_device


def low_rank_data(rng, n=3000, d=30, rank=3):
    """Points near a 3-D linear manifold in [0, 1]^30, with four always-zero columns."""
    z = rng.uniform(0, 1, (n, rank))
    x = z @ rng.uniform(0, 1, (rank, d)) / rank + rng.normal(0, 0.005, (n, d)).clip(0)
    x[:, :4] = 0.0
    return x.astype(np.float32)


def test_training_lowers_the_loss_and_outliers_score_higher(rng):
    x = low_rank_data(rng)
    model = Autoencoder(max_epochs=40, patience=10, batch_size=100, seed=1).fit(x)
    assert model.history_.val_loss[-1] < 0.5 * model.history_.val_loss[0]
    assert len(model.columns_) == 26  # the all-zero columns were dropped
    inliers = model.score_samples(low_rank_data(np.random.default_rng(2), n=500))
    outliers = model.score_samples(np.random.default_rng(3).uniform(0, 1, (500, 30)).astype(np.float32))
    assert np.median(outliers) > np.median(inliers) + 1.0


def test_same_seed_same_model_and_global_rng_untouched(rng):
    x = low_rank_data(rng, n=600)
    state = torch.random.get_rng_state()
    a = Autoencoder(max_epochs=3, seed=5).fit(x).score_samples(x)
    assert torch.equal(state, torch.random.get_rng_state())
    b = Autoencoder(max_epochs=3, seed=5).fit(x).score_samples(x)
    c = Autoencoder(max_epochs=3, seed=6).fit(x).score_samples(x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_save_load_round_trip_scores_identically(rng, tmp_path):
    x = low_rank_data(rng, n=600)
    model = Autoencoder("atlas2024", max_epochs=2, scale="minmax", seed=2).fit(x)
    model.save(tmp_path / "ae.pt")
    back = Autoencoder.load(tmp_path / "ae.pt")
    np.testing.assert_allclose(back.score_samples(x), model.score_samples(x), rtol=1e-6)
    assert back.history_.train_loss == model.history_.train_loss
    assert back.get_params()["preset"] == "atlas2024"


def test_early_stopping_restores_the_best_epoch(rng):
    x = low_rank_data(rng, n=400)
    model = Autoencoder(max_epochs=60, patience=3, learning_rate=3e-2, seed=0).fit(x)
    h = model.history_
    assert len(h.val_loss) <= 60
    assert h.best_epoch == int(np.argmin(h.val_loss))
    if len(h.val_loss) < 60:
        assert len(h.val_loss) - 1 - h.best_epoch == 3


def test_weights_enter_the_loss(rng):
    x = low_rank_data(rng, n=1000)
    x[:500] = np.random.default_rng(9).uniform(0, 1, (500, 30))
    w_noise = np.r_[np.full(500, 10.0), np.full(500, 0.1)]
    w_clean = w_noise[::-1].copy()
    a = Autoencoder(max_epochs=20, seed=1).fit(x, w_noise)
    b = Autoencoder(max_epochs=20, seed=1).fit(x, w_clean)
    clean = low_rank_data(np.random.default_rng(4), n=300)
    assert np.median(b.score_samples(clean)) < np.median(a.score_samples(clean))


def test_bad_configuration_and_inputs_are_clear_errors(rng):
    with pytest.raises(ConfigError, match="preset"):
        Autoencoder("vae")
    with pytest.raises(ConfigError, match="batch_size"):
        Autoencoder(batch_size=0)
    model = Autoencoder(max_epochs=1).fit(low_rank_data(rng, n=100))
    with pytest.raises(ConfigError, match="shape"):
        model.score_samples(np.zeros((3, 7), dtype=np.float32))


def test_device_is_automatic():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_trains_on_cuda(rng):
    model = Autoencoder(max_epochs=2, device="cuda").fit(low_rank_data(rng, n=500))
    assert model.history_.device.startswith("cuda")
