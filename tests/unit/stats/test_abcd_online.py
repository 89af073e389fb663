"""Working points, closure scans and the online (prescaled) ABCD on scores with known dependence."""

import numpy as np
import pytest

from anomalyhunt.exceptions import StatsInputError
from anomalyhunt.stats import closure_scan, emulate_trigger, working_point


def _independent(rng, n):
    return rng.exponential(size=n), rng.normal(size=n)


@pytest.mark.parametrize("ratio", [0.5, 1.0, 3.0])
def test_working_point_has_the_requested_efficiency_and_split(rng, ratio):
    s1, s2 = _independent(rng, 200_000)
    t1, t2 = working_point(s1, s2, 0.01, ratio=ratio)
    joint = np.mean((s1 > t1) & (s2 > t2))
    e1, e2 = np.mean(s1 > t1), np.mean(s2 > t2)
    assert joint == pytest.approx(0.01, rel=0.02)
    assert e1 / e2 == pytest.approx(ratio, rel=0.05)
    if ratio == 1.0:  # independent scores: the diagonal cut keeps sqrt(epsilon) per score
        assert e1 == pytest.approx(0.1, rel=0.05)


def test_a_rate_budget_is_a_ceiling_on_scores_with_ties(rng):
    """Scores on a coarse grid (a fixed-point loss) cannot reach 1% exactly: the default working point takes
    the step at or above it, `at_most` the step below; on continuous scores the two are about one event apart."""
    s1, s2 = np.round(rng.exponential(size=20_000), 1), np.round(rng.exponential(size=20_000), 1)
    joint = {}
    for at_most in (False, True):
        t1, t2 = working_point(s1, s2, 0.01, at_most=at_most)
        joint[at_most] = np.mean((s1 > t1) & (s2 > t2))
    assert joint[True] <= 0.01 < joint[False]
    assert joint[False] - joint[True] > 5 / 20_000  # a tie's worth of events, not one
    c1, c2 = _independent(rng, 20_000)
    cuts = [working_point(c1, c2, 0.01, at_most=m) for m in (False, True)]
    counts = [np.sum((c1 > t1) & (c2 > t2)) for t1, t2 in cuts]
    assert counts[1] <= 200 <= counts[0] and counts[0] - counts[1] <= 2


def test_closure_is_one_within_errors_for_independent_scores(rng):
    s1, s2 = _independent(rng, 100_000)
    rows = closure_scan(s1, s2, [0.002, 0.01, 0.05])
    assert len(rows) == 9
    pulls = np.array([(r["ratio"] - 1) / r["error"] for r in rows])
    assert np.all(np.abs(pulls) < 3.5)


def test_closure_fails_for_correlated_scores(rng):
    s1 = rng.normal(size=100_000)
    s2 = 0.7 * s1 + rng.normal(size=100_000)
    rows = closure_scan(s1, s2, [0.01], ratios=(1.0,))
    assert rows[0]["ratio"] > 1.5 and (rows[0]["ratio"] - 1) / rows[0]["error"] > 5


def test_online_emulation_rate_and_precision(rng):
    n, eps = 400_000, 0.005
    s1, s2 = _independent(rng, n)
    t = working_point(s1, s2, eps)
    trig = emulate_trigger(s1, s2, t, events_per_control=eps * n, rng=1)
    assert trig.rate == pytest.approx(4 * eps, rel=0.1)  # Mikuni, Nachman & Shih: about 4 epsilon
    assert trig.prescales[">>"] == 1.0 and trig.prescales["<<"] < 0.01
    # the prescaled estimate agrees with the truth within its error, and costs about sqrt(3) in precision
    assert abs(trig.predicted - trig.observed) < 3 * np.hypot(trig.predicted_error, np.sqrt(trig.observed))
    assert trig.predicted_error / trig.predicted == pytest.approx(np.sqrt(3) * trig.signal_region_error, rel=0.1)
    richer = emulate_trigger(s1, s2, t, events_per_control=3 * eps * n, rng=1)
    assert richer.predicted_error / richer.predicted == pytest.approx(trig.signal_region_error, rel=0.1)


def test_online_emulation_sees_an_injected_signal(rng):
    n = 200_000
    s1, s2 = _independent(rng, n)
    s1 = np.concatenate([s1, rng.exponential(size=600) + 6])
    s2 = np.concatenate([s2, rng.normal(size=600) + 3])
    t = working_point(s1[:n], s2[:n], 0.005)
    trig = emulate_trigger(s1, s2, t, events_per_control=3000, rng=2)
    assert trig.significance > 5


def test_bad_working_points_are_refused(rng):
    s1, s2 = _independent(rng, 100)
    with pytest.raises(StatsInputError, match="efficiency"):
        working_point(s1, s2, 1.5)
    with pytest.raises(StatsInputError, match="events_per_control"):
        emulate_trigger(s1, s2, (0.0, 0.0), events_per_control=0)
