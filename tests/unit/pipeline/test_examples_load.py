"""Every example config a user is pointed to is valid for the current code (read and validated, nothing run)."""

from pathlib import Path

import pytest

from anomalyhunt.pipeline import load_run_config

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples").glob("*.yaml"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 7


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_config_loads(path):
    config = load_run_config(path)
    assert config.method and config.generate  # each example runs from an empty data/ folder
