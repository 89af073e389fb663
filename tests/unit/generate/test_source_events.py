"""Entries made from one generated event share a group, so that splits keep them on one side."""

import numpy as np

from anomalyhunt.generate import source_events


def test_forced_fake_hypotheses_of_one_event_share_a_group():
    # qcd_fake_lepton ids: event number x 100 + the faking jet's rank; w_lnu ids: one event each
    ids = np.array([700, 701, 702, 800, 900, 901, 5, 6, 7, 700])
    proc = np.array(["qcd_fake_lepton"] * 6 + ["w_lnu"] * 3 + ["unknown_import"], dtype=object)
    g = source_events(ids, proc)
    assert g[0] == g[1] == g[2]
    assert g[4] == g[5]
    assert len({g[0], g[3], g[4]}) == 3
    # every entry of an ordinary process is alone, even with the same id as a QCD event's number
    assert len(set(g[6:].tolist()) | {g[0], g[3], g[4]}) == 7
    assert source_events(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)).shape == (0,)
