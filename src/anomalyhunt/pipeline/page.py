"""The self-contained HTML page of a run (every figure embedded) and its check in headless Chromium."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from ..events.io import atomic_write_text
from ..methods import Report

__all__ = ["find_browser", "render_report", "write_page"]


# Sets <body data-plots="N/M">: N of the M embedded plots decoded with a non-zero size (read by the screenshot
# check in `report_render`).
_RENDER_CHECK = (
    "<script>window.addEventListener('load',()=>{const im=[...document.images];"
    "document.body.dataset.plots=im.filter(i=>i.complete&&i.naturalWidth>0).length+'/'+im.length;});</script>"
)


def write_page(path: Path, report: Report, *, preamble: str = "") -> Path:
    """A self-contained HTML page: the report's title, `preamble` (HTML), its blocks, then every figure embedded
    as base64 PNG."""
    title, parts, images = report.title, [preamble, *report.parts], report.images
    head = ("<!doctype html><html><head><meta charset='utf-8'><title>anomalyhunt run</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:3px 8px}img{max-width:100%}</style></head><body>")
    body = [head, f"<h1>{html.escape(title)}</h1>", *parts]
    for caption, image in images:
        data = base64.b64encode(image.read_bytes()).decode()
        label = html.escape(caption)
        body.append(f"<h3>{label}</h3><img alt='{label}' src='data:image/png;base64,{data}'>")
    body.append(_RENDER_CHECK + "</body></html>")
    atomic_write_text(path, "\n".join(body))
    return path


def find_browser() -> str | None:
    """A headless-capable Chromium on PATH, or None."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


def render_report(report: str | Path, screenshot: str | Path | None = None, *, browser: str | None = None,
                  timeout: float = 120.0) -> tuple[int, int]:
    """Open `report` in headless Chromium; returns (plots decoded with a non-zero size, plots in the page).

    With `screenshot`, also writes a full-page PNG there. Raises AnomalyHuntError when no browser is found or
    the page does not report its plots.
    """
    import re
    import subprocess

    from ..exceptions import AnomalyHuntError

    browser = browser or find_browser()
    if browser is None:
        raise AnomalyHuntError("no Chromium found on PATH (Debian: apt-get install chromium)")
    uri = Path(report).resolve().as_uri()
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--virtual-time-budget=20000"]
    try:
        dom = subprocess.run([*base, "--dump-dom", uri], capture_output=True, text=True, timeout=timeout)
        match = re.search(r'data-plots="(\d+)/(\d+)"', dom.stdout)
        if match is None:
            raise AnomalyHuntError(f"{report}: the page did not report its plots (is it an anomalyhunt report?)")
        if screenshot is not None:
            subprocess.run([*base, f"--screenshot={Path(screenshot).resolve()}", "--window-size=1200,5000", uri],
                           capture_output=True, timeout=timeout, check=True)
    except (subprocess.TimeoutExpired, subprocess.CalledProcessError, OSError) as err:
        raise AnomalyHuntError(f"headless Chromium failed on {report}: {err}") from None
    return int(match.group(1)), int(match.group(2))
