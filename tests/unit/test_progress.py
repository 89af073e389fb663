"""Progress shows in a log file: without a terminal, plain status lines at least every heartbeat interval."""

import logging
import time

from anomalyhunt.progress import progress


def test_heartbeat_lines_without_a_terminal(caplog):
    caplog.set_level(logging.INFO, logger="anomalyhunt.test")
    log = logging.getLogger("anomalyhunt.test")
    with progress("toys", total=10, unit="batch", logger=log, interval=0.4) as bar:
        bar.update(3, z=1.23456)
        time.sleep(1.5)  # no update: the heartbeat must still write
    lines = [r.getMessage() for r in caplog.records]
    beats = [line for line in lines if line.startswith("toys: 3/10 batch")]
    assert len(beats) >= 3, lines  # the update itself, then heartbeats
    assert "z 1.235" in beats[0]
    assert lines[-1].endswith("(done)")


def test_disabled_progress_writes_nothing(caplog):
    caplog.set_level(logging.INFO, logger="anomalyhunt.test")
    with progress("quiet", logger=logging.getLogger("anomalyhunt.test"), enabled=False) as bar:
        bar.update(1)
    assert not caplog.records


def test_a_step_that_fails_before_any_work_writes_nothing(caplog):
    caplog.set_level(logging.INFO, logger="anomalyhunt.test")
    try:
        with progress("generating", logger=logging.getLogger("anomalyhunt.test"), interval=5.0):
            raise ValueError("output folder not writable")
    except ValueError:
        pass
    assert not caplog.records
