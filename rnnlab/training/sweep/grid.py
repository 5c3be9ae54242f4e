"""The sweep file: its parsing (:func:`load`) and its grid points (:func:`points`)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab.errors import UsageError
from rnnlab.file_names import plain_name
from rnnlab.training import config as config_mod

SECTIONS = ("grid", "quick")
#: A grid key that is not a config key (one that sets several keys together) names run
#: folders, so it is a plain word: letters, digits, ``_ . + -``, not starting with ``.``.
_GROUP_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")


@dataclass(frozen=True)
class Point:
    """One grid point: its folder name, the grid values that define it, its full config."""

    name: str
    values: dict[str, Any]
    config: config_mod.TrainConfig


@dataclass(frozen=True)
class Sweep:
    base: dict[str, Any]
    grid: dict[str, list]
    quick: dict[str, Any]


def _key(k: str) -> str:
    key = k.replace("-", "_")
    if key not in config_mod.FIELDS or key in config_mod.RUN_CONTROL:
        raise UsageError(f"unknown config key {k!r} in the sweep file")
    return key


def load(path: str | Path) -> Sweep:
    """Parse a sweep file (see the module docstring); UsageError for anything malformed."""
    raw = config_mod.read_toml(path, "sweep file")
    base = {_key(k): v for k, v in raw.items() if k not in SECTIONS}
    for section in SECTIONS:
        if section in raw and not isinstance(raw[section], dict):
            raise UsageError(f"[{section}] must be a table of keys")
    grid: dict[str, list] = {}
    for k, values in raw.get("grid", {}).items():
        if not isinstance(values, list) or not values:
            raise UsageError(f"grid key {k!r} must be a non-empty list, got {values!r}")
        if all(isinstance(v, dict) for v in values):
            if not _GROUP_KEY.fullmatch(k):
                raise UsageError(f"grid key {k!r} names run folders, so it must be a plain word "
                                 "(letters, digits, _ . + -, not starting with '.')")
            grid[k] = [{_key(a): b for a, b in v.items()} for v in values]
        elif any(isinstance(v, dict) for v in values):
            raise UsageError(f"grid key {k!r} mixes tables and values")
        else:
            grid[_key(k)] = values
    quick = raw.get("quick", {})
    for k, v in quick.items():
        if k not in grid:
            _key(k)
        if isinstance(v, list) and not v:
            raise UsageError(f"quick key {k!r} must not be an empty list")
    return Sweep(base, grid, dict(quick))


def slug(value: Any) -> str:
    if isinstance(value, dict):
        return "_".join(f"{k}-{slug(v)}" for k, v in value.items())
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return "".join(c if c.isalnum() or c in ".+-" else "-" for c in text)


def parse_where(items: list[str] | None) -> dict[str, str]:
    """``["T=150", "model=irnn,lstm"]`` -> ``{"T": "150", "model": "irnn,lstm"}`` (keys checked);
    a value with commas matches any one of them."""
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not value:
            raise UsageError(f"--where needs KEY=VALUE, got {item!r}")
        out[_key(key.strip())] = value.strip()
    return out


def _is(value: Any, wanted: str) -> bool:
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
        try:
            return float(wanted) == float(value)
        except ValueError:
            return False
    return str(value).lower() == wanted.lower()


def _matches(cfg: config_mod.TrainConfig, where: dict[str, str]) -> bool:
    """Whether ``cfg`` has, for every key of ``where``, one of its comma-separated values."""
    return all(any(_is(getattr(cfg, key), w.strip()) for w in wanted.split(","))
               for key, wanted in where.items())


def points(sweep: Sweep, *, quick: bool = False, overrides: dict[str, Any] | None = None,
           where: dict[str, str] | None = None, build: bool = True) -> list[Point]:
    """Every grid point's resolved, validated config (building each run checks the names);
    with ``where``, only the points whose config has those values (see :func:`parse_where`).
    ``build=False`` skips building the runs (a cheap listing of the grid's points)."""
    from rnnlab.training import loop

    base, grid = dict(sweep.base), dict(sweep.grid)
    if quick:
        for k, v in sweep.quick.items():
            if k in grid:
                grid[k] = v if isinstance(v, list) else [v]
            elif isinstance(v, list):
                grid[_key(k)] = v
            else:
                base[_key(k)] = v
    base.update(overrides or {})
    out = []
    for combo in itertools.product(*grid.values()):
        values, flat = dict(zip(grid, combo)), dict(base)
        for k, v in values.items():
            flat.update(v if isinstance(v, dict) else {k: v})
        cfg = config_mod.resolve({k: config_mod._coerce(k, v) for k, v in flat.items()}, {})
        if where and not _matches(cfg, where):
            continue
        if build:
            loop.build(cfg)
        name = "_".join(f"{k}-{slug(v)}" for k, v in values.items()) or "point"
        plain_name(name, "grid point")
        out.append(Point(name, values, cfg))
    if where and not out:
        shown = " ".join(f"{k}={v}" for k, v in where.items())
        raise UsageError(f"no grid point has {shown}")
    if len({p.name for p in out}) != len(out):
        raise UsageError("two grid points would share a run folder (repeated grid values?)")
    return out
