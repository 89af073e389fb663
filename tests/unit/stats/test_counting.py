"""Z_Bi against the binomial tail it is defined by and the Poisson limit; the grid's global significance against
its own definition and on background-only grids."""

import numpy as np
import pytest
from scipy import stats

from anomalyhunt.exceptions import StatsInputError
from anomalyhunt.stats import grid_significance, p_to_z, z_bi


@pytest.mark.parametrize(("n_on", "n_off", "tau"),
                         [(5, 10, 4.0), (12, 3, 0.5), (1, 40, 20.0), (9, 40, 20.0), (30, 30, 1.5)])
def test_z_bi_is_the_binomial_tail_for_integer_control_counts(n_on, n_off, tau):
    b, sigma = n_off / tau, np.sqrt(n_off) / tau
    expected = stats.binom.sf(n_on - 1, n_on + n_off, 1.0 / (1.0 + tau))
    np.testing.assert_allclose(z_bi(n_on, b, sigma), max(p_to_z(expected), 0.0), rtol=1e-9)


def test_z_bi_tends_to_the_poisson_tail_and_handles_edges():
    exact = p_to_z(stats.poisson.sf(9, 4.0))
    np.testing.assert_allclose(z_bi(10, 4.0, 0.0), exact, rtol=1e-12)
    np.testing.assert_allclose(z_bi(10, 4.0, 1e-4), exact, rtol=1e-4)
    assert z_bi(10, 4.0, 2.0) < z_bi(10, 4.0, 0.5) < exact  # an uncertain prediction weakens the excess
    assert z_bi(0, 3.0, 1.0) == 0 and z_bi(1, 3.0, 1.0) == 0  # no excess: Z = 0
    with pytest.raises(StatsInputError):
        z_bi(3, 0.0, 1.0)


def test_grid_significance_finds_the_cell_and_calibrates_on_background_only():
    rng = np.random.default_rng(1)
    b = rng.uniform(2.0, 30.0, (4, 5))
    err = 0.1 * b
    observed = rng.poisson(b).astype(float)
    observed[2, 3] = b[2, 3] + 6 * np.sqrt(b[2, 3]) + 5
    result = grid_significance(observed, b, err, n_toys=300, rng=rng)
    assert result.cell == (2, 3) and result.max_z_local > 3.5
    assert result.z_global < result.max_z_local and result.z_global > 2.0
    # background-only grids: the global p-value is roughly uniform (its mean near 1/2, few below 0.05)
    p = [grid_significance(rng.poisson(b), b, err, n_toys=100, rng=rng).p_global for _ in range(40)]
    assert 0.3 < np.mean(p) < 0.7 and np.mean(np.array(p) < 0.05) < 0.2
    # cells with no prediction are not tested
    b0 = b.copy()
    b0[0, 0] = 0.0
    out = grid_significance(observed, b0, err, n_toys=20, rng=rng)
    assert np.isnan(out.z_local[0, 0]) and out.cells_tested == 19
    with pytest.raises(StatsInputError, match="shape"):
        grid_significance(observed, b[:2], err, n_toys=20)


def test_a_large_prediction_error_is_drawn_with_its_own_spread():
    """One cell with a 30% prediction error (where the shape of the drawn prediction matters; at 10% it hides):
    the toys' fraction of Z above the observed one equals a brute-force loop that draws the prediction from a
    Gamma of mean b and standard deviation sigma (scipy's parametrisation, checked to have that spread)."""
    b, sigma, observed = 30.0, 9.0, 60.0  # p ~ 0.025; a prediction drawn with the wrong spread gives ~0.057
    n_toys = 4000
    result = grid_significance(np.array([observed]), np.array([b]), np.array([sigma]), n_toys=n_toys,
                               rng=np.random.default_rng(11))
    draw = stats.gamma(a=(b / sigma) ** 2, scale=sigma**2 / b)
    assert draw.mean() == pytest.approx(b) and draw.std() == pytest.approx(sigma)
    rng = np.random.default_rng(12)
    z_obs = z_bi(observed, b, sigma)
    above = 0
    for _ in range(n_toys):
        toy_b = float(draw.rvs(random_state=rng))
        # the toy's prediction keeps the measured relative error, as a real control-sample estimate would
        above += z_bi(rng.poisson(b), toy_b, toy_b * sigma / b) >= z_obs - 1e-12
    reference = above / n_toys
    measured = result.toys_above / n_toys
    error = np.sqrt(reference * (1 - reference) / n_toys) * np.sqrt(2)
    assert 0.01 < reference < 0.2  # a p-value the test can resolve
    assert abs(measured - reference) < 4 * error, (measured, reference)
