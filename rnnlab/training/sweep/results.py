"""A sweep's results: ``results.csv`` (one row per point and seed), ``summary.csv`` (one row
per point, seeds aggregated), and reading them back.

Both files cover every point of the sweep folder, not only those of the last call: a call
with ``--where`` (one column of a table) rewrites the rows of its own points and keeps the
others (:func:`folder_points`, :func:`earlier_rows`), so a column run after another never
drops the first one's results."""

from __future__ import annotations

import csv
import json
import math
import statistics
from dataclasses import replace
from pathlib import Path
from typing import Any

from rnnlab.errors import UsageError
from rnnlab.file_names import inside, plain_name
from rnnlab.files import write_csv
from rnnlab.memory import check_memory
from rnnlab.training import config as config_mod
from rnnlab.training.sweep.grid import Point, slug
from rnnlab.training.sweep.point import check_paths, finished, read_summary, recorded

RESULTS = "results.csv"
SUMMARY = "summary.csv"
#: Memory a row of ``results.csv`` takes while it is gathered (a dict of some 40 cells), generously.
ROW_BYTES = 4096


def read_table(path: Path) -> list[dict[str, str]]:
    """The rows of a ``results.csv`` or ``summary.csv`` as text (empty cells ``""``).
    :class:`UsageError` naming the file if it is not such a table: unreadable, not UTF-8
    text, not CSV, no ``point`` column, a column without a name or named twice, a row longer
    than the header, or a ``point`` that is
    not a plain name (:func:`rnnlab.file_names.plain_name`: it names a folder beside the file)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            columns = reader.fieldnames or []
    except FileNotFoundError:
        raise UsageError(f"{path} not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).split(":")[0] or type(exc).__name__
        raise UsageError(f"{path} is not a results table ({why})") from None
    if rows and "point" not in columns:
        raise UsageError(f"{path} is not a results table (no 'point' column)")
    # A column without a name, or named twice, would take another column's cells when the
    # table is merged into a record and written back.
    if any(not c for c in columns) or len(set(columns)) != len(columns):
        raise UsageError(f"{path} is not a results table (a column without a name, or named twice)")
    for i, row in enumerate(rows, start=2):
        if None in row:
            raise UsageError(f"{path}, line {i}: more cells than the header has columns")
        plain_name(row["point"], f"{path}, line {i}: point")
    return [{k: ("" if v is None else v) for k, v in row.items()} for row in rows]


def _last_step(folder: Path) -> int:
    """The last step a run logged (0 if none): where a stopped or interrupted point got to.
    Lines that are not metrics (a torn last line) are passed over."""
    try:
        lines = (folder / "metrics.jsonl").read_bytes().decode(errors="replace").splitlines()
    except OSError:
        return 0
    last = 0
    for line in lines:
        try:
            step = json.loads(line)["step"]
        except (ValueError, KeyError, TypeError, IndexError):
            continue
        if isinstance(step, int) and not isinstance(step, bool):
            last = max(last, step)
    return last


def _has_trace(out: Path, point: Point) -> bool:
    return (out / point.name).is_dir() or (out / f"{point.name}.status.json").exists()


def _as_run(out: Path, point: Point) -> Point:
    """``point`` with the config its run folder holds (``config.toml``), if any: a point run
    by an earlier call may have run with other ``--steps`` than this call's."""
    saved = out / point.name / "config.toml"
    if not saved.is_file():
        return point
    try:
        cfg = config_mod.TrainConfig(**config_mod.from_saved(saved))
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{saved}: cannot read this run's config ({' '.join(str(exc).split())})") from None
    return replace(point, config=cfg)


