"""Typed, validated configuration dataclasses: every field checked against its annotation when built.

A stage's config is a frozen dataclass whose `__post_init__` calls `check_types(self)` (types, with the harmless
YAML conversions: list -> tuple, int -> float) and then checks ranges. `from_mapping(cls, data)` builds one from a
parsed YAML/JSON mapping, rejecting unknown keys with the list of known ones. Every error is one `ConfigError`
line naming the field and the value.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from typing import Any

from .exceptions import ConfigError

__all__ = ["check_types", "config_dict", "from_mapping", "describe_type"]


def describe_type(tp) -> str:
    """A type annotation in words a physicist reads: 'list of numbers', 'mapping of name -> number', ..."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else describe_type(a) for a in args)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return f"a list of {_plural(describe_type(args[0]))}"
    if origin is tuple:
        return "a list [" + ", ".join(describe_type(a) for a in args) + "]"
    if origin in (dict, Mapping, typing.Mapping) or tp in (dict, Mapping):
        if args:
            return f"a mapping of {_plural(describe_type(args[0]))} to {_plural(describe_type(args[1]))}"
        return "a mapping"
    return getattr(tp, "__name__", str(tp))


def _plural(words: str) -> str:
    for article in ("an ", "a "):
        if words.startswith(article):
            rest = words[len(article):]
            return rest + ("s" if not rest.endswith(("s", "]")) and " " not in rest else "")
    return words


class _Mismatch(Exception):
    pass


def _convert(value, tp, where: str):
    """`value` as type `tp` (list -> tuple, int -> float), or _Mismatch."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for option in args:
            if option is type(None):
                if value is None:
                    return None
                continue
            try:
                return _convert(value, option, where)
            except _Mismatch:
                continue
        raise _Mismatch
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _Mismatch
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise _Mismatch
    if tp is str:
        if isinstance(value, str):
            return value
        raise _Mismatch
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise _Mismatch
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], where) for v in value)
        if len(args) != len(value):
            raise _Mismatch
        return tuple(_convert(v, a, where) for v, a in zip(value, args, strict=True))
    if origin in (dict, Mapping, typing.Mapping) or tp in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise _Mismatch
        if not args:
            return dict(value)
        return {_convert(k, args[0], where): _convert(v, args[1], where) for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if hasattr(tp, "from_config"):  # a section with its own YAML shape (e.g. `detector:`)
            if not isinstance(value, str | Mapping):
                raise _Mismatch
            return tp.from_config(value, where=f"{where}: ")
        if isinstance(value, Mapping):
            return from_mapping(tp, value, where=f"{where}: ")
        raise _Mismatch
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise _Mismatch


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_types(config, *, where: str = "") -> None:
    """Check (and convert in place, for a frozen dataclass) every field of `config` against its annotation."""
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        try:
            converted = _convert(value, hints[f.name], f"{where}{f.name}")
        except _Mismatch:
            raise ConfigError(f"{where}{f.name}: expected {describe_type(hints[f.name])}, got {_short(value)}") \
                from None
        if converted is not value:
            object.__setattr__(config, f.name, converted)


def from_mapping(cls, data: Mapping[str, Any], *, where: str = ""):
    """An instance of the config dataclass `cls` from a mapping, rejecting keys `cls` does not have."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where or cls.__name__}: expected a mapping of settings, got {_short(data)}")
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(str(k) for k in set(data) - known)
    if unknown:
        raise ConfigError(f"{where}unknown field(s) {unknown}; known: {', '.join(sorted(known))}")
    try:
        return cls(**data)
    except ConfigError as exc:
        if where and not str(exc).startswith(where):
            raise ConfigError(f"{where}{exc}") from None
        raise
    except TypeError as exc:  # a required field is missing
        missing = sorted(f.name for f in dataclasses.fields(cls)
                         if f.init and f.name not in data and f.default is dataclasses.MISSING
                         and f.default_factory is dataclasses.MISSING)
        if missing:
            raise ConfigError(f"{where}missing required field(s) {missing}") from None
        raise ConfigError(f"{where}{exc}") from None


def config_dict(config) -> dict[str, Any]:
    """`dataclasses.asdict`, except that a section with its own YAML shape (`as_config()`) is written in it, so
    that config.json reads back as the YAML it came from."""
    def convert(value):
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            if hasattr(value, "as_config"):
                return value.as_config()
            return {f.name: convert(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, tuple | list):
            return type(value)(convert(v) for v in value)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        return value

    return convert(config)
