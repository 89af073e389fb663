"""The decorrelated double autoencoder: decorrelation works, persistence and ONNX export are exact."""

import dcor
import numpy as np
import pytest
import torch

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.models import DoubleDisCoAE


def _background(rng, n, d=20):
    latent = rng.normal(size=(n, 3))
    mixing = np.random.default_rng(0).normal(size=(3, d))
    return np.tanh(latent @ mixing + 0.3 * rng.normal(size=(n, d))).astype(np.float32)


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(1)
    x, test = _background(rng, 6000), _background(rng, 3000)
    kwargs = dict(hidden=(32, 16, 3), batch_size=1000, max_epochs=15, patience=15, seed=3)
    return {lam: DoubleDisCoAE(lam=lam, **kwargs).fit(x) for lam in (0.0, 100.0)}, test


def test_the_disco_term_decorrelates_the_two_losses(trained):
    models, test = trained
    d = {lam: dcor.distance_correlation_sqr(*m.score_samples(test).T) for lam, m in models.items()}
    assert d[100.0] < 0.5 * d[0.0]
    assert d[100.0] < 0.05


def test_scores_are_positive_losses_of_both_autoencoders(trained):
    models, test = trained
    s = models[100.0].score_samples(test)
    assert s.shape == (3000, 2) and np.all(s > 0)
    h = models[100.0].history_
    assert len(h.train_loss) == len(h.val_loss) >= 1 and 0 <= h.best_epoch < len(h.val_loss)


def test_save_load_round_trip(trained, tmp_path):
    model = trained[0][100.0]
    model.save(tmp_path / "m.pt")
    again = DoubleDisCoAE.load(tmp_path / "m.pt")
    np.testing.assert_array_equal(again.score_samples(trained[1]), model.score_samples(trained[1]))
    assert again.get_params() == model.get_params()


def test_training_is_reproducible_with_a_seed():
    x = _background(np.random.default_rng(5), 800)
    runs = [DoubleDisCoAE(hidden=(16, 4), batch_size=200, max_epochs=2, seed=9).fit(x).score_samples(x[:50])
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])


def test_onnx_export_reproduces_the_torch_scores(trained, tmp_path):
    import onnxruntime as ort

    model = trained[0][100.0]
    path = model.export_onnx(tmp_path / "double_ae.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    test = trained[1]
    for batch in (test[:1], test[:777]):
        (out,) = session.run(None, {"inputs": batch})
        np.testing.assert_allclose(out, model.score_samples(batch), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize(("kwargs", "message"), [({"lam": -1}, "lam"), ({"batch_size": 1}, "batch_size"),
                                                 ({"activation": "swish"}, "activation")])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        DoubleDisCoAE(**kwargs)


def test_bad_inputs_are_refused(trained):
    with pytest.raises(ConfigError, match="shape"):
        trained[0][0.0].score_samples(np.zeros((3, 5), np.float32))
    with pytest.raises(ConfigError, match="NaN"):
        DoubleDisCoAE().fit(np.full((10, 3), np.nan, np.float32))


def test_log_loss_decorrelation_is_a_choice_and_is_saved(tmp_path):
    x = _background(np.random.default_rng(6), 600)
    model = DoubleDisCoAE(hidden=(16, 4), batch_size=200, max_epochs=2, decorrelate="log_loss", seed=1).fit(x)
    model.save(tmp_path / "m.pt")
    assert DoubleDisCoAE.load(tmp_path / "m.pt").decorrelate == "log_loss"
    with pytest.raises(ConfigError, match="decorrelate"):
        DoubleDisCoAE(decorrelate="rank")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_trains_on_cuda_and_the_disco_term_agrees_with_cpu():
    from anomalyhunt.models import distance_correlation

    x = _background(np.random.default_rng(7), 3000)
    model = DoubleDisCoAE(hidden=(16, 4), batch_size=1000, max_epochs=2, device="cuda").fit(x)
    assert model.history_.device.startswith("cuda")
    a, b = torch.tensor(x[:, 0], dtype=torch.float64), torch.tensor(x[:, 1], dtype=torch.float64)
    assert float(distance_correlation(a.cuda(), b.cuda())) == pytest.approx(float(distance_correlation(a, b)),
                                                                             rel=1e-9)
