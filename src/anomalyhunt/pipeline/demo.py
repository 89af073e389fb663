"""The embedded default run: a small mixed SM + BSM Pythia sample generated on the spot (cached), then the
RMM + autoencoder search, as one `rmm_autoencoder` run with a `generate:` section."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from ..config import check_types
from ..exceptions import ConfigError
from ..methods import CeilingConfig
from ..methods.rmm_autoencoder import RMMAutoencoderConfig
from .runconfig import RunConfig, SampleRequest

__all__ = ["DEFAULT_SAMPLES", "DemoConfig"]

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
    preset: str = "chekanov2022"
    luminosity_fb: float = 140.0
    chunk_size: int = 3000
    cache: str = "data/demo"
    samples: tuple[tuple[str, dict[str, float], int], ...] = field(default=DEFAULT_SAMPLES)
    inject: tuple[tuple[str, float], ...] = (("ssm_wprime_1500", 1.0),)
    max_epochs: int = 300
    n_toys: int = 1000
    ceiling_seeds: int = 1  # cross-fittings of the ceiling's MLP and gradient boosting (3 by default elsewhere: the
    #                         demo keeps to one to stay a few minutes long; the spread needs more)

    def __post_init__(self) -> None:
        check_types(self)
        if not self.scale > 0:
            raise ConfigError(f"scale must be positive, got {self.scale}")
        if self.luminosity_fb <= 0:
            raise ConfigError(f"luminosity_fb must be positive, got {self.luminosity_fb}")

    def run_config(self) -> RunConfig:
        """The demo as a run: generate every sample into the cache, then the RMM + autoencoder search."""
        requests = []
        for process, params, n in self.samples:
            request = SampleRequest(process=process, events=max(1, round(n * self.scale)), seed=self.seed,
                                    params=params, preset=self.preset, chunk_size=self.chunk_size)
            requests.append(dataclasses.replace(request, out=str(Path(self.cache) / request.folder_name)))
        search = RMMAutoencoderConfig(samples=tuple(r.out for r in requests), inject=dict(self.inject),
                                      luminosity_fb=self.luminosity_fb, max_epochs=self.max_epochs, seed=self.seed,
                                      n_toys=self.n_toys, ceiling=CeilingConfig(seeds=self.ceiling_seeds))
        return RunConfig("rmm_autoencoder", search, tuple(requests))
