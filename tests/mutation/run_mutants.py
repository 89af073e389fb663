# ruff: noqa: E501 - the mutant table quotes whole source lines
"""One-line mutants of the code, each applied alone, with the tests that should catch it: prints which survive.

    .venv/bin/python tests/mutation/run_mutants.py [--only NAME ...]

A mutant is (name, file, the exact text it replaces, the replacement, the tests to run). The file is restored
after each run, whatever happens. Not part of the test suite (it runs the suite's tests many times over).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "anomalyhunt"

# (name, file under src/anomalyhunt, old text, new text, tests)
MUTANTS = [
    # --- the six that survived the previous round's exercise
    ("gamma shape b/sigma", "stats/counting.py", "(bt / np.where(uncertain, st, 1.0)) ** 2",
     "(bt / np.where(uncertain, st, 1.0))", ["tests/unit/stats/test_counting.py"]),
    ("ensemble member order seed 0", "models/ensemble.py", "member_seed(config.seed, k)) for k in range(k_members)",
     "member_seed(config.seed, 0)) for k in range(k_members)", ["tests/unit/models/test_ensemble.py"]),
    ("vae validation KL unweighted", "models/vae.py", "kl += (batch_kl.double() * wb).sum(1)",
     "kl += (batch_kl.double() * wb.mean()).sum(1)", ["tests/unit/models/test_vae.py"]),
    ("strict fall window one short", "models/train.py", "values[best:best + self.fall + 1]",
     "values[best:best + self.fall]", ["tests/unit/models/test_train.py"]),
    ("vrnn padded reconstruction", "models/vrnn.py", "mse = mse + mask * mse_t", "mse = mse + mse_t",
     ["tests/unit/models/test_vrnn.py"]),
    ("old manifest chunks floored", "events/io.py", "planned = -(-int(config[\"n_events\"]) // int(config[\"chunk_size\"]))",
     "planned = int(config[\"n_events\"]) // int(config[\"chunk_size\"])", ["tests/unit/events/test_dataset_truth.py"]),
    ("vae member order shared", "models/vae.py", "order = [torch.Generator().manual_seed(s) for s in _seeds(self.seed, k, 3)]",
     "order = [torch.Generator().manual_seed(s) for s in _seeds(self.seed, 1, 3) * k]",
     ["tests/unit/models/test_vae.py"]),
    # --- this round's code: nothing lost, nothing silent
    ("chunk identity not compared", "events/io.py", "and chunk_meta[key] != manifest[key]:",
     "and chunk_meta[key] != manifest[key] and False:",
     ["tests/integration/test_nothing_lost.py"]),
    ("chunk count not compared", "events/io.py", "if isinstance(expected, int) and expected != rows:",
     "if isinstance(expected, int) and expected < rows:", ["tests/integration/test_nothing_lost.py"]),
    ("output inside an input allowed", "events/io.py", "        if out.is_relative_to(source) and not source.is_file():",
     "        if out.is_relative_to(source) and out.parent == source.parent:", ["tests/integration/test_nothing_lost.py",
                                                                  "tests/unit/pipeline/test_run_folder.py"]),
    ("output holding an input allowed", "events/io.py", "        if source.is_relative_to(out):",
     "        if source.is_relative_to(out) and source.parent != out:",
     ["tests/integration/test_nothing_lost.py", "tests/unit/pipeline/test_run_folder.py"]),
    ("any folder with provenance is a run", "pipeline/run_folder.py",
     "and not any(path.rglob(MANIFEST)))", ")", ["tests/unit/pipeline/test_run_folder.py",
                                                 "tests/integration/test_nothing_lost.py"]),
    ("mass at sqrt(s) allowed", "generate/processes.py", "and value >= sqrt_s:", "and value > sqrt_s:",
     ["tests/integration/test_nothing_lost.py"]),
    ("non-finite parameter allowed", "generate/processes.py", "if not (math.isfinite(value) and value > 0):",
     "if not value > 0:", ["tests/integration/test_nothing_lost.py"]),
    ("config depth limit off by far", "pipeline/runconfig.py", "_MAX_CONFIG_DEPTH = 40", "_MAX_CONFIG_DEPTH = 40_000_000",
     ["tests/integration/test_nothing_lost.py"]),
    ("alias bomb counted without sharing", "pipeline/runconfig.py",
     "size[id(current)] = 1 + sum(size.get(id(c), 0) for c in children)", "size[id(current)] = 1 + len(children)",
     ["tests/integration/test_nothing_lost.py"]),
    ("lhe unclosed event accepted", "ingest/formats/lhe.py", "    if state == \"event\":", "    if state == \"never\":",
     ["tests/integration/test_nothing_lost.py"]),
    ("lhe particle momenta not checked", "ingest/formats/lhe.py",
     "blocks += [(line.split(), _PARTICLE_FIELDS) for line in lines[1:1 + int(lines[0].split()[0])]]",
     "blocks += [(line.split(), _PARTICLE_FIELDS) for line in lines[2:1 + int(lines[0].split()[0])]]",
     ["tests/integration/test_nothing_lost.py"]),
    ("photon bitmap read as a level", "ingest/formats/nanoaod.py", "    if kind == \"level\":", "    if kind != \"bits\":",
     ["tests/unit/ingest/test_readers.py"]),
    ("tight bit ignored in the bitmap", "ingest/formats/nanoaod.py", "np.where(values & 4, 3, np.where(values & 2, 2,",
     "np.where(values & 8, 3, np.where(values & 2, 2,", ["tests/unit/ingest/test_readers.py"]),
    ("copies of one input allowed", "ingest/importer.py",
     "for p in same_size if len(same_size) > 1 else ():", "for p in same_size if len(same_size) > 2 else ():",
     ["tests/integration/test_nothing_lost.py"]),
    ("features ignore incompleteness", "pipeline/features.py", "    check_complete(source, allow_incomplete)\n",
     "    check_complete(source, True)\n", ["tests/integration/test_nothing_lost.py"]),
    ("sideband p threshold ignored", "stats/hunt.py", "elif not refit.p_value >= p_min:", "elif refit.p_value < 0:",
     ["tests/unit/stats/test_hunt.py"]),
    ("window at the resolution only", "stats/hunt.py", "    for w in range(len(widths)):", "    for w in range(1):",
     ["tests/unit/stats/test_hunt.py"]),
    ("runaway fits let through", "stats/hunt.py", "empty = (counts == 0) & (fit.expected > max_empty)",
     "empty = (counts == 0) & (fit.expected > 1e9)", ["tests/unit/stats/test_hunt.py"]),
    # --- the bump hunt's toys, made faster
    ("scan stops on a loose q0", "stats/bumphunt.py", "_Q0_TOLERANCE = 1e-8", "_Q0_TOLERANCE = 1e-1",
     ["tests/unit/stats/test_bumphunt.py"]),
    ("log1p series coefficient", "stats/bumphunt.py", "1.0 / 6.0 - x * (1.0 / 7.0", "1.0 / 6.0 - x * (1.0 / 5.0",
     ["tests/unit/stats/test_bumphunt.py"]),
    ("refit stops on a loose prediction", "stats/bumphunt.py", "(predicted < tolerance / 4))",
     "(predicted < tolerance * 400))", ["tests/unit/stats/test_bumphunt.py"]),
    ("fisher matrix half filled", "stats/bumphunt.py", "                fisher_out[t, j, i] = fisher_out[t, i, j]",
     "                fisher_out[t, j, i] = 0.0", ["tests/unit/stats/test_bumphunt.py"]),
    ("first refit step from the wrong side", "stats/bumphunt.py", "q = q0[None] + (counts - mu0) @ first",
     "q = q0[None] + (mu0 - counts) @ first", ["tests/unit/stats/test_bumphunt.py"]),
    ("excluded bins counted in the fit", "stats/dijet.py",
     "return _cost(counts, mu, ratio) if keep is None else _cost(counts[keep], mu[keep], ratio)",
     "return _cost(counts, mu, ratio)", ["tests/unit/stats/test_hunt.py", "tests/unit/stats/test_dijet.py"]),
    ("skipped spectra not marked", "stats/hunt.py", "if (m.channel, m.region) in reasons else m for m in models]",
     "if (m.channel, m.region) in () else m for m in models]", ["tests/unit/stats/test_hunt.py"]),
    # --- session 15: the shared epoch loop, exported spectra, the LHC Olympics reader, Kahn's VRNN weights
    ("epoch loop records stopped members", "models/train.py", "for m in np.flatnonzero(~stopped):",
     "for m in range(n_members):", ["tests/unit/models/test_train.py"]),
    ("fit modes twice the variance", "stats/spectra.py", "return (jac @ (vectors * np.sqrt(values))).T[::-1]",
     "return (jac @ (vectors * np.sqrt(2 * values))).T[::-1]", ["tests/unit/stats/test_spectra_pyhf.py"]),
    ("lhco fatjet radius", "ingest/formats/lhco.py", "fastjet.JetDefinition(fastjet.antikt_algorithm, selection.fatjet_r)",
     "fastjet.JetDefinition(fastjet.antikt_algorithm, 0.8)", ["tests/unit/ingest/test_lhco.py"]),
    ("vrnn weights normalised by default", "models/vrnn.py", "if self.position_weights == \"normalised\":",
     "if True:", ["tests/unit/models/test_vrnn.py"]),
    # --- honest reproductions: presets, the mass-dependent transfer factor, the paper-like statistics
    ("cms electron track only", "reco/detector.py", "return 1 / (1 / track**2 + 1 / ecal**2) ** 0.5",
     "return track", ["tests/unit/reco/test_detector_presets.py"]),
    ("tau axes not passed", "reco/substructure.py", "axes_definition=axes,", "axes_definition=\"KT_Axes\",",
     ["tests/unit/reco/test_substructure.py"]),
    ("transfer fit error drops the slope", "stats/transfer.py",
     "gradient = np.array([value, float(np.sum(weights * c * (m - self.m_ref)))])",
     "gradient = np.array([value, 0.0])", ["tests/unit/stats/test_transfer.py"]),
    ("statistics over all events always", "methods/data_vs_sim/study.py",
     "data = is_data if over == \"data\" else np.ones(len(label), dtype=bool)", "data = np.ones(len(label), dtype=bool)",
     ["tests/unit/methods/test_data_vs_sim_study.py"]),
    ("fixed point truncates", "models/firmware.py", "np.floor(np.asarray(x, dtype=np.float64) / self.step + 0.5)",
     "np.floor(np.asarray(x, dtype=np.float64) / self.step)", ["tests/unit/models/test_firmware.py"]),
]


def run(only: list[str]) -> int:
    results = []
    for name, file, old, new, tests in MUTANTS:
        if only and name not in only:
            continue
        path = SRC / file
        original = path.read_text()
        if original.count(old) != 1:
            print(f"{name}: the text to mutate occurs {original.count(old)} times in {file}; fix the mutant")
            return 2
        start = time.perf_counter()
        try:
            path.write_text(original.replace(old, new))
            done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                                  cwd=ROOT, capture_output=True, text=True)
        finally:
            path.write_text(original)
        caught = done.returncode != 0
        results.append((name, caught))
        print(f"{'caught  ' if caught else 'SURVIVED'} {name} ({file}; {time.perf_counter() - start:.0f} s)",
              flush=True)
    print(f"{sum(c for _, c in results)} of {len(results)} mutants caught")
    return 0 if all(c for _, c in results) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[])
    sys.exit(run(parser.parse_args().only))
