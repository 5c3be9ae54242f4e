"""A sweep's results: ``results.csv`` (one row per point and seed), ``summary.csv`` (one row
per point, seeds aggregated), and reading them back."""

from __future__ import annotations

import csv
import json
import math
import statistics
from pathlib import Path
from typing import Any

from rnnlab.files import write_csv
from rnnlab.training.sweep.grid import Point, slug
from rnnlab.training.sweep.point import finished, recorded

RESULTS = "results.csv"
SUMMARY = "summary.csv"


def _last_step(folder: Path) -> int:
    """The last step a run logged (0 if none): where a stopped or interrupted point got to."""
    try:
        lines = (folder / "metrics.jsonl").read_text().splitlines()
        return max((json.loads(line)["step"] for line in lines if line.strip()), default=0)
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0


def grid_columns(point: Point) -> dict[str, Any]:
    return {k: (slug(v) if isinstance(v, dict) else v) for k, v in point.values.items()}


def gather(out: Path, pts: list[Point]) -> Path:
    """``out/results.csv``: one row per point and seed (grid values, ``status`` and ``detail``,
    config, final metrics). ``status`` is complete, diverged, failed (after a retry), or
    incomplete (last step S) for a point not finished yet."""
    rows = []
    for p in pts:
        grid_cols = {f"grid_{k}": slug(v) for k, v in p.values.items() if isinstance(v, dict)}
        folder = out / p.name
        try:
            summary = json.loads((folder / "summary.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            summary = {}
        seen = recorded(out, p)
        if finished(folder, p.config.steps):
            status, detail = "complete", ""
        elif seen:
            status, detail = seen["status"], seen["detail"]
        else:
            status, detail = f"incomplete (last step {_last_step(folder)})", ""
        finals = summary.get("final") or [{"seed": p.config.seed + s} for s in range(p.config.seeds)]
        for line in finals:
            row = {"point": p.name, "status": status, "detail": detail, **grid_cols, **p.config.identity()}
            row.update({k: summary.get(k) for k in ("num_params", "baseline", "val_baseline", "test_baseline", "wall_time") if k in summary})
            row.update({f"final_{k}": v for k, v in line.items() if k != "wall_time"})
            rows.append(row)
    return write_csv(out / RESULTS, rows)


def summarize(out: Path, pts: list[Point]) -> list[dict[str, Any]]:
    """``out/summary.csv`` from ``results.csv``: one row per point with its grid values,
    ``status``, ``seeds``, ``diverged`` (seeds of a diverged point: the run stops all of
    them) and the median, min and max over seeds of every final metric."""
    by_point: dict[str, list[dict[str, Any]]] = {}
    for row in read_results(out):
        by_point.setdefault(row["point"], []).append(row)
    rows = []
    for p in pts:
        seeds = by_point.get(p.name, [])
        row = {"point": p.name, **grid_columns(p), "status": seeds[0]["status"] if seeds else "",
               "seeds": len(seeds), "diverged": sum(r["status"] == "diverged" for r in seeds)}
        metrics = [k for k in (seeds[0] if seeds else {}) if k.startswith("final_") and k not in ("final_seed", "final_step")]
        for key in metrics:
            values = [float(r[key]) for r in seeds if isinstance(r[key], (int, float)) and math.isfinite(r[key])]
            name = key.removeprefix("final_")
            row.update({f"{name}_median": statistics.median(values) if values else None,
                        f"{name}_min": min(values, default=None), f"{name}_max": max(values, default=None)})
        rows.append(row)
    write_csv(out / SUMMARY, rows)
    return rows


def summary_table(rows: list[dict[str, Any]]) -> list[str]:
    """Lines of the printed summary: the medians [min, max] of the evaluation metrics."""
    shown = [k.removesuffix("_median") for k in rows[0] if k.endswith("_median")] if rows else []
    shown = [k for k in shown if k.startswith(("test_", "val_"))] or shown

    def cell(row, k):
        med, lo, hi = row.get(f"{k}_median"), row.get(f"{k}_min"), row.get(f"{k}_max")
        return "-" if med is None else f"{med:.4g} [{lo:.4g}, {hi:.4g}]"

    table = [["point", "status", "seeds", "diverged"] + [f"{k} median [min, max]" for k in shown]]
    table += [[r["point"], r["status"], str(r["seeds"]), str(r["diverged"])] + [cell(r, k) for k in shown] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in table]


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
