"""The tiny Pythia samples of the integration tests, generated in the background.

Each named sample set (the name of the session fixture that hands it out) is a list of (GenerationConfig, folder)
jobs. At the start of a session the sets that the collected tests use are queued, to be generated one after the
other from one thread on the session's Dask cluster, whose workers run at a lower priority (nice 10) than the test
process: the samples are made on the core that the unit tests, which run first, leave idle, and a fixture waits
only for its own set. A set that no collected test declared is queued when first asked for (while any set is
in use; with none, `tests/integration/conftest.py` says which mark to add).
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path

from anomalyhunt.generate import GenerationConfig, generate_many


def _tiny(root: Path, preset: str, specs, chunks=None) -> list[tuple[GenerationConfig, Path]]:
    """(name, process, events, seed, params) samples of one preset, one chunk each unless `chunks` (name -> chunk
    size) says otherwise."""
    chunks = chunks or {}
    return [(GenerationConfig(process, n, seed=seed, preset=preset, chunk_size=chunks.get(name, n), params=params),
             root / name) for name, process, n, seed, params in specs]


def _search(root):
    """SM ttbar and W + jets plus a 2 TeV W' (chekanov2022 preset)."""
    return _tiny(root, "chekanov2022", (("ttbar", "ttbar", 1200, 4, {}), ("wjets", "wjets", 1200, 4, {}),
                                        ("ssm_wprime", "ssm_wprime", 300, 4, {"mass": 2000.0})),
                 chunks={"ttbar": 600, "wjets": 600, "ssm_wprime": 600})


def _disco(root):
    """W, Z and two Mikuni, Nachman & Shih signals (adc2021 preset)."""
    return _tiny(root, "adc2021", tuple((process, process, n, 5, {}) for process, n in
                                        (("w_lnu", 3000), ("z_ll", 600), ("a_4l", 400), ("h0_tautau", 1500))))


def _disco_others(root):
    """The other adc2021 processes: the leptoquark and charged-Higgs tau signals and the QCD fake leptons."""
    return _tiny(root, "adc2021", (("lq_btau", "lq_btau", 200, 11, {}), ("hpm_taunu", "hpm_taunu", 1500, 11, {}),
                                   ("qcd_fake_lepton", "qcd_fake_lepton", 400, 11, {})), chunks={"hpm_taunu": 500})


def _fourlepton(root):
    """Krzyzanska & Nachman's samples (fourlepton preset): simulation, an independent background pool from another
    seed (two chunks: its halves beside the simulation), and the 150 GeV scalar_4l signal."""
    return _tiny(root, "fourlepton", (("simulation", "fourlepton_bkg", 2500, 31, {}),
                                      ("pool", "fourlepton_bkg", 5000, 32, {}),
                                      ("scalar_4l_150", "scalar_4l", 400, 33, {"mass": 150.0})), chunks={"pool": 2500})


def _dijet(root):
    """Bortolato et al.'s samples (dijet_lhco preset, large-R jets): QCD above the 1.2 TeV jet threshold and the
    W' -> X Y signal."""
    return _tiny(root, "dijet_lhco", (("qcd", "qcd", 900, 41, {"pthat_min": 1000.0, "bias_pow": 4.0}),
                                      ("wprime_xy", "wprime_xy", 400, 42, {})))


def _yxh(root):
    """ATLAS's Y -> X H samples (yxh_atlas preset: large-R jets with constituents, D2, n_b): QCD, boosted ttbar,
    and the 2-prong and dark-jet signals."""
    return _tiny(root, "yxh_atlas", (("qcd", "qcd", 1200, 51, {"pthat_min": 400.0, "bias_pow": 3.0}),
                                     ("ttbar", "ttbar_boosted", 150, 52, {}), ("yxh_qq", "yxh_qq", 250, 53, {}),
                                     ("yxh_dark", "yxh_dark", 250, 54, {})))


def _features(root):
    """SM ttbar and W + jets (chekanov2022 preset), two chunks each: the features pipeline's input."""
    return _tiny(root, "chekanov2022", (("ttbar", "ttbar", 400, 21, {}), ("wjets", "wjets", 400, 21, {})),
                 chunks={"ttbar": 200, "wjets": 200})


# fixture name -> its jobs, in the order the integration tests first need them (the order of submission)
SAMPLE_SETS = {"search_samples": _search, "fourlepton_samples": _fourlepton, "disco_samples": _disco,
               "disco_other_samples": _disco_others, "dijet_samples": _dijet, "yxh_samples": _yxh,
               "features_samples": _features}


def lower_priority(client, niceness: int = 10) -> None:
    """Renice every thread of every worker process of `client` (Linux nice values are per thread; the threads a
    worker starts later inherit its niceness). Without /proc, the worker process itself."""
    for pid in client.run(os.getpid).values():
        tasks = f"/proc/{pid}/task"
        for tid in os.listdir(tasks) if os.path.isdir(tasks) else [pid]:
            try:
                os.setpriority(os.PRIO_PROCESS, int(tid), niceness)
            except (ProcessLookupError, PermissionError):
                pass


class BackgroundSamples:
    """The session's sample sets: `start(names)` queues them, `wait(name)` returns one set's dataset folders.

    One thread generates the queued sets one after the other, in the order the tests need them (the "bound to a
    different event loop" failures of two fresh clones came from `run_futures` waiting on another client, since
    fixed in `anomalyhunt.parallel`)."""

    def __init__(self, client, root: Path):
        self.client = client
        self.root = root
        self._queue: queue.Queue = queue.Queue()
        self._jobs: dict[str, list] = {}
        self._done: dict[str, threading.Event] = {}
        self._errors: dict[str, BaseException] = {}
        self._thread = threading.Thread(target=self._work, name="generate samples", daemon=True)
        self._thread.start()

    def start(self, names) -> None:
        for name in names:
            if name not in self._done:
                self._jobs[name] = SAMPLE_SETS[name](self.root / name)
                self._done[name] = threading.Event()
                self._queue.put(name)

    def _work(self) -> None:
        while (name := self._queue.get()) is not None:
            try:
                generate_many(self._jobs[name], client=self.client)
            except BaseException as exc:  # noqa: BLE001 - handed to the fixture that waits for this set
                self._errors[name] = exc
            finally:
                self._done[name].set()

    def wait(self, name: str) -> list[str]:
        self.start([name])
        self._done[name].wait()
        if name in self._errors:
            raise RuntimeError(f"generating the {name} failed") from self._errors[name]
        return [str(out) for _, out in self._jobs[name]]

    def join(self) -> None:
        """Wait until every queued set is generated (or failed)."""
        for done in list(self._done.values()):
            done.wait()

    def close(self) -> None:
        self.join()
        self._queue.put(None)
        self._thread.join()
