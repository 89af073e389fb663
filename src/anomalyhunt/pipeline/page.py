"""The self-contained HTML page of a run (every figure embedded) and its check in headless Chromium."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from ..events.io import atomic_write_text
from ..exceptions import AnomalyHuntError
from ..methods import Report

__all__ = ["describe_screenshot", "find_browser", "png_size", "render_report", "write_page"]


# Sets <body data-plots="N/M" data-height="H">: N of the M embedded plots decoded with a non-zero size, and the
# page's full height in CSS pixels at the window's width (read by `render_report`, which sizes its screenshot so).
_RENDER_CHECK = (
    "<script>window.addEventListener('load',()=>{const im=[...document.images];"
    "document.body.dataset.plots=im.filter(i=>i.complete&&i.naturalWidth>0).length+'/'+im.length;"
    "document.body.dataset.height=Math.ceil(document.documentElement.scrollHeight);});</script>"
)
_WIDTH = 1200
_MAX_HEIGHT = 16384  # Chromium's largest screenshot dimension


def write_page(path: Path, report: Report, *, preamble: str = "") -> Path:
    """A self-contained HTML page: the report's title, `preamble` (HTML), then each section with its title, its
    HTML and its figures embedded as base64 PNG."""
    head = ("<!doctype html><html><head><meta charset='utf-8'><title>anomalyhunt run</title><style>"
            "body{font-family:sans-serif;max-width:1500px;margin:auto;padding:0 1em}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}img{max-width:100%}"
            ".answer{border:2px solid #2a6;background:#f3fbf5;padding:.4em 1em;margin:1em 0}"
            ".answer li{margin:.2em 0}.row{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}"
            ".row>div{flex:1 1 420px;min-width:0;overflow-x:auto}.row figure{flex:0 1 700px;margin:0}"
            ".empty{color:#666;font-style:italic}</style></head><body>")
    body = [head, f"<h1>{html.escape(report.title)}</h1>"]
    if report.answer:  # the answer first: what was found, how significant, the verdict
        items = "".join(f"<li>{html.escape(line)}</li>" for line in report.answer)
        body.append(f"<div class='answer'><h2>The answer</h2><ul>{items}</ul></div>")
    body.append(preamble)
    for section in report.sections:  # each section's tables beside its figures (wrapping on narrow screens)
        body.append(f"<h2>{html.escape(section.title)}</h2><div class='row'><div>{section.html}</div>")
        for caption, image in section.images:
            data = base64.b64encode(Path(image).read_bytes()).decode()
            label = html.escape(caption)
            body.append(f"<figure><h3>{label}</h3><img alt='{label}' src='data:image/png;base64,{data}'></figure>")
        body.append("</div>")
    body.append(_RENDER_CHECK + "</body></html>")
    atomic_write_text(path, "\n".join(body))
    return path


def png_size(path: str | Path) -> tuple[int, int]:
    """(width, height) in pixels of a PNG file, from its header."""
    head = Path(path).read_bytes()[:24]
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def describe_screenshot(path: str | Path) -> str:
    """How much of the page a `render_report` screenshot shows, in words: its size, and its scale when the page
    was taller than Chromium draws at full size."""
    width, height = png_size(path)
    scale = width / _WIDTH
    if scale >= 0.999 and height >= _MAX_HEIGHT:
        return f"the first {height:,} px only: the page does not say its height (written by an older version)"
    if scale >= 0.999:
        return f"the whole page, {width} x {height} px"
    return f"the whole page of {round(height / scale):,} px, drawn at {scale:.2f} scale ({width} x {height} px)"


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

    With `screenshot`, also writes a PNG of the whole page there (1200 px wide and as tall as the page measures
    itself; a page taller than Chromium's 16,384-px limit is drawn at a smaller scale): every plot counted is in
    the picture. Raises AnomalyHuntError when no browser is found or
    the page does not report its plots.
    """
    import re
    import subprocess

    browser = browser or find_browser()
    if browser is None:
        raise AnomalyHuntError("no Chromium found on PATH (Debian: apt-get install chromium)")
    uri = Path(report).resolve().as_uri()
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--virtual-time-budget=20000", f"--window-size={_WIDTH},1000"]
    try:
        dom = subprocess.run([*base, "--dump-dom", uri], capture_output=True, text=True, timeout=timeout)
        match = re.search(r'data-plots="(\d+)/(\d+)"', dom.stdout)
        if match is None:
            raise AnomalyHuntError(f"{report}: the page did not report its plots (is it an anomalyhunt report?)")
        if screenshot is not None:
            # the whole page: a window as tall as the page measured itself at this width, drawn at a smaller
            # scale when that is beyond Chromium's largest picture (an older page without its height: the limit)
            tall = re.search(r'data-height="(\d+)"', dom.stdout)
            height = int(tall.group(1)) if tall else _MAX_HEIGHT
            scale = min(1.0, _MAX_HEIGHT / max(height, 1))
            shot = f"--screenshot={Path(screenshot).resolve()}"
            subprocess.run([*base[:-1], f"--window-size={_WIDTH},{height}", f"--force-device-scale-factor={scale:.4f}",
                            shot, uri], capture_output=True, timeout=timeout, check=True)
    except (subprocess.TimeoutExpired, subprocess.CalledProcessError, OSError) as err:
        raise AnomalyHuntError(f"headless Chromium failed on {report}: {err}") from None
    return int(match.group(1)), int(match.group(2))
