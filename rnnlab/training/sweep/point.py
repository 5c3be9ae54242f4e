"""One grid point, on whichever machine runs it: one attempt as an ``rnnlab train`` child
process (:func:`attempt`), and what the sweep recorded about points that did not complete."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab.devices import ENV, xla_flags_with
from rnnlab.errors import UsageError
from rnnlab.file_names import inside
from rnnlab.training import config as config_mod
from rnnlab.training.sweep.grid import Point

DIVERGED = "non-finite loss or gradient"  # how rnnlab train says it stopped a diverging run


def read_json_object(path: Path, what: str) -> dict[str, Any] | None:
    """The JSON object in ``path``, None if there is no such file; :class:`UsageError` naming
    the file if it cannot be read or holds anything but a JSON object (``what``: its role)."""
    try:
        data = json.loads(path.read_bytes().decode())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # ValueError: bad JSON, and bytes that are not UTF-8
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise UsageError(f"{path}: cannot read this {what} ({why}); move it away to rerun the point") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: this {what} holds {type(data).__name__}, not a JSON object; "
                         "move it away to rerun the point")
    return data


def read_summary(folder: Path) -> dict[str, Any] | None:
    """A run folder's ``summary.json`` (None if it has none yet), checked: a JSON object whose
    ``steps`` is a whole number and ``final`` a list of objects; else :class:`UsageError`."""
    summary = read_json_object(folder / "summary.json", "run summary")
    if summary is None:
        return None
    steps, final = summary.get("steps"), summary.get("final", [])
    if isinstance(steps, bool) or not isinstance(steps, int) or not isinstance(final, list) or not all(
            isinstance(line, dict) for line in final):
        raise UsageError(f"{folder / 'summary.json'}: not a run summary (needs a whole number 'steps' and a "
                         "list 'final'); move it away to rerun the point")
    return summary


def finished(folder: Path, steps: int) -> bool:
    summary = read_summary(folder)
    return summary is not None and summary["steps"] >= steps


def check_paths(out: Path, point: Point) -> None:
    """Refuse a point whose run folder, config, log or status file in ``out`` is a link to
    somewhere outside ``out`` (training would write there)."""
    for name in (point.name, f"{point.name}.toml", f"{point.name}.log", f"{point.name}.status.json"):
        inside(out, name, f"grid point {point.name}")


@dataclass(frozen=True)
class Outcome:
    """How one attempt at a point ended: ``complete``, ``diverged`` (stopped by a non-finite
    loss or gradient: a result, not retried) or ``crashed`` (retried once), and why."""

    status: str
    detail: str = ""


def _worker_env(devices: int | None = None) -> dict[str, str]:
    """The environment of an ``rnnlab train`` process a sweep starts: ``devices`` host
    devices (:func:`rnnlab.devices.worker_devices`; ``None``: the worker's own default)."""
    env = os.environ.copy()
    if devices is not None:
        env[ENV] = str(devices)
        env["XLA_FLAGS"] = xla_flags_with(devices, env.get("XLA_FLAGS", ""))
    return env


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


def attempt(point: Point, out: Path, devices: int | None = None) -> Outcome:
    """One try at ``point``: run (or resume from its checkpoint) ``rnnlab train`` in
    ``out/point.name`` as a child process, its output appended to ``out/point.name.log``.

    Both backends call this, the local one in a thread, the Ray one inside a task on
    whichever node runs it; ``devices``: the host devices of the train process
    (:func:`_worker_env`). An interrupt of the caller (Ctrl-C, or Ray cancelling the task)
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
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=_worker_env(devices))
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
    if rc == 0 and finished(folder, point.config.steps):
        return Outcome("complete")
    lines = [line.strip() for line in log.read_bytes()[start:].decode(errors="replace").splitlines() if line.strip()]
    for line in lines:
        if DIVERGED in line:
            return Outcome("diverged", line.removeprefix("rnnlab train: ").split("; stopped")[0])
    return Outcome("crashed", f"exit {rc}: {crash_line(lines)}")


_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b")


def crash_line(lines: list[str]) -> str:
    """The line of a crashed run's output that says why: the last exception line of a
    traceback (JAX prints its own note after it), else the last line."""
    for line in reversed(lines):
        if _EXCEPTION.match(line) or line.startswith("rnnlab train: error: "):
            return line
    return lines[-1] if lines else "no output"


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
    failed, ``detail``, ``attempts``), or None; :class:`UsageError` for a damaged file."""
    path = _status_file(out, point)
    seen = read_json_object(path, "point status")
    if seen is not None and (seen.get("status") not in ("diverged", "failed") or not isinstance(seen.get("detail"), str)):
        raise UsageError(f"{path}: not a point status (needs 'status' diverged or failed and a 'detail'); "
                         "move it away to rerun the point")
    return seen


def record(out: Path, point: Point, outcome: Outcome, attempts: int) -> None:
    path = _status_file(out, point)
    if outcome.status == "complete":
        path.unlink(missing_ok=True)
        return
    status = "failed" if outcome.status == "crashed" else outcome.status
    path.write_text(json.dumps({"status": status, "detail": outcome.detail, "attempts": attempts}, indent=1) + "\n")


def skip_reason(out: Path, point: Point, retry_failed: bool) -> str | None:
    if finished(out / point.name, point.config.steps):
        return "complete"
    seen = recorded(out, point)
    if seen and not retry_failed:
        return f"{seen['status']}: {seen['detail']}; --retry-failed reruns it"
    return None
