"""The sweep driver: the backends points run on, and :func:`run`, the whole sweep."""

from __future__ import annotations

import contextlib
import json
import sys
import uuid
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rnnlab.devices import worker_devices
from rnnlab.errors import UsageError
from rnnlab.files import atomic_write
from rnnlab.training.lock import FolderLock
from rnnlab.training.sweep.grid import Point, load, points
from rnnlab.training.sweep.point import (Outcome, attempt, check_paths, interrupt_children, read_json_object, record,
                                         skip_reason)
from rnnlab.training.sweep.results import (RESULTS, SUMMARY, check_folder, earlier_rows, folder_points, gather,
                                           summarize, summary_table)

BACKENDS = ("local", "ray")
ATTEMPTS = 2  # a point that crashes (or whose worker dies) is tried once more, then recorded as failed


class LocalBackend:
    """Points as child processes of this machine, ``jobs`` at a time (the default backend)."""

    def __init__(self, jobs: int):
        self.pool = ThreadPoolExecutor(max_workers=jobs)
        self.devices = worker_devices(jobs)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, point: Point, out: Path) -> futures.Future:
        return self.pool.submit(attempt, point, out, self.devices)

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


def run(path: str | Path, out: str | Path | None = None, *, jobs: int = 1, quick: bool = False,
        overrides: dict[str, Any] | None = None, where: dict[str, str] | None = None,
        progress: bool = True, log=print, backend: str = "local", address: str | None = None,
        cpus_per_run: int = 1, retry_failed: bool = False) -> int:
    """Run the sweep in ``path`` (only the points matching ``where``, if given) on ``backend``
    (``local``: ``jobs`` child processes; ``ray``: one Ray task of ``cpus_per_run`` CPUs per
    point, on the cluster at ``address`` or a local one). 0 if every point completed or
    diverged, 1 if any failed.

    Everything is checked before anything is written: the file, the points, the paths they
    write to, and (for ``ray``) that the cluster answers. The sweep then holds the folder's
    lock (:class:`~rnnlab.training.lock.FolderLock`, ``OUT/.lock``) to its end, so a second
    sweep on the same folder is refused instead of racing it point by point.
    ``results.csv``, ``summary.csv`` and ``sweep.json`` cover every point of the folder (the
    points of earlier calls with other ``where`` kept); on Ctrl-C they are written for what
    finished, and the run folders keep their checkpoints, so the same command continues."""
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
    spec = load(path)
    pts = points(spec, quick=quick, overrides=overrides, where=where)
    grid = points(spec, quick=quick, overrides=overrides, build=False) if where else pts
    out = Path(out or f"runs/sweep-{Path(path).stem}{'-quick' if quick else ''}")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    for p in pts:
        check_paths(out, p)
    call = {"file": str(path), "quick": quick, "overrides": overrides or {}, "where": where or {},
            "backend": backend, "points": [p.name for p in pts]}
    _earlier_calls(out / "sweep.json")  # a damaged one is refused before anything starts
    check_folder(out, pts, grid)  # and so is a damaged file results.csv would be gathered from
    sweep_id = uuid.uuid4().hex
    where_text = f"{jobs} at a time" if backend == "local" else f"on Ray, {cpus_per_run} CPU(s) each"

    from tqdm import tqdm

    # Ray is joined (or started) before the first file is written, so a cluster that does not
    # answer leaves no folder behind; points already done need no backend. The backend is
    # closed (its train processes stopped with their checkpoints) before the results are
    # gathered, and those are written before the folder's lock is released.
    backend_stack = contextlib.ExitStack()

    def start():
        return backend_stack.enter_context(_backend(backend, jobs=jobs, address=address,
                                                    cpus_per_run=cpus_per_run, sweep_id=sweep_id))

    runner = start() if any(skip_reason(out, p, retry_failed) is None for p in pts) else None
    try:
        with FolderLock(out, "sweep folder"), tqdm(total=len(pts), disable=not progress, file=sys.stderr,
                                                   dynamic_ncols=True, unit="point") as bar:
            calls = [c for c in _earlier_calls(out / "sweep.json") if c != call] + [call]
            atomic_write(out / "sweep.json", json.dumps(
                {**call, "id": sweep_id, "points": list(dict.fromkeys(n for c in calls for n in c["points"])),
                 "calls": calls}, indent=1) + "\n")
            log(f"sweep {path}: {len(pts)} point(s), {where_text}, folder {out}")
            failed: list[str] = []
            diverged: list[str] = []
            todo = []
            for p in pts:
                skip = skip_reason(out, p, retry_failed)
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
                    runner = runner or start()
                    with backend_stack:
                        _execute(runner, todo, out, log, bar, diverged, failed)
            finally:
                covered = folder_points(out, pts, grid)
                results = gather(out, covered, earlier_rows(out, RESULTS, covered))
                rows = summarize(out, covered, earlier_rows(out, SUMMARY, covered))
    finally:
        backend_stack.close()
    rows = [r for r in rows if r["point"] in call["points"]]
    log(f"results: {results}" + (f" (with {len(covered) - len(pts)} point(s) of earlier calls)"
                                 if len(covered) > len(pts) else ""))
    for line in summary_table(rows):
        log(line)
    log(f"summary: {out / SUMMARY}")
    if diverged:
        log(f"{len(diverged)} point(s) diverged: {', '.join(diverged)}")
    if failed:
        print(f"rnnlab sweep: {len(failed)} point(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _earlier_calls(path: Path) -> list[dict[str, Any]]:
    """The calls recorded in an existing ``sweep.json`` (one for a file written before calls
    were listed); :class:`UsageError` if it is damaged."""
    made = read_json_object(path, "sweep description")
    if made is None:
        return []
    calls = made.get("calls")
    if calls is None:
        calls = [{k: made[k] for k in ("file", "quick", "overrides", "where", "backend", "points") if k in made}]
    if not isinstance(calls, list) or not all(isinstance(c, dict) and isinstance(c.get("points", []), list)
                                              for c in calls):
        raise UsageError(f"{path}: 'calls' is not a list of sweep calls; move the file away to start its record afresh")
    return [{**c, "points": c.get("points", [])} for c in calls]


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
            record(out, p, outcome, tries[p.name])
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
