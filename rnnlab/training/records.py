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
- per complete point ``NAME/params.npz``: the run's final parameters, taken from its
  checkpoint, exactly as trained (float32; complex64 for a unitary W), one array per
  parameter with a leading seed axis (seeds ``seed .. seed + seeds - 1`` of its
  ``config.toml``); a plain ``.npz`` of numeric arrays, read by :func:`load_params` (NumPy's
  ``np.load(path, allow_pickle=False)`` reads it too). The size rule: a point's parameters
  (all its seeds together) are kept up to ``params_limit`` bytes (:data:`PARAMS_LIMIT`,
  1 MiB, by default); larger ones, and points with no usable final checkpoint, are listed
  with the reason under ``params.left_out`` of ``record.json``;
- ``sweeps/<k>.json``: each source sweep's ``sweep.json`` (config file, overrides, points),
  and ``record.json``: when and on which machine the record was made, and which points'
  parameters it keeps (``params``). Records made before parameters were kept have no
  ``params`` entry and no ``params.npz`` files; they stay valid, and their points are listed
  as left out when such a record is extended.

A record is itself a valid source: a table extended by a new column later, when the sweep
folders of its first columns are gone, is exported from the old record plus the new sweep
(the old record's sweep files and sources carry over; its metrics are thinned again only if
``max_lines`` is smaller than before; its ``params.npz`` files carry over); the record may be
extended in place, ``rnnlab records results/T NEW_SWEEP --to results/T``. Replacing a record
by one that lacks some of its points is refused unless asked for (``replace``): forgetting
the old record among the sources would otherwise delete its points.

Every name read from a source (a ``point`` of ``results.csv``) must be a plain name of a
folder inside that source (:mod:`rnnlab.file_names`), and every file a record reads is
checked, so a damaged or hostile source is refused in one line, never followed outside its
folder.

No checkpoints. The layout is that of a sweep folder, so everything that reads a sweep
(:func:`rnnlab.training.sweep.read_results`, :func:`~rnnlab.training.sweep.curves`, the
``paper_figures`` scripts' ``--from``) reads a record the same way.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import shutil
import time
import tomllib
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rnnlab.errors import UsageError
from rnnlab.file_names import inside
from rnnlab.files import atomic_folder, write_csv
from rnnlab.memory import check_memory
from rnnlab.training.sweep.point import read_summary
from rnnlab.training.sweep.results import RESULTS, SUMMARY, read_table

POINT_FILES = ("config.toml", "summary.json")
PARAMS = "params.npz"
#: The default size rule: a point's parameters, all seeds together, are kept up to this many bytes.
PARAMS_LIMIT = 1 << 20
#: :func:`load_params` refuses a file whose arrays declare more than this in all (a zip bomb).
PARAMS_READ_LIMIT = 1 << 30
_PARAM_KEY = re.compile(r"^state\.params\['([^']+)'\]$")


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
        data = json.loads(path.read_bytes().decode())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


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
        for row in read_table(s / RESULTS):
            inside(s, row["point"], f"{s / RESULTS}: point")
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


class Exported(NamedTuple):
    """What :func:`export` wrote: ``dest/results.csv``; the unfinished points left out; the
    points of the replaced record that the new one dropped (only with ``replace``); the points
    whose parameters were kept, and those left out with the reason."""

    results: Path
    unfinished: list[str]
    dropped: list[str]
    params_kept: list[str]
    params_left_out: dict[str, str]


def export(sweeps: list[Path], dest: Path, *, max_lines: int = 500, replace: bool = False,
           params_limit: int = PARAMS_LIMIT) -> Exported:
    """Write the compact record of the finished sweep folders ``sweeps`` into ``dest``.

    ``dest`` is a new folder, an empty one or a record, which the new record replaces as a
    whole (it may be one of the sources: a table extended in place); an interruption leaves
    the old record as it was. Only finished points go in (:func:`finished_points`): a point
    still running stays in its sweep folder until a later export. Each complete point keeps
    its final parameters up to ``params_limit`` bytes (module docstring). Raises
    :class:`UsageError` for a folder that is not a finished sweep (no ``results.csv``), a
    damaged or hostile file in a source (a ``point`` that is not a plain name, a link out of
    its folder, a results table, summary or metrics log that cannot be read), a point
    finished in two sources with different results, no finished point at all, a ``dest``
    that holds anything but a record, or a record ``dest`` some of whose points the new
    record would drop, unless ``replace``.
    """
    sweeps = [Path(s) for s in sweeps]
    if not sweeps:
        raise UsageError("give at least one sweep folder")
    if params_limit < 0:
        raise UsageError(f"the parameter size limit must be >= 0 bytes, got {params_limit}")
    rows, seen, unfinished = finished_points(sweeps)
    dest = Path(dest)
    if dest.exists() and not (dest / "record.json").is_file() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"--to {dest} exists and is not a record: give a new folder, an empty one or a record to replace")
    dropped = []
    if (dest / "record.json").is_file() and (dest / RESULTS).is_file():
        before = list(dict.fromkeys(row["point"] for row in read_table(dest / RESULTS)))
        dropped = [p for p in before if p not in seen]
        if dropped and not replace:
            shown = ", ".join(dropped[:5]) + (", ..." if len(dropped) > 5 else "")
            raise UsageError(f"{dest} is a record of {len(before)} point(s) and the new record would drop "
                             f"{len(dropped)} of them ({shown}): give {dest} as a source too to keep them, "
                             "or --replace to drop them")
    # Written into a staging folder and swapped in at the end, so an interruption leaves the
    # old record (or nothing) under the name, never half of one; ``dest`` may therefore be one
    # of the sources: a record extended in place.
    with atomic_folder(dest) as stage:
        kept, left_out = _write(sweeps, seen, rows, stage, max_lines, params_limit)
    return Exported(dest / RESULTS, unfinished, dropped, kept, left_out)


