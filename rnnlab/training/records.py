"""Compact records of finished sweeps: what ``results/<table>/`` in the repository holds.

A sweep folder holds checkpoints and every logged line of every run; a record keeps what a
table or figure needs and what a reader needs to trust it, small enough to commit:

- ``results.csv``: the rows of every finished point (complete, diverged or failed) of the
  source sweeps' ``results.csv`` (one per point and seed, with its status), merged with the
  union of their columns; a point still running is left out until a later export, so a
  column can be recorded as its points finish, from the record plus its sweep folder again;
  ``summary.csv`` likewise from the sources' ``summary.csv`` (one row per point: median, min
  and max over its seeds);
- per point ``NAME/config.toml`` (the resolved config), ``NAME/summary.json`` and
  ``NAME/metrics.jsonl`` thinned to at most ``max_lines`` lines (every evaluation line, the
  first and the last line, and evenly spaced training lines in between);
- ``sweeps/<k>.json``: each source sweep's ``sweep.json`` (config file, overrides, points),
  and ``record.json``: when and on which machine the record was made.

A record is itself a valid source: a table extended by a new column later, when the sweep
folders of its first columns are gone, is exported from the old record plus the new sweep
(the old record's sweep files and sources carry over; its metrics are thinned again only if
``max_lines`` is smaller than before); the record may be extended in place,
``rnnlab records results/T NEW_SWEEP --to results/T``.

No checkpoints. The layout is that of a sweep folder, so everything that reads a sweep
(:func:`rnnlab.training.sweep.read_results`, :func:`~rnnlab.training.sweep.curves`, the
``paper_figures`` scripts' ``--from``) reads a record the same way.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import shutil
import time
from pathlib import Path

from rnnlab.errors import UsageError
from rnnlab.files import atomic_folder, write_csv
from rnnlab.training.sweep.results import RESULTS, SUMMARY

POINT_FILES = ("config.toml", "summary.json")


def is_eval_line(row: dict) -> bool:
    """A metrics line written by an evaluation (validation or test metrics)."""
    return any(k.startswith(("test_", "val_")) for k in row)


def _pick(n: int, must: set[int], limit: int) -> list[int]:
    """At most ``limit`` (>= 2) of ``range(n)``: the two ends, ``must`` (evenly thinned if it
    alone is over the limit) and evenly spaced others filling the rest."""
    keep = {0, n - 1} | must
    if len(keep) > limit:
        inner, room = sorted(keep - {0, n - 1}), limit - 2
        keep = {0, n - 1} | {inner[k * len(inner) // room] for k in range(room)}
    room = limit - len(keep)
    rest = [i for i in range(n) if i not in keep]
    if room > 0 and rest:
        stride = len(rest) / room
        keep |= {rest[int(k * stride)] for k in range(min(room, len(rest)))}
    return sorted(keep)


def thin(lines: list[str], max_lines: int) -> list[str]:
    """At most ``max_lines`` of ``lines`` (JSON rows in order): every evaluation line, the
    first and the last, and evenly spaced training lines filling the rest.

    Consecutive lines of one step (a run's vmapped seeds) are kept or dropped together, so
    every seed keeps the same steps; only when even two such groups do not fit are single
    lines picked."""
    if max_lines < 2:
        raise UsageError(f"max_lines must be >= 2, got {max_lines}")
    if len(lines) <= max_lines:
        return list(lines)
    rows = [json.loads(line) for line in lines]
    groups: list[list[int]] = []
    for i, row in enumerate(rows):
        if groups and "step" in row and rows[groups[-1][0]].get("step") == row["step"]:
            groups[-1].append(i)
        else:
            groups.append([i])
    limit = max_lines // max(len(g) for g in groups)
    if limit >= 2:
        evals = {k for k, g in enumerate(groups) if any(is_eval_line(rows[i]) for i in g)}
        chosen = [i for k in _pick(len(groups), evals, limit) for i in groups[k]]
        if len(chosen) <= max_lines:
            return [lines[i] for i in chosen]
    evals = {i for i, row in enumerate(rows) if is_eval_line(row)}
    return [lines[i] for i in _pick(len(lines), evals, max_lines)]


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _unfinished(row: dict[str, str]) -> bool:
    return row.get("status", "").startswith("incomplete")


def _same(a: list[dict[str, str]], b: list[dict[str, str]]) -> bool:
    """The rows of one point from two sources say the same (a column one of them lacks reads as empty)."""
    return len(a) == len(b) and all(x.get(k, "") == y.get(k, "") for x, y in zip(a, b) for k in x.keys() | y.keys())


def finished_points(sweeps: list[Path]) -> tuple[list[dict[str, str]], dict[str, Path], list[str]]:
    """``(rows, source, unfinished)`` of the sweep folders or records ``sweeps``: the
    ``results.csv`` rows of every finished point (complete, diverged or failed: no row
    ``incomplete``) in the order the sources give them, the source each point is taken from,
    and the points no source has finished. A point finished in several sources is taken from
    the first when their rows agree (a sweep recorded again after more of its points
    finished), else :class:`UsageError`."""
    for s in sweeps:
        if not (s / RESULTS).is_file():
            raise UsageError(f"{s} is not a finished sweep folder (no {RESULTS}): run or resume the sweep first")
    by_point: dict[str, list[dict[str, str]]] = {}
    source: dict[str, Path] = {}
    pending: list[str] = []
    for s in sweeps:
        here: dict[str, list[dict[str, str]]] = {}
        for row in _read_rows(s / RESULTS):
            here.setdefault(row["point"], []).append(row)
        for point, point_rows in here.items():
            if any(_unfinished(r) for r in point_rows):
                pending.append(point)
            elif point not in source:
                by_point[point], source[point] = point_rows, s
            elif not _same(by_point[point], point_rows):
                raise UsageError(f"point {point} is finished in both {source[point]} and {s} with different "
                                 "results: give only the one to keep")
    if not source:
        raise UsageError("no finished point in " + ", ".join(map(str, sweeps)) + ": let a run finish first")
    unfinished = list(dict.fromkeys(p for p in pending if p not in source))
    return [r for point_rows in by_point.values() for r in point_rows], source, unfinished


def export(sweeps: list[Path], dest: Path, *, max_lines: int = 500) -> tuple[Path, list[str]]:
    """Write the compact record of the finished sweep folders ``sweeps`` into ``dest``.

    ``dest`` is a new folder, an empty one or a record, which the new record replaces as a
    whole (it may be one of the sources: a table extended in place); an interruption leaves
    the old record as it was. Only finished points go in (:func:`finished_points`): a point
    still running stays in its sweep folder until a later export. Raises :class:`UsageError`
    for a folder that is not a finished sweep (no ``results.csv``), a point finished in two
    sources with different results, no finished point at all, or a ``dest`` that holds
    anything but a record. Returns ``dest/results.csv`` and the unfinished points left out.
    """
    sweeps = [Path(s) for s in sweeps]
    if not sweeps:
        raise UsageError("give at least one sweep folder")
    rows, seen, unfinished = finished_points(sweeps)
    dest = Path(dest)
    if dest.exists() and not (dest / "record.json").is_file() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"--to {dest} exists and is not a record: give a new folder, an empty one or a record to replace")
    # Written into a staging folder and swapped in at the end, so an interruption leaves the
    # old record (or nothing) under the name, never half of one; ``dest`` may therefore be one
    # of the sources: a record extended in place.
    with atomic_folder(dest) as stage:
        _write(sweeps, seen, rows, stage, max_lines)
    return dest / RESULTS, unfinished


def _write(sweeps: list[Path], seen: dict[str, Path], rows: list[dict[str, str]], dest: Path,
           max_lines: int) -> None:
    """Write the record of ``sweeps`` (their merged ``rows``, point -> source ``seen``) into
    the new folder ``dest``."""
    # A source may itself be a record (a table extended by new columns once the sweep folders
    # of its first columns are gone): its sweep files and its own sources carry over.
    sweep_files, sources = [], []
    for s in sweeps:
        if (s / "sweep.json").is_file():
            sweep_files.append(s / "sweep.json")
        elif (made := _read_json(s / "record.json")) is not None:
            sweep_files += sorted((s / "sweeps").glob("*.json"), key=lambda f: (len(f.stem), f.stem))
            sources.append({"record": str(s), "sources": made.get("sources", []), "written": made.get("written")})
            continue
        sources.append(str(s))
    dest.mkdir(parents=True)
    (dest / "sweeps").mkdir()
    for k, f in enumerate(sweep_files):
        shutil.copyfile(f, dest / "sweeps" / f"{k}.json")
    for point, s in seen.items():
        src, out = s / point, dest / point
        out.mkdir()
        for name in POINT_FILES:
            if (src / name).is_file():
                shutil.copyfile(src / name, out / name)
        metrics = src / "metrics.jsonl"
        if metrics.is_file():
            kept = thin(metrics.read_text().splitlines(), max_lines)
            (out / "metrics.jsonl").write_text("\n".join(kept) + "\n")
    write_csv(dest / RESULTS, rows)
    summaries = [row for s in sweeps if (s / SUMMARY).is_file() for row in _read_rows(s / SUMMARY)
                 if seen.get(row.get("point")) == s]
    if summaries:
        write_csv(dest / SUMMARY, summaries)
    (dest / "record.json").write_text(json.dumps({
        "sources": sources,
        "points": sorted(seen),
        "max_metrics_lines": max_lines,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }, indent=1) + "\n")

