"""The embedded default run: a small mixed SM + BSM Pythia sample generated on the spot (cached)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..events.io import atomic_write_text
from ..exceptions import ConfigError
from ..generate import GenerationConfig, generate
from ..parallel import dask_client
from .search import SearchConfig, run_search

__all__ = ["DemoConfig", "DEFAULT_SAMPLES", "run_demo", "yield_table"]

# (process, parameters, Pythia events at scale 1): sized to finish in about ten minutes on 2 cores.
# - QCD multijets are left out: with the chekanov2022 fake rates (jet -> e 1%, jet -> mu 0.1%) they pass the
#   one-lepton selection with ~4e4 pb, a hundred times the rest, and a usable weighted sample needs millions of
#   Pythia events. For the same reason W/Z + jets are generated with leptonic boson decays only (the hadronic
#   decays pass only through fakes) and a milder pTHat bias (power 2 from 30 GeV): with all decays and power 4
#   the outlier region of the default demo held about two effective W+jets events.
# - BSM: the SSM W' at five masses for the AUC-vs-mass table, and one point of each other benchmark.
DEFAULT_SAMPLES: tuple[tuple[str, dict[str, float], int], ...] = (
    ("ttbar", {}, 30000),
    ("wjets_lnu", {}, 40000),
    ("zjets_ll", {}, 12000),
    ("single_top", {}, 6000),
    ("diboson", {}, 6000),
    ("ssm_wprime", {"mass": 1000.0}, 2000),
    ("ssm_wprime", {"mass": 1500.0}, 2000),
    ("ssm_wprime", {"mass": 2000.0}, 2000),
    ("ssm_wprime", {"mass": 3000.0}, 2000),
    ("ssm_wprime", {"mass": 4000.0}, 2000),
    ("ssm_zprime", {"mass": 2000.0}, 2000),
    ("dm_zprime", {"mass": 2000.0}, 2000),
    ("charged_higgs", {"mass": 1000.0}, 2000),
)


@dataclass(frozen=True)
class DemoConfig:
    """The demo's knobs; `scale` multiplies every sample size."""

    scale: float = 1.0
    seed: int = 2026
    workers: int = 2
    preset: str = "chekanov2022"
    luminosity_fb: float = 140.0
    chunk_size: int = 3000
    cache: str = "data/demo"
    samples: tuple[tuple[str, dict[str, float], int], ...] = field(default=DEFAULT_SAMPLES)
    inject: tuple[tuple[str, float], ...] = (("ssm_wprime_1500", 1.0),)
    max_epochs: int = 300
    n_toys: int = 1000

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise ConfigError(f"scale must be positive, got {self.scale}")
        if self.luminosity_fb <= 0:
            raise ConfigError(f"luminosity_fb must be positive, got {self.luminosity_fb}")

    def generation_configs(self) -> list[GenerationConfig]:
        return [GenerationConfig(process=p, params=params, n_events=max(1, round(n * self.scale)), seed=self.seed,
                                 preset=self.preset, chunk_size=self.chunk_size) for p, params, n in self.samples]


def run_demo(config: DemoConfig, out: str | Path, *, progress=None) -> dict[str, Any]:
    """Generate (or reuse) every demo sample and write the run folder; returns the summary."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "config.json", json.dumps(dataclasses.asdict(config), indent=2))
    samples = []
    with dask_client(workers=config.workers) as client:
        manifests = [generate(gen, _cache_folder(config, gen), client=client, progress=progress)
                     for gen in config.generation_configs()]
    for gen, manifest in zip(config.generation_configs(), manifests, strict=True):
        folder = _cache_folder(config, gen)
        samples.append({
            "sample": gen.sample, "label": _label(gen), "path": str(folder),
            "n_generated": manifest["n_generated"], "n_selected": manifest["n_selected"],
            "sigma_pb": manifest["sigma_pb"], "sigma_err_pb": manifest["sigma_err_pb"],
            "selected_sigma_pb": manifest["selected_sigma_pb"],
        })
    atomic_write_text(out / "yields.txt", yield_table(samples, luminosity_fb=config.luminosity_fb) + "\n")
    search = SearchConfig(samples=tuple(s["path"] for s in samples), inject=dict(config.inject),
                          luminosity_fb=config.luminosity_fb, max_epochs=config.max_epochs, seed=config.seed,
                          n_toys=config.n_toys)
    summary = run_search(search, out, progress=progress is not None)
    summary["samples"] = samples
    summary["report_render"] = _render(out)
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=float))
    return summary


def _render(out: Path) -> dict[str, Any]:
    """Open the report in headless Chromium when one is installed; the screenshot lands in the run folder."""
    from ..exceptions import AnomalyHuntError
    from .report import find_browser, render_report

    if find_browser() is None:
        return {"skipped": "no Chromium on PATH (Debian: apt-get install chromium)"}
    try:
        loaded, total = render_report(out / "report.html", out / "report.png")
    except AnomalyHuntError as err:
        return {"error": str(err)}
    return {"plots_rendered": loaded, "plots": total, "screenshot": "report.png"}


def _cache_folder(config: DemoConfig, gen: GenerationConfig) -> Path:
    return Path(config.cache) / f"{gen.sample}-seed{gen.seed}-n{gen.n_events}-{gen.preset}"


def _label(gen: GenerationConfig) -> int:
    from ..generate import get_process

    return get_process(gen.process).label


def yield_table(samples: list[dict[str, Any]], *, luminosity_fb: float) -> str:
    """Per-sample cross sections, selection efficiencies and expected yields as a text table."""
    head = (f"{'sample':<22} {'kind':<4} {'sigma [pb]':>12} {'generated':>10} {'selected':>9} {'eff':>7} "
            f"{'sel. sigma [pb]':>16} {f'N @ {luminosity_fb:g}/fb':>14}")
    lines = [head, "-" * len(head)]
    for s in samples:
        eff = s["n_selected"] / s["n_generated"] if s["n_generated"] else 0.0
        lines.append(f"{s['sample']:<22} {'BSM' if s['label'] else 'SM':<4} {s['sigma_pb']:>12.4g} "
                     f"{s['n_generated']:>10d} {s['n_selected']:>9d} {eff:>7.3f} {s['selected_sigma_pb']:>16.4g} "
                     f"{s['selected_sigma_pb'] * luminosity_fb * 1000:>14.4g}")
    return "\n".join(lines)