def _source_file(folder: Path, name: str) -> Path | None:
    """``folder/name`` if it is a file (None if absent), refused if it is a link leading out of ``folder``."""
    path = inside(folder, name, f"{folder}")
    return path if path.is_file() else None


def _sweep_file(path: Path) -> Path:
    """``path`` (a ``sweep.json``) checked to hold a JSON object before it is copied."""
    try:
        data = json.loads(path.read_bytes().decode())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a sweep description ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not a sweep description (a JSON {type(data).__name__}, not an object)")
    return path


def _copy_point(src: Path, out: Path, max_lines: int) -> None:
    """The files of one point: its config and summary (checked readable), its metrics thinned."""
    from rnnlab.training.run_folder import read_metrics

    out.mkdir()
    for name in POINT_FILES:
        path = _source_file(src, name)
        if path is None:
            continue
        if name == "summary.json":
            read_summary(src)
        else:
            try:
                tomllib.loads(path.read_bytes().decode())
            except (OSError, ValueError) as exc:
                raise UsageError(f"{path}: not a run config ({' '.join(str(exc).split()) or type(exc).__name__})") from None
        shutil.copyfile(path, out / name)
    metrics = _source_file(src, "metrics.jsonl")
    if metrics is not None:
        kept = thin(read_metrics(metrics), max_lines)
        (out / "metrics.jsonl").write_text("".join(line + "\n" for line in kept))


def _write(sweeps: list[Path], seen: dict[str, Path], rows: list[dict[str, str]], dest: Path,
           max_lines: int, params_limit: int) -> tuple[list[str], dict[str, str]]:
    """Write the record of ``sweeps`` (their merged ``rows``, point -> source ``seen``) into
    the new folder ``dest``; returns the points whose parameters were kept and those left out."""
    # A source may itself be a record (a table extended by new columns once the sweep folders
    # of its first columns are gone): its sweep files, its own sources and its parameters
    # carry over.
    sweep_files, sources, made_by = [], [], {}
    for s in sweeps:
        if (f := _source_file(s, "sweep.json")) is not None:
            sweep_files.append(_sweep_file(f))
        elif (f := _source_file(s, "record.json")) is not None and (made := _read_json(f)) is not None:
            made_by[s] = made
            folder = inside(s, "sweeps", str(s))
            files = sorted(folder.glob("*.json"), key=lambda f: (len(f.stem), f.stem)) if folder.is_dir() else []
            sweep_files += [_sweep_file(inside(folder, f.name, str(folder))) for f in files]
            sources.append({"record": str(s), "sources": made.get("sources", []), "written": made.get("written")})
            continue
        sources.append(str(s))
    dest.mkdir(parents=True)
    (dest / "sweeps").mkdir()
    for k, f in enumerate(sweep_files):
        shutil.copyfile(f, dest / "sweeps" / f"{k}.json")
    status: dict[str, set[str]] = {}
    for row in rows:
        status.setdefault(row["point"], set()).add(row.get("status", ""))
    kept, left_out = [], {}
    for point, s in seen.items():
        src, out = inside(s, point, f"{s / RESULTS}: point"), dest / point
        _copy_point(src, out, max_lines)
        if status[point] != {"complete"}:
            left_out[point] = "not complete (" + ", ".join(sorted(status[point])) + "): no final parameters"
            continue
        why = _keep_params(src, out / PARAMS, params_limit, made_by.get(s))
        if why is None:
            kept.append(point)
        else:
            left_out[point] = why
    write_csv(dest / RESULTS, rows)
    summaries = [row for s in sweeps if (f := _source_file(s, SUMMARY)) is not None for row in read_table(f)
                 if seen.get(row["point"]) == s]
    if summaries:
        write_csv(dest / SUMMARY, summaries)
    (dest / "record.json").write_text(json.dumps({
        "sources": sources,
        "points": sorted(seen),
        "max_metrics_lines": max_lines,
        "params": {
            "file": PARAMS,
            "rule": f"the final parameters of each complete point, from its checkpoint, exactly as trained, "
                    f"if they take at most {params_limit} bytes (all seeds together)",
            "limit_bytes": params_limit,
            "kept": sorted(kept),
            "left_out": dict(sorted(left_out.items())),
        },
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }, indent=1) + "\n")
    return sorted(kept), dict(sorted(left_out.items()))


