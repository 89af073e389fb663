"""Two datasets of one process count as one cross section, not two."""

from pathlib import Path

import numpy as np
import pytest

from anomalyhunt import events as event_io
from anomalyhunt import ingest
from anomalyhunt.generate import GenerationConfig
from anomalyhunt.ingest import load_samples


def test_repeated_process_weights_are_shared_by_generated_events(tmp_path, disco_samples, generate_together):
    # the session's z_ll (600 events, seed 5) and 300 more from another seed; a_4l appears once
    named = {Path(p).name: p for p in disco_samples}
    [extra] = generate_together([(GenerationConfig("z_ll", 300, seed=1, preset="adc2021", chunk_size=300),
                                  tmp_path / "z1")])
    paths = [extra, named["z_ll"]]
    manifests = [event_io.read_manifest(p) for p in paths]
    n = [m["n_generated"] for m in manifests]
    sigma = [m["selected_sigma_pb"] for m in manifests]
    assert n == [300, 600]
    other = named["a_4l"]
    events, process = load_samples([*paths, str(other)])
    weight = np.asarray(events.weight)
    # the merged selected cross section is the generated-event-weighted mean of the two estimates
    assert weight[process == "z_ll"].sum() == pytest.approx((n[0] * sigma[0] + n[1] * sigma[1]) / sum(n), rel=1e-9)
    # per-event weights are now equal across the two seeds (both are sigma / 900 per generated event, roughly)
    first = weight[: len(ingest.read(paths[0]))]
    second = weight[len(first): len(first) + len(ingest.read(paths[1]))]
    assert first.mean() == pytest.approx(second.mean(), rel=0.15)
    # a process that appears once is untouched
    alone = ingest.read(str(other))
    assert len(set(process[-len(alone):].tolist())) == 1
    assert weight[-len(alone):].sum() == pytest.approx(alone.weight.to_numpy().sum())
