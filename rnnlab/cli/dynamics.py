"""``rnnlab fixed-points``, ``rnnlab portrait`` and ``rnnlab propagate``.

The case names offered by ``--case`` come from the registry in
:mod:`rnnlab.dynamics.relu_map`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from rnnlab.cli import progress
from rnnlab.cli.outputs import check_figure, figure_data_path, save_figure, write_json
from rnnlab.errors import UsageError
from rnnlab.memory import check_memory


class _CaseNames(Sequence):
    """The names of :data:`rnnlab.dynamics.relu_map.CASES`, read when argparse first needs them
    (to check ``--case`` or print its help): building the parser, as ``rnnlab --help`` and every
    other command do, then loads no numpy."""

    def _names(self) -> tuple[str, ...]:
        from rnnlab.dynamics.relu_map import CASES

        return tuple(CASES)

    def __getitem__(self, index):
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())


CASE_NAMES = _CaseNames()
CASE_HELP = "one of the paper's four 2-unit cases: %(choices)s"


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
    p.add_argument("--seed", type=int, default=0,
                   help="seed for sampled patterns and the simulation check (default 0)")
    p.add_argument("--json", action="store_true", help="print a JSON list of fixed sets on stdout, nothing else")
    p.set_defaults(func=fixed_points_command)

    p = subparsers.add_parser(
        "portrait",
        help="phase portrait of the 2-unit ReLU map (PNG or PDF)",
        description="Phase portrait of h -> relu(W h) for 2 units: step field, sample "
        "trajectories, eigenvectors and fixed sets coloured by stability. One case "
        "(--case, --eig) or the paper's four cases side by side (--all).",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--case", choices=CASE_NAMES, metavar="CASE", help=CASE_HELP)
    src.add_argument("--eig", type=float, nargs=2, metavar=("L1", "L2"),
                     help="2x2 symmetric W with eigenvalues L1, L2")
    src.add_argument("--all", action="store_true", help="the four cases side by side")
    p.add_argument("--angle", type=float, default=None, metavar="DEG",
                   help="angle of L1's eigenvector from the h1 axis, degrees (default 30)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="output picture, .png, .pdf or .svg; its data (W, eigenvalues, fixed sets) "
                   "goes first to FILE with suffix .json")
    p.set_defaults(func=portrait_command)

    p = subparsers.add_parser(
        "propagate",
        help="gradient norm, singular values, Lyapunov exponents and input sensitivity vs T",
        description="Drive h_t = relu(W h_t-1 + W_hx x_t) with random inputs and measure, as a "
        "function of t: ||dh_t/dh_0|| and its singular values (vanishing / exploding "
        "gradients), the largest Lyapunov exponents, and the sensitivity of h_t to a small "
        "perturbation of x_1. All in float64.",
    )
    p.add_argument("--init", default="np", help="recurrent initialiser: gaussian, identity, np, "
                   "orthogonal, scaled-identity (default np)")
    p.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE",
                   help="initialiser option, e.g. scale=0.5 or g=1.2 (repeatable; default none)")
    p.add_argument("--n", type=int, default=100, help="hidden units, one int (default 100)")
    p.add_argument("--T", type=int, default=1000, help="steps (default 1000)")
    p.add_argument("--trials", type=int, default=4, help="independent draws of W, W_hx and inputs (default 4)")
    p.add_argument("--n-in", type=int, default=2, help="input size (default 2)")
    p.add_argument("--inputs", default="gaussian", help="gaussian (N(0,1)) or uniform (U[0,1]) inputs (default gaussian)")
    p.add_argument("--alpha", default="sussillo-abbott",
                   help="input-weight scale: sussillo-abbott (default), literal, or a number")
    p.add_argument("--lyapunov", type=int, default=8, metavar="K", help="how many Lyapunov exponents (default 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of W, W_hx and the inputs (default 0)")
    p.add_argument("--json", action="store_true", help="print the measurements as JSON on stdout, nothing else")
    p.add_argument("--plot", type=Path, metavar="FILE", help="also draw them (.png, .pdf or .svg); "
                   "the measurements go first to FILE with suffix .json")
    p.set_defaults(func=propagate_command)


def _add_weight_source(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--eig", type=float, nargs=2, metavar=("L1", "L2"),
                     help="2x2 symmetric W with eigenvalues L1, L2")
    src.add_argument("--case", choices=CASE_NAMES, metavar="CASE", help=CASE_HELP)
    src.add_argument("--weights", type=Path, metavar="FILE.npy", help="any square W saved with numpy.save")
    p.add_argument("--angle", type=float, default=None, metavar="DEG",
                   help="angle of L1's eigenvector from the h1 axis, degrees (default 30; "
                   "only with --eig or --case)")


#: The first bytes of every file numpy.save writes.
NPY_MAGIC = b"\x93NUMPY"


def _weights(args):
    """``(W, label)`` from --eig / --case / --weights; a UsageError for any bad input."""
    import numpy as np

    from rnnlab.dynamics.relu_map import CASES, DEFAULT_ANGLE, check_weights, two_unit

    if args.weights is not None:
        if args.angle is not None:
            raise UsageError("--angle applies to --eig and --case, not to --weights")
        what = f"cannot read {args.weights} as a .npy array"
        try:
            with open(args.weights, "rb") as fh:
                magic = fh.read(len(NPY_MAGIC))
                # np.load reads anything else as a pickle (refused, but its message speaks of one)
                if magic == NPY_MAGIC:
                    fh.seek(0)
                    w = np.load(fh, allow_pickle=False)
        except FileNotFoundError:
            raise UsageError(f"no such file: {args.weights}") from None
        except EOFError:  # numpy's answer to a file cut short in its header
            raise UsageError(f"{what}: the file is cut short") from None
        except (OSError, ValueError) as exc:
            raise UsageError(f"{what}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}") from None
        if magic != NPY_MAGIC:
            raise UsageError(f"{what}: {'the file is empty' if not magic else 'not a .npy file'} "
                             "(save W with numpy.save)")
        w, _ = check_weights(w)
        return w, f"W from {args.weights}"
    angle = DEFAULT_ANGLE if args.angle is None else args.angle
    lam = tuple(args.eig) if args.eig is not None else CASES[args.case]
    name = f"case {args.case}, " if args.case else ""
    return two_unit(*lam, angle), f"{name}eigenvalues {lam[0]:g}, {lam[1]:g}, angle {angle:g} deg"


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
    _check_pattern_search(w.shape[0], args.exact_max_n)
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


# Above this many activation patterns the exhaustive search takes long enough to warn.
_WARN_PATTERNS = 2**16


def pattern_search_bytes(n: int) -> int:
    """Estimated peak memory of examining all 2^n activation patterns of n units: the list of
    supports (a tuple of about n/2 ints each) and a candidate piece per pattern."""
    return 2**n * (120 + 8 * n)


def _check_pattern_search(n: int, exact_max_n: int) -> None:
    """Refuse an exhaustive search that cannot fit; say what a long one costs."""
    if n > exact_max_n:
        return
    try:
        check_memory(pattern_search_bytes(n), f"examining all 2^{n} = {2**n} activation patterns")
    except UsageError as exc:
        raise UsageError(f"{exc}; --exact-max-n {n - 1} or less samples them instead") from None
    if 2**n > _WARN_PATTERNS:
        print(f"rnnlab fixed-points: examining all 2^{n} = {2**n} activation patterns (one linear solve "
              f"each; minutes or more); --exact-max-n {n - 1} samples them instead", file=sys.stderr)


def portrait_command(args) -> int:
    from rnnlab.dynamics.fixed_points import fixed_points
    from rnnlab.dynamics.relu_map import CASES, DEFAULT_ANGLE, two_unit

    check_figure(args.out, "--out")
    angle = DEFAULT_ANGLE if args.angle is None else args.angle
    if args.all:
        chosen = list(CASES.items())
    elif args.case:
        chosen = [(args.case, CASES[args.case])]
    else:
        chosen = [("custom", tuple(args.eig))]
    panels, records = [], []
    for name, (l1, l2) in chosen:
        w = two_unit(l1, l2, angle)
        panels.append((f"{name}: $\\lambda$ = ({l1:g}, {l2:g}), angle {angle:g}$^\\circ$", w))
        records.append({"case": name, "eigenvalues": [l1, l2], "angle_deg": angle, "W": w.tolist(),
                        "fixed_sets": [s.to_dict() for s in fixed_points(w)]})
    data = write_json(figure_data_path(args.out), {"command": sys.argv, "map": "h -> relu(W h)",
                                                   "panels": records})

    from rnnlab.dynamics.portrait import portrait_figure

    save_figure(portrait_figure(panels), args.out, data_path=data)
    print(f"wrote {data} and {args.out}")
    return 0


def _number_or_name(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def _init_options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--opt wants KEY=VALUE, got {pair!r}")
        options[key] = _number_or_name(value)
    return options


def propagation_bytes(n: int, T: int, lyapunov: int, n_in: int) -> int:
    """Estimated peak memory of one propagation trial (float64): a few N x N matrices (W, the
    Jacobian product and its SVD workspace), the per-step records (T x N singular values) and
    the inputs."""
    return 8 * (12 * n * n + 3 * T * n + T * (n_in + lyapunov + 8))


def propagate_command(args) -> int:
    if args.plot is not None:
        check_figure(args.plot, "--plot")
    options = _init_options(args.opt)
    if args.n >= 1 and args.T >= 1:
        check_memory(propagation_bytes(args.n, args.T, args.lyapunov, args.n_in),
                     f"propagation at n={args.n}, T={args.T}")

    import inspect

    import jax

    from rnnlab.dynamics import initializers
    from rnnlab.dynamics.propagation import propagate, propagation_figure

    accepted = set(inspect.signature(initializers.get(args.init)).parameters) - {"key", "n", "dtype"}
    unknown = set(options) - accepted
    if unknown:
        raise UsageError(f"initialiser {args.init!r} has no option {', '.join(sorted(unknown))}; "
                         f"its options: {', '.join(sorted(accepted)) or 'none'}")
    for key, value in options.items():  # every initialiser option is a number (scale, g)
        if isinstance(value, str):
            raise UsageError(f"--opt {key} wants a number, got {value!r}")
    result = propagate(
        jax.random.key(args.seed), args.init, args.n, args.T, trials=args.trials, n_in=args.n_in,
        alpha=_number_or_name(args.alpha), lyapunov=args.lyapunov, inputs=args.inputs,
        init_options=options, progress=progress.enabled(),
    )
    summary = result.to_dict()
    summary["config"]["seed"] = args.seed
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        print(flush=True)
    else:
        _print_propagation(args, options, summary)
    if args.plot is not None:
        data = write_json(figure_data_path(args.plot), {"command": sys.argv, **summary})
        save_figure(propagation_figure([result]), args.plot, data_path=data)
        if not args.json:
            print(f"wrote {data} and {args.plot}")
    return 0


def _print_propagation(args, options, summary) -> None:
    cfg = summary["config"]
    print(f"init {args.init}{' ' + str(options) if options else ''}, n {args.n}, T {args.T}, {args.trials} trials (seed "
          f"{args.seed}); {cfg['model']}; alpha {cfg['alpha']} = {cfg['alpha_value']:.4g}")
    show = lambda v: "-inf" if v is None else f"{v:.3f}"  # noqa: E731
    print(f"{'t':>6} {'log10||dh_t/dh_0||':>19} {'log10 sigma_min':>16} {'rank':>6} "
          f"{'log10 sens.':>12} {'zero':>5}")
    for row in summary["checkpoints"]:
        print(f"{row['t']:>6} {show(row['log10_norm']):>19} {show(row['log10_sigma_min_resolved']):>16} "
              f"{row['rank']:>6.1f} {show(row['log10_sensitivity']):>12} {row['zero_trials']:>3}/{args.trials}")
    print("(sigma_min: smallest resolved singular value; rank: how many are resolved; sens.: "
          "log10 ||dh_t/dx_1 d|| for a unit input direction d; medians over trials; zero: trials "
          "whose product is exactly 0)")
    print("largest Lyapunov exponents (per step, natural log): "
          + ", ".join(show(v) for v in summary["lyapunov"]))
    print(f"mean fraction of units on: {summary['active_fraction']:.3f}; ||h_T|| {summary['state_norm']:.4g}",
          flush=True)
