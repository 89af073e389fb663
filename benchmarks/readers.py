"""Reader throughput: events/s of each reader against uproot reading the same branches alone, same file, same run.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/readers.py [--repeat 5] [--scale 100]
The ratio is the overhead of our object selection and conversion to the event contract (target below 2x).
The real test files hold 10 to 200 events, so their timings are dominated by opening the file; each is also
replicated `--scale` times into a larger file of the same layout (written with uproot) to measure throughput.
LHE: Pythia showering the file alone is the baseline; the reader adds reconstruction with a detector preset.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import awkward as ak
import uproot

from anomalyhunt.ingest.formats import SELECTIONS, get_reader
from anomalyhunt.ingest.formats import nanoaod as nano_mod
from anomalyhunt.ingest.formats import physlite as physlite_mod

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"


def branches(fmt: str, path: Path) -> tuple[str, list[str]]:
    if fmt == "nanoaod":
        tree = uproot.open(path)["Events"]
        required, optional = nano_mod._branches(SELECTIONS["cms_nanoaod"], tree)
        return "Events", required + optional
    tree = uproot.open(path)["CollectionTree"]
    present = physlite_mod._present(tree, physlite_mod._decorations(SELECTIONS["atlas_physlite"]))
    return "CollectionTree", physlite_mod._required() + list(present.values())


def best(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def replicate(path: Path, tree_name: str, names: list[str], scale: int, out: Path) -> Path:
    """The same NanoAOD branches, the file's events repeated `scale` times, as a TTree in NanoAOD's layout
    (`nJet` counters, `Jet_pt` branches)."""
    arrays = uproot.open(path)[tree_name].arrays(names)
    big = ak.concatenate([arrays] * scale)
    groups: dict = {}
    for name in names:
        prefix, _, field = name.partition("_")
        if big[name].ndim == 2:
            groups.setdefault(prefix, {})[field] = big[name]
        else:
            groups[name] = big[name]
    branches = {k: ak.zip(v) if isinstance(v, dict) else v for k, v in groups.items()}
    with uproot.recreate(out) as f:
        f.mktree(tree_name, {k: v.type for k, v in branches.items()}, counter_name=lambda c: f"n{c}",
                 field_name=lambda outer, inner: f"{outer}_{inner}")
        f[tree_name].extend(branches)
    return out


def measure(fmt: str, path: Path, repeat: int) -> tuple[int, float, float]:
    tree_name, names = branches(fmt, path)
    reader = get_reader(fmt)
    selection = SELECTIONS[reader.default_selection]
    n = uproot.open(path)[tree_name].num_entries
    t_uproot = best(lambda: uproot.open(path)[tree_name].arrays(names), repeat)
    t_ours = best(lambda: reader.read(path, selection, 0, n), repeat)
    return n, t_uproot, t_ours


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", type=int, default=100)
    args = parser.parse_args()
    rows = []
    files = [("nanoaod", "nanoAOD_2015_CMS_Open_Data_ttbar.root"), ("nanoaod", "nano_tt_v12.root"),
             ("nanoaod", "pfnano.root"), ("physlite", "PHYSLITE_example.root")]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, name in files:
            path = TESTDATA / name
            n, tu, to = measure(fmt, path, args.repeat)
            rows.append((fmt, name, n, n / tu, n / to, to / tu))
            if fmt == "nanoaod":  # flat NanoAOD branches replicate cleanly; PHYSLITE's links do not
                tree_name, names = branches(fmt, path)
                big = replicate(path, tree_name, names, args.scale, Path(tmp) / f"big-{name}")
                n, tu, to = measure(fmt, big, args.repeat)
                rows.append((fmt, f"{name} x{args.scale}", n, n / tu, n / to, to / tu))

        lhe = TESTDATA / "pylhe-testfile-pythia-8.3.14-weakbosons.lhe"
        from anomalyhunt.generate.pythia import PythiaRun, quiet_stdout

        def shower_only():
            with quiet_stdout():
                run = PythiaRun(["Beams:frameType = 4", f"Beams:LHEF = {lhe}"], seed=5)
                list(run.batches(100, batch_size=500, keep_failed=True))

        reader = get_reader("lhe")
        t_pythia = best(shower_only, max(2, args.repeat // 2))
        selection = SELECTIONS["particle_chekanov2022"]
        t_ours = best(lambda: reader.read(lhe, selection, 0, 100, 5), max(2, args.repeat // 2))
        rows.append(("lhe", lhe.name + " (baseline: Pythia shower)", 100, 100 / t_pythia, 100 / t_ours,
                     t_ours / t_pythia))

    print("| format | file | events | baseline events/s | reader events/s | time ratio (reader / baseline) |")
    print("|---|---|---|---|---|---|")
    for fmt, name, n, base, ours, ratio in rows:
        print(f"| {fmt} | {name} | {n} | {base:,.0f} | {ours:,.0f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
