"""MkDocs hook: parts of the pages written from the code, so that they cannot drift from it.

- `<!-- config: package.module:ClassName -->` becomes a table of the config dataclass's fields (name, type,
  default) and its docstring;
- `<!-- example: examples/file.yaml -->` becomes the example config, comments and all;
- `<!-- cli -->` becomes `anomalyhunt --help`.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_CONFIG = re.compile(r"<!-- config: ([\w.]+):(\w+) -->")
_EXAMPLE = re.compile(r"<!-- example: ([\w./-]+) -->")
_CLI = re.compile(r"<!-- cli -->")


def _default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "required"
    if dataclasses.is_dataclass(value):
        return f"`{type(value).__name__}()` defaults"
    return f"`{value!r}`"


def config_table(module: str, name: str) -> str:
    cls = getattr(importlib.import_module(module), name)
    if not dataclasses.is_dataclass(cls):
        raise ValueError(f"{module}:{name} is not a dataclass")
    rows = ["| field | type | default |", "|---|---|---|"]
    for f in dataclasses.fields(cls):
        kind = str(f.type).replace("|", "or")
        rows.append(f"| `{f.name}` | {kind} | {_default(f).replace('|', 'or')} |")
    doc = inspect.cleandoc(cls.__doc__ or "")
    return f"`{module}.{name}`:\n\n" + "\n".join(rows) + "\n\n" + doc.replace("\n\n", "\n\n") + "\n"


def example(path: str) -> str:
    text = (ROOT / path).read_text()
    return f"`{path}`:\n\n```yaml\n{text.rstrip()}\n```\n"


def cli_help() -> str:
    from anomalyhunt.cli import build_parser

    return "```text\n" + build_parser().format_help().rstrip() + "\n```\n"


def on_page_markdown(markdown: str, page, config, files) -> str:
    markdown = _CONFIG.sub(lambda m: config_table(m.group(1), m.group(2)), markdown)
    markdown = _EXAMPLE.sub(lambda m: example(m.group(1)), markdown)
    return _CLI.sub(lambda m: cli_help(), markdown)
