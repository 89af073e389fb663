"""The provenance says what a `detector:` section ran: a user's class (whose code ran by design) with its
package version and file, or a built-in by name."""

from anomalyhunt.pipeline import build_run_config
from anomalyhunt.pipeline.run import provenance


def test_an_imported_detector_is_recorded_with_its_version_and_file():
    run_config = build_run_config({"method": "rmm_autoencoder", "samples": ["a"],
                                   "detector": {"import": "sklearn.ensemble:IsolationForest",
                                                "params": {"n_estimators": 10}}})
    record = provenance(run_config, ["anomalyhunt", "run"])["detector"]
    import sklearn

    assert record["kind"] == "import" and record["version"] == sklearn.__version__
    assert record["module_file"].endswith("ensemble/__init__.py") and "by design" in record["note"]
    assert record["params"] == {"n_estimators": 10}


def test_a_comparison_records_every_detector_and_a_default_run_none():
    compare = build_run_config({"method": "compare", "samples": ["a", "b"],
                                "detectors": [{"name": "autoencoder"}, {"import": "sklearn.svm:OneClassSVM"}]})
    records = provenance(compare, None)["detectors"]
    assert [r["kind"] for r in records] == ["builtin", "import"] and records[0]["name"] == "autoencoder"
    default = build_run_config({"method": "rmm_autoencoder", "samples": ["a"]})
    assert provenance(default, None)["detector"] is None