def folder_points(out: Path, pts: list[Point], grid: list[Point]) -> list[Point]:
    """The grid points ``results.csv`` covers, in grid order: ``pts`` (this call's) and every
    other point of ``grid`` (the whole grid, unfiltered) that has a run folder or a status
    file in ``out``; each with the config it ran with, where its run folder has one."""
    mine = {p.name: p for p in pts}
    listed = []
    for p in grid:
        if p.name in mine:
            listed.append(mine.pop(p.name))
        elif _has_trace(out, p):
            check_paths(out, p)
            listed.append(p)
    return [_as_run(out, p) for p in listed + list(mine.values())]


def earlier_rows(out: Path, name: str, points: list[Point]) -> list[dict[str, str]]:
    """The rows of ``out/name`` (``results.csv`` or ``summary.csv``) written by an earlier call
    for points that are not grid points now (another version of the sweep file) and whose run
    folder or status file is still there: kept as they are, so nothing finished is dropped."""
    if not (out / name).is_file():
        return []
    known = {p.name for p in points}
    kept = []
    for row in read_table(out / name):
        point = row["point"]
        if point not in known and ((inside(out, point, f"{out / name}: point").is_dir())
                                   or (out / f"{point}.status.json").exists()):
            kept.append(row)
    return kept


def check_folder(out: Path, pts: list[Point], grid: list[Point]) -> None:
    """Read what :func:`gather` and :func:`summarize` will read of ``out``: the config, summary
    and status file of every point the results cover, and the rows of earlier calls. A sweep
    calls it before it writes or starts anything, so a damaged file is refused then
    (:class:`UsageError`), not after its points have trained."""
    covered = folder_points(out, pts, grid)
    rows = sum(p.config.seeds for p in covered)
    check_memory(rows * ROW_BYTES, f"{out / RESULTS} of {rows} rows (one per point and seed)")
    for p in covered:
        read_summary(out / p.name)
        recorded(out, p)
    for name in (RESULTS, SUMMARY):
        earlier_rows(out, name, covered)


def grid_columns(point: Point) -> dict[str, Any]:
    return {k: (slug(v) if isinstance(v, dict) else v) for k, v in point.values.items()}


def gather(out: Path, pts: list[Point], kept: list[dict[str, str]] = ()) -> Path:
    """``out/results.csv``: one row per point and seed (grid values, ``status`` and ``detail``,
    config, final metrics), then the ``kept`` rows (:func:`earlier_rows`). ``status`` is
    complete, diverged, failed (after a retry), or incomplete (last step S) for a point not
    finished yet."""
    rows: list[dict[str, Any]] = []
    for p in pts:
        grid_cols = {f"grid_{k}": slug(v) for k, v in p.values.items() if isinstance(v, dict)}
        folder = out / p.name
        summary = read_summary(folder) or {}
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
    return write_csv(out / RESULTS, rows + list(kept))


def summarize(out: Path, pts: list[Point], kept: list[dict[str, str]] = ()) -> list[dict[str, Any]]:
    """``out/summary.csv`` from ``results.csv``: one row per point with its grid values,
    ``status``, ``seeds``, ``diverged`` (seeds of a diverged point: the run stops all of
    them) and the median, min and max over seeds of every final metric; then the ``kept``
    rows (:func:`earlier_rows`). Returns the rows of ``pts``."""
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
    write_csv(out / SUMMARY, rows + list(kept))
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
    """``out/results.csv`` as dicts, numbers parsed (empty cells -> None); :class:`UsageError`
    for a file that is not a results table (:func:`read_table`)."""

    def parse(text: str) -> Any:
        if text == "":
            return None
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return {"True": True, "False": False}.get(text, text)

    return [{k: (v if k == "point" else parse(v)) for k, v in row.items()} for row in read_table(Path(out) / RESULTS)]


def curves(out: str | Path, point: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows ``step, seed, <keys>`` of one point's ``metrics.jsonl`` (lines lacking a key skipped);
    ``point`` must be a plain name of a folder in ``out``."""
    rows = []
    for line in (inside(Path(out), point, f"{out}: point") / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        if all(k in row for k in keys):
            rows.append({"step": row["step"], "seed": row["seed"], **{k: row[k] for k in keys}})
    return rows
