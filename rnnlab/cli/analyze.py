"""``rnnlab analyze RUN``: fixed points (ReLU: exact fixed sets) or slow points of a trained network.

JAX and the analysis load inside the handler, so ``--help`` and a usage error stay quick.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rnnlab.cli.outputs import check_folder, save_figure, write_json
from rnnlab.errors import UsageError

#: Files written in the output folder, in this order (the data first).
JSON_NAME, EIGENVALUES_NAME, STATES_NAME = "analysis.json", "eigenvalues.png", "states.png"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "analyze", help="fixed and slow points of a trained network (run folder or record)",
        description="Run the trained network of RUN (a run folder with its checkpoint, or a record's point "
        "folder with its saved parameters) on evaluation sequences of its task and find the fixed points "
        "of its map at the task's constant inputs (zero; addition / multiplication x = (0.5, 0); copy the "
        "blank): for ReLU models the exact fixed sets of h -> relu(W h + W_in x + b) with dimension and "
        "stability; for every other cell slow points by minimising |F(h) - h|^2 / 2 from states sampled on "
        "the trajectories (Sussillo & Barak 2013). Writes analysis.json, then eigenvalues.png and states.png.",
    )
    p.add_argument("run", metavar="RUN", help="run folder or record point folder")
    p.add_argument("--out", metavar="DIR", help="output folder (default RUN/analysis)")
    p.add_argument("--seed", type=int, help="analyse only this seed of a multi-seed run (default every seed)")
    p.add_argument("--input", action="append", default=None, metavar="NAME=V1,V2,...",
                   help="a constant input to analyse (repeatable; replaces the task's defaults)")
    p.add_argument("--trajectories", type=int, default=1000, metavar="M",
                   help="evaluation sequences to run (fewer if their states pass 256 MiB; default 1000)")
    p.add_argument("--starts", type=int, default=1024, metavar="M",
                   help="states sampled from them: slow-point starts, or ReLU settling runs (default 1024)")
    p.add_argument("--noise", type=float, default=0.5,
                   help="slow points: Gaussian noise added to each start, times the RMS of the states (default 0.5)")
    p.add_argument("--all-supports", action="store_true",
                   help="ReLU models: examine all 2^n supports (n <= 16), not only those the trajectories visit")
    p.add_argument("--tol", type=float, metavar="T",
                   help="ReLU models: an eigenvalue within T of 1 counts as 1 (default 100 n eps(float64) ||W||)")
    p.add_argument("--json", action="store_true", help="print the analysis as JSON on stdout, nothing else")
    p.set_defaults(func=_analyze)


def _inputs(specs: list[str] | None) -> dict[str, list[float]] | None:
    if specs is None:
        return None
    out = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        if not sep or not name:
            raise UsageError(f"--input {spec!r}: write NAME=V1,V2,... (e.g. half=0.5,0)")
        try:
            out[name] = [float(v) for v in values.split(",")]
        except ValueError:
            raise UsageError(f"--input {spec!r}: the values must be numbers separated by commas") from None
    return out


def _analyze(args) -> int:
    run = Path(args.run)
    out = Path(args.out) if args.out else run / "analysis"
    inputs = _inputs(args.input)
    if not run.is_dir():
        raise UsageError(f"{run} is not a folder (give a run folder or a record's point folder)")
    check_folder(out, "--out")

    from rnnlab.training.attractors import analyze

    result = analyze(run, inputs=inputs, seed=args.seed, trajectories=args.trajectories, starts=args.starts,
                     noise=args.noise, all_supports=args.all_supports, tol=args.tol)
    data = result.to_dict()
    write_json(out / JSON_NAME, data)
    if args.json:
        json.dump(data, sys.stdout, indent=1)
        print()
    else:
        for line in result.lines():
            print(line)
        print(f"data in {out / JSON_NAME}")
    save_figure(result.eigenvalue_figure(), out / EIGENVALUES_NAME, out / JSON_NAME)
    save_figure(result.state_figure(), out / STATES_NAME, out / JSON_NAME)
    if not args.json:
        print(f"figures {out / EIGENVALUES_NAME}, {out / STATES_NAME} (first seed)")
    return 0
