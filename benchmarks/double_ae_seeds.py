"""Mikuni, Nachman & Shih over training seeds: every trained-model figure of `examples/double_ae.yaml` as mean and
spread.

The example's events, splits and injections stay fixed (`seed`); only the networks' seed (`training_seed`)
changes, 1..N. Each seed is one ordinary run folder under --out (seed1, seed2, ...); a folder that already holds
a summary is reused, so a killed study resumes. Printed: max SIC per benchmark and selection, the supervised
ceiling fraction, ABCD closure per working point, the ABCD significance with signal injected, dCor^2 and the
epochs, each as mean +- standard deviation (min-max), and which of Mikuni, Nachman & Shih's claims hold in every seed.
Writes `seeds.json` with the table into --out.

Run: .venv/bin/python benchmarks/double_ae_seeds.py [--config examples/double_ae.yaml] [--seeds 5]
     [--out runs/double_ae_seeds] [--batch-size B] [--lam L] [--only K]
With --only K it runs seed K alone and stops, so that two processes (OMP_NUM_THREADS=1 each) can share the seeds;
a final call without it reuses every finished folder and prints the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from anomalyhunt.pipeline import load_run_config  # noqa: E402
from anomalyhunt.pipeline.run import run  # noqa: E402
from benchmarks import stability  # noqa: E402
from benchmarks.stability import spread  # noqa: E402

SELECTIONS = ("ae1", "ae2", "diagonal", "single_ae")


def cell(d: dict, fmt: str = "{:.2f}") -> str:
    return stability.cell(d, fmt)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="examples/double_ae.yaml")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", default="runs/double_ae_seeds")
    parser.add_argument("--batch-size", type=int, default=None, help="override double_ae.batch_size")
    parser.add_argument("--lam", type=float, default=None, help="override double_ae.lam")
    parser.add_argument("--only", type=int, default=None,
                        help="run this one training seed and stop (to share the seeds between processes)")
    args = parser.parse_args()
    if args.seeds < 2:
        sys.exit("--seeds must be at least 2 for a spread")
    # the runs' progress lines (training epochs, stages) on stderr, also when it goes to a log file
    logging.basicConfig(format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("anomalyhunt").setLevel(logging.INFO)
    base = load_run_config(args.config)
    model = base.config.double_ae
    if args.batch_size is not None:
        model = dataclasses.replace(model, batch_size=args.batch_size)
    if args.lam is not None:
        model = dataclasses.replace(model, lam=args.lam)
    out = Path(args.out)
    summaries = []
    for seed in [args.only] if args.only is not None else range(1, args.seeds + 1):
        folder = out / f"seed{seed}"
        if (folder / "summary.json").exists():
            print(f"seed {seed}: reusing {folder}", flush=True)
        else:
            start = time.perf_counter()
            config = dataclasses.replace(base.config, double_ae=model, training_seed=seed, onnx=False)
            run(dataclasses.replace(base, config=config), folder, workers=0)
            print(f"seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
        summaries.append(json.loads((folder / "summary.json").read_text()))
    if args.only is not None:
        return

    signals = list(summaries[0]["max_sic"])
    table = {
        "max_sic": {s: {k: spread([x["max_sic"][s].get(k) for x in summaries]) for k in SELECTIONS
                        if k in summaries[0]["max_sic"][s]} for s in signals},
        "ceiling": {s: {k: spread([x["supervised_ceiling"][s][k] for x in summaries])
                        for k in ("max_sic_supervised", "fraction")}
                    for s in signals if summaries[0].get("supervised_ceiling")},
        "closure": {f"{r['efficiency']:g}/{r['split']:g}": spread([x["closure"][i]["ratio"] for x in summaries])
                    for i, r in enumerate(summaries[0]["closure"])},
        "closure_pull": {f"{r['efficiency']:g}/{r['split']:g}": spread(
            [(x["closure"][i]["ratio"] - 1) / x["closure"][i]["error"] for x in summaries])
            for i, r in enumerate(summaries[0]["closure"])},
        "abcd_significance": {s: spread([x["abcd_significance"][s]["significance"] for x in summaries])
                              for s in signals},
        "dcor_background": spread([x["dcor_background"] for x in summaries]),
        "best_epoch": spread([x["training"]["best_epoch"] for x in summaries]),
        "epochs": spread([x["training"]["epochs"] for x in summaries]),
        "seconds_per_epoch": spread([x["training"]["seconds_per_epoch"] for x in summaries]),
    }
    # Mikuni, Nachman & Shih's claims, seed by seed
    claims = {}
    for s in signals:
        v = [x["max_sic"][s] for x in summaries]
        claims[f"{s}: diagonal beats both AEs"] = sum(d["diagonal"] > max(d["ae1"], d["ae2"]) for d in v)
        if "single_ae" in v[0]:
            claims[f"{s}: diagonal beats the single AE"] = sum(d["diagonal"] > d["single_ae"] for d in v)
    claims["closure within 2 sigma at every working point"] = sum(
        all(abs(r["ratio"] - 1) <= 2 * r["error"] for r in x["closure"]) for x in summaries)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "seeds.json.tmp"
    tmp.write_text(json.dumps({"table": table, "claims_held_in_seeds": claims, "seeds": args.seeds,
                               "batch_size": model.batch_size, "lam": model.lam}, indent=1))
    tmp.replace(out / "seeds.json")

    print(f"\n{args.seeds} training seeds, batch {model.batch_size}, lambda {model.lam:g}: mean +- std (min-max)")
    print("\n| signal | " + " | ".join(SELECTIONS) + " | supervised | fraction (diagonal) | ABCD Z injected |")
    print("|---|" + "---|" * (len(SELECTIONS) + 3))
    for s in signals:
        c = table["ceiling"].get(s, {})
        print(f"| {s} | " + " | ".join(cell(table["max_sic"][s][k]) if k in table["max_sic"][s] else "-"
                                        for k in SELECTIONS)
              + f" | {cell(c['max_sic_supervised']) if c else '-'} | {cell(c['fraction']) if c else '-'}"
              + f" | {cell(table['abcd_significance'][s])} |")
    print("\n| efficiency / split | closure ratio | (ratio - 1) / error |\n|---|---|---|")
    for key, d in table["closure"].items():
        print(f"| {key} | {cell(d, '{:.3f}')} | {cell(table['closure_pull'][key])} |")
    print(f"\ndCor^2 {cell(table['dcor_background'], '{:.4f}')}; best epoch {cell(table['best_epoch'], '{:.0f}')}; "
          f"epochs {cell(table['epochs'], '{:.0f}')}; s/epoch {cell(table['seconds_per_epoch'])}")
    print("\nclaims, seeds in which they hold:")
    for k, n in claims.items():
        print(f"  {k}: {n} of {args.seeds}")


if __name__ == "__main__":
    main()
