"""The RMM search at two (or more) scales side by side, from the run folders' `summary.json` (issue #16).

Prints one Markdown table: AUC per W' mass (trained with and without the injected W', and the four-vector
comparison), how many of the 27 spectra could be fitted, sculpting chi2/ndf for m_jj and m_bb, the injected W'
found (top excess) with its global significance, the null test, the supervised-ceiling fractions, and the
sensitivity gain of the clean model per signal in every anomaly region with the effective number of simulated SM
events behind it.

Run: .venv/bin/python benchmarks/scale_compare.py runs/demo runs/demo_x4 [--labels "scale 1" "scale 4"]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

WPRIME = ("ssm_wprime_1000", "ssm_wprime_1500", "ssm_wprime_2000", "ssm_wprime_3000", "ssm_wprime_4000")


def _aucs(by_signal: dict) -> str:
    return " / ".join(f"{by_signal[s]:.3f}" if s in by_signal else "-" for s in WPRIME)


def _sculpting(entry: dict | None) -> str:
    if not entry:
        return "-"
    if "skipped" in entry:
        return f"skipped ({entry['n_effective']:.0f} effective events)"
    return f"{entry['chi2_ndf']:.2f}, max pull {entry['max_abs_pull']:.2f} ({entry['n_effective']:.0f} eff. events)"


def _gain(entry: dict) -> str:
    if entry.get("gain") is None or entry["gain"] != entry["gain"]:
        return f"undefined ({entry.get('note') or 'no SM left'})"
    before, after = entry["n_eff_background_before"], entry["n_eff_background_after"]
    return f"{entry['gain']:.2f} (SM {before:.1f} -> {after:.1f} eff.)"


def rows(summary: dict) -> dict[str, str]:
    out = {
        "AUC W' 1/1.5/2/3/4 TeV, trained on data": _aucs(summary["auc"]),
        "same, trained without the injected W'": _aucs(summary.get("auc_uncontaminated", {})),
        "same, padded four-vectors": _aucs(summary.get("auc_fourvec", {})),
        "spectra fitted (of 27)": str(sum(1 for f in summary["background_fits"] if "chi2_ndf" in f)),
        "sculpting m_jj, 10 pb": _sculpting(summary["sculpting"].get("m_jj")),
        "sculpting m_bb, 10 pb": _sculpting(summary["sculpting"].get("m_bb")),
    }
    top = max(summary["excesses"], key=lambda e: e["z_local"], default=None)
    if top:
        out["top excess (injected W' 1.5 TeV)"] = (f"{top['channel']} {top['region']}, {top['mass']:.0f} GeV, "
                                                   f"Z_local {top['z_local']:.1f}")
    z = summary["z_global"]
    out["Z_global toys / asymptotic"] = (f"{'>= ' if z.get('z_global_is_bound') else ''}{z['z_global']:.2f} / "
                                         f"{z.get('z_global_asymptotic', float('nan')):.2f}")
    null = summary["null_test"]
    out["null test: largest Z_local, Z_global"] = f"{null['z_local_max']:.2f}, {null['z_global']:.2f}"
    ceiling = summary.get("supervised_ceiling", {})
    if ceiling:
        out["AE max SIC / supervised, W' 1.5 TeV"] = (
            f"{ceiling['ssm_wprime_1500']['max_sic']:.2f} / {ceiling['ssm_wprime_1500']['max_sic_supervised']:.2f}"
            if "ssm_wprime_1500" in ceiling else "-")
    for region, by_signal in summary.get("sensitivity_gain_by_region", {}).get("clean", {}).items():
        for signal, entry in by_signal.items():
            out[f"gain, clean model, {region}, {signal}"] = _gain(entry)
    out["verdict"] = summary.get("sensitivity_gain_verdict", "-")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", help="run folders holding summary.json")
    parser.add_argument("--labels", nargs="*", default=None)
    args = parser.parse_args()
    labels = args.labels or [Path(r).name for r in args.runs]
    if len(labels) != len(args.runs):
        raise SystemExit("give one label per run folder")
    tables = [rows(json.loads((Path(r) / "summary.json").read_text())) for r in args.runs]
    keys = list(dict.fromkeys(k for t in tables for k in t))
    print("| quantity | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))
    for key in keys:
        print(f"| {key} | " + " | ".join(t.get(key, "-") for t in tables) + " |")


if __name__ == "__main__":
    main()
