"""The YAML `detector:` section: which anomaly detector a search trains, validated before any long step.

- `{name: vae_kl, params: {...}}`: a built-in detector (`anomalyhunt detectors` lists them);
- `{import: "sklearn.ensemble:IsolationForest", params: {...}}`: any class or factory the user can import. This
  runs the user's code, by design: the run's provenance records the target;
- `{onnx: path/model.onnx}`: an already trained model, scored only.

`higher_is_anomalous: false` turns the sign of an imported or ONNX detector's scores (scikit-learn outlier
detectors, whose scores are higher = more normal, are recognised and turned without it).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import ConfigError

__all__ = ["DetectorSpec", "construct", "import_target"]

_KEYS = ("name", "import", "onnx", "params", "higher_is_anomalous")


def import_target(target: str, *, where: str = "detector: import"):
    """The object named "package.module:Attribute" (dotted attributes allowed), or a ConfigError that says why."""
    if not isinstance(target, str) or target.count(":") != 1 or not all(target.split(":")):
        raise ConfigError(f"{where}: expected \"package.module:ClassOrFactory\", got {target!r}")
    module_name, attribute = target.split(":")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"{where}: cannot import {module_name!r} ({exc})") from None
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"{where}: {module_name!r} has no attribute {attribute!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConfigError(f"{where}: {target} is not a class or factory")
    return obj


def construct(target: str, params: Mapping[str, Any] | None, *, seed: int):
    """An instance of the class or factory `target` with `params`; `seed` becomes its `random_state` (or `seed`)
    when it takes one and `params` do not set it. A ConfigError names a target or params that do not fit."""
    factory = import_target(target)
    kwargs = dict(params or {})
    try:
        accepted = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        accepted = {}
    for seed_name in ("random_state", "seed"):
        if seed_name in accepted and seed_name not in kwargs:
            kwargs[seed_name] = int(seed) % 2**31
            break
    try:
        return factory(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"detector: params do not fit {target}: {exc}") from None


@dataclass(frozen=True)
class DetectorSpec:
    """One of `name`, `import_` (YAML `import`) or `onnx`; `params` go to the constructor (not for ONNX)."""

    name: str | None = None
    import_: str | None = None
    onnx: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    higher_is_anomalous: bool | None = None

    @classmethod
    def from_config(cls, data: Any, *, where: str = "detector: ") -> DetectorSpec:
        """From the YAML section: a mapping with the keys above, or a bare built-in name."""
        if isinstance(data, str):
            data = {"name": data}
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where.rstrip(': ')}: expected a built-in name or a mapping with name, import or "
                              f"onnx, got {data!r}")
        unknown = sorted(set(data) - set(_KEYS))
        if unknown:
            raise ConfigError(f"{where}unknown field(s) {unknown}; known: {', '.join(_KEYS)}")
        params = data.get("params") or {}
        if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
            raise ConfigError(f"{where}params: expected a mapping of names to values, got {params!r}")
        higher = data.get("higher_is_anomalous")
        if higher is not None and not isinstance(higher, bool):
            raise ConfigError(f"{where}higher_is_anomalous: expected true or false, got {higher!r}")
        return cls(name=data.get("name"), import_=data.get("import"), onnx=data.get("onnx"), params=dict(params),
                   higher_is_anomalous=higher)

    def __post_init__(self) -> None:
        given = [key for key, value in (("name", self.name), ("import", self.import_), ("onnx", self.onnx))
                 if value is not None]
        if len(given) != 1:
            raise ConfigError("detector: give exactly one of name (a built-in), import (\"package.module:Class\") "
                              f"or onnx (a model file); got {given or 'none'}")
        for key, value in (("name", self.name), ("import", self.import_), ("onnx", self.onnx)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"detector: {key}: expected a non-empty string, got {value!r}")
        if self.name is not None and self.higher_is_anomalous is not None:
            raise ConfigError("detector: higher_is_anomalous is for imported and ONNX detectors; built-ins score "
                              "higher = more anomalous")
        if self.onnx is not None:
            if self.params:
                raise ConfigError("detector: an ONNX model takes no params (it is already trained)")
            if not Path(self.onnx).is_file():
                raise ConfigError(f"detector: onnx: no such file {self.onnx}")

    @property
    def kind(self) -> str:
        return "builtin" if self.name is not None else "import" if self.import_ is not None else "onnx"

    @property
    def label(self) -> str:
        """A short name for tables and plots: the built-in name, the imported class, the ONNX file name."""
        if self.name is not None:
            return self.name
        if self.import_ is not None:
            return self.import_.rsplit(":", 1)[1]
        return Path(self.onnx).name

    def as_config(self) -> dict[str, Any]:
        """The YAML section back (what config.json records)."""
        key, value = next((k, v) for k, v in (("name", self.name), ("import", self.import_), ("onnx", self.onnx))
                          if v is not None)
        out: dict[str, Any] = {key: value}
        if self.params:
            out["params"] = dict(self.params)
        if self.higher_is_anomalous is not None:
            out["higher_is_anomalous"] = self.higher_is_anomalous
        return out
