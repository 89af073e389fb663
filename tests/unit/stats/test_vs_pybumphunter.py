"""Cross-check of the bump hunt against pyBumpHunter on the same histograms.

Definitions differ: pyBumpHunter tests contiguous windows of 1-30 bins with the Poisson probability of the
window count given a fixed reference background, and its global p-value is the fraction of toys (drawn from
that fixed reference) with a smaller minimum local p-value. Ours fits Gaussian templates (resolution and 15%
width) with a likelihood ratio and refits the background on every toy. So locations and verdicts must agree,
the numbers only roughly.
"""

import numpy as np
import pytest
from scipy import special

from anomalyhunt.stats import bump_hunt, dijet_expected, dijet_fit, mass_resolution

pbh = pytest.importorskip("pyBumpHunter")
EDGES = np.linspace(300.0, 3000.0, 61)


def background():
    b = dijet_expected(np.array([1.0, 10.0, -4.0]), EDGES)
    return b * 5e4 / b.sum()


def run_pbh(counts, reference, npe=300):
    hunter = pbh.BumpHunter1D(rang=(EDGES[0], EDGES[-1]), width_min=1, width_max=30, npe=npe, bins=EDGES,
                              nworker=1, seed=1)
    hunter.bump_scan(counts, reference, is_hist=True)
    lo = EDGES[hunter.min_loc_ar[0]]
    return hunter.global_Pval, (lo, lo + hunter.min_width_ar[0] * (EDGES[1] - EDGES[0]))


def test_both_find_an_injected_bump_at_the_same_place(capsys):
    b = background()
    n = np.random.default_rng(1).poisson(b + 150 * np.diff(special.ndtr((EDGES - 1500) / mass_resolution(1500))))
    fit = dijet_fit(n, EDGES)
    ours = bump_hunt(n, EDGES, rng=1, n_toys=300, fit=fit)
    p_theirs, (lo, hi) = run_pbh(n, fit.expected)
    assert lo - (EDGES[1] - EDGES[0]) <= ours.mass <= hi + (EDGES[1] - EDGES[0])
    assert ours.p_global < 0.01 and p_theirs < 0.01


def test_both_see_nothing_in_background_only_data(capsys):
    n = np.random.default_rng(2).poisson(background())
    fit = dijet_fit(n, EDGES)
    ours = bump_hunt(n, EDGES, rng=2, n_toys=300, fit=fit)
    p_theirs, _ = run_pbh(n, fit.expected)
    assert ours.p_global > 0.05 and p_theirs > 0.05
