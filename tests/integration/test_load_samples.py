"""Two datasets of one process count as one cross section, not two."""

import numpy as np
import pytest

from anomalyhunt import events as event_io
from anomalyhunt.events import load_samples
from anomalyhunt.generate import GenerationConfig, generate


def test_repeated_process_weights_are_shared_by_generated_events(tmp_path):
    paths, sigma = [], []
    for seed, n in ((1, 300), (2, 900)):
        out = tmp_path / f"z{seed}"
        manifest = generate(GenerationConfig("z_ll", n, seed=seed, preset="adc2021", chunk_size=n), out, workers=0)
        paths.append(str(out))
        sigma.append(manifest["selected_sigma_pb"])
    other = tmp_path / "tt"
    generate(GenerationConfig("ttbar", 200, seed=3, preset="adc2021", chunk_size=200), other, workers=0)
    events, process = load_samples([*paths, str(other)])
    weight = np.asarray(events.weight)
    # the merged selected cross section is the generated-event-weighted mean of the two estimates
    assert weight[process == "z_ll"].sum() == pytest.approx((300 * sigma[0] + 900 * sigma[1]) / 1200, rel=1e-9)
    # per-event weights are now equal across the two seeds (both are sigma / 1200 per generated event, roughly)
    first = weight[: len(event_io.read(paths[0]))]
    second = weight[len(first): len(first) + len(event_io.read(paths[1]))]
    assert first.mean() == pytest.approx(second.mean(), rel=0.15)
    # a process that appears once is untouched
    assert weight[process == "ttbar"].sum() == pytest.approx(event_io.read(str(other)).weight.to_numpy().sum())
