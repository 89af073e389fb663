"""The detector comparison on tiny generated samples: every detector on the same events, figures against an
independent computation from the written per-seed table, the ceiling's classifiers, the CLI command."""

import csv
import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from anomalyhunt.detectors import DetectorSpec
from anomalyhunt.exceptions import ConfigError
from anomalyhunt.methods.compare import CompareConfig
from anomalyhunt.methods.compare.run import run


def _config(paths, **over):
    settings = dict(samples=tuple(paths), features=("rmm", "fourvec"),
                    detectors=(DetectorSpec(name="autoencoder", params={"max_epochs": 3}),
                               DetectorSpec(import_="sklearn.ensemble:IsolationForest", params={"n_estimators": 20})),
                    signal_fractions=(0.0, 0.05), n_seeds=2, seed=3,
                    ceiling={"seeds": 2, "max_epochs": 3, "hgb_iterations": 30})
    settings.update(over)
    from anomalyhunt.config import from_mapping
    return from_mapping(CompareConfig, settings)


def test_every_detector_is_measured_on_the_same_events_with_spreads(search_samples, tmp_path):
    _, paths = search_samples
    result = run(_config(paths), tmp_path, progress=False)
    s = json.loads(json.dumps(result.summary()))
    # 2 detectors x 2 feature kinds x (background only + the W' injected): 8 rows, each over 2 seeds
    assert len(s["rows"]) == 8 and all(r["n_seeds"] == 2 for r in s["rows"])
    per_seed = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert len(per_seed) == 16
    for r in s["rows"]:
        runs = [float(x["max_sic"]) for x in per_seed if x["detector"] == r["detector"]
                and x["features"] == r["features"] and float(x["signal_fraction"]) == r["signal_fraction"]]
        assert r["max_sic_mean"] == pytest.approx(np.mean(runs), rel=1e-6)
        assert r["max_sic_std"] == pytest.approx(np.std(runs, ddof=1), abs=1e-6 * max(runs))  # csv: 8 digits
        assert 0 <= r["auc_mean"] <= 1 and r["train_us_per_event"] > 0 and r["score_us_per_event"] > 0
        assert r["fraction_of_ceiling"] == pytest.approx(r["max_sic_mean"] / r["ceiling_max_sic"])
    # two seeds are two trainings: their figures differ (a spread that cannot be zero by construction)
    ae = [float(x["auc"]) for x in per_seed if x["detector"] == "autoencoder" and x["features"] == "rmm"
          and float(x["signal_fraction"]) == 0]
    assert ae[0] != ae[1]
    # the ceiling: both classifiers over two cross-fittings, the better one reported
    c = s["ceiling"]["rmm"]["ssm_wprime_2000"]
    assert set(c["by_classifier"]) == {"mlp", "hgb"} and all(len(v["values"]) == 2 for v in c["by_classifier"].values())
    assert c["max_sic_supervised"] == max(v["mean"] for v in c["by_classifier"].values())
    # the best detector per feature kind, signal and fraction is the one with the largest mean max SIC
    for b in s["best"]:
        rows = [r for r in s["rows"] if (r["features"], r["signal"], r["signal_fraction"])
                == (b["features"], b["signal"], b["signal_fraction"])]
        assert b["detector"] == max(rows, key=lambda r: r["max_sic_mean"])["detector"]
    report = result.report(tmp_path)
    assert report.titles[:2] == ("The comparison", "Features: rmm") and len(report.images) >= 4
    # a result reads on one screen; its whole is to_dict(), the same as summary.json
    text = repr(result)
    assert text.startswith("CompareResult(rows=<list of 8>") and len(text) < 600 and "per_seed" not in text
    assert result.to_dict() == result.summary()


def test_the_auc_agrees_with_scikit_learn_on_the_same_scores(search_samples, tmp_path, monkeypatch):
    """The AUC of a row against scikit-learn's on the scores the detector gave (captured), with the weights."""
    import anomalyhunt.methods.compare.run as compare_run

    captured = []
    original = compare_run._fit_and_score

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        captured.append(out["scores"])
        return out

    monkeypatch.setattr(compare_run, "_fit_and_score", spy)
    _, paths = search_samples
    config = _config(paths, features=("fourvec",), signal_fractions=(0.0,), n_seeds=1, supervised_ceiling=False,
                     detectors=({"import": "sklearn.ensemble:IsolationForest", "params": {"n_estimators": 20}},))
    result = run(config, tmp_path, progress=False)
    from anomalyhunt.generate import source_events
    from anomalyhunt.ingest import load_samples
    from anomalyhunt.seeds import stream
    from anomalyhunt.splits import group_split

    events, process = load_samples(list(paths))
    test = ~group_split(source_events(np.asarray(events.event_id), process), 0.5, stream(3, "split"))
    w, proc = np.asarray(events.weight)[test], process[test]
    keep = (proc == "ssm_wprime_2000") | np.isin(proc, ["ttbar", "wjets"])
    y = (proc == "ssm_wprime_2000")[keep]
    expected = roc_auc_score(y, captured[0][keep], sample_weight=w[keep])
    assert result.rows[0]["auc_mean"] == pytest.approx(expected, abs=1e-9)


def test_refusals_before_training(search_samples):
    _, paths = search_samples
    with pytest.raises(ConfigError, match="share a name"):
        _config(paths, detectors=({"name": "autoencoder"}, {"name": "autoencoder", "params": {"max_epochs": 2}}))
    with pytest.raises(ConfigError, match="features must be"):
        _config(paths, features=("rmm", "jets"))
    with pytest.raises(ConfigError, match="takes jet_sequence inputs"):
        _config(paths, detectors=({"name": "vrnn"},))
    with pytest.raises(ConfigError, match="needs .* signal training events"):
        run(_config(paths, signal_fractions=(0.9,)), "/nonexistent", progress=False)


def test_compare_command_refuses_another_method(tmp_path, cli):
    config = tmp_path / "c.yaml"
    config.write_text("method: vae_latent\nsamples: [a, b]\n")
    code, _, err = cli("compare", config, "--out", tmp_path / "o")
    assert code == 2 and "anomalyhunt run" in err and "Traceback" not in err


def test_trainings_as_dask_futures_give_the_numbers_of_one_process(search_samples, tmp_path):
    """Each training is named by (detector, features, injection, seed) and seeded from that name: on a scheduler
    the same trainings give the same figures, whichever worker runs which."""
    from anomalyhunt.parallel import dask_client

    _, paths = search_samples
    config = _config(paths, features=("fourvec",), signal_fractions=(0.0,), supervised_ceiling=False,
                     detectors=({"import": "sklearn.ensemble:IsolationForest", "params": {"n_estimators": 20}},))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    local = run(config, tmp_path / "a", progress=False)
    with dask_client(workers=2) as client:
        fanned = run(config, tmp_path / "b", progress=False, scheduler=client.scheduler.address)
    for a, b in zip(local.rows, fanned.rows, strict=True):
        for m in ("auc_mean", "max_sic_mean", "max_sic_std", "sic_mean"):
            assert a[m] == pytest.approx(b[m], rel=1e-9), m
