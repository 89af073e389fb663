"""The headless-Chromium check counts decoded plots, so a broken image is caught."""

import base64
import io

import pytest

from anomalyhunt.exceptions import AnomalyHuntError
from anomalyhunt.pipeline import find_browser, render_report
from anomalyhunt.pipeline.page import _RENDER_CHECK

needs_browser = pytest.mark.skipif(find_browser() is None, reason="no Chromium on PATH")


def _png() -> str:
    from anomalyhunt.plots._style import pyplot

    fig, ax = pyplot().subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    pyplot().close(fig)
    return base64.b64encode(buf.getvalue()).decode()


@needs_browser
def test_render_counts_good_and_broken_plots(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(f"<html><body><img src='data:image/png;base64,{_png()}'>"
                    f"<img src='data:image/png;base64,bm90IGEgcG5n'>{_RENDER_CHECK}</body></html>")
    assert render_report(page, tmp_path / "shot.png") == (1, 2)
    assert (tmp_path / "shot.png").read_bytes()[:4] == b"\x89PNG"


@needs_browser
def test_a_page_without_the_marker_is_refused(tmp_path):
    page = tmp_path / "other.html"
    page.write_text("<html><body>hello</body></html>")
    with pytest.raises(AnomalyHuntError, match="did not report its plots"):
        render_report(page)


def test_a_missing_browser_is_a_clear_error(tmp_path):
    with pytest.raises(AnomalyHuntError, match="headless Chromium failed|no Chromium"):
        render_report(tmp_path / "x.html", browser=str(tmp_path / "no-such-browser"))


@needs_browser
def test_the_screenshot_covers_the_whole_page(tmp_path):
    """A report taller than any fixed window (9,000 px, a plot at the very bottom): the screenshot is as tall as
    the page, so the plot counted as rendered is in the picture."""
    from anomalyhunt.pipeline.page import describe_screenshot, png_size

    page = tmp_path / "report.html"
    page.write_text(f"<html><body style='margin:0'><div style='height:8800px'>tables</div>"
                    f"<img style='height:200px' src='data:image/png;base64,{_png()}'>{_RENDER_CHECK}</body></html>")
    assert render_report(page, tmp_path / "shot.png") == (1, 1)
    width, height = png_size(tmp_path / "shot.png")
    assert width == 1200 and 9000 <= height <= 9100
    assert describe_screenshot(tmp_path / "shot.png").startswith("the whole page, 1200 x 9")
    # taller than Chromium draws (16,384 px): the whole page at a smaller scale
    page.write_text(page.read_text().replace("8800px", "30000px"))
    assert render_report(page, tmp_path / "tall.png") == (1, 1)
    width, height = png_size(tmp_path / "tall.png")
    assert height <= 16385 and abs(height / width - 30200 / 1200) < 0.1
    assert "drawn at 0.54 scale" in describe_screenshot(tmp_path / "tall.png")