def _keep_params(src: Path, dest: Path, limit: int, made: dict | None) -> str | None:
    """Write the final parameters of the point folder ``src`` (a sweep's run folder, or a
    record's point when ``made``, that record's ``record.json``, is given) to ``dest``; None
    if kept, else why not."""
    if made is not None:  # a record: its params.npz, checked, or the reason it had none
        if _source_file(src, PARAMS) is None:
            earlier = (made.get("params") or {}).get("left_out", {}) if isinstance(made.get("params"), dict) else {}
            why = earlier.get(src.name) if isinstance(earlier, dict) else None
            return why if isinstance(why, str) else "recorded before records kept parameters"
        params = load_params(src)
    else:
        params = _final_params(src, limit)
        if isinstance(params, str):
            return params
    size = sum(a.nbytes for a in params.values())
    if size > limit:
        return f"{size} bytes of parameters, over the limit of {limit}"
    np.savez(dest, **params)
    return None


def _final_params(run: Path, limit: int) -> dict[str, np.ndarray] | str:
    """The parameters in the checkpoint of the finished run folder ``run``, or why there are none:
    no checkpoint, a damaged one, one that is not at the run's last step, or parameters whose
    headers declare more than ``limit`` bytes (not read)."""
    from rnnlab.training.run_folder import ARCHIVE_ERRORS, CHECKPOINT, array_headers, read_checkpoint_meta

    path = _source_file(run, CHECKPOINT)
    if path is None:
        return f"no {CHECKPOINT} in the run folder"
    summary = read_summary(run)
    try:
        step = read_checkpoint_meta(path)["step"]
        if summary is None or step != summary["steps"]:
            last = "no summary.json" if summary is None else f"its last step is {summary['steps']}"
            return f"the checkpoint is at step {step} and {last}: not the final parameters"
        headers = {m.group(1): (k, shape, dtype) for k, (shape, dtype) in array_headers(path).items()
                   if (m := _PARAM_KEY.match(k))}
        size = sum(math.prod(shape) * dtype.itemsize for _, shape, dtype in headers.values())
        if size > limit:
            return f"{size} bytes of parameters, over the limit of {limit}"
        with np.load(path, allow_pickle=False) as archive:
            params = {name: archive[k] for name, (k, _, _) in headers.items()}
    except UsageError as exc:
        return str(exc)
    except ARCHIVE_ERRORS as exc:
        return f"checkpoint {path} is damaged ({' '.join(str(exc).split()) or type(exc).__name__})"
    if not params:
        return f"checkpoint {path} holds no parameters"
    if any(a.dtype.kind not in "fc" for a in params.values()):
        return f"checkpoint {path} holds parameters that are not floating-point arrays"
    return params


def load_params(run_dir: str | Path) -> dict[str, np.ndarray]:
    """The final parameters of one point of a record, ``run_dir/params.npz``: parameter name
    -> NumPy array, exactly as trained (float32; complex64 for a unitary W), each with a
    leading seed axis (seeds ``seed .. seed + seeds - 1`` of ``run_dir/config.toml``).

    Reads data only (``allow_pickle=False``); refuses (:class:`UsageError`, naming the file) a
    missing file (saying why the record left it out, when it says), a damaged one, one that
    declares more than :data:`PARAMS_READ_LIMIT` bytes, or arrays that are not floating point.
    """
    run_dir = Path(run_dir)
    path = run_dir / PARAMS
    if not path.is_file():
        made = _read_json(run_dir.parent / "record.json")
        info = made.get("params") if made else None
        why = info.get("left_out", {}).get(run_dir.name) if isinstance(info, dict) and isinstance(
            info.get("left_out"), dict) else None
        if made is not None and info is None:
            why = "the record was made before records kept parameters"
        raise UsageError(f"{run_dir} has no saved parameters ({PARAMS})" + (f": {why}" if why else ""))
    from rnnlab.training.run_folder import ARCHIVE_ERRORS, array_headers

    try:
        with zipfile.ZipFile(path) as archive:
            if any(not m.filename.endswith(".npy") for m in archive.infolist()):
                raise ValueError("it holds files that are not arrays")
        size = sum(math.prod(shape) * dtype.itemsize for shape, dtype in array_headers(path).values())
        if size > PARAMS_READ_LIMIT:
            raise ValueError(f"its arrays declare {size} bytes, more than {PARAMS_READ_LIMIT}")
        check_memory(size, f"reading {path}")
        with np.load(path, allow_pickle=False) as archive:
            params = {name: archive[name] for name in archive.files}
    except ARCHIVE_ERRORS as exc:
        raise UsageError(f"{path} is not a parameters file ({' '.join(str(exc).split()) or type(exc).__name__})") from None
    if not params:
        raise UsageError(f"{path} is not a parameters file (no arrays)")
    for name, a in params.items():
        if a.dtype.kind not in "fc":
            raise UsageError(f"{path} is not a parameters file ({name} has dtype {a.dtype}, not floating point)")
    return params
