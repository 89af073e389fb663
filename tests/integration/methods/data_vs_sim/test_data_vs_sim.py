"""The Krzyzanska & Nachman method on tiny generated four-lepton samples: the same numbers in process and on Dask, the
summary's structure and units, and refusals before any training."""

import csv
import dataclasses

import numpy as np
import pytest

from anomalyhunt import events
from anomalyhunt.exceptions import ConfigError
from anomalyhunt.methods.data_vs_sim import DataVsSimConfig, DataVsSimModel
from anomalyhunt.methods.data_vs_sim.run import run
from anomalyhunt.parallel import dask_client

TINY = DataVsSimModel(hidden=(16, 16), n_members=2, epochs=2)


def _config(paths, **changes):
    settings = dict(samples=tuple(paths), luminosity_fb=10.0, classifier=TINY, n_null=10, injections=(10, 20),
                    n_injections=3, group_size=8, seed=4)
    return DataVsSimConfig(**{**settings, **changes})


def test_dask_fan_out_gives_the_numbers_of_one_process(fourlepton_samples, tmp_path):
    config = _config(fourlepton_samples)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    local = run(config, tmp_path / "a", progress=False)
    with dask_client(workers=2) as client:  # any scheduler: here a LocalCluster's
        address = client.scheduler.address
        fanned = run(config, tmp_path / "b", progress=False, scheduler=address)
    assert fanned.summary()["timing"]["executor"] == f"Dask {address}"
    assert local.summary()["timing"]["executor"] == "in process"
    for loss in config.losses:
        for kind, values in local.statistics[loss].items():
            np.testing.assert_allclose(fanned.statistics[loss][kind], values, rtol=1e-4, atol=1e-5)
    summary = local.summary()
    n_exp = summary["n_expected"]
    assert n_exp == pytest.approx(10.0 * summary["sigma_vis_fb"])
    assert 40 < n_exp < 200  # ~10 fb visible after the fourlepton selection
    # limits in fb are the limits in events over the luminosity
    for loss, by_stat in summary["limits_events"].items():
        for stat, by_signal in by_stat.items():
            for signal, limit in by_signal.items():
                fb = summary["limits_fb"][loss][stat][signal]["median"]
                assert (fb is None) == (limit["median"] is None)
                if fb is not None:
                    assert fb == pytest.approx(limit["median"] / 10.0)
    # read before the selection: events / (L x eps), eps the signal dataset's selected / generated
    manifest = events.read_manifest(fourlepton_samples[2])
    eps = manifest["n_selected"] / manifest["n_generated"]
    (signal,) = summary["signal_efficiency"]
    assert summary["signal_efficiency"][signal] == pytest.approx(eps)
    for loss, by_stat in summary["limits_events"].items():
        for stat, by_signal in by_stat.items():
            before = summary["limits_fb_before_selection"][loss][stat][signal]
            median = by_signal[signal]["median"]
            assert before["median"] == (None if median is None else pytest.approx(median / (10.0 * eps)))
            # a bound (beyond the band at the lowest injection) stays a bound in every reading
            assert before["at_most"] == by_signal[signal]["at_most"] == summary["limits_fb"][loss][stat][signal][
                "at_most"]
    assert summary["toy_pool"]["pool_over_n_expected"] == pytest.approx(summary["n_pool"] / n_exp)
    assert summary["toy_pool"]["shared_fraction_between_toys"] == pytest.approx(n_exp / summary["n_pool"])
    assert set(summary["limits_fb"]) == {"mlc", "bce"} and "t_nplm" in summary["limits_fb"]["mlc"]
    assert set(summary["bootstrap_null"]["bce"]) == {"mean_loss", "mean_score", "max_score", "std_score"}
    assert summary["bootstrap_null"]["mlc"]["mean_loss"]["n"] == 10
    p = [v for by_kind in summary["null_pvalues"].values() for by in by_kind.values() for v in by.values()]
    assert all(1 / 11 <= v <= 1 for v in p)
    rows = list(csv.DictReader((tmp_path / "a" / "trials.csv").open()))
    n_trials = 2 * 10 + 1 + 2 * 3  # two nulls, observed, injections
    assert len(rows) == 2 * n_trials
    injected = [r for r in rows if r["kind"] == "injection" and r["n_signal"] == "20"]
    assert all(r["signal"] == "scalar_4l_150" for r in injected) and len(injected) == 2 * 3


def test_refusals_come_before_training(fourlepton_samples, tmp_path):
    sim, pool, signal = fourlepton_samples
    with pytest.raises(ConfigError, match="pool"):
        run(_config([sim, pool, signal], luminosity_fb=1000.0), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="fewer events than the largest injection"):
        run(_config([sim, pool, signal], injections=(10, 5000)), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="no signal"):
        run(_config([sim, pool]), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="no background pool"):
        run(_config([sim, signal]), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="BSM"):
        run(dataclasses.replace(_config([sim, pool, signal]), simulation=signal), tmp_path, progress=False)


def test_the_twelve_lepton_momenta_as_inputs(fourlepton_samples, tmp_path):
    result = run(_config(fourlepton_samples, inputs="momenta", losses=("mlc",), nulls=("independent",),
                         injections=(20,)), tmp_path, progress=False)
    assert result.summary()["inputs"][:3] == ["px(e+)", "py(e+)", "pz(e+)"] and len(result.samples.names) == 12
    assert result.samples.simulation.shape[1] == 12
    assert set(result.summary()["limits_fb"]) == {"mlc"} and "bootstrap" not in result.summary()["null_pvalues"]
