"""The `anomalyhunt` command line: parse options, call the library, print. Heavy imports stay inside commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .exceptions import AnomalyHuntError

__all__ = ["main"]


def _params(pairs: Sequence[str]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        try:
            if not sep:
                raise ValueError
            out[key.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--param expects NAME=NUMBER, got {pair!r}") from None
    return out


def _cmd_processes(args: argparse.Namespace) -> int:
    from .generate import CATALOGUE

    width = max(len(n) for n in CATALOGUE)
    for name, process in CATALOGUE.items():
        params = ", ".join(f"{k}={v:g}" for k, v in process.defaults.items())
        kind = "BSM" if process.label else "SM "
        print(f"{name:<{width}}  {kind}  {process.description}" + (f"  [{params}]" if params else ""))
    return 0


def _progress_bar(desc: str):
    from tqdm import tqdm

    bar = tqdm(total=None, desc=desc, unit="chunk", disable=None)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


def _cmd_generate(args: argparse.Namespace) -> int:
    from .generate import GenerationConfig, generate

    config = GenerationConfig(process=args.process, n_events=args.events, seed=args.seed,
                              params=_params(args.param), preset=args.preset, chunk_size=args.chunk_size)
    bar, update = _progress_bar(config.sample)
    try:
        manifest = generate(config, args.out, workers=args.workers, scheduler=args.scheduler, progress=update)
    finally:
        bar.close()
    print(f"{config.sample}: {manifest['n_generated']} generated, {manifest['n_selected']} selected, "
          f"sigma = {manifest['sigma_pb']:.4g} +- {manifest['sigma_err_pb']:.2g} pb, "
          f"selected sigma = {manifest['selected_sigma_pb']:.4g} pb -> {args.out}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    import numpy as np

    from . import events

    data = events.read(args.path)
    print(f"{args.path}: {len(data)} events")
    samples, inverse = np.unique(np.asarray(data.process.to_list() if len(data) else []), return_inverse=True)
    weights = np.asarray(data.weight)
    for i, sample in enumerate(samples):
        sel = inverse == i
        print(f"  {sample:<24} {sel.sum():>9} events  {weights[sel].sum():.4g} pb")
    return 0


def _cmd_features(args: argparse.Namespace) -> int:
    from .pipeline.features import FeatureConfig, write_features

    config = FeatureConfig(kind=args.kind, preset=args.preset, sqrt_s=args.sqrt_s)
    bar, update = _progress_bar(f"{args.kind} features")
    try:
        out = write_features(args.input, args.output, config, workers=args.workers, scheduler=args.scheduler,
                             progress=update)
    finally:
        bar.close()
    print(f"wrote {out} and {out.with_suffix('.json')}")
    return 0


def _cmd_plot_rmm(args: argparse.Namespace) -> int:
    import numpy as np

    from . import events
    from .features import rmm
    from .plots import mean_rmm_figure

    data = events.read(args.input)
    samples = np.asarray(data.process.to_list() if len(data) else [])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for sample in np.unique(samples):
        subset = data[samples == sample]
        fig = mean_rmm_figure(rmm(subset, preset=args.preset), weights=np.asarray(subset.weight),
                              preset=args.preset, title=f"mean RMM: {sample} ({len(subset)} events)")
        fig.savefig(out / f"rmm_{sample}.png", dpi=120)
        print(out / f"rmm_{sample}.png")
    return 0


def _print_search(summary: dict) -> None:
    print("\nSM vs BSM separation (AUC of the anomaly score; RMM trained on data / without the injected signal):")
    for sample, value in summary["auc"].items():
        fv = summary["auc_fourvec"].get(sample)
        clean = summary["auc_uncontaminated"].get(sample)
        print(f"  {sample:<24} RMM {value:.3f}" + (f" / {clean:.3f}" if clean is not None else "")
              + (f"   four-vectors {fv:.3f}" if fv is not None else ""))
    print("anomaly regions: " + ", ".join(f"{r['name']} (score > {r['threshold']:.2f})" for r in summary["regions"]))
    for x in summary["excesses"][:3]:
        print(f"  excess: {x['channel']} in {x['region']} at {x['mass']:.0f} GeV, Z_local = {x['z_local']:.2f}")
    z = summary["z_global"]
    if z:
        print(f"global: Z_local max {z['z_local_max']:.2f} ({z['channel']}, {z['region']}, {z['mass']:.0f} GeV) "
              f"over {z['n_spectra']} spectra -> p_global = {z['p_global']:.3g} ({z['n_toys']} toys), "
              f"Z_global = {z['z_global']:.2f}, asymptotic {z['z_global_asymptotic']:.2f}")
    if null := summary.get("null_test"):
        print(f"null test (no signal): Z_local max {null['z_local_max']:.2f} ({null['channel']}, {null['region']}) "
              f"-> Z_global = {null['z_global']:.2f}")
    for channel, result in summary["sculpting"].items():
        if "chi2_ndf" in result:
            print(f"sculpting (SM simulation, {result['region']}): {channel} chi2/ndf = {result['chi2_ndf']:.2f}, "
                  f"max |pull| = {result['max_abs_pull']:.2f}, smooth = {result['smooth']}")
        else:
            print(f"sculpting ({result['region']}): {channel} {result['skipped']}")
    if render := summary.get("report_render"):
        print("report in headless Chromium: " + (f"{render['plots_rendered']}/{render['plots']} plots rendered, "
                                                 f"screenshot {render['screenshot']}" if "plots" in render
                                                 else render.get("skipped") or render.get("error")))


def _cmd_demo(args: argparse.Namespace) -> int:
    from .pipeline.demo import DemoConfig, run_demo, yield_table

    config = DemoConfig(scale=args.scale, seed=args.seed, workers=args.workers)
    bar, update = _progress_bar("generating")
    try:
        result = run_demo(config, args.out, progress=update)
    finally:
        bar.close()
    print(yield_table(result["samples"], luminosity_fb=config.luminosity_fb))
    _print_search(result)
    print(f"run folder: {args.out} (report.html, summary.json, plots/)")
    return 0


_METHODS = ("rmm_autoencoder", "double_ae")


def _cmd_run(args: argparse.Namespace) -> int:
    import dataclasses

    import yaml

    from .exceptions import ConfigError
    from .pipeline.double_ae import DoubleAEConfig, run_double_ae
    from .pipeline.search import SearchConfig, run_search

    try:
        data = yaml.safe_load(Path(args.config).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{args.config}: cannot read the configuration ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{args.config}: expected a mapping of settings, got {type(data).__name__}")
    method = data.pop("method", "rmm_autoencoder")
    if method not in _METHODS:
        raise ConfigError(f"{args.config}: unknown method {method!r}; known: {', '.join(_METHODS)}")
    config_class = DoubleAEConfig if method == "double_ae" else SearchConfig
    if method == "double_ae":  # the model's settings may sit in their own section
        section = data.pop("double_ae", None) or {}
        if not isinstance(section, dict):
            raise ConfigError(f"{args.config}: the double_ae section must be a mapping")
        data.update(section)
    known = {f.name for f in dataclasses.fields(config_class)}
    if set(data) - known:
        raise ConfigError(f"{args.config}: unknown field(s) {sorted(set(data) - known)} for method {method}; "
                          f"known: {', '.join(sorted(known))}")
    for key in ("samples", "regions_pb", "efficiencies", "closure_splits"):
        if key in data:
            data[key] = tuple(data[key])
    if method == "double_ae":
        summary = run_double_ae(DoubleAEConfig(**data), args.out)
        _print_double_ae(summary)
    else:
        summary = run_search(SearchConfig(**data), args.out)
        _print_search(summary)
    print(f"run folder: {args.out}")
    return 0


def _print_double_ae(summary: dict) -> None:
    print(f"\ndCor^2 of the two losses on test background: {summary['dcor_background']:.4f}")
    print("max SIC (AE 1 / AE 2 / diagonal / single AE):")
    for s, v in summary["max_sic"].items():
        print(f"  {s:<20} " + " / ".join(f"{v[k]:.2f}" if k in v else "-"
                                         for k in ("ae1", "ae2", "diagonal", "single_ae")))
    worst = max(summary["closure"], key=lambda r: abs(r["ratio"] - 1) / r["error"] if r["error"] else 0)
    print(f"ABCD closure on background: {len(summary['closure'])} working points, largest deviation "
          f"{worst['ratio']:.3f} +- {worst['error']:.3f} at efficiency {worst['efficiency']:g}")
    null = summary["abcd_significance_background_only"]
    print(f"  {'background only':<20} ABCD significance {null['significance']:.2f} at efficiency "
          f"{null['efficiency']:g} (non-closure alone)")
    for s, v in summary["abcd_significance"].items():
        print(f"  {s:<20} ABCD significance {v['significance']:.2f} (true B: "
              f"{v['significance_true_background']:.2f}) at efficiency {v['efficiency']:g}, "
              f"{v['n_injected']} events injected")
    if summary["onnx"]:
        o = summary["onnx"]
        print(f"ONNX: {o['single_event_latency_us_median']:.1f} us per event, "
              f"{o['throughput_events_per_s']:.3g} events/s at batch {o['batch']}")


def _cmd_screenshot(args: argparse.Namespace) -> int:
    from .pipeline.report import render_report

    report = Path(args.run) / "report.html"
    if not report.is_file():
        raise AnomalyHuntError(f"{report}: no report.html in this run folder")
    loaded, total = render_report(report, Path(args.run) / "report.png")
    print(f"{loaded}/{total} plots rendered; screenshot {Path(args.run) / 'report.png'}")
    return 0 if loaded == total else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="anomalyhunt", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("processes", help="list the process catalogue")
    p.set_defaults(func=_cmd_processes)

    p = sub.add_parser("generate", help="generate, reconstruct and select events with Pythia (Dask, resumable)")
    p.add_argument("--process", required=True, help="catalogue name (see `anomalyhunt processes`)")
    p.add_argument("--events", type=int, required=True, help="number of Pythia events to generate")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="e.g. mass=3000")
    p.add_argument("--preset", default="chekanov2022", help="reconstruction/detector preset")
    p.add_argument("--chunk-size", type=int, default=5000)
    p.add_argument("--workers", type=int, default=2, help="Dask LocalCluster workers (0: in this process)")
    p.add_argument("--scheduler", default=None, help="address of a running Dask scheduler (tcp://...)")
    p.add_argument("--out", required=True, help="dataset folder")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("info", help="events per sample and cross sections in a file or dataset")
    p.add_argument("path")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("features", help="compute RMM / four-vector / ADC2021 features of a dataset into .npy")
    p.add_argument("input", help="event file or dataset folder")
    p.add_argument("-o", "--output", required=True, help="output .npy (a .json sidecar is written beside it)")
    p.add_argument("--kind", default="rmm", choices=["rmm", "fourvec", "adc2021"])
    p.add_argument("--preset", default="T5N10", help="RMM layout: T5N10 or atlas2024")
    p.add_argument("--sqrt-s", type=float, default=13000.0)
    p.add_argument("--workers", type=int, default=0, help="Dask workers, one future per file (0: in process)")
    p.add_argument("--scheduler", default=None)
    p.set_defaults(func=_cmd_features)

    p = sub.add_parser("plot-rmm", help="mean RMM image per process of a dataset")
    p.add_argument("input")
    p.add_argument("--preset", default="T5N10")
    p.add_argument("--out", default="rmm_plots", help="folder for the PNG files")
    p.set_defaults(func=_cmd_plot_rmm)

    p = sub.add_parser("run", help="run the RMM + autoencoder search described by a YAML config")
    p.add_argument("config")
    p.add_argument("--out", default="runs/search")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("demo", help="the embedded default: a small SM + BSM sample, end to end")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every sample size")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("screenshot", help="open a run's report.html in headless Chromium, check its plots, save PNG")
    p.add_argument("run", help="run folder holding report.html")
    p.set_defaults(func=_cmd_screenshot)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    except AnomalyHuntError as exc:
        print(f"anomalyhunt: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("anomalyhunt: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
