"""Accept-reject unweighting keeps the physical mix of a weighted cocktail."""

import numpy as np
import pytest

from anomalyhunt.ingest import unweight
from anomalyhunt.splits import group_split


def test_kept_fractions_follow_the_weights():
    rng = np.random.default_rng(0)
    weight = np.concatenate([np.full(40_000, 2.0), np.full(40_000, 0.5), rng.uniform(0, 2.0, 40_000)])
    kept = unweight(weight, np.random.default_rng(1))
    assert kept[:40_000].mean() == 1.0
    assert kept[40_000:80_000].mean() == pytest.approx(0.25, abs=0.01)
    assert kept[80_000:].mean() == pytest.approx(0.5, abs=0.01)
    # expected counts after unweighting are proportional to each part's cross section (sum of weights)
    sigma = [weight[:40_000].sum(), weight[40_000:80_000].sum()]
    assert kept[:40_000].sum() / kept[40_000:80_000].sum() == pytest.approx(sigma[0] / sigma[1], rel=0.03)


def test_empty_and_reproducible():
    assert unweight(np.zeros(0), np.random.default_rng(0)).shape == (0,)
    w = np.random.default_rng(3).random(100)
    np.testing.assert_array_equal(unweight(w, np.random.default_rng(5)), unweight(w, np.random.default_rng(5)))


def test_group_split_keeps_each_group_on_one_side():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(3000), rng.integers(1, 4, 3000))  # 1-3 entries a group
    mask = group_split(groups, 0.5, np.random.default_rng(1))
    for g in np.unique(groups[mask]):
        assert mask[groups == g].all()
    assert not np.intersect1d(groups[mask], groups[~mask]).size
    assert 0.49 * len(groups) < mask.sum() <= round(0.5 * len(groups))
    # singletons: an ordinary random split of exactly round(f n) entries, reproducible with the seed
    single = group_split(np.arange(1001), 0.3, np.random.default_rng(2))
    assert single.sum() == 300
    np.testing.assert_array_equal(single, group_split(np.arange(1001), 0.3, np.random.default_rng(2)))
    assert group_split(groups, 0.0, rng).sum() == 0 and group_split(groups, 1.0, rng).all()
    with pytest.raises(ValueError, match="fraction"):
        group_split(groups, 1.5, rng)
