"""The latent characterisation's settings are refused before training when its marginals could not be read."""

import pytest

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.methods.vae_latent import LatentCharacterisation


def test_a_grid_with_no_point_in_the_signal_window_is_refused():
    # 15 points over 2-8 TeV are 429 GeV apart: none in 3.3-3.7 TeV (this crashed at the end of a run before)
    with pytest.raises(ConfigError, match="none falls in the signal_window"):
        LatentCharacterisation(grid=15)
    assert LatentCharacterisation(grid=30).grid == 30
    assert LatentCharacterisation(grid=5).grid == 5  # 2, 3.5, 5, ... TeV: 3.5 lies in the window
