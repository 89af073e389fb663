"""Chekanov & Hopkins, section 4: is the RMM autoencoder more stable over repeated trainings than the four-vector one?

The same events train both inputs with several seeds (initialisation, validation split and batch order change
with the seed; the events do not). Per input and seed: AUC per BSM sample against the SM test events, the epoch
kept and the epochs run (the paper: the four-vector stopping epoch "is hard to reproduce"), the best validation
loss, and the SM test events' ln(loss) distribution: its peak height (the weighted fraction of events in the
fullest of 50 bins spanning the 0.5-99.5% range of all seeds of that input together; the paper: the four-vector
SM peak height "randomly changes in the range 0.4-0.7"), its median and its interquartile range. How far the
median moves between seeds, over the typical IQR, says whether the SM loss distribution is reproducible at all.
Training is on the SM only (the demo's clean model), 30% of the SM events, Chekanov & Hopkins architecture
(chekanov2022), batch 100, patience 30.

Prints a markdown table (mean, standard deviation, min-max over seeds) and writes `stability.json` and
`stability.png` (validation-loss curves and SM ln(loss) histograms of every seed, per input) into --out.

Run: .venv/bin/python benchmarks/stability.py [--samples data/demo] [--seeds 5] [--max-epochs 1500]
     [--out runs/stability]   (after `make demo`, whose cache data/demo it reads)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from anomalyhunt.features import feature_spec, flatten, padded_four_vectors, rmm  # noqa: E402
from anomalyhunt.ingest import load_samples  # noqa: E402
from anomalyhunt.models import Autoencoder  # noqa: E402
from anomalyhunt.stats import auc  # noqa: E402

BINS = 50  # bins over the pooled range of an input's seeds, for the peak height


def weighted_quantiles(x: np.ndarray, w: np.ndarray, q) -> np.ndarray:
    order = np.argsort(x)
    cdf = np.cumsum(w[order]) / w.sum()
    return np.interp(q, cdf, x[order])


def distribution(runs: list[dict], weight: np.ndarray) -> None:
    """Peak height, median and IQR of every seed's SM ln(loss), bins shared by the seeds; added to each run."""
    pooled = np.concatenate([r["sm_scores"] for r in runs])
    lo, hi = np.quantile(pooled, [0.005, 0.995])
    edges = np.linspace(lo, hi, BINS + 1)
    for r in runs:
        s = np.asarray(r["sm_scores"])
        counts, _ = np.histogram(s, bins=edges, weights=weight)  # the 1% outside the pooled range is left out
        q25, q50, q75 = weighted_quantiles(s, weight, [0.25, 0.5, 0.75])
        r.update(peak_height=float(counts.max() / weight.sum()), median=float(q50), iqr=float(q75 - q25),
                 edges=edges)


def train_once(x, spec, train, test, process, weight, signals, *, seed, scale, max_epochs) -> dict:
    kwargs = {} if scale is None else {"scale": scale}
    start = time.perf_counter()
    model = Autoencoder("chekanov2022", max_epochs=max_epochs, patience=30, batch_size=100, seed=seed,
                        **kwargs).fit(x[train], weight[train], features=spec)
    score = model.score_samples(x, features=spec)
    h = model.history_
    return {"seed": seed, "auc": {s: auc(score[test], score[process == s], weights_background=weight[test],
                                          weights_signal=weight[process == s]) for s in signals},
            "best_epoch": h.best_epoch, "epochs": len(h.train_loss), "best_val_loss": float(min(h.val_loss)),
            "seconds": time.perf_counter() - start, "val_loss": [float(v) for v in h.val_loss],
            "sm_scores": score[test]}


def spread(values) -> dict:
    """Mean, standard deviation, min, max and count over seeds (None entries left out)."""
    v = np.asarray([x for x in values if x is not None], dtype=float)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "min": float(v.min()), "max": float(v.max()), "n": len(v)}


def cell(d: dict, fmt: str = "{:.3f}") -> str:
    """A `spread` as "mean +- std (min-max)"."""
    return f"{fmt.format(d['mean'])} +- {fmt.format(d['std'])} ({fmt.format(d['min'])}-{fmt.format(d['max'])})"


