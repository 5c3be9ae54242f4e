"""The sweep driver: the backends points run on, and :func:`run`, the whole sweep."""

from __future__ import annotations

import json
import sys
import uuid
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rnnlab.devices import worker_devices
from rnnlab.errors import UsageError
from rnnlab.training.sweep.grid import Point, load, points
from rnnlab.training.sweep.point import Outcome, attempt, interrupt_children, record, skip_reason
from rnnlab.training.sweep.results import SUMMARY, gather, summarize, summary_table

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
                with _backend(backend, jobs=jobs, address=address, cpus_per_run=cpus_per_run, sweep_id=sweep_id) as runner:
                    _execute(runner, todo, out, log, bar, diverged, failed)
        finally:
            results = gather(out, pts)
            rows = summarize(out, pts)
    log(f"results: {results}")
    for line in summary_table(rows):
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
