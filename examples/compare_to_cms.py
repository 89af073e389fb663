"""Does our parametric detector look like CMS's? Generated ttbar against CMS NanoAOD ttbar, in RMM space and
through an autoencoder trained on generated events.

    anomalyhunt import ../shared/testdata/nanoAOD_2015_CMS_Open_Data_ttbar.root -o data/cms_ttbar \\
        --cross-section 832 --process ttbar_cms --selection cms_nanoaod_chekanov2022 --select chekanov2022
    python examples/compare_to_cms.py --cms data/cms_ttbar \\
        --generated data/demo/ttbar-seed2026-n30000-chekanov2022 --model runs/demo/model.pt --out docs/cms_ttbar

Writes comparison.json (the cells whose means differ most, with their statistical significance, and the shift of
the anomaly score) and two figures: the per-cell difference of the mean RMMs and the score distributions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import awkward as ak
import numpy as np
from scipy import stats as sps

from anomalyhunt import events as ev
from anomalyhunt import ingest
from anomalyhunt.exceptions import AnomalyHuntError
from anomalyhunt.features import feature_spec, flatten, rmm, rmm_cell_names
from anomalyhunt.models import Autoencoder
from anomalyhunt.plots import rmm_difference_figure, save_figure, score_figure


def weighted_mean_and_error(values: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell weighted mean over events (axis 0) and its standard error, with n_eff = (sum w)^2 / sum w^2."""
    total = weight.sum()
    mean = np.tensordot(weight, values, axes=1) / total
    var = np.tensordot(weight, (values - mean) ** 2, axes=1) / total
    n_eff = total**2 / np.sum(weight**2)
    return mean, np.sqrt(var / n_eff)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cms", required=True, help="imported CMS dataset")
    parser.add_argument("--generated", required=True, help="generated ttbar dataset (same event selection)")
    parser.add_argument("--model", required=True, help="autoencoder trained on generated events (model.pt)")
    parser.add_argument("--preset", default="T5N10")
    parser.add_argument("--out", default="docs/cms_ttbar")
    args = parser.parse_args()

    # everything that can be refused is checked before the output folder exists: no empty folder is left behind
    model = Autoencoder.load(args.model)
    samples = {"generated ttbar": ingest.read(args.generated), "CMS ttbar": ingest.read(args.cms)}
    out = Path(args.out)
    matrices = {k: rmm(v, preset=args.preset) for k, v in samples.items()}
    weights = {k: np.asarray(v.weight, dtype=np.float64) for k, v in samples.items()}
    (gen_mean, gen_err), (cms_mean, cms_err) = (weighted_mean_and_error(matrices[k], weights[k]) for k in samples)
    difference = gen_mean - cms_mean
    # A cell that one sample never fills (no photons in a file, no second muon in 59 events) has a zero error
    # estimate there: its z says nothing, so it is counted apart.
    both = (gen_err > 0) & (cms_err > 0)
    z = np.divide(difference, np.hypot(gen_err, cms_err), out=np.zeros_like(difference), where=both)
    names = rmm_cell_names(args.preset)
    order = np.argsort(-np.abs(difference), axis=None)[:12]
    cells = [{"cell": str(names.flat[i]), "generated": float(gen_mean.flat[i]), "cms": float(cms_mean.flat[i]),
              "difference": float(difference.flat[i]), "z": float(z.flat[i])} for i in order]

    spec = feature_spec("rmm", args.preset)
    scores = {k: model.score_samples(flatten(m), features=spec) for k, m in matrices.items()}
    gen_score, cms_score = scores["generated ttbar"], scores["CMS ttbar"]
    threshold = float(np.quantile(gen_score, 0.9))
    summary = {
        "events": {k: len(v) for k, v in samples.items()},
        "objects_per_event": {k: {c: float(ak.mean(ak.num(v[c]))) for c in ev.COLLECTIONS} for k, v in samples.items()},
        "largest_cell_differences": cells,
        "cells_with_abs_z_above_3": {str(names.flat[i]): round(float(z.flat[i]), 2)
                                     for i in np.flatnonzero(np.abs(z) > 3)},
        "cells_filled_in_one_sample_only": int(np.sum((gen_err > 0) != (cms_err > 0))),
        "score": {"median_generated": float(np.median(gen_score)), "median_cms": float(np.median(cms_score)),
                  "median_shift": float(np.median(cms_score) - np.median(gen_score)),
                  "cms_fraction_above_generated_q90": float(np.mean(cms_score > threshold)),
                  "ks_pvalue_unweighted": float(sps.ks_2samp(gen_score, cms_score).pvalue)},
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "comparison.json").write_text(json.dumps(summary, indent=2))
    figure = rmm_difference_figure(difference, preset=args.preset, label="generated - CMS",
                                   title="mean RMM: generated ttbar - CMS NanoAOD ttbar")
    save_figure(figure, out / "rmm_difference.png")
    process = np.concatenate([np.full(len(gen_score), "generated ttbar"), np.full(len(cms_score), "CMS ttbar")])
    all_scores = np.concatenate([gen_score, cms_score])
    all_weights = np.concatenate([weights["generated ttbar"] / weights["generated ttbar"].sum(),
                                  weights["CMS ttbar"] / weights["CMS ttbar"].sum()])
    save_figure(score_figure(all_scores, process, all_weights, process == "generated ttbar",
                             reference_label="generated ttbar", bins=25), out / "score_shift.png")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    try:
        main()
    except AnomalyHuntError as exc:  # one line, as the anomalyhunt command prints its errors
        print(f"compare_to_cms: error: {exc}", file=sys.stderr)
        sys.exit(2)
