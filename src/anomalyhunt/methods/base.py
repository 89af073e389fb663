"""One skeleton for every search method: a name, a validated config, a run that returns a typed result.

A method package defines `METHOD = Method(...)`. Its `run(config, folder, *, progress)` writes what it must keep
(models, scores) into `folder`, the run folder being built, and returns a frozen result dataclass on
`SearchResult`: summary.json is derived from its fields (those marked `report_only()` hold arrays for the
figures), its lines for the terminal and its report `Section`s come from the method's report module. Everything
else (the atomic run folder, provenance, sample generation, config loading, the HTML page, the CLI) is shared
and lives in `pipeline` and `cli`.
"""

from __future__ import annotations

import dataclasses
import html
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from ..records import jsonable, short_repr

__all__ = ["Method", "MethodResult", "Report", "SearchResult", "Section", "html_table", "jsonable", "report_only",
           "summary_fields"]


@dataclass(frozen=True)
class Section:
    """One part of a report: a title, an HTML block (escaped by the method) and captioned PNG figures."""

    title: str
    html: str = ""
    images: tuple[tuple[str, Path], ...] = ()


@dataclass(frozen=True)
class Report:
    """A method's report: its title, the answer it leads with (a few plain lines: what was found, how
    significant, the verdict), and its sections, assembled into report.html by the pipeline."""

    title: str
    sections: tuple[Section, ...]
    answer: tuple[str, ...] = ()

    @property
    def images(self) -> tuple[tuple[str, Path], ...]:
        return tuple(image for section in self.sections for image in section.images)

    @property
    def titles(self) -> tuple[str, ...]:
        return tuple(section.title for section in self.sections)


def _blank(value) -> bool:
    """A cell that says nothing: zero, NaN, None, '-' or empty."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | np.number):
        return not np.isfinite(value) or value == 0
    return value is None or str(value).strip() in ("", "-", "nan", "n/a")


def html_table(rows: list[list], head: list[str]) -> str:
    """An HTML table; floats to 4 significant digits, everything escaped. A table with no rows, or whose every
    value (all but the first column) is zero or missing, collapses to one line saying so."""
    if not rows:
        return f"<p class='empty'>{html.escape(', '.join(head))}: nothing to show.</p>"
    if len(head) > 1 and all(_blank(v) for row in rows for v in row[1:]):
        return (f"<p class='empty'>{html.escape(', '.join(head[1:]))}: zero or not available for all "
                f"{len(rows)} rows ({html.escape(', '.join(str(row[0]) for row in rows[:6]))}"
                f"{', ...' if len(rows) > 6 else ''}).</p>")

    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else html.escape(str(v))

    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + f"</tr>{body}</table>"


def report_only():
    """A result field for the report's figures, not for summary.json."""
    return field(metadata={"summary": False}, repr=False, compare=False)


def summary_fields(result_type: type) -> tuple[str, ...]:
    """The names summary.json holds for results of `result_type`."""
    return tuple(f.name for f in dataclasses.fields(result_type) if f.metadata.get("summary", True))


@runtime_checkable
class MethodResult(Protocol):
    """The result of one method run."""

    def summary(self) -> dict[str, Any]:
        """The content of summary.json (JSON-serialisable)."""

    def lines(self) -> list[str]:
        """What the CLI prints at the end of a run."""

    def report(self, plots: Path) -> Report:
        """Save the figures into the folder `plots`; return the report."""


class SearchResult:
    """Base of the frozen result dataclasses: `summary()` is every field not marked `report_only()`, as JSON;
    `lines()` and `report()` come from `report_module` (the method's report.py, imported when first needed):
    `summary_lines(summary)` and `report_sections(result, plots) -> Report`."""

    report_module: ClassVar[str]

    def summary(self) -> dict[str, Any]:
        return {name: jsonable(getattr(self, name)) for name in summary_fields(type(self))}

    def to_dict(self) -> dict[str, Any]:
        """The same as `summary()`: the result as JSON-ready data."""
        return self.summary()

    def __repr__(self) -> str:
        """One screen: scalars as they are, containers by their size (the whole is `summary()`)."""
        fields = ", ".join(f"{name}={short_repr(getattr(self, name))}" for name in summary_fields(type(self)))
        return f"{type(self).__name__}({fields})"

    def lines(self) -> list[str]:
        return importlib.import_module(self.report_module).summary_lines(self.summary())

    def binned(self) -> tuple[tuple, tuple]:
        """(fitted spectra, other histograms) that leave the tool: `stats.Spectrum` and `stats.Histogram`
        objects, which the pipeline writes to spectra.json, spectra.root and pyhf workspaces. None by default."""
        return tuple(getattr(self, "spectra", ())), tuple(getattr(self, "histograms", ()))

    def report(self, plots: Path) -> Report:
        """The method's report; when its report module gives no answer of its own, the report leads with the
        first lines the terminal prints."""
        report = importlib.import_module(self.report_module).report_sections(self, plots)
        if not report.answer:
            lines = [line.strip() for line in self.lines() if line.strip()]
            report = dataclasses.replace(report, answer=tuple(lines[:8]))
        return report


@dataclass(frozen=True)
class Method:
    """A registered search method. `run` and `result` name "module:attribute" so that listing the methods
    imports none of their heavy dependencies. `accepts` are the detector inputs (see `detectors`) its `detector:`
    section may name, empty when it keeps its own; `detectors` says so in words. A `parallel` method's run also
    takes `scheduler` (a Dask scheduler address, or None)."""

    name: str
    description: str
    config: type
    run: str
    result: str
    accepts: tuple[str, ...] = ()
    detectors: str = ""
    parallel: bool = False

    def runner(self) -> Callable[..., MethodResult]:
        module, _, function = self.run.partition(":")
        return getattr(importlib.import_module(module), function)

    def result_type(self) -> type:
        module, _, name = self.result.partition(":")
        return getattr(importlib.import_module(module), name)

    def samples(self, config) -> tuple[str, ...]:
        """The dataset folders the config reads (so that missing ones can be generated first)."""
        return tuple(config.samples)
