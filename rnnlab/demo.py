"""``rnnlab demo``: the main job on embedded defaults, a few minutes on a 2-core CPU.

It runs the same commands a user would, writing data (JSON) before pictures into one folder:

1. the Jacobian rank of the restricted (Arjovsky) parameterization for N = 2..9, with the
   explanation of every wasted direction and the N at which it loses capacity;
2. every registered parameterization at N = 8;
3. fitting Haar-random targets: full-capacity maps reach them, the restricted one stalls;
4. the four 2-unit ReLU phase portraits of the np-RNN paper and the line-attractor fixed set.
"""

from __future__ import annotations

import time
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run the main job on embedded defaults (capacity check, fit, phase portraits)",
        description=__doc__,
    )
    p.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder (default runs/demo)")
    p.set_defaults(func=run)


def _step(title: str, argv: list[str]) -> None:
    from rnnlab.cli import main

    print(f"\n=== {title}\n$ rnnlab {' '.join(argv)}", flush=True)
    t0 = time.perf_counter()
    rc = main(argv)
    if rc:
        raise SystemExit(rc)
    print(f"({time.perf_counter() - t0:.0f} s)", flush=True)


def run(args) -> int:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    _step("1. Where does the restricted uRNN lose capacity?",
          ["capacity", "--param", "restricted", "--n", "2:9", "--seeds", "2", "--plot", str(out / "restricted_rank.png")])
    _step("2. Every parameterization at N = 8",
          ["capacity", "--n", "8", "--seeds", "1", "--plot", str(out / "capacity_n8.png")])
    _step("3. Fitting Haar-random targets (rank tied to result)",
          ["capacity", "fit", "--param", "restricted", "--param", "full", "--n", "4,8,12", "--seeds", "1",
           "--steps", "1500", "--plot", str(out / "fit_residual.png")])
    _step("4. The line attractor of the np-RNN paper (eigenvalues 1 and 0.5)",
          ["fixed-points", "--case", "line"])
    _step("5. Phase portraits of the four 2-unit cases",
          ["portrait", "--all", "--out", str(out / "phase_portraits.png")])
    print(f"\nEverything is in {out}/ (JSON data beside each picture).")
    return 0
