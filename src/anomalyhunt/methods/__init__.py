"""Search methods, one package each, found by the YAML `method:` name.

Adding a method: a package with `config.py` (frozen, validated config dataclass), `run.py` (run -> frozen result
dataclass on `SearchResult`, whose fields are summary.json), `report.py` (`report_sections` -> `Report` of
`Section`s, `summary_lines`), and `METHOD = Method(...)` in its `__init__`; then one line in `_PACKAGES` below.
Nothing in the CLI or the pipeline changes.
"""

from __future__ import annotations

import importlib

from ..exceptions import ConfigError
from .base import Method, MethodResult, Report, SearchResult, Section, html_table, report_only
from .ceiling import (
    CeilingConfig,
    ceiling_entry,
    ceiling_lines,
    ceiling_section,
    cross_fitted_scores,
    supervised_ceiling,
)

__all__ = ["CeilingConfig", "Method", "MethodResult", "Report", "SearchResult", "Section", "ceiling_entry",
           "ceiling_lines", "ceiling_section", "cross_fitted_scores", "get_method", "html_table", "method_names",
           "methods", "report_only", "supervised_ceiling"]

# registry: YAML name -> package holding METHOD
_PACKAGES = {
    "rmm_autoencoder": "anomalyhunt.methods.rmm_autoencoder",
    "double_ae": "anomalyhunt.methods.double_ae",
    "data_vs_sim": "anomalyhunt.methods.data_vs_sim",
    "vae_latent": "anomalyhunt.methods.vae_latent",
    "vrnn_yxh": "anomalyhunt.methods.vrnn_yxh",
    "compare": "anomalyhunt.methods.compare",
}


def method_names() -> tuple[str, ...]:
    return tuple(_PACKAGES)


def get_method(name: str) -> Method:
    """The registered method `name`, or a ConfigError listing the known ones."""
    if name not in _PACKAGES:
        raise ConfigError(f"unknown method {name!r}; known: {', '.join(_PACKAGES)}")
    method = importlib.import_module(_PACKAGES[name]).METHOD
    if method.name != name:  # pragma: no cover - guards the registry
        raise ConfigError(f"method package {_PACKAGES[name]} registers {method.name!r}, not {name!r}")
    return method


def methods() -> list[Method]:
    return [get_method(name) for name in _PACKAGES]
