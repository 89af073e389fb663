import numpy as np
import pytest

from anomalyhunt.exceptions import StatsInputError
from anomalyhunt.stats import region_by_efficiency, regions_by_cross_section


def test_regions_reach_their_target_cross_sections(rng):
    scores = rng.normal(size=10_000)
    weights = rng.uniform(0.001, 0.003, 10_000)  # 20 pb in all
    regions = regions_by_cross_section(scores, weights, targets_pb=(10, 1, 0.1))
    for region, target in zip(regions, (10, 1, 0.1), strict=True):
        selected = weights[scores >= region.threshold].sum()
        assert selected == pytest.approx(region.cross_section_pb)
        assert target <= selected < target + 0.003
    assert regions[0].threshold < regions[1].threshold < regions[2].threshold


def test_scale_corrects_for_a_subsample_and_large_targets_take_everything(rng):
    scores = rng.normal(size=1000)
    weights = np.full(1000, 0.01)  # 10 pb in the subsample, 20 pb in the full data
    (half,) = regions_by_cross_section(scores, weights, targets_pb=(10,), scale=2.0)
    assert half.efficiency == pytest.approx(0.5, abs=0.002)
    (everything,) = regions_by_cross_section(scores, weights, targets_pb=(100,))
    assert everything.threshold == scores.min()


def test_region_by_efficiency_and_errors(rng):
    scores = rng.normal(size=1000)
    region = region_by_efficiency(scores, None, 0.1)
    assert np.mean(scores >= region.threshold) == pytest.approx(0.1, abs=0.002)
    with pytest.raises(StatsInputError):
        region_by_efficiency(scores, None, 0)
    with pytest.raises(StatsInputError):
        regions_by_cross_section(scores, np.ones(3))
