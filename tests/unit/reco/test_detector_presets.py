"""The Delphes CMS-card lepton resolutions, the MPI switch and the legacy values of preset fields added later."""

import numpy as np
import pytest

from anomalyhunt.exceptions import ConfigError
from anomalyhunt.generate import GenerationConfig, detector_changes
from anomalyhunt.generate.runner import pythia_settings
from anomalyhunt.reco import DetectorPreset, get_preset
from anomalyhunt.reco.detector import delphes_cms_electron_sigma, delphes_cms_muon_sigma


def test_muon_resolution_follows_the_cms_card_band_by_band():
    # delphes_card_CMS.tcl: sqrt(a^2 + (b pT)^2) with (a, b) = (0.01, 1e-4), (0.015, 1.5e-4), (0.025, 3.5e-4)
    pt = np.array([50.0, 50.0, 50.0, 400.0])
    eta = np.array([0.3, -1.2, 2.0, -0.5])
    expected = [np.hypot(0.01, 50e-4), np.hypot(0.015, 50 * 1.5e-4), np.hypot(0.025, 50 * 3.5e-4),
                np.hypot(0.01, 400e-4)]
    np.testing.assert_allclose(delphes_cms_muon_sigma(pt, eta), expected, rtol=1e-12)


def test_electron_resolution_combines_track_and_ecal_and_beats_both():
    pt, eta = np.array([20.0, 45.0, 45.0]), np.array([0.2, 1.0, 2.2])
    e = pt * np.cosh(eta)
    sigma = delphes_cms_electron_sigma(pt, eta, e)
    track = np.array([np.hypot(0.03, 20 * 1.3e-3), np.hypot(0.05, 45 * 1.7e-3), np.hypot(0.15, 45 * 3.1e-3)])
    shape = np.array([1 + 0.64 * 0.04, 1 + 0.64, 2.16 + 5.6 * 0.04])
    ecal = shape * np.sqrt((0.008 * e) ** 2 + 0.11**2 * e + 0.16) / e
    np.testing.assert_allclose(sigma, (track**-2 + ecal**-2) ** -0.5, rtol=1e-12)
    assert np.all(sigma < np.minimum(track, ecal))
    # the endcap is worse than the barrel, as on the card
    assert sigma[2] > sigma[1]


def test_presets_take_the_paper_settings_and_refuse_unknown_choices():
    assert get_preset("fourlepton").lepton_resolution == "delphes_cms" and get_preset("fourlepton").lepton_pt_min == 10
    assert get_preset("dijet_lhco").mpi is False and get_preset("yxh_atlas").mpi is True
    with pytest.raises(ConfigError, match="lepton_resolution"):
        DetectorPreset("x", lepton_resolution="atlas")
    with pytest.raises(ConfigError, match="nsubjettiness_axes"):
        DetectorPreset("x", nsubjettiness_axes="Manual_Axes")


def test_mpi_is_switched_off_in_pythia_only_where_the_preset_says():
    lhco = GenerationConfig("qcd", 10, preset="dijet_lhco", params={"pthat_min": 1000})
    atlas = GenerationConfig("qcd", 10, preset="yxh_atlas", params={"pthat_min": 1000})
    assert "PartonLevel:MPI = off" in pythia_settings(lhco, get_preset("dijet_lhco"))
    assert "PartonLevel:MPI = off" not in pythia_settings(atlas, get_preset("yxh_atlas"))


def test_a_dataset_cached_before_a_field_existed_counts_with_the_value_it_was_made_with():
    """A dataset made before tau_N's axes were minimised (its manifest has no nsubjettiness_axes) is stale for
    the large-R presets; one made before the mpi switch is stale for dijet_lhco only."""
    old = {"detector": {k: v for k, v in get_preset("dijet_lhco").as_dict().items()
                        if k not in ("nsubjettiness_axes", "mpi", "lepton_resolution")}}
    assert detector_changes(old, "dijet_lhco") == ["mpi: True -> False",
                                                   "nsubjettiness_axes: 'KT_Axes' -> 'OnePass_KT_Axes'"]
    four = {"detector": {**get_preset("fourlepton").as_dict(), "lepton_pt_min": 7.0}}
    del four["detector"]["lepton_resolution"]
    del four["detector"]["nsubjettiness_axes"]  # no large-R jets in this preset: the axes do not matter
    assert detector_changes(four, "fourlepton") == ["lepton_pt_min: 7.0 -> 10.0",
                                                    "lepton_resolution: 'parametric' -> 'delphes_cms'"]
