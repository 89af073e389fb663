"""How high is the VRNN example's supervised ceiling, really? Other selections on the same events beside it.

The `vrnn_yxh` run's ceiling is one MLP (`methods.CeilingConfig`) on the X jet's constituent sequence. Beside it,
on the same SM test jets and signal jets with the same weights and the same max SIC floor:
- the same MLP with another classifier seed, and a wider, deeper one with more patience;
- scikit-learn's gradient boosting on the same inputs (2-fold, classes balanced, unweighted);
- single cuts on quantities the sequence does not carry or carries only implicitly: the jet mass (the sequence is
  rescaled to a common mass) and D2.

Prints one markdown table (max SIC per selection and signal). It reads the samples of the run's config, so run it
where the run ran (same data/ folder).

Run: .venv/bin/python benchmarks/vrnn_ceiling.py runs/vrnn_yxh_ceiling
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _gradient_boosting(xb: np.ndarray, xs: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-sample scores of a 2-fold cross-fitted gradient-boosted classifier, classes balanced."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = np.concatenate([xb, xs])
    y = np.r_[np.zeros(len(xb)), np.ones(len(xs))]
    fold = np.random.default_rng(seed).permutation(len(x)) % 2
    scores = np.empty(len(x))
    for k in (0, 1):
        train = fold != k
        balance = np.where(y[train] == 1, len(xb) / len(xs), 1.0)
        clf = HistGradientBoostingClassifier(max_iter=300, early_stopping=True, random_state=seed + k)
        clf.fit(x[train], y[train], sample_weight=balance)
        scores[~train] = clf.predict_proba(x[~train])[:, 1]
    return scores[: len(xb)], scores[len(xb):]


def main() -> None:
    from anomalyhunt.config import from_mapping
    from anomalyhunt.methods import CeilingConfig, cross_fitted_scores, get_method
    from anomalyhunt.methods.vrnn_yxh.run import load_arrays
    from anomalyhunt.stats import max_sic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a vrnn_yxh run folder (its config.json)")
    args = parser.parse_args()
    data = json.loads((args.run / "config.json").read_text())
    if data.pop("method", None) != "vrnn_yxh":
        sys.exit(f"{args.run} is not a vrnn_yxh run folder")
    data.pop("generate", None)  # the samples it made are in `samples` already
    config = from_mapping(get_method("vrnn_yxh").config, data)
    # the run's own draws: load_arrays and the train/test split use this generator in this order
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 1]))
    arrays = load_arrays(config, rng)
    sm = np.flatnonzero(arrays.label == 0)
    order = rng.permutation(sm)
    test_bkg = np.sort(order[int(round(config.train_fraction * len(sm))):])
    flat = arrays.sequences.reshape(len(arrays.sequences), -1).astype(np.float32)
    w = arrays.weight
    summary = json.loads((args.run / "summary.json").read_text())
    ceilings = summary.get("supervised_ceiling", {})
    rows = {}
    for name in sorted(set(arrays.process[arrays.label == 1].tolist())):
        sig = np.flatnonzero((arrays.label == 1) & (arrays.process == name))
        wb, ws = w[test_bkg], w[sig]

        def sic(sb, ss, wb=wb, ws=ws):
            return max_sic(sb, ss, weights_background=wb, weights_signal=ws)

        row = {"ceiling (summary.json)": ceilings.get(name, {}).get("max_sic_supervised", float("nan"))}
        for label, cc in (("MLP, seed of the run", CeilingConfig(seed=config.seed)),
                          ("MLP, classifier seed + 1", CeilingConfig(seed=config.seed + 1)),
                          ("MLP 128x3, patience 30", CeilingConfig(seed=config.seed, hidden=(128, 128, 128),
                                                                   max_epochs=300, patience=30))):
            row[label] = sic(*cross_fitted_scores(flat[test_bkg], flat[sig], weights_background=wb,
                                                  weights_signal=ws, config=cc))
        row["gradient boosting"] = sic(*_gradient_boosting(flat[test_bkg], flat[sig], config.seed))
        row["jet mass (high)"] = sic(arrays.x_mass[test_bkg], arrays.x_mass[sig])
        row["D2 (low)"] = sic(-arrays.x_d2[test_bkg], -arrays.x_d2[sig])
        rows[name] = row
        print(f"{name}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()), flush=True)
    heads = list(next(iter(rows.values())))
    print("\n| signal | " + " | ".join(heads) + " |")
    print("|---" * (len(heads) + 1) + "|")
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(f"{row[h]:.2f}" for h in heads) + " |")


if __name__ == "__main__":
    main()
