"""The Bortolato et al. VAE ensemble: the KL score against torch's own KL, MaxAbs scaling against scikit-learn, members
that train exactly as they would alone, the kept epoch, persistence, and the characterisation decoders."""

import numpy as np
import pytest
import torch
from sklearn.preprocessing import MaxAbsScaler

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.models import MaxMonitored, VAEEnsemble, kl_to_prior, latent_decoder_inputs, train_latent_decoders
from anomalyhunt.models.train import split_validation


def _data(rng, n=1500):
    z = rng.normal(size=(n, 1))
    return np.concatenate([200 + 60 * z + rng.normal(0, 10, (n, 1)), 0.5 + 0.1 * rng.normal(size=(n, 2)),
                           80 - 20 * z + rng.normal(0, 5, (n, 1)), 0.6 + 0.1 * rng.normal(size=(n, 2))], axis=1)


def test_kl_to_prior_is_torchs_gaussian_kl():
    mean, logvar = torch.randn(50, 3), torch.randn(50, 3)
    q = torch.distributions.Normal(mean, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    expected = torch.distributions.kl_divergence(q, p).sum(-1)
    torch.testing.assert_close(kl_to_prior(mean, logvar), expected, rtol=1e-5, atol=1e-6)


def test_members_train_as_they_would_alone_and_score_is_the_member_mean(rng):
    x = _data(rng)
    settings = dict(batch_size=200, max_epochs=4, learning_rate=0.5, seed=3, device="cpu")
    three = VAEEnsemble(n_members=3, **settings).fit(x)
    one = VAEEnsemble(n_members=1, **settings).fit(x)
    kl3, reco3 = three.member_scores(x)
    kl1, reco1 = one.member_scores(x)
    np.testing.assert_allclose(kl3[0], kl1[0], rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(reco3[0], reco1[0], rtol=1e-3, atol=1e-6)
    assert not np.allclose(kl3[0], kl3[1])  # members differ (own initialisation, order, noise)
    np.testing.assert_allclose(three.score_samples(x), kl3.mean(0), rtol=1e-6)
    np.testing.assert_allclose(three.scale_, MaxAbsScaler().fit(x).scale_, rtol=1e-6)
    # the same seed reproduces the same ensemble
    np.testing.assert_allclose(VAEEnsemble(n_members=3, **settings).fit(x).score_samples(x),
                               three.score_samples(x), rtol=1e-6)


@pytest.mark.parametrize("member", [1, 2])
def test_member_k_equals_a_vae_trained_alone_with_member_ks_seeds(rng, monkeypatch, member):
    """Member k >= 1 of a 3-member ensemble is the VAE that a 1-member ensemble trains when its seed streams
    (initialisation, batch order, sampling noise) are member k's: no member borrows another's stream."""
    from anomalyhunt.models import vae as vae_module

    x = _data(rng, 600)
    settings = dict(batch_size=100, max_epochs=3, learning_rate=0.5, seed=3, device="cpu")
    three = VAEEnsemble(n_members=3, **settings).fit(x)
    streams = vae_module._seeds
    monkeypatch.setattr(vae_module, "_seeds", lambda seed, n, part: streams(seed, 3, part)[member:member + n])
    alone = VAEEnsemble(n_members=1, **settings).fit(x)
    kl3, reco3 = three.member_scores(x)
    kl1, reco1 = alone.member_scores(x)
    np.testing.assert_allclose(kl3[member], kl1[0], rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(reco3[member], reco1[0], rtol=1e-3, atol=1e-6)


def test_the_validation_kl_is_weighted_by_the_event_weights(rng):
    """With non-uniform weights (pTHat-biased QCD is weighted), each member's recorded validation KL is the
    weighted mean of its KL over the validation events: the kept epoch depends on it."""
    x = _data(rng, 800)
    weights = np.exp(rng.normal(0.0, 1.0, len(x))) * (1 + 4 * (x[:, 0] > 250))  # heavy where the KL differs
    vae = VAEEnsemble(n_members=2, batch_size=100, max_epochs=4, learning_rate=0.5, seed=5, validation_fraction=0.3,
                      device="cpu").fit(x, weights)
    _, val_idx = split_validation(len(x), 0.3, 5)
    kl_val, _ = vae.member_scores(x[val_idx])
    weighted = kl_val @ weights[val_idx] / weights[val_idx].sum()
    kept = [h.monitored["val_kl"][h.best_epoch] for h in vae.histories_]
    np.testing.assert_allclose(kept, weighted, rtol=1e-4)
    assert not np.allclose(kept, kl_val.mean(1), rtol=1e-3)  # the weights matter here: the test can tell


def test_each_member_keeps_its_epoch_of_largest_validation_kl(rng):
    x = _data(rng)
    vae = VAEEnsemble(n_members=4, batch_size=200, max_epochs=12, learning_rate=0.3, rise=1, fall=2, seed=1,
                      validation_fraction=0.2, device="cpu").fit(x)
    rule = MaxMonitored("val_kl", rise=1, fall=2, strict=True)
    for h, stopped in zip(vae.histories_, vae.stopped_, strict=True):
        kl = h.monitored["val_kl"]
        assert h.best_epoch == int(np.argmax(kl))
        assert stopped == rule.decide(kl)[1]  # a member's history ends where its rule stopped it
        assert stopped or len(kl) == 12
    # the restored weights are each member's kept epoch: they give back its largest validation KL
    _, val_idx = split_validation(len(x), 0.2, 1)
    kl_val, _ = vae.member_scores(x[val_idx])
    np.testing.assert_allclose(kl_val.mean(1), [max(h.monitored["val_kl"]) for h in vae.histories_], rtol=1e-4)


def test_save_load_round_trip_and_monitor(tmp_path, rng):
    x = _data(rng, 800)
    sig = x[:60] * np.array([2.5, 0.4, 1, 1.5, 0.5, 1])
    x_eval = np.concatenate([x[:300], sig])
    labels = np.r_[np.zeros(300, bool), np.ones(60, bool)]
    vae = VAEEnsemble(n_members=2, batch_size=100, max_epochs=3, seed=2, device="cpu")
    seen = []

    def measure(kl, reco):
        seen.append((kl.shape, reco.shape))
        return np.stack([kl[:, labels].mean(1), reco[:, labels].mean(1)], axis=1)

    vae.fit(x, monitor=(x_eval, measure))
    assert seen == [((2, 360), (2, 360))] * 3 and vae.epoch_monitor_.shape == (3, 2, 2)
    vae.save(tmp_path / "vae.pt")
    back = VAEEnsemble.load(tmp_path / "vae.pt", device="cpu")
    np.testing.assert_allclose(back.score_samples(x_eval), vae.score_samples(x_eval), rtol=1e-6)
    mean, sigma = back.encode(x_eval)
    assert mean.shape == sigma.shape == (2, 360, 1) and np.all(sigma > 0)
    assert [h.best_epoch for h in back.histories_] == list(vae.best_epochs)


def test_hyperparameters_are_validated():
    with pytest.raises(ConfigError, match="n_members"):
        VAEEnsemble(n_members=0)
    with pytest.raises(ConfigError, match="alpha"):
        VAEEnsemble(alpha=-1.0)
    with pytest.raises(ConfigError, match="validation_fraction"):
        VAEEnsemble(validation_fraction=1.0)


def test_latent_decoders_learn_what_the_mass_adds(rng):
    # an observable that depends only on m_jj: the decoder with m as input reconstructs it, per member
    n, k = 3000, 2
    mjj = rng.uniform(2000, 6000, n)
    target = np.stack([mjj / 6000.0, np.full(n, 0.5)], axis=1).astype(np.float32)
    mean, sigma = rng.normal(size=(k, n, 1)), np.full((k, n, 1), 0.1)
    inputs = latent_decoder_inputs(mean, sigma, mjj, mass_resolution=0.025, mass_centre=mjj.mean(),
                                   mass_spread=mjj.std(), rng=rng)
    assert inputs.shape == (k, n, 2)
    dec, hist = train_latent_decoders(inputs, target, batch_size=200, max_epochs=30, patience=3, seed=0,
                                      device=torch.device("cpu"))
    with torch.no_grad():
        out = dec(torch.as_tensor(inputs)).numpy()
    for m in range(k):
        resid = out[m, :, 0] - target[:, 0]
        assert np.std(resid) < 0.2 * np.std(target[:, 0])  # the 2.5% smearing limits it, the mean input helps
        assert hist[m].best_epoch == int(np.argmin(hist[m].val_loss))


def test_scalers_centre_the_inputs_as_named_and_persist(tmp_path, rng):
    """maxabs (the paper's) keeps all-positive inputs in (0, 1]; maxabs_centred and standard centre them on the
    training sample (weighted) first; the offset is saved with the model."""
    x = rng.gamma(2.0, 1.0, size=(400, 3)).astype(np.float32) + 5.0
    w = rng.uniform(0.5, 2.0, 400)
    for scaler, check in (("maxabs", lambda t: t.min() > 0 and np.isclose(t.max(), 1.0)),
                          ("maxabs_centred", lambda t: np.allclose(np.average(t, axis=0, weights=w), 0, atol=1e-5)
                           and np.isclose(np.abs(t).max(), 1.0)),
                          ("standard", lambda t: np.allclose(np.average(t, axis=0, weights=w), 0, atol=1e-5)
                           and np.allclose(np.sqrt(np.average(t**2, axis=0, weights=w)), 1.0, rtol=1e-4))):
        model = VAEEnsemble(n_members=2, max_epochs=1, batch_size=100, scaler=scaler, device="cpu").fit(x, w)
        assert check(model._transform(x)), scaler
        loaded = VAEEnsemble.load(model.save(tmp_path / f"{scaler}.pt"), device="cpu")
        np.testing.assert_allclose(loaded.score_samples(x), model.score_samples(x), rtol=1e-6)
    with pytest.raises(ConfigError, match="scaler"):
        VAEEnsemble(scaler="minmax")
