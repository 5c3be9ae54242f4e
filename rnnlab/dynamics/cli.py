"""``rnnlab fixed-points``, ``rnnlab portrait`` and ``rnnlab propagate``.

Nothing heavy is imported here at import time: NumPy, JAX and Matplotlib are imported
inside the handlers so that ``rnnlab --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from rnnlab.errors import UsageError

# Kept in step with rnnlab.dynamics.relu_map.CASES (that module imports NumPy).
CASE_NAMES = ("decay", "explode", "line", "identity")
INIT_NAMES = ("gaussian", "identity", "np", "orthogonal", "scaled-identity")


def register(subparsers) -> None:
    """Add the dynamics subcommands to the top-level ``rnnlab`` parser."""
    p = subparsers.add_parser(
        "fixed-points",
        help="exact fixed sets of h -> relu(W h + b), with dimension and stability",
        description="Fixed sets of the ReLU map h -> relu(W h + b): every isolated fixed point "
        "and every affine piece of a fixed-point manifold, with its dimension and its stability "
        "(attracting, marginal, repelling). W is a 2x2 symmetric matrix with given eigenvalues "
        "(--eig, --case) or any square matrix from a .npy file (--weights).",
    )
    _add_weight_source(p)
    p.add_argument("--bias", type=float, nargs="+", metavar="B", help="bias b, one value per unit (default 0)")
    p.add_argument("--tol", type=float, help="how close an eigenvalue must be to 1 to count as 1 "
                   "(default 100 n eps max(1, ||W||))")
    p.add_argument("--exact-max-n", type=int, default=10, metavar="N",
                   help="enumerate all 2^n activation patterns up to this n; above, sample them "
                   "from trajectories (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed for sampled patterns and the simulation check")
    p.add_argument("--json", action="store_true", help="print a JSON list of fixed sets")
    p.set_defaults(func=fixed_points_command)


def _add_weight_source(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--eig", type=float, nargs=2, metavar=("L1", "L2"),
                     help="2x2 symmetric W with eigenvalues L1, L2")
    src.add_argument("--case", choices=CASE_NAMES, help="one of the paper's four 2-unit cases")
    src.add_argument("--weights", type=Path, metavar="FILE.npy", help="any square W saved with numpy.save")
    p.add_argument("--angle", type=float, default=None, metavar="DEG",
                   help="angle of L1's eigenvector from the h1 axis, degrees (default 30; "
                   "only with --eig or --case)")


def _weights(args):
    """``(W, label)`` from --eig / --case / --weights; a UsageError for any bad input."""
    import numpy as np

    from rnnlab.dynamics.relu_map import CASES, DEFAULT_ANGLE, check_weights, two_unit_weights

    if args.weights is not None:
        if args.angle is not None:
            raise UsageError("--angle applies to --eig and --case, not to --weights")
        try:
            w = np.load(args.weights, allow_pickle=False)
        except FileNotFoundError:
            raise UsageError(f"no such file: {args.weights}") from None
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read {args.weights} as a .npy array: {exc}") from None
        w, _ = check_weights(w)
        return w, f"W from {args.weights}"
    angle = DEFAULT_ANGLE if args.angle is None else args.angle
    lam = tuple(args.eig) if args.eig is not None else CASES[args.case]
    name = f"case {args.case}, " if args.case else ""
    return two_unit_weights(*lam, angle), f"{name}eigenvalues {lam[0]:g}, {lam[1]:g}, angle {angle:g} deg"


def fixed_points_command(args) -> int:
    import numpy as np

    from rnnlab.dynamics.fixed_points import fixed_points
    from rnnlab.dynamics.relu_map import check_weights, simulate_outcomes

    w, label = _weights(args)
    if args.tol is not None and not (math.isfinite(args.tol) and args.tol > 0):
        raise UsageError(f"--tol must be a positive number, got {args.tol}")
    if args.exact_max_n < 0:
        raise UsageError(f"--exact-max-n must be >= 0, got {args.exact_max_n}")
    w, b = check_weights(w, args.bias)
    sets = fixed_points(w, b, tol=args.tol, exact_max_n=args.exact_max_n, seed=args.seed)
    if args.json:
        json.dump([s.to_dict() for s in sets], sys.stdout, indent=2)
        print()
        return 0
    n = w.shape[0]
    fmt = lambda v: "(" + ", ".join(f"{x:.4g}" for x in v) + ")"  # noqa: E731
    how = f"all {2 ** n} activation patterns" if n <= args.exact_max_n else "activation patterns visited from random starts"
    print(f"{label}: {n} units, {how}")
    if n <= 4:
        print("W =", np.array2string(np.round(w, 12) + 0.0, precision=4, suppress_small=True).replace("\n", "\n    "))
    for k, s in enumerate(sets, 1):
        kind = "point" if s.dimension == 0 else f"{s.dimension}-dimensional set"
        active = "none" if not s.support else ", ".join(map(str, s.support))
        print(f"fixed set {k}: {kind}, {s.stability} (largest followable |eigenvalue| "
              f"{s.spectral_radius:.6g}), active units: {active}")
        if n <= 8:
            print(f"    point {fmt(s.point)}" + "".join(f"\n    direction {fmt(d)}" for d in s.basis.T))
    out = simulate_outcomes(w, b, seed=args.seed)
    print(f"simulation from {out.starts} random non-negative starts, {out.steps} steps: "
          f"{out.converged} converged, {out.diverged} diverged, {out.other} still moving")
    if out.diverged:
        print("trajectories diverge: the state grows without bound")
    return 0
