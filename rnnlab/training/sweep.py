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
it, as in ``rnnlab train``), run as a separate ``rnnlab train`` process by :func:`attempt`,
on one of two backends: ``local`` (threads of this process, ``--jobs`` at a time) or
``ray`` (one Ray task per point, :mod:`rnnlab.training.sweep_ray`). ``--where KEY=VALUE``
runs only the matching points, e.g. one column of a table.

A point whose ``summary.json`` shows all its steps is skipped; a point interrupted
part-way is resumed from its checkpoint. A point stopped by a non-finite loss is recorded
as ``diverged`` and one that crashed twice (a retry) as ``failed``, both in
``OUT/<point>.status.json``, and skipped by later runs unless ``retry_failed``.
``OUT/results.csv`` holds one row per point and seed: the grid keys, ``status``
(complete, diverged, failed, or incomplete with the last logged step) and ``detail``,
every config key, the parameter count, wall time and final metrics. ``OUT/summary.csv``
aggregates the seeds of each point (median, min, max of every final metric).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab.errors import UsageError
from rnnlab.files import write_csv
from rnnlab.training import config as config_mod

RESULTS = "results.csv"
SUMMARY = "summary.csv"
BACKENDS = ("local", "ray")
ATTEMPTS = 2  # a point that crashes (or whose worker dies) is tried once more, then recorded as failed
DIVERGED = "non-finite loss or gradient"  # how rnnlab train says it stopped a diverging run
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


# ---------------------------------------------------------------- one point, on any machine


@dataclass(frozen=True)
class Outcome:
    """How one attempt at a point ended: ``complete``, ``diverged`` (stopped by a non-finite
    loss or gradient: a result, not retried) or ``crashed`` (retried once), and why."""

    status: str
    detail: str = ""


def _worker_env() -> dict[str, str]:
    """The environment of every ``rnnlab train`` process a sweep starts."""
    return os.environ.copy()


_children: set[subprocess.Popen] = set()
_children_lock = threading.Lock()


