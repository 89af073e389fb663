"""What a search method is: a name, a validated config, and a run that returns a result which knows its
summary, its report and its lines for the terminal.

A method package defines `METHOD = Method(...)`. Its `run(config, folder, *, progress)` writes what it must
keep (models, scores) into `folder`, which is the run folder being built, and returns a frozen result
dataclass following `MethodResult` (summary.json content, CLI lines, report sections). Everything else (the
atomic run folder, provenance, sample generation, config loading, the HTML page, the CLI) is shared and lives in
`pipeline` and `cli`.
"""

from __future__ import annotations

import html
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

__all__ = ["Method", "MethodResult", "Report", "SummaryResult", "html_table"]


@dataclass(frozen=True)
class Report:
    """A method's report sections: a title, HTML blocks (escaped by the method) and captioned PNG figures,
    assembled into report.html by the pipeline."""

    title: str
    parts: tuple[str, ...]
    images: tuple[tuple[str, Path], ...]


def html_table(rows: list[list], head: list[str]) -> str:
    """An HTML table; floats to 4 significant digits, everything escaped."""
    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else html.escape(str(v))

    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + f"</tr>{body}</table>"


@runtime_checkable
class MethodResult(Protocol):
    """The result of one method run."""

    def summary(self) -> dict[str, Any]:
        """The content of summary.json (JSON-serialisable)."""

    def lines(self) -> list[str]:
        """What the CLI prints at the end of a run."""

    def report(self, plots: Path) -> Report:
        """Save the figures into the folder `plots`; return the report's sections."""


class SummaryResult:
    """A MethodResult whose summary is its `summary_data` and whose lines and report come from the module
    `report_module` (the method's report.py, imported when first needed): `summary_lines(summary)` and
    `report_sections(result, plots)`."""

    report_module: ClassVar[str]
    summary_data: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        return self.summary_data

    def lines(self) -> list[str]:
        return importlib.import_module(self.report_module).summary_lines(self.summary_data)

    def report(self, plots: Path) -> Report:
        return importlib.import_module(self.report_module).report_sections(self, plots)


@dataclass(frozen=True)
class Method:
    """A registered search method. `run` names the function "module:function" so that listing the methods
    imports none of their heavy dependencies. A `parallel` method's run also takes `scheduler` (a Dask
    scheduler address, or None)."""

    name: str
    description: str
    config: type
    run: str
    summary_keys: tuple[str, ...]
    report_sections: tuple[str, ...]
    parallel: bool = False  # run also takes scheduler= and fans its work out on that Dask scheduler

    def runner(self) -> Callable[..., MethodResult]:
        module, _, function = self.run.partition(":")
        return getattr(importlib.import_module(module), function)

    def samples(self, config) -> tuple[str, ...]:
        """The dataset folders the config reads (so that missing ones can be generated first)."""
        return tuple(config.samples)
