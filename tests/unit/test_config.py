"""Configs are checked field by field when built: one line naming the field and the value."""

import pytest

from anomalyhunt.config import check_types, from_mapping
from anomalyhunt.exceptions import ConfigError
from anomalyhunt.methods import get_method, method_names
from anomalyhunt.methods.double_ae import DoubleAEConfig
from anomalyhunt.methods.rmm_autoencoder import RMMAutoencoderConfig
from anomalyhunt.pipeline import build_run_config


@pytest.mark.parametrize(("settings", "message"), [
    ({"train_fraction": "abc"}, "train_fraction: expected a number, got 'abc'"),
    ({"regions_pb": 5}, "regions_pb: expected a list of numbers, got 5"),
    ({"max_epochs": "two"}, "max_epochs: expected an integer, got 'two'"),
    ({"max_epochs": 2.5}, "max_epochs: expected an integer"),
    ({"inject": ["x"]}, "inject: expected a mapping of strings to numbers"),
    ({"regions_pb": []}, "regions_pb: give at least one"),
    ({"regions_pb": [-1]}, "regions_pb must be positive"),
    ({"regions_pb": [1, 10]}, "strictly decreasing"),
    ({"n_toys": -5}, "n_toys must be positive"),
    ({"n_toys": True}, "n_toys: expected an integer"),
    ({"samples": "data/one"}, "samples: expected a list of strings, got 'data/one'"),
    ({"samples": []}, "at least one sample"),
    ({"m_min": 7000}, "m_min must be below m_max"),
    ({"luminosity_fb": float("nan")}, "luminosity_fb: expected a number"),
    ({"rmm_preset": "T9"}, "rmm_preset: unknown RMM preset"),
    ({"model_preset": "vae"}, "model_preset: unknown"),
    ({"rmm_files": ["a.npy", "b.npy"]}, "one file per sample"),
    ({"epochz": 3}, "unknown field(s) ['epochz']; known: batch_size,"),
])
def test_bad_search_settings_are_one_clear_line(settings, message):
    data = {"samples": ["data/a"], **settings}
    with pytest.raises(ConfigError) as err:
        from_mapping(RMMAutoencoderConfig, data, where="search.yaml: ")
    assert message in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("search.yaml: ")


def test_yaml_values_are_converted_to_the_declared_types():
    config = from_mapping(RMMAutoencoderConfig, {"samples": ["a", "b"], "regions_pb": [10, 1], "luminosity_fb": 140,
                                                 "inject": {"b": 2}})
    assert config.samples == ("a", "b") and config.regions_pb == (10.0, 1.0)
    assert isinstance(config.luminosity_fb, float) and config.inject == {"b": 2.0}
    check_types(config)  # idempotent


def test_nested_sections_and_required_fields():
    config = from_mapping(DoubleAEConfig, {"samples": ["a"], "double_ae": {"lam": 10, "batch_size": 400}})
    assert config.double_ae.lam == 10.0 and config.double_ae.batch_size == 400
    with pytest.raises(ConfigError, match=r"double_ae: unknown field\(s\) \['lamda'\]"):
        from_mapping(DoubleAEConfig, {"samples": ["a"], "double_ae": {"lamda": 3}})
    with pytest.raises(ConfigError, match="lam must be >= 0"):
        from_mapping(DoubleAEConfig, {"samples": ["a"], "double_ae": {"lam": -1}})
    with pytest.raises(ConfigError, match=r"missing required field\(s\) \['samples'\]"):
        from_mapping(DoubleAEConfig, {})


def test_run_configs_with_generation():
    rc = build_run_config({"method": "double_ae", "generate": [{"process": "w_lnu", "events": 100, "seed": 3,
                                                                "preset": "adc2021"}]})
    assert rc.config.samples == ("data/w_lnu-seed3-n100-adc2021",) and rc.generate[0].out == rc.config.samples[0]
    for bad, message in (({"generate": [{"process": "nope", "events": 10}]}, r"generate\[0\]: unknown process"),
                         ({"generate": [{"process": "ttbar", "events": -1}]}, "n_events must be a positive"),
                         ({"generate": "ttbar"}, "generate: expected a list"),
                         ({"method": "triple_ae", "samples": ["a"]}, "unknown method 'triple_ae'; known:"),
                         ({"generate": [{"process": "ttbar", "events": 10, "out": "x"},
                                        {"process": "wjets", "events": 10, "out": "x"}]}, "same folder")):
        with pytest.raises(ConfigError, match=message):
            build_run_config(bad)


def test_every_method_is_registered_once_with_a_validated_config():
    for name in method_names():
        method = get_method(name)
        assert method.name == name and method.description and method.detectors and method.result_type()
        with pytest.raises(ConfigError):
            method.config(samples=())
