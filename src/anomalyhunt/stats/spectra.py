"""Binned results that leave the tool: a fitted spectrum (data, background fit with its uncertainty, signal
templates) and plain histograms, as `hist.Hist` objects, as JSON, and as a pyhf (HistFactory) workspace.

The background's fit uncertainty is carried as `k` eigen-shifts of the expected counts (one per dijet
parameter): with V the parameters' covariance at the fit (the inverse Fisher information of the Poisson
likelihood, on effective entries for weighted simulation) and J the Jacobian of the expected counts, V = U L U^T
gives the shifts J U_i sqrt(L_i). Their squares sum to the per-bin variance J V J^T and, unlike one +-1 sigma band,
they keep the bin-to-bin correlations of the fit. In the pyhf workspace each shift is one `histosys` modifier.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..exceptions import StatsInputError
from ._checks import histogram
from .dijet import DijetFitResult, DijetShape

__all__ = ["Histogram", "Spectrum", "fit_uncertainty_modes", "to_hist"]


def to_hist(values, edges, *, variances=None, name: str = "", label: str = "m [GeV]"):
    """A `hist.Hist` with one variable axis: Weight storage when `variances` are given, Double otherwise."""
    import hist

    values = np.asarray(values, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.float64)
    axis = hist.axis.Variable(edges, name="x", label=label, underflow=False, overflow=False)
    if variances is None:
        h = hist.Hist(axis, storage=hist.storage.Double(), name=name or None)
        h[...] = values
    else:
        h = hist.Hist(axis, storage=hist.storage.Weight(), name=name or None)
        h[...] = np.stack([values, np.asarray(variances, dtype=np.float64)], axis=-1)
    return h


def fit_uncertainty_modes(fit: DijetFitResult) -> np.ndarray:
    """(k, bins) eigen-shifts of the fitted background (module docstring); zeros for a fit that is not usable."""
    n_bins = len(fit.expected)
    if not fit.converged:
        return np.zeros((fit.n_params, n_bins))
    mu, jac = DijetShape.of(fit).expectation(DijetShape.start(fit))
    mu = np.maximum(mu, 1e-300)
    fisher = jac.T @ (jac / (mu * fit.entry_weight)[:, None])
    try:
        cov = np.linalg.pinv(fisher, hermitian=True)
    except np.linalg.LinAlgError:
        return np.zeros((fit.n_params, n_bins))
    values, vectors = np.linalg.eigh(0.5 * (cov + cov.T))
    values = np.clip(values, 0.0, None)
    return (jac @ (vectors * np.sqrt(values))).T[::-1]  # largest shift first


def _array(values, n: int, what: str) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    if a.shape != (n,) or not np.all(np.isfinite(a)):
        raise StatsInputError(f"{what}: expected {n} finite values, got shape {a.shape}")
    return a


@dataclass(frozen=True)
class Histogram:
    """A named 1-D histogram (values with optional variances) that is not a fitted spectrum: e.g. a score
    distribution."""

    name: str
    edges: np.ndarray
    values: np.ndarray
    variances: np.ndarray | None = None
    label: str = ""

    def __post_init__(self) -> None:
        values, edges = histogram(self.values, self.edges, allow_empty=True)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "edges", edges)
        if self.variances is not None:
            object.__setattr__(self, "variances", _array(self.variances, len(values), f"{self.name} variances"))

    def to_hist(self):
        return to_hist(self.values, self.edges, variances=self.variances, name=self.name, label=self.label)

    def to_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "edges": self.edges.tolist(), "values": self.values.tolist(),
                "variances": None if self.variances is None else self.variances.tolist()}

    @classmethod
    def from_dict(cls, d: Mapping) -> Histogram:
        return cls(d["name"], d["edges"], d["values"], d.get("variances"), d.get("label", ""))

    def __repr__(self) -> str:
        return f"Histogram({self.name!r}, {len(self.values)} bins [{self.edges[0]:g}, {self.edges[-1]:g}], " \
               f"sum {self.values.sum():.4g})"


@dataclass(frozen=True)
class Spectrum:
    """One fitted spectrum of a search: the (pseudo-)data, the background from the fit with its uncertainty
    (`background_modes`, see the module docstring), and signal templates in events (`signals`: the benchmark
    samples at their nominal cross sections; `limit_templates`: unit-normalised Gaussians at the masses where
    limits are quoted, named like "gauss_1500")."""

    region: str
    observable: str
    edges: np.ndarray
    data: np.ndarray
    background: np.ndarray
    background_modes: np.ndarray
    signals: dict[str, np.ndarray] = field(default_factory=dict)
    limit_templates: dict[str, np.ndarray] = field(default_factory=dict)
    label: str = "m [GeV]"
    description: str = ""

    def __post_init__(self) -> None:
        data, edges = histogram(self.data, self.edges, allow_empty=True)
        n = len(data)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "background", _array(self.background, n, "background"))
        modes = np.asarray(self.background_modes, dtype=np.float64).reshape(-1, n)
        object.__setattr__(self, "background_modes", modes)
        for attr in ("signals", "limit_templates"):
            object.__setattr__(self, attr, {k: _array(v, n, f"{attr}[{k}]") for k, v in getattr(self, attr).items()})

    @classmethod
    def from_fit(cls, fit: DijetFitResult, *, region: str, observable: str, signals=None, limit_masses=(),
                 label: str = "m [GeV]", description: str = "") -> Spectrum:
        """The spectrum of a background fit to (pseudo-)data, with Gaussian limit templates at `limit_masses`
        (the mass resolution wide, as the limits of `upper_limits`)."""
        from .bumphunt import signal_templates

        masses = [m for m in limit_masses if fit.edges[0] < m < fit.edges[-1]]
        templates = {}
        if masses:
            dense = signal_templates(fit.edges, widths=("resolution",), masses=masses).dense(len(fit.counts))
            templates = {f"gauss_{m:.0f}": row for m, row in zip(masses, dense, strict=True)}
        return cls(region, observable, fit.edges, fit.counts, fit.expected, fit_uncertainty_modes(fit),
                   dict(signals or {}), templates, label, description)

    @property
    def name(self) -> str:
        return f"{self.region}_{self.observable}"

    @property
    def background_error(self) -> np.ndarray:
        return np.sqrt((self.background_modes ** 2).sum(axis=0))

    # --- hist objects -------------------------------------------------------------------------------------------
    def data_hist(self):
        return to_hist(self.data, self.edges, name="data", label=self.label)

    def background_hist(self):
        """The fitted background; its variances are the fit's (not Poisson)."""
        return to_hist(self.background, self.edges, variances=self.background_error ** 2, name="background",
                       label=self.label)

    def signal_hist(self, name: str):
        source = self.signals if name in self.signals else self.limit_templates
        if name not in source:
            raise KeyError(f"no signal {name!r}; have {sorted(self.signals) + sorted(self.limit_templates)}")
        return to_hist(source[name], self.edges, name=name, label=self.label)

    # --- JSON -----------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"region": self.region, "observable": self.observable, "label": self.label,
                "description": self.description, "edges": self.edges.tolist(), "data": self.data.tolist(),
                "background": self.background.tolist(), "background_modes": self.background_modes.tolist(),
                "signals": {k: v.tolist() for k, v in self.signals.items()},
                "limit_templates": {k: v.tolist() for k, v in self.limit_templates.items()}}

    @classmethod
    def from_dict(cls, d: Mapping) -> Spectrum:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise StatsInputError(f"unknown spectrum field(s) {sorted(unknown)}")
        return cls(**{k: d[k] for k in names if k in d})

    def __repr__(self) -> str:
        total_error = math.sqrt(float((self.background_modes.sum(axis=1) ** 2).sum()))  # of the summed background
        return (f"Spectrum({self.name!r}: {len(self.data)} bins [{self.edges[0]:g}, {self.edges[-1]:g}], "
                f"data {self.data.sum():.6g}, background {self.background.sum():.6g} "
                f"+- {total_error:.3g} (fit, {len(self.background_modes)} "
                f"modes), signals {sorted(self.signals)}, {len(self.limit_templates)} limit templates)")

    # --- pyhf -----------------------------------------------------------------------------------------------------
    def workspace(self) -> dict:
        """A pyhf workspace (HistFactory JSON): one channel with the data; the background from the fit with one
        `histosys` per fit eigen-shift (Gaussian-constrained); every signal template a sample of its own with a
        normfactor `mu_<name>`; one measurement per signal, its normfactor the POI and the others fixed at 0.

        The background parameters are constrained by auxiliary measurements derived from the fit to the same
        data, where our own limits (`upper_limits`) profile the dijet parameters with no constraint: see the
        statistics documentation for what that changes."""
        channel = self.name
        modifiers = [{"name": f"bkg_fit_mode{i}", "type": "histosys",
                      "data": {"hi_data": (self.background + m).tolist(),
                               "lo_data": np.maximum(self.background - m, 1e-9).tolist()}}
                     for i, m in enumerate(self.background_modes) if np.any(m != 0)]
        samples = [{"name": "background", "data": self.background.tolist(), "modifiers": modifiers}]
        templates = {**self.signals, **self.limit_templates}
        if not templates:
            raise StatsInputError(f"{channel}: a workspace needs at least one signal template")
        for name, t in templates.items():
            samples.append({"name": name, "data": t.tolist(),
                            "modifiers": [{"name": f"mu_{name}", "type": "normfactor", "data": None}]})
        measurements = []
        reach = 100.0 * (math.sqrt(float(self.background.sum())) + 1.0)  # events: far beyond any 95% limit
        for name, t in templates.items():
            poi = {"name": f"mu_{name}", "bounds": [[0.0, reach / max(float(t.sum()), 1e-12)]], "inits": [1.0]}
            fixed = [{"name": f"mu_{other}", "fixed": True, "inits": [0.0]} for other in templates if other != name]
            measurements.append({"name": name, "config": {"poi": f"mu_{name}", "parameters": [poi, *fixed]}})
        return {"version": "1.0.0", "channels": [{"name": channel, "samples": samples}],
                "observations": [{"name": channel, "data": self.data.tolist()}], "measurements": measurements}
