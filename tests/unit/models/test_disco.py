"""The DisCo term: equal to the `dcor` package, weights as repeated events, exact gradients, blocks invisible."""

import dcor
import numpy as np
import pytest
import torch

from anomalyhunt.models.disco import distance_correlation, distance_correlation_reference


def _pair(rng, n, dependence=1.0):
    x = rng.normal(size=n)
    return x, dependence * x**2 + rng.normal(size=n)


@pytest.mark.parametrize(("n", "dependence"), [(50, 0.0), (400, 0.3), (2000, 1.0)])
def test_equals_the_dcor_package(n, dependence):
    x, y = _pair(np.random.default_rng(n), n, dependence)
    ours = float(distance_correlation(torch.tensor(x), torch.tensor(y), block=128))
    assert ours == pytest.approx(dcor.distance_correlation_sqr(x, y), rel=1e-10, abs=1e-14)


def test_float32_training_precision_matches_dcor_on_a_10k_batch():
    # the batch size of Mikuni, Nachman & Shih; float32 inputs, float64 where the centring cancels
    rng = np.random.default_rng(1)
    x, y = _pair(rng, 10_000, 0.05)
    ours = float(distance_correlation(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)))
    ref = dcor.distance_correlation_sqr(x.astype(np.float32).astype(float), y.astype(np.float32).astype(float))
    assert ours == pytest.approx(ref, rel=1e-4)


def test_integer_weights_count_as_repeated_events():
    rng = np.random.default_rng(2)
    x, y = _pair(rng, 300, 0.5)
    k = rng.integers(1, 4, size=300)
    weighted = distance_correlation(torch.tensor(x), torch.tensor(y), torch.tensor(k, dtype=torch.float64))
    assert float(weighted) == pytest.approx(dcor.distance_correlation_sqr(np.repeat(x, k), np.repeat(y, k)),
                                            rel=1e-10)


def test_ties_and_constants():
    x = torch.tensor([1.0, 1.0, 2.0, 2.0, 3.0], dtype=torch.float64)
    y = torch.tensor([0.5, 0.1, 0.1, 0.7, 0.7], dtype=torch.float64)
    assert float(distance_correlation(x, y)) == pytest.approx(dcor.distance_correlation_sqr(x.numpy(), y.numpy()))
    assert float(distance_correlation(x, torch.ones_like(x))) == 0.0


def test_gradient_is_exact():
    rng = np.random.default_rng(3)
    x = torch.tensor(rng.normal(size=40), requires_grad=True)
    y = torch.tensor(rng.normal(size=40) + 0.5 * x.detach().numpy(), requires_grad=True)
    w = torch.tensor(rng.random(40) + 0.1)
    assert torch.autograd.gradcheck(lambda a, b: distance_correlation(a, b, w, block=7), (x, y))


def test_gradient_matches_autograd_through_the_reference():
    rng = np.random.default_rng(4)
    x0, y0 = _pair(rng, 500, 0.4)
    w = torch.tensor(rng.random(500) + 0.5)
    grads = []
    for f in (lambda a, b: distance_correlation(a, b, w, block=64),
              lambda a, b: distance_correlation_reference(a, b, w)):
        x, y = torch.tensor(x0, requires_grad=True), torch.tensor(y0, requires_grad=True)
        f(x, y).backward()
        grads.append((x.grad, y.grad))
    torch.testing.assert_close(grads[0][0], grads[1][0], rtol=1e-8, atol=1e-12)
    torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-8, atol=1e-12)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="1-D of equal length"):
        distance_correlation(torch.ones(3), torch.ones(4))