def _interrupt(proc: subprocess.Popen, wait: float = 60.0) -> None:
    """Stop a train process, which keeps its last checkpoint. SIGTERM, not SIGINT: a child
    inherits an ignored SIGINT (Ray's workers ignore it, so do background jobs of a shell)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait(proc: subprocess.Popen) -> int:
    """``proc.wait()`` in short slices: Ray cancels a task by raising in its thread, which a
    thread blocked in one long ``waitpid`` would never see."""
    while True:
        try:
            return proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass


def attempt(point: Point, out: Path) -> Outcome:
    """One try at ``point``: run (or resume from its checkpoint) ``rnnlab train`` in
    ``out/point.name`` as a child process, its output appended to ``out/point.name.log``.

    Both backends call this, the local one in a thread, the Ray one inside a task on
    whichever node runs it. An interrupt of the caller (Ctrl-C, or Ray cancelling the task)
    is passed on to the train process, which stops with its last checkpoint, and re-raised.
    """
    folder = out / point.name
    cfg_file = out / f"{point.name}.toml"
    cfg_file.write_text(config_mod.to_toml(point.config.identity()))
    cmd = [sys.executable, "-m", "rnnlab", "train", "--config", str(cfg_file), "--out", str(folder), "--no-progress"]
    if (folder / "checkpoint.npz").exists():
        cmd.append("--resume")
    log = out / f"{point.name}.log"
    with open(log, "ab") as fh:
        fh.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} on {socket.gethostname()}: {' '.join(cmd[2:])}\n".encode())
        fh.flush()
        start = fh.tell()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=_worker_env())
        with _children_lock:
            _children.add(proc)
        try:
            rc = _wait(proc)
        except BaseException:
            _interrupt(proc)
            raise
        finally:
            with _children_lock:
                _children.discard(proc)
    if rc == 0 and _done(folder, point.config.steps):
        return Outcome("complete")
    lines = [line.strip() for line in log.read_bytes()[start:].decode(errors="replace").splitlines() if line.strip()]
    for line in lines:
        if DIVERGED in line:
            return Outcome("diverged", line.removeprefix("rnnlab train: ").split("; stopped")[0])
    return Outcome("crashed", f"exit {rc}: {lines[-1] if lines else 'no output'}")


def interrupt_children() -> None:
    """Pass an interrupt on to every train process this process started."""
    with _children_lock:
        running = list(_children)
    for proc in running:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)


def _status_file(out: Path, point: Point) -> Path:
    return out / f"{point.name}.status.json"


def recorded(out: Path, point: Point) -> dict[str, Any] | None:
    """What the last sweep recorded for a point that did not complete (``status`` diverged or
    failed, ``detail``, ``attempts``), or None."""
    try:
        return json.loads(_status_file(out, point).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _record(out: Path, point: Point, outcome: Outcome, attempts: int) -> None:
    path = _status_file(out, point)
    if outcome.status == "complete":
        path.unlink(missing_ok=True)
        return
    status = "failed" if outcome.status == "crashed" else outcome.status
    path.write_text(json.dumps({"status": status, "detail": outcome.detail, "attempts": attempts}, indent=1) + "\n")


def _skip_reason(out: Path, point: Point, retry_failed: bool) -> str | None:
    if _done(out / point.name, point.config.steps):
        return "complete"
    seen = recorded(out, point)
    if seen and not retry_failed:
        return f"{seen['status']}: {seen['detail']}; --retry-failed reruns it"
    return None


# ---------------------------------------------------------------- backends


class LocalBackend:
    """Points as child processes of this machine, ``jobs`` at a time (the default backend)."""

    def __init__(self, jobs: int):
        self.pool = ThreadPoolExecutor(max_workers=jobs)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, point: Point, out: Path) -> futures.Future:
        return self.pool.submit(attempt, point, out)

    def wait(self, handles: list) -> tuple[Any, Outcome | None, BaseException | None]:
        done, _ = futures.wait(handles, return_when=futures.FIRST_COMPLETED)
        handle = next(h for h in handles if h in done)
        error = handle.exception()
        return handle, (None if error else handle.result()), error

    def stop(self, handles: list) -> None:
        for handle in handles:
            handle.cancel()
        interrupt_children()


def _backend(name: str, *, jobs: int, address: str | None, cpus_per_run: int, sweep_id: str):
    if name == "ray":
        from rnnlab.training import sweep_ray

        return sweep_ray.RayBackend(address=address, cpus_per_run=cpus_per_run, sweep_id=sweep_id)
    return LocalBackend(jobs)


# ---------------------------------------------------------------- results


def _last_step(folder: Path) -> int:
    """The last step a run logged (0 if none): where a stopped or interrupted point got to."""
    try:
        lines = (folder / "metrics.jsonl").read_text().splitlines()
        return max((json.loads(line)["step"] for line in lines if line.strip()), default=0)
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0


def _grid_columns(point: Point) -> dict[str, Any]:
    return {k: (_slug(v) if isinstance(v, dict) else v) for k, v in point.values.items()}


def gather(out: Path, pts: list[Point]) -> Path:
    """``out/results.csv``: one row per point and seed (grid values, ``status`` and ``detail``,
    config, final metrics). ``status`` is complete, diverged, failed (after a retry), or
    incomplete (last step S) for a point not finished yet."""
    rows = []
    for p in pts:
        grid_cols = {f"grid_{k}": _slug(v) for k, v in p.values.items() if isinstance(v, dict)}
        folder = out / p.name
        try:
            summary = json.loads((folder / "summary.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            summary = {}
        seen = recorded(out, p)
        if _done(folder, p.config.steps):
            status, detail = "complete", ""
        elif seen:
            status, detail = seen["status"], seen["detail"]
        else:
            status, detail = f"incomplete (last step {_last_step(folder)})", ""
        finals = summary.get("final") or [{"seed": p.config.seed + s} for s in range(p.config.seeds)]
        for line in finals:
            row = {"point": p.name, "status": status, "detail": detail, **grid_cols, **p.config.identity()}
            row.update({k: summary.get(k) for k in ("num_params", "baseline", "wall_time") if k in summary})
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
        row = {"point": p.name, **_grid_columns(p), "status": seeds[0]["status"] if seeds else "",
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


def _summary_table(rows: list[dict[str, Any]]) -> list[str]:
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


# ---------------------------------------------------------------- the sweep


def run(path: str | Path, out: str | Path | None = None, *, jobs: int = 1, quick: bool = False,
        overrides: dict[str, Any] | None = None, where: dict[str, str] | None = None,
        progress: bool = True, log=print, backend: str = "local", address: str | None = None,
        cpus_per_run: int = 1, retry_failed: bool = False) -> int:
    """Run the sweep in ``path`` (only the points matching ``where``, if given) on ``backend``
    (``local``: ``jobs`` child processes; ``ray``: one Ray task of ``cpus_per_run`` CPUs per
    point, on the cluster at ``address`` or a local one). 0 if every point completed or
    diverged, 1 if any failed. ``results.csv`` and ``summary.csv`` cover the points of this
    call; on Ctrl-C they are written for what finished, and the run folders keep their
    checkpoints, so the same command continues."""
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    if jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {jobs}")
    if cpus_per_run < 1:
        raise UsageError(f"--cpus-per-run must be >= 1, got {cpus_per_run}")
    if backend != "ray" and (address is not None or cpus_per_run != 1):
        raise UsageError("--address and --cpus-per-run need --backend ray")
    if backend == "ray" and jobs != 1:
        raise UsageError("--jobs is the local backend's: on Ray, the cluster's CPUs and --cpus-per-run "
                         "set how many points run at once")
    if backend == "ray":
        from rnnlab.training import sweep_ray

        sweep_ray.import_ray()
        sweep_ray.check_address(address)
    pts = points(load(path), quick=quick, overrides=overrides, where=where)
    out = Path(out or f"runs/sweep-{Path(path).stem}{'-quick' if quick else ''}")
    out.mkdir(parents=True, exist_ok=True)
    sweep_id = uuid.uuid4().hex
    (out / "sweep.json").write_text(json.dumps(
        {"file": str(path), "quick": quick, "overrides": overrides or {}, "where": where or {}, "backend": backend,
         "id": sweep_id, "points": [p.name for p in pts]}, indent=1))
    where_text = f"{jobs} at a time" if backend == "local" else f"on Ray, {cpus_per_run} CPU(s) each"
    log(f"sweep {path}: {len(pts)} point(s), {where_text}, folder {out}")

    from tqdm import tqdm

    failed: list[str] = []
    diverged: list[str] = []
    with tqdm(total=len(pts), disable=not progress, file=sys.stderr, dynamic_ncols=True, unit="point") as bar:
        todo = []
        for p in pts:
            skip = _skip_reason(out, p, retry_failed)
            if skip is None:
                todo.append(p)
                continue
            bar.update(1)
            log(f"{p.name}: skipped ({skip})")
            if skip.startswith("failed"):
                failed.append(p.name)
            elif skip.startswith("diverged"):
                diverged.append(p.name)
        try:
            if todo:
                with _backend(backend, jobs=jobs, address=address, cpus_per_run=cpus_per_run, sweep_id=sweep_id) as runner:
                    _execute(runner, todo, out, log, bar, diverged, failed)
        finally:
            results = gather(out, pts)
            rows = summarize(out, pts)
    log(f"results: {results}")
    for line in _summary_table(rows):
        log(line)
    log(f"summary: {out / SUMMARY}")
    if diverged:
        log(f"{len(diverged)} point(s) diverged: {', '.join(diverged)}")
    if failed:
        print(f"rnnlab sweep: {len(failed)} point(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _execute(runner, todo: list[Point], out: Path, log, bar, diverged: list[str], failed: list[str]) -> None:
    """Run the ``todo`` points on ``runner``, a crashed one twice, logging each as it ends and
    recording how (the names of the diverged and failed ones are appended to those lists).
    On Ctrl-C, stop the points still running (they keep their checkpoints) and re-raise."""
    handles = {runner.submit(p, out.resolve()): p for p in todo}
    tries = dict.fromkeys((p.name for p in todo), 0)
    try:
        while handles:
            handle, outcome, error = runner.wait(list(handles))
            p = handles.pop(handle)
            tries[p.name] += 1
            if error is not None:
                outcome = Outcome("crashed", _error_line(error))
            if outcome.status == "crashed" and tries[p.name] < ATTEMPTS:
                log(f"{p.name}: {outcome.detail}; retrying")
                handles[runner.submit(p, out.resolve())] = p
                continue
            _record(out, p, outcome, tries[p.name])
            bar.update(1)
            if outcome.status == "complete":
                log(f"{p.name}: ok")
            elif outcome.status == "diverged":
                diverged.append(p.name)
                log(f"{p.name}: diverged ({outcome.detail})")
            else:
                failed.append(p.name)
                log(f"{p.name}: failed after {tries[p.name]} attempts ({outcome.detail}; see {out / p.name}.log)")
    except KeyboardInterrupt:
        runner.stop(list(handles))
        raise


def _error_line(error: BaseException) -> str:
    """One line for an exception raised by a backend (Ray wraps the task's own in ``cause``)."""
    cause = getattr(error, "cause", None) or error
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else ''}"


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
