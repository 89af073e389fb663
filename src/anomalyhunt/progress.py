"""Progress of long steps that shows on a terminal and in a log file alike.

On a terminal a tqdm bar is drawn. Without one (a job writing to a log), the step logs a plain status line
through `logging` whenever it advances and at least every `interval` seconds from a heartbeat thread, so that a
log never stays silent for longer than that while work goes on (tqdm hides itself without a terminal).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Progress", "progress"]

HEARTBEAT_S = 20.0


class Progress:
    """A long step: `update(done, total=None, **info)` after each piece of work.

    Steps nest (a run holds a training holds epochs): a heartbeat line is written only when no step has written
    one for `interval` seconds, so the innermost active step speaks and the outer ones stay quiet.
    """

    _last_any = time.monotonic()  # when any step last wrote a line

    def __init__(self, desc: str, *, total: int | None = None, unit: str = "it", logger: logging.Logger,
                 interval: float = HEARTBEAT_S, enabled: bool = True):
        self.desc, self.total, self.unit, self.logger = desc, total, unit, logger
        self.done, self.info = 0, {}
        self._start = time.monotonic()
        self._last_line = float("-inf")  # the first update is written at once
        self._emitted = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._bar = None
        self._thread = None
        if not enabled:
            return
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, leave=False)
        else:  # silent until the first update or heartbeat: an error before any work stays one line
            self._thread = threading.Thread(target=self._heartbeat, args=(interval,), daemon=True)
            self._thread.start()

    def status(self) -> str:
        """One plain line: what is done, of how much, how long it took so far, and the latest figures."""
        count = f"{self.done}/{self.total}" if self.total else f"{self.done}"
        extra = "".join(f", {k} {v}" for k, v in self.info.items())
        return f"{self.desc}: {count} {self.unit}, {time.monotonic() - self._start:.0f} s{extra}"

    def update(self, done: int, total: int | None = None, **info) -> None:
        with self._lock:
            self.done = done
            self.total = total if total is not None else self.total
            self.info = {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in info.items()}
            if self._bar is not None:
                self._bar.total = self.total
                self._bar.n = done
                self._bar.set_postfix(self.info, refresh=True)
            elif self._thread is not None and time.monotonic() - self._last_line >= 5.0:
                self._emit()

    def _emit(self) -> None:
        self._last_line = Progress._last_any = time.monotonic()
        self._emitted = True
        self.logger.info("%s", self.status())

    def _heartbeat(self, interval: float) -> None:
        while not self._stop.wait(min(1.0, interval / 4)):
            with self._lock:
                if time.monotonic() - max(self._start, self._last_line, Progress._last_any) >= interval:
                    self._emit()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            if self._emitted:
                self.logger.info("%s (done)", self.status())
        if self._bar is not None:
            self._bar.close()


@contextmanager
def progress(desc: str, *, total: int | None = None, unit: str = "it", logger: logging.Logger,
             interval: float = HEARTBEAT_S, enabled: bool = True) -> Iterator[Progress]:
    """A `Progress` that is closed (heartbeat stopped, last line written) when the block ends."""
    bar = Progress(desc, total=total, unit=unit, logger=logger, interval=interval, enabled=enabled)
    try:
        yield bar
    finally:
        bar.close()
