"""The `anomalyhunt` command line: parse options, call the library, print.

Progress goes to stderr through `logging` (a tqdm bar on a terminal, plain status lines at least every 20 s in a
log file); results go to stdout.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .exceptions import AnomalyHuntError, ConfigError

__all__ = ["main"]


def _pairs(pairs: Sequence[str], option: str = "--cut", kind: str = "VALUE") -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise argparse.ArgumentTypeError(f"{option} expects NAME={kind}, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def _params(pairs: Sequence[str]) -> dict[str, float]:
    out = {}
    for key, value in _pairs(pairs, "--param", "NUMBER").items():
        try:
            out[key] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--param expects NAME=NUMBER, got {key + '=' + value!r}") from None
    return out


def _cmd_processes(args: argparse.Namespace) -> int:
    from .generate import CATALOGUE

    width = max(len(n) for n in CATALOGUE)
    for name, process in CATALOGUE.items():
        params = ", ".join(f"{k}={v:g}" for k, v in process.defaults.items())
        kind = "BSM" if process.label else "SM "
        print(f"{name:<{width}}  {kind}  {process.description}" + (f"  [{params}]" if params else ""))
    return 0


def _cmd_methods(args: argparse.Namespace) -> int:
    from .methods import methods

    registered = methods()
    width = max(len(m.name) for m in registered)
    for m in registered:
        print(f"{m.name:<{width}}  {m.description}")
        print(f"{'':<{width}}  detector: {m.detectors}")
    return 0


def _cmd_detectors(args: argparse.Namespace) -> int:
    from .detectors import BUILTIN_DETECTORS
    from .methods import methods

    takers: dict[str, list[str]] = {}
    for m in methods():
        for kind in m.accepts:
            takers.setdefault(kind, []).append(m.name)
    width = max(len(n) for n in BUILTIN_DETECTORS)
    for name, entry in BUILTIN_DETECTORS.items():
        used_by = ", ".join(takers.get(entry.accepts, [])) or ("double_ae (its own)" if name == "double_ae" else "-")
        print(f"{name:<{width}}  {entry.accepts:<12}  {entry.description}")
        print(f"{'':<{width}}  {'':<12}  used by: {used_by}")
    print("\nYour own, in a run config's detector: section:\n"
          "  detector: {import: \"sklearn.ensemble:IsolationForest\", params: {n_estimators: 200}}  "
          "(any class with fit and score_samples or decision_function; runs that code)\n"
          "  detector: {onnx: model.onnx}  (a trained model, scored only; one number per event)\n"
          "Inputs: flat = one row of numbers per event or jet; jet_sequence = a jet's constituents in order; "
          "labelled = a classifier trained on labels.")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from .generate import GenerationConfig, generate
    from .progress import progress

    config = GenerationConfig(process=args.process, n_events=args.events, seed=args.seed,
                              params=_params(args.param), preset=args.preset, chunk_size=args.chunk_size)
    with progress(f"generating {config.sample}", total=config.n_chunks, unit="chunk",
                  logger=logging.getLogger("anomalyhunt.generate")) as bar:
        manifest = generate(config, args.out, workers=args.workers, scheduler=args.scheduler,
                            progress=lambda done, total: bar.update(done, total))
    print(f"{config.sample}: {manifest['n_generated']} generated, {manifest['n_selected']} selected, "
          f"sigma = {manifest['sigma_pb']:.4g} +- {manifest['sigma_err_pb']:.2g} pb, "
          f"selected sigma = {manifest['selected_sigma_pb']:.4g} pb -> {args.out}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from .ingest import ImportConfig, import_files
    from .progress import progress

    config = ImportConfig(inputs=tuple(args.inputs), format=args.format, selection=args.selection,
                          cuts=_pairs(args.cut), cross_section_pb=args.cross_section, luminosity_fb=args.luminosity,
                          label=args.label, process=args.process, event_selection=args.select,
                          chunk_size=args.chunk_size, seed=args.seed)
    with progress("importing", unit="chunk", logger=logging.getLogger("anomalyhunt.events")) as bar:
        manifest = import_files(config, args.out, workers=args.workers, scheduler=args.scheduler,
                                progress=lambda done, total: bar.update(done, total))
    for note in manifest["notes"]:
        print(f"note: {note}")
    sigma = manifest["sigma_pb"]
    print(f"{manifest['process']} ({manifest['format']}, selection {manifest['object_selection']['name']}): "
          f"{manifest['n_generated']} events read, {manifest['n_selected']} kept, "
          + (f"sigma = {sigma:.4g} pb, " if sigma else "")
          + f"selected sigma = {manifest['selected_sigma_pb']:.4g} pb [{manifest['weight_convention']}] -> {args.out}")
    return 0


def _cmd_selections(args: argparse.Namespace) -> int:
    from dataclasses import fields

    from .ingest import READERS, SELECTIONS

    for reader in READERS.values():
        print(f"{reader.name}: {reader.description}")
        for name, selection in SELECTIONS.items():
            if not isinstance(selection, reader.selection_type):
                continue
            default = " (default)" if name == reader.default_selection else ""
            values = ", ".join(f"{f.name}={getattr(selection, f.name)}" for f in fields(selection) if f.name != "name")
            print(f"  {name}{default}: {values or 'objects as stored'}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from .ingest import dataset_summary

    status, samples = dataset_summary(args.path)
    total = sum(s.n_events for s in samples)
    print(f"{args.path}: {total} events" + (f"; incomplete: {status[0]} of {status[1]} chunks (generation was "
                                           "interrupted; rerun it to finish)" if status else ""))
    for s in samples:
        negative = f", {100 * s.negative_weight_fraction:.2f}% negative weights" if s.negative_weight_fraction else ""
        unit = f"{s.cross_section_pb:.4g} pb" + (f" ({s.normalisation})" if s.normalisation else "")
        print(f"  {s.process:<24} {s.n_events:>9} events  {unit}{negative}")
    return 0


def _cmd_features(args: argparse.Namespace) -> int:
    from .pipeline.features import FeatureConfig, write_features
    from .progress import progress

    config = FeatureConfig(kind=args.kind, preset=args.preset, sqrt_s=args.sqrt_s)
    with progress(f"{args.kind} features", unit="file", logger=logging.getLogger("anomalyhunt.features")) as bar:
        out = write_features(args.input, args.output, config, workers=args.workers, scheduler=args.scheduler,
                             allow_incomplete=args.allow_incomplete,
                             progress=lambda done, total: bar.update(done, total))
    print(f"wrote {out} and {out.with_suffix('.json')}")
    return 0


def _cmd_plot_rmm(args: argparse.Namespace) -> int:
    import numpy as np

    from . import ingest
    from .features import rmm
    from .plots import mean_rmm_figure

    data = ingest.read(args.input)
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


def _finish(outcome) -> int:
    for line in outcome.lines:
        print(line)
    print(f"run folder: {outcome.folder} (report.html, summary.json, plots/)")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import load_run_config, run

    run_config = load_run_config(args.config).scaled(args.scale)
    return _finish(run(run_config, args.out, overwrite=args.overwrite, workers=args.workers,
                       scheduler=args.scheduler, command_line=sys.argv, render=args.render))


def _cmd_compare(args: argparse.Namespace) -> int:
    from .pipeline import load_run_config, run

    run_config = load_run_config(args.config, default_method="compare")
    if run_config.method != "compare":
        raise ConfigError(f"{args.config}: names method {run_config.method}; run it with `anomalyhunt run`")
    return _finish(run(run_config.scaled(args.scale), args.out, overwrite=args.overwrite, workers=args.workers,
                       scheduler=args.scheduler, command_line=sys.argv, render=args.render))


def _cmd_demo(args: argparse.Namespace) -> int:
    from .pipeline import DemoConfig, run

    demo = DemoConfig(scale=args.scale, seed=args.seed)
    return _finish(run(demo.run_config(), args.out, overwrite=args.overwrite, workers=args.workers,
                       scheduler=args.scheduler, command_line=sys.argv, render=True))


def _cmd_screenshot(args: argparse.Namespace) -> int:
    from .pipeline import render_report
    from .pipeline.page import describe_screenshot

    report = Path(args.run) / "report.html"
    if not report.is_file():
        raise AnomalyHuntError(f"{report}: no report.html in this run folder")
    loaded, total = render_report(report, Path(args.run) / "report.png")
    print(f"{loaded}/{total} plots rendered; screenshot {Path(args.run) / 'report.png'} "
          f"({describe_screenshot(Path(args.run) / 'report.png')})")
    return 0 if loaded == total else 1


def _cmd_export(args: argparse.Namespace) -> int:
    from .pipeline.export import export

    for path in export(args.run, args.format, out=args.out):
        print(path)
    return 0


def _cmd_trigger(args: argparse.Namespace) -> int:
    from .methods.double_ae.firmware import FirmwareScanConfig
    from .pipeline.trigger import trigger_study

    widths = tuple(int(w) for w in args.widths.split(",")) if args.widths else FirmwareScanConfig().widths
    scan = FirmwareScanConfig(widths=widths, reuse_factor=args.reuse_factor, max_events=args.max_events,
                              loss=args.loss, loss_headroom=args.loss_headroom, loss_width=args.loss_width,
                              input_max=args.input_max,
                              quantisation_aware=args.quantisation_aware, qat_epochs=args.qat_epochs)
    result = trigger_study(args.run, args.out, scan=scan, overwrite=args.overwrite)

    def named(width):
        return "none" if width is None else f"ap_fixed<{width}, I>"

    qat = (f" (quantisation-aware: {named(result.smallest_width_quantisation_aware)})"
           if scan.quantisation_aware else "")
    print(f"{args.out}: widths {', '.join(map(str, widths))}; smallest within {scan.tolerance:.0%} of float: "
          f"{named(result.smallest_width)}{qat}; table in {Path(args.out) / 'scan.md'}")
    return 0


def _add_run_options(p: argparse.ArgumentParser, default_out: str) -> None:
    p.add_argument("--out", default=default_out, help="run folder (written whole or not at all)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    p.add_argument("--workers", type=int, default=2, help="Dask LocalCluster workers for generating samples")


class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one line, alone and last (no usage block above it): the line a user reads in
    a log is the one that says what was wrong; `--help` shows the usage."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="anomalyhunt", description="Model-agnostic searches for new physics at the LHC with "
                     "unsupervised machine learning: generate or import events, compute features, run a search "
                     "method, read its report. `anomalyhunt demo` runs the whole chain on a small Pythia sample.")
    parser.add_argument("--version", action="version", version=f"anomalyhunt {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines, results only")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("processes", help="list the process catalogue")
    p.set_defaults(func=_cmd_processes)

    p = sub.add_parser("methods", help="list the search methods a run config can name, and the detectors each takes")
    p.set_defaults(func=_cmd_methods)

    p = sub.add_parser("detectors", help="list the built-in anomaly detectors, the inputs each takes, and how to "
                                         "bring your own")
    p.set_defaults(func=_cmd_detectors)

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

    p = sub.add_parser("import", help="read NanoAOD / PHYSLITE / Delphes / LHE / HepMC3 / ADC2021 files into an "
                       "event dataset (Dask, resumable)")
    p.add_argument("inputs", nargs="+", metavar="IN", help="input files, all of one format")
    p.add_argument("-o", "--out", required=True, help="dataset folder")
    p.add_argument("--format", default=None, help="nanoaod, physlite, delphes, lhe, hepmc, lhco, adc2021 (default: "
                   "recognised from the file)")
    p.add_argument("--selection", default=None, help="object-selection preset (see `anomalyhunt selections`)")
    p.add_argument("--cut", action="append", default=[], metavar="NAME=VALUE",
                   help="change one field of the selection, e.g. muon_iso_max=0.25")
    p.add_argument("--select", default=None, metavar="PRESET",
                   help="apply the event selection of a detector preset (e.g. chekanov2022); default none")
    p.add_argument("--cross-section", type=float, default=None, metavar="PB",
                   help="cross section of the whole input (default: the file header's, else weights sum to 1 pb)")
    p.add_argument("--luminosity", type=float, default=None, metavar="FB", help="integrated luminosity of data files")
    p.add_argument("--label", type=int, default=0, choices=[0, 1], help="0 Standard Model, 1 BSM")
    p.add_argument("--process", default=None, help="process name (default: the first file's name)")
    p.add_argument("--chunk-size", type=int, default=20_000, help="entries per chunk (one Dask future each)")
    p.add_argument("--seed", type=int, default=1, help="showering and smearing seed (LHE, HepMC3)")
    p.add_argument("--workers", type=int, default=2, help="Dask LocalCluster workers (0: in this process)")
    p.add_argument("--scheduler", default=None, help="address of a running Dask scheduler (tcp://...)")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("selections", help="list the object-selection presets of each input format")
    p.set_defaults(func=_cmd_selections)

    p = sub.add_parser("info", help="events per sample, cross sections, completeness of a file or dataset")
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
    p.add_argument("--allow-incomplete", action="store_true",
                   help="compute features of a dataset whose generation was interrupted (the chunks it has)")
    p.set_defaults(func=_cmd_features)

    p = sub.add_parser("plot-rmm", help="mean RMM image per process of a dataset")
    p.add_argument("input")
    p.add_argument("--preset", default="T5N10")
    p.add_argument("--out", default="rmm_plots", help="folder for the PNG files")
    p.set_defaults(func=_cmd_plot_rmm)

    p = sub.add_parser("run", help="run the search method a YAML config names (see `anomalyhunt methods`)")
    p.add_argument("config")
    _add_run_options(p, "runs/search")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address for generating samples")
    p.add_argument("--render", action="store_true", help="check the report in headless Chromium, save report.png")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiply the events of every `generate:` sample (scaled samples get their own folders)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("compare", help="compare detectors on the same events: AUC, 1/eps_b, SIC, max SIC over seeds "
                                       "against a supervised ceiling")
    p.add_argument("config")
    _add_run_options(p, "runs/compare")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address: samples and trainings as futures")
    p.add_argument("--render", action="store_true", help="check the report in headless Chromium, save report.png")
    p.add_argument("--scale", type=float, default=1.0, help="multiply the events of every `generate:` sample")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("demo", help="the embedded default: a small SM + BSM sample, end to end")
    _add_run_options(p, "runs/demo")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every sample size")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--scheduler", default=None, help="Dask scheduler address for generating samples (tcp://...)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("export", help="write a run's fitted spectra for other tools: ROOT histograms (uproot) or "
                                      "pyhf workspaces (HistFactory JSON)")
    p.add_argument("run", help="run folder holding spectra.json")
    p.add_argument("--format", required=True, choices=("root", "pyhf"),
                   help="root: spectra.root; pyhf: workspaces/<region>_<observable>.json")
    p.add_argument("--out", default=None, help="folder to write into (default: the run folder)")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("trigger", help="a double_ae run's autoencoders as fixed-point trigger firmware: hls4ml's "
                                       "bit-accurate emulation over a scan of widths (needs anomalyhunt[trigger])")
    p.add_argument("run", help="a finished double_ae run folder")
    p.add_argument("--out", required=True, help="folder for the scan (written whole or not at all)")
    p.add_argument("--widths", default="", help="comma-separated ap_fixed total widths (default 18,16,14,12,10,8,6)")
    p.add_argument("--reuse-factor", type=int, default=1, help="hls4ml ReuseFactor of every layer")
    p.add_argument("--max-events", type=int, default=0, help="test events emulated per class at most (0: all)")
    p.add_argument("--loss", choices=("firmware", "float"), default="firmware",
                   help="firmware: the loss computed in fixed point inside the emulation, as a trigger would; "
                        "float: from the emulated reconstruction in double precision")
    p.add_argument("--loss-headroom", type=float, default=2.0,
                   help="the firmware loss's types hold this many times each autoencoder's threshold (0: sized "
                        "on the SM profile alone, which clips anomalous events)")
    p.add_argument("--loss-width", type=int, default=None,
                   help="total width of the firmware loss's types (default: the scanned width, as the network's)")
    p.add_argument("--input-max", type=float, default=1.0,
                   help="the largest MinMax-scaled input the input type holds (1: the training range; anomalous "
                        "events beyond it saturate)")
    p.add_argument("--quantisation-aware", action="store_true",
                   help="also fine-tune the model in fixed point at each width (quantisation-aware training) and "
                        "emulate that, beside the post-training rows")
    p.add_argument("--qat-epochs", type=int, default=30, help="fine-tuning epochs at most per width")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    p.set_defaults(func=_cmd_trigger)

    p = sub.add_parser("screenshot", help="open a run's report.html in headless Chromium, check its plots, save PNG")
    p.add_argument("run", help="run folder holding report.html")
    p.set_defaults(func=_cmd_screenshot)
    return parser


def _setup_logging(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    root = logging.getLogger("anomalyhunt")
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    root.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.quiet)
    try:
        return args.func(args)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    except AnomalyHuntError as exc:
        print(f"anomalyhunt: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a path the system refuses (permissions, a full disk) that no check above foresaw
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"anomalyhunt: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("anomalyhunt: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
