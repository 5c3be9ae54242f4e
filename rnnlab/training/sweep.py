"""Grid sweeps: ``rnnlab sweep CONFIG.toml`` runs one training run per grid point.

The sweep file::

    # scalar keys at the top level: every point's base config (TrainConfig keys)
    task = "addition"
    steps = 20000

    [grid]                      # the product of these lists, one run per combination
    model = ["irnn", "np-rnn"]
    T = [150, 200]
    # a list of tables sets several keys together (not a product over them):
    # size = [{model = "lstm", n = 68}, {model = "full-urnn", n = 128}]

    [quick]                     # applied with --quick: scalars or lists, base or grid keys
    steps = 20
    T = [10]

Each point is its own run folder ``OUT/<key>-<value>_...`` (``seeds`` are vmapped inside
it, as in ``rnnlab train``), run as a separate ``rnnlab train`` process, ``--jobs`` at a
time (``--where KEY=VALUE`` runs only the matching points, e.g. one column of a table).
A point whose ``summary.json`` shows all its steps is skipped; a point interrupted
part-way is resumed from its checkpoint. ``OUT/results.csv`` holds one row per point and
seed: the grid keys, ``status`` (complete, or incomplete with the last logged step: a run
stopped by a non-finite loss or interrupted), every config key, the parameter count, wall
time and final metrics.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab.errors import UsageError
from rnnlab.training import config as config_mod

RESULTS = "results.csv"
SECTIONS = ("grid", "quick")


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


def _slug(value: Any) -> str:
    if isinstance(value, dict):
        return "_".join(f"{k}-{_slug(v)}" for k, v in value.items())
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return "".join(c if c.isalnum() or c in ".+-" else "-" for c in text)


def parse_where(items: list[str] | None) -> dict[str, str]:
    """``["T=150", "model=irnn"]`` -> ``{"T": "150", "model": "irnn"}`` (keys checked)."""
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not value:
            raise UsageError(f"--where needs KEY=VALUE, got {item!r}")
        out[_key(key.strip())] = value.strip()
    return out


def _matches(cfg: config_mod.TrainConfig, where: dict[str, str]) -> bool:
    for key, wanted in where.items():
        value = getattr(cfg, key)
        if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
            try:
                if float(wanted) != float(value):
                    return False
            except ValueError:
                return False
        elif str(value).lower() != wanted.lower():
            return False
    return True


def points(sweep: Sweep, *, quick: bool = False, overrides: dict[str, Any] | None = None,
           where: dict[str, str] | None = None) -> list[Point]:
    """Every grid point's resolved, validated config (building each run checks the names);
    with ``where``, only the points whose config has those values (see :func:`parse_where`)."""
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
        loop.build(cfg)
        name = "_".join(f"{k}-{_slug(v)}" for k, v in values.items()) or "point"
        out.append(Point(name, values, cfg))
    if where and not out:
        shown = " ".join(f"{k}={v}" for k, v in where.items())
        raise UsageError(f"no grid point has {shown}")
    if len({p.name for p in out}) != len(out):
        raise UsageError("two grid points would share a run folder (repeated grid values?)")
    return out


def _done(folder: Path, steps: int) -> bool:
    try:
        return json.loads((folder / "summary.json").read_text())["steps"] >= steps
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return False


def run_point(point: Point, out: Path) -> tuple[str, int]:
    """Run (or resume, or skip) one point in ``out/point.name``; ``(status, exit code)``."""
    folder = out / point.name
    if _done(folder, point.config.steps):
        return "skipped (complete)", 0
    cfg_file = out / f"{point.name}.toml"
    cfg_file.write_text(config_mod.to_toml(point.config.identity()))
    cmd = [sys.executable, "-m", "rnnlab", "train", "--config", str(cfg_file), "--out", str(folder), "--no-progress"]
    if (folder / "checkpoint.npz").exists():
        cmd.append("--resume")
    log = out / f"{point.name}.log"
    with open(log, "w") as fh:
        rc = subprocess.call(cmd, stdout=fh, stderr=subprocess.STDOUT, env=os.environ.copy())
    return ("ok" if rc == 0 else f"failed (exit {rc}, see {log})"), rc


def _last_step(folder: Path) -> int:
    """The last step a run logged (0 if none): where a stopped or interrupted point got to."""
    try:
        lines = (folder / "metrics.jsonl").read_text().splitlines()
        return max((json.loads(line)["step"] for line in lines if line.strip()), default=0)
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0


def gather(out: Path, pts: list[Point]) -> Path:
    """``out/results.csv``: one row per point and seed (grid values, config, final metrics)."""
    rows = []
    for p in pts:
        grid_cols = {}
        for k, v in p.values.items():
            grid_cols.update({f"grid_{k}": _slug(v)} if isinstance(v, dict) else {})
        try:
            summary = json.loads((out / p.name / "summary.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            summary = {"final": [{}]}
        status = "complete" if _done(out / p.name, p.config.steps) else f"incomplete (last step {_last_step(out / p.name)})"
        for line in summary.get("final") or [{}]:
            row = {"point": p.name, "status": status, **grid_cols, **p.config.identity()}
            row.update({k: summary.get(k) for k in ("num_params", "baseline", "wall_time") if k in summary})
            row.update({f"final_{k}": v for k, v in line.items() if k != "wall_time"})
            rows.append(row)
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    path = out / RESULTS
    tmp = out / (RESULTS + ".tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
    return path


def run(path: str | Path, out: str | Path | None = None, *, jobs: int = 1, quick: bool = False,
        overrides: dict[str, Any] | None = None, where: dict[str, str] | None = None,
        progress: bool = True, log=print) -> int:
    """Run the sweep in ``path`` (only the points matching ``where``, if given); 0 if every
    point finished, 1 if any failed. ``results.csv`` covers the points run this time."""
    if jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {jobs}")
    pts = points(load(path), quick=quick, overrides=overrides, where=where)
    out = Path(out or f"runs/sweep-{Path(path).stem}{'-quick' if quick else ''}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(json.dumps(
        {"file": str(path), "quick": quick, "overrides": overrides or {}, "where": where or {}, "points": [p.name for p in pts]}, indent=1))
    log(f"sweep {path}: {len(pts)} point(s), {jobs} at a time, folder {out}")

    from tqdm import tqdm

    failed = []
    with tqdm(total=len(pts), disable=not progress, file=sys.stderr, dynamic_ncols=True, unit="point") as bar, \
            ThreadPoolExecutor(max_workers=jobs) as pool:
        for p, (status, rc) in zip(pts, pool.map(lambda p: run_point(p, out), pts)):
            bar.update(1)
            log(f"{p.name}: {status}")
            if rc:
                failed.append(p.name)
    results = gather(out, pts)
    log(f"results: {results}")
    if failed:
        print(f"rnnlab sweep: {len(failed)} point(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def read_results(out: str | Path) -> list[dict[str, Any]]:
    """``out/results.csv`` as dicts, numbers parsed (empty cells -> None)."""

    def parse(text: str) -> Any:
        if text == "":
            return None
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return {"True": True, "False": False}.get(text, text)

    with open(Path(out) / RESULTS, newline="") as fh:
        return [{k: parse(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def curves(out: str | Path, point: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows ``step, seed, <keys>`` of one point's ``metrics.jsonl`` (lines lacking a key skipped)."""
    rows = []
    for line in (Path(out) / point / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        if all(k in row for k in keys):
            rows.append({"step": row["step"], "seed": row["seed"], **{k: row[k] for k in keys}})
    return rows
