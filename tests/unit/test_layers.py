"""Data flows one way: every import in the package, relative or absolute, at module level or inside a function,
goes to the same layer or an earlier one (the order of the layers is `LAYERS`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import anomalyhunt

ROOT = Path(anomalyhunt.__file__).parent

# earlier first; modules of one layer may import each other. "base" holds the small top-level modules every
# layer may use (exceptions, config checks, seeds, splits, Dask helpers, progress, native output).
LAYERS = ("base", "events", "reco", "generate", "ingest", "features", "models", "detectors", "stats", "plots",
          "methods", "pipeline", "cli")
BASE = {"__init__", "__version__", "exceptions", "config", "seeds", "splits", "parallel", "progress", "native_output",
        "records"}


def layer_of(parts: list[str]) -> str:
    """The layer of the module anomalyhunt.<parts...>."""
    if not parts:
        return "base"
    head = parts[0].removesuffix(".py")
    if head in BASE:
        return "base"
    if head not in LAYERS:
        raise AssertionError(f"anomalyhunt.{'.'.join(parts)} belongs to no layer: add it to LAYERS or BASE")
    return head


def imported_modules(path: Path, root: Path = ROOT):
    """(line, anomalyhunt-relative module parts) of every import of our own package in `path`."""
    rel = path.relative_to(root).with_suffix("").parts
    package = list(rel[:-1]) if rel[-1] != "__init__" else list(rel[:-1])
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name.split(".")
                if name[0] == "anomalyhunt":
                    yield node.lineno, name[1:]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                name = (node.module or "").split(".")
                if name[0] != "anomalyhunt":
                    continue
                base = name[1:]
            else:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else list(package)
                if node.level - 1 > len(package):
                    raise AssertionError(f"{path}: import beyond the package")
                base = base + (node.module.split(".") if node.module else [])
            if base:
                yield node.lineno, base
            else:  # from anomalyhunt import x / from .. import x: each name is a module or a base object
                for alias in node.names:
                    yield node.lineno, [alias.name]


def _sources():
    return sorted(ROOT.rglob("*.py"))


def test_every_package_has_a_layer():
    packages = {p.relative_to(ROOT).parts[0].removesuffix(".py") for p in _sources()}
    assert packages <= set(LAYERS) | BASE, packages - set(LAYERS) - BASE
    # every layer named exists: the order is about real packages
    assert set(LAYERS) - {"base"} <= packages, set(LAYERS) - {"base"} - packages


@pytest.mark.parametrize("layer", LAYERS)
def test_imports_go_to_earlier_layers_only(layer):
    rank = {name: i for i, name in enumerate(LAYERS)}
    bad = []
    for path in _sources():
        own = layer_of(list(path.relative_to(ROOT).with_suffix("").parts))
        if own != layer:
            continue
        for line, target in imported_modules(path):
            to = layer_of(target)
            if rank[to] > rank[own]:
                bad.append(f"{path.relative_to(ROOT)}:{line} ({own}) imports anomalyhunt.{'.'.join(target)} ({to})")
    assert not bad, "\n".join(bad)


def test_the_checker_sees_function_level_and_absolute_imports(tmp_path):
    """The test above would fail on an upward import hidden in a function, relative or absolute."""
    source = "def f():\n    from ..methods import get_method\n    import anomalyhunt.pipeline.run\n"
    found = []
    tree_path = tmp_path / "anomalyhunt" / "events" / "probe.py"
    tree_path.parent.mkdir(parents=True)
    tree_path.write_text(source)
    for _line, target in imported_modules(tree_path, tmp_path / "anomalyhunt"):
        found.append(layer_of(target))
    assert found == ["methods", "pipeline"]
