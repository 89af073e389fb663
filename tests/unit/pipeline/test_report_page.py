"""The report leads with its answer, keeps each section's tables beside its figures, and says in one line
that a table holds nothing."""

import math

from anomalyhunt.methods.base import Report, Section, html_table
from anomalyhunt.pipeline.page import write_page
from anomalyhunt.plots import save_figure
from anomalyhunt.plots._style import pyplot


def test_tables_of_nothing_collapse_to_one_line():
    assert "<table>" in html_table([["a", 1.0, 0.0]], ["sample", "gain", "Z"])
    empty = html_table([["a", 0.0, math.nan], ["b", "-", 0]], ["sample", "gain", "Z"])
    assert "<table>" not in empty and "gain, Z: zero or not available for all 2 rows (a, b)" in empty
    assert "nothing to show" in html_table([], ["sample", "gain"])


def test_the_page_leads_with_the_answer_then_sections_with_figures_beside_tables(tmp_path):
    fig, _ = pyplot().subplots()
    image = save_figure(fig, tmp_path / "f.png")
    report = Report("title", (Section("First", html_table([["a", 2.0]], ["x", "y"]), (("a figure", image),)),
                              Section("Second", "<p>text</p>")), answer=("Largest excess: m_jj at 1 TeV",))
    page = write_page(tmp_path / "report.html", report, preamble="<p>provenance</p>").read_text()
    assert page.index("Largest excess") < page.index("provenance") < page.index("First") < page.index("Second")
    first = page[page.index("First"):page.index("Second")]
    assert first.index("<table>") < first.index("<figure>") and first.count("class='row'") == 1
