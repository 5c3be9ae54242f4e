"""Time for the command line to answer without computing: ``rnnlab --help``, ``--version``,
``rnnlab configs`` and two usage errors, each a fresh ``python -m rnnlab`` process, against a
target of 1 s.

They load neither JAX nor matplotlib nor scipy (tests/cli/test_startup.py checks which modules
they import); what is left is the interpreter's start, numpy (the ReLU map's cases) and the
parser. The interpreter's own start (``python -c pass``) is reported beside them as the floor
that no change to rnnlab can go below. Each is the median of fresh processes, wall time.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from benchmarks import Row

TARGET_S = 1.0
COMMANDS = (
    ("rnnlab --help", ["--help"]),
    ("rnnlab --version", ["--version"]),
    ("rnnlab configs", ["configs"]),
    ("usage error: rnnlab train --n x", ["train", "--n", "x"]),
    ("usage error: rnnlab portrait --case spiral", ["portrait", "--case", "spiral", "--out", "x.png"]),
)


def wall_times(argv: list[str], repeats: int) -> tuple[list[float], int]:
    """Seconds of ``repeats`` fresh processes ``python argv`` (after one unmeasured run that
    warms the file cache), and their exit status."""
    runs, code = [], None
    for k in range(repeats + 1):
        t0 = time.perf_counter()
        code = subprocess.run([sys.executable, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        if k:
            runs.append(time.perf_counter() - t0)
    return runs, code


def run(quick: bool) -> list[Row]:
    repeats = 3 if quick else 9
    floor, _ = wall_times(["-c", "pass"], repeats)
    rows = []
    for label, argv in COMMANDS:
        runs, code = wall_times(["-m", "rnnlab", *argv], repeats)
        rows.append(Row("cli-start", label, statistics.median(runs), unit="s", target=TARGET_S,
                        detail={"argv": argv, "exit_status": code, "runs_s": runs,
                                "python_start_median_s": statistics.median(floor)}))
    return rows