def figure(runs: dict, weight_test: np.ndarray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    for col, (name, per_seed) in enumerate(runs.items()):
        for r in per_seed:
            line, = axes[0, col].plot(np.arange(1, len(r["val_loss"]) + 1), r["val_loss"], lw=1,
                                      label=f"seed {r['seed']}")
            axes[0, col].axvline(r["best_epoch"] + 1, color=line.get_color(), ls=":", lw=0.8)
            axes[1, col].hist(r["sm_scores"], bins=r["edges"], weights=weight_test / weight_test.sum(),
                              histtype="step", lw=1, color=line.get_color())
        axes[0, col].set(title=f"{name}: validation loss (dotted: epoch kept)", xlabel="epoch", ylabel="loss",
                         yscale="log")
        axes[0, col].legend(fontsize=7)
        axes[1, col].set(title=f"{name}: SM test events, one line per seed", xlabel="ln(loss)",
                         ylabel=f"fraction of events per bin ({BINS} bins over all seeds' range)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", default="data/demo", help="folder of dataset folders (the demo's cache)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-epochs", type=int, default=1500)  # the stopping rule, not a cap, ends a training
    parser.add_argument("--out", default="runs/stability")
    args = parser.parse_args()
    if args.seeds < 2:
        sys.exit("--seeds must be at least 2 for a spread")
    if not Path(args.samples).is_dir():
        sys.exit(f"{args.samples}: no such folder of datasets; `make demo` generates data/demo")
    folders = sorted(str(p) for p in Path(args.samples).iterdir() if p.is_dir())
    events, process = load_samples(folders)
    label = np.asarray(events.label)
    weight = np.asarray(events.weight, dtype=np.float64)
    is_sm = label == 0
    rng = np.random.default_rng(2026)
    train = is_sm & (rng.random(len(events)) < 0.3)
    test = is_sm & ~train
    signals = sorted(set(process[~is_sm]))
    inputs = {"RMM": (flatten(rmm(events, preset="T5N10")), feature_spec("rmm", "T5N10"), None),
              "four-vectors": (padded_four_vectors(events, preset="T5N10"), feature_spec("fourvec", "T5N10"),
                               "minmax")}
    print(f"{len(events)} events from {len(folders)} samples: {int(train.sum())} SM train, {int(test.sum())} SM "
          f"test; seeds 1-{args.seeds}", flush=True)
    runs = {}
    for name, (x, spec, scale) in inputs.items():
        runs[name] = []
        for seed in range(1, args.seeds + 1):
            r = train_once(x, spec, train, test, process, weight, signals, seed=seed, scale=scale,
                           max_epochs=args.max_epochs)
            runs[name].append(r)
            print(f"  {name} seed {seed}: best epoch {r['best_epoch']} of {r['epochs']}, {r['seconds']:.0f} s",
                  flush=True)
        distribution(runs[name], weight[test])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figure(runs, weight[test], out / "stability.png")
    table = {name: {"auc": {s: spread([r["auc"][s] for r in rs]) for s in signals},
                    "best_epoch": spread([r["best_epoch"] for r in rs]), "epochs": spread([r["epochs"] for r in rs]),
                    "best_val_loss": spread([r["best_val_loss"] for r in rs]),
                    "peak_height": spread([r["peak_height"] for r in rs]),
                    "median": spread([r["median"] for r in rs]), "iqr": spread([r["iqr"] for r in rs]),
                    "seconds": spread([r["seconds"] for r in rs])} for name, rs in runs.items()}
    per_seed = {name: [{k: v for k, v in r.items() if k not in ("val_loss", "sm_scores", "edges")} for r in rs]
                for name, rs in runs.items()}
    tmp = out / "stability.json.tmp"
    tmp.write_text(json.dumps({"summary": table, "per_seed": per_seed, "seeds": args.seeds}, indent=1))
    tmp.replace(out / "stability.json")

    names = list(runs)
    print(f"\n| quantity ({args.seeds} seeds: mean +- std (min-max)) | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for s in signals:
        print(f"| AUC {s} | " + " | ".join(cell(table[n]["auc"][s]) for n in names) + " |")
    for key, fmt in (("best_epoch", "{:.0f}"), ("epochs", "{:.0f}"), ("peak_height", "{:.3f}"), ("median", "{:.2f}"),
                     ("iqr", "{:.3f}"),
                     ("best_val_loss", "{:.3g}"), ("seconds", "{:.0f}")):
        print(f"| {key.replace('_', ' ')} | " + " | ".join(cell(table[n][key], fmt) for n in names) + " |")
    for n in names:
        p = table[n]["peak_height"]
        print(f"{n}: peak height relative spread (std/mean) {p['std'] / p['mean']:.3f}; median's spread over the "
              f"mean IQR {table[n]['median']['std'] / table[n]['iqr']['mean']:.2f}; AUC std, mean over signals "
              f"{np.mean([table[n]['auc'][s]['std'] for s in signals]):.4f}")
    print(f"figure: {out / 'stability.png'}")


if __name__ == "__main__":
    main()
