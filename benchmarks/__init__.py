"""Benchmarks of rnnlab: ratios measured in one run, each against a target.

Run them all with ``python -m benchmarks`` (``--quick`` for small sizes, ``--only NAME``
for some, ``--out FILE`` for the JSON). Absolute times on a shared CPU are noisy; the
ratios, whose two sides are measured minutes apart in the same process, are what we track.

Timing protocol (:func:`time_call`): the first call is timed on its own and reported as
compile time (it includes tracing and XLA compilation, minus one steady-state run); then
one warm-up call; then ``repeats`` calls, of which the median is reported. Every call
blocks until its outputs are ready.

Thread settings are fixed here, before JAX or PyTorch is imported, so every benchmark
runs under the same ones, and they are recorded in the output (:func:`machine_info`).
``OPENBLAS_NUM_THREADS=1``: JAX's CPU solvers call OpenBLAS, whose spinning threads fight
other processes on a small shared machine (see ``docs/training.md``).
"""

from __future__ import annotations

import os

#: Threads for XLA's Eigen pool and for PyTorch: all cores unless RNNLAB_BENCH_THREADS says.
THREADS = int(os.environ.get("RNNLAB_BENCH_THREADS", os.cpu_count() or 1))
ENV_DEFAULTS = {
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": str(THREADS),
    "OMP_NUM_THREADS": str(THREADS),
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=true",
    "JAX_PLATFORMS": "cpu",
}
for _name, _value in ENV_DEFAULTS.items():
    os.environ.setdefault(_name, _value)

import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import jax  # noqa: E402


@dataclass
class Timing:
    """Seconds: ``median`` of ``runs`` steady-state calls, and the first call's extra cost."""

    median: float
    runs: list[float]
    compile: float

    def as_record(self) -> dict:
        return {"median_s": self.median, "runs_s": self.runs, "compile_s": self.compile}


@dataclass
class Row:
    """One line of the table: a measured ``value`` (a ratio, or seconds where ``unit`` is s)
    and, where there is one, its target ``value <= target`` (``at_least``: ``>=``)."""

    bench: str
    measure: str
    value: float
    unit: str = "x"
    target: float | None = None
    at_least: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.target is None:
            return ""
        ok = self.value >= self.target if self.at_least else self.value <= self.target
        return "PASS" if ok else "MISS"

    def target_text(self) -> str:
        if self.target is None:
            return ""
        return f"{'>=' if self.at_least else '<='} {self.target:g}{self.unit}"

    def as_record(self) -> dict:
        return asdict(self) | {"status": self.status}


def block(out):
    """Wait for every array in ``out`` (JAX dispatches asynchronously)."""
    return jax.block_until_ready(out)


def time_call(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> Timing:
    """Time ``fn()`` as described in the module docstring."""
    t0 = time.perf_counter()
    block(fn())
    first = time.perf_counter() - t0
    for _ in range(warmup):
        block(fn())
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        block(fn())
        runs.append(time.perf_counter() - t0)
    median = statistics.median(runs)
    return Timing(median, runs, max(first - median, 0.0))


def time_stateful(step: Callable[[Any], Any], state: Any, repeats: int, warmup: int = 1) -> tuple[Timing, Any]:
    """Like :func:`time_call` for ``state = step(state)`` (e.g. a train step that donates its state)."""
    box = [state]

    def call():
        box[0] = step(box[0])
        return box[0]

    timing = time_call(call, repeats, warmup)
    return timing, box[0]


def machine_info() -> dict:
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jax_backend": jax.default_backend(),
        "jax_devices": [str(d) for d in jax.devices()],
        "threads": THREADS,
        "env": {k: os.environ.get(k) for k in ENV_DEFAULTS},
        "loadavg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    return info


def format_table(rows: list[Row]) -> str:
    head = ("benchmark", "measure", "value", "target", "status")
    body = []
    for r in rows:
        value = f"{r.value:.3g}{r.unit}" if r.unit != "x" else f"{r.value:.2f}x"
        body.append((r.bench, r.measure, value, r.target_text(), r.status))
    widths = [max(len(str(line[i])) for line in [head, *body]) for i in range(len(head))]
    sep = "  "
    lines = [sep.join(h.ljust(w) for h, w in zip(head, widths)), sep.join("-" * w for w in widths)]
    lines += [sep.join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip() for line in body]
    return "\n".join(lines)


def write_json(path: str, rows: list[Row], config: dict) -> None:
    blob = {"config": config, "machine": machine_info(), "rows": [r.as_record() for r in rows]}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(blob, fh, indent=1)
        fh.write("\n")
