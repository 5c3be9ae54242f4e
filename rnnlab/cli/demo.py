"""``rnnlab demo``: the main job on embedded defaults, about 3-4 minutes on a 2-core CPU.

It runs the same commands a user would, writing data (JSON) before pictures into one folder:

1. the Jacobian rank of the restricted (Arjovsky) parameterization for N = 2..9, with the
   explanation of every wasted direction and the N at which it loses capacity;
2. every registered parameterization at N = 8;
3. fitting Haar-random targets: full-capacity maps reach them, the restricted one stalls;
4. the four 2-unit ReLU phase portraits of the np-RNN paper and the line-attractor fixed set.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rnnlab.cli import progress
from rnnlab.cli.outputs import check_folder

LOG = "demo.log"


def register(subparsers, run_argv: Callable[[list[str]], int]) -> None:
    """Add ``demo``; ``run_argv`` runs one ``rnnlab`` command line (the CLI's ``main``)."""
    p = subparsers.add_parser(
        "demo",
        help="run the main job on embedded defaults (capacity check, fit, phase portraits)",
        description=__doc__ + f"\nWhat it prints is also written to OUT/{LOG}.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder (default runs/demo)")
    p.set_defaults(func=demo_command, run_argv=run_argv)


class _Tee:
    """Text written to stdout, also appended to the log file."""

    def __init__(self, stream, log):
        self.stream, self.log = stream, log

    def write(self, text: str) -> int:
        self.log.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.log.flush()
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()


def _step(run_argv: Callable[[list[str]], int], title: str, argv: list[str]) -> int:
    if not progress.enabled():  # the sections follow the demo's own --quiet / terminal policy
        argv = argv + ["--quiet"]
    print(f"\n=== {title}\n$ rnnlab {' '.join(argv)}", flush=True)
    t0 = time.perf_counter()
    try:
        rc = run_argv(argv)
    except SystemExit as exc:  # an argument error of the section (already reported in one line)
        rc = exc.code if isinstance(exc.code, int) else 2
    print(f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return rc


def _steps(out: Path) -> list[tuple[str, list[str]]]:
    return [
        ("1. Where does the restricted uRNN lose capacity?",
         ["capacity", "--param", "restricted", "--n", "2:9", "--seeds", "2", "--plot", str(out / "restricted_rank.png")]),
        ("2. Every parameterization at N = 8",
         ["capacity", "--n", "8", "--seeds", "1", "--plot", str(out / "capacity_n8.png")]),
        ("3. Fitting Haar-random targets (rank tied to result)",
         ["capacity", "fit", "--param", "restricted", "--param", "full", "--n", "4,8,12", "--seeds", "1",
          "--steps", "1500", "--plot", str(out / "fit_residual.png")]),
        ("4. The line attractor of the np-RNN paper (eigenvalues 1 and 0.5)",
         ["fixed-points", "--case", "line"]),
        ("5. Phase portraits of the four 2-unit cases",
         ["portrait", "--all", "--out", str(out / "phase_portraits.png")]),
    ]


def demo_command(args) -> int:
    out: Path = check_folder(args.out, "--out")
    out.mkdir(parents=True, exist_ok=True)
    steps = _steps(out)
    with open(out / LOG, "w") as log, contextlib.redirect_stdout(_Tee(sys.stdout, log)):
        for title, argv in progress.bar(steps, desc="demo", unit="section"):
            rc = _step(args.run_argv, title, argv)
            if rc:
                return rc
        print(f"\nEverything is in {out}/ (JSON data beside each picture, this text in {out / LOG}).")
    return 0
