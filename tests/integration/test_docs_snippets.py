"""The documentation's code runs: every ```python block of README.md and docs/ is executed, page by page in
one namespace (a page's blocks build on each other), in a folder where `data/ttbar` and `data/wprime` are the
session's small samples. A block whose first line is a `# needs ...` comment (a run of an example, a demo run
folder) is skipped, and says why."""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks(page: Path) -> list[str]:
    return _BLOCK.findall(page.read_text())


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_the_pages_code_runs(page, search_samples, tmp_path, monkeypatch):
    root, paths = search_samples
    (tmp_path / "data").mkdir()
    os.symlink(root / "ttbar", tmp_path / "data" / "ttbar")
    os.symlink(root / "ssm_wprime", tmp_path / "data" / "wprime")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "docs_snippet"}
    ran = 0
    for i, code in enumerate(_blocks(page)):
        if code.startswith("# needs"):
            continue
        exec(compile(code, f"{page.name}[block {i}]", "exec"), namespace)  # noqa: S102 - our own documentation
        ran += 1
    assert ran > 0, f"{page.name}: every block is skipped"
