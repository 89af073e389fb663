"""The four-lepton preset's mass resolutions before and after Delphes' CMS-card lepton resolutions, on the same
Pythia events reconstructed both ways.

Run: .venv/bin/python benchmarks/lepton_resolution.py [--events 4000]
Before: muons sigma(pT)/pT = 1% (+) 1e-4 pT flat in eta, electrons 10%/sqrt(E) (+) 0.7%, leptons above 7 GeV;
after: the `fourlepton` preset (the CMS card by |eta|, track and ECAL combined for electrons, 10 GeV). Widths are
half the central 68% interval of each peak: the scalar_4l signal's m_ee (m_B = 25), m_mumu (m_C = 15) and m_4l
(m_A = 125 and 250), and the background's Z -> ee / mumu peaks (m within 80-100 GeV). The truth-level width of
the same events (no smearing at all) is printed beside them: what the detector adds is the difference in quadrature.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from anomalyhunt.features import fourlepton_inputs
from anomalyhunt.generate.processes import get_process
from anomalyhunt.generate.pythia import PythiaRun
from anomalyhunt.reco import get_preset, reconstruct, select

NEW = get_preset("fourlepton")
OLD = dataclasses.replace(NEW, name="fourlepton_before", lepton_resolution="parametric", lepton_pt_min=7.0)
# no smearing at all: the peaks' own width (natural width, FSR, combinatorics)
TRUTH = dataclasses.replace(NEW, name="fourlepton_truth", lepton_resolution="parametric", mu_constant=0.0,
                            mu_linear=0.0, em_stochastic=0.0, em_constant=0.0)


def half_width(values: np.ndarray) -> float:
    low, high = np.percentile(values, [16, 84])
    return float(high - low) / 2


def masses(process: str, params: dict, events: int, preset, seed: int) -> np.ndarray:
    run = PythiaRun(get_process(process).pythia_settings(params), seed=seed)
    out = []
    for batch in run.batches(events, batch_size=1000):
        objects = reconstruct(batch.particles, batch.b_hadrons, preset=preset, rng=np.random.default_rng(seed))
        out.append(fourlepton_inputs(objects[select(objects, preset=preset)], "masses"))
    return np.concatenate(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000)
    args = parser.parse_args()
    print("| sample | mass | truth (no smearing) | before (flat 1%, pT > 7) | after (CMS card, pT > 10) | "
          "after / before | selected before / after |")
    print("|---|---|---|---|---|---|---|")
    for process, params, label in (("scalar_4l", {"mass": 125}, "scalar_4l m_A = 125"),
                                   ("scalar_4l", {"mass": 250}, "scalar_4l m_A = 250"),
                                   ("fourlepton_bkg", {}, "fourlepton_bkg")):
        got = {name: masses(process, params, args.events, preset, 7) for name, preset in
               (("truth", TRUTH), ("before", OLD), ("after", NEW))}
        columns = (("m_ee", 0), ("m_mumu", 1), ("m_4l", 2)) if process == "scalar_4l" else (("m_ee", 0),
                                                                                               ("m_mumu", 1))
        for name, j in columns:
            widths = {}
            for kind, m in got.items():
                values = m[:, j]
                if process == "fourlepton_bkg":
                    values = values[(values > 80) & (values < 100)]
                widths[kind] = half_width(values)
            print(f"| {label} | {name} | {widths['truth']:.3g} | {widths['before']:.3g} | {widths['after']:.3g} | "
                  f"{widths['after'] / widths['before']:.2f} | {len(got['before'])} / {len(got['after'])} |")


if __name__ == "__main__":
    main()
