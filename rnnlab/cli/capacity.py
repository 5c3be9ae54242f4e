"""``rnnlab capacity``: measure (or fit) how much of U(N) each parameterization reaches."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from rnnlab.cli import progress
from rnnlab.errors import UsageError
from rnnlab.memory import check_memory
from rnnlab.cli.outputs import check_figure, check_folder, figure_data_path, save_figure, write_json


def parse_sizes(text: str) -> list[int]:
    """``"8"``, ``"2:16"`` (inclusive), ``"2:16:2"`` or ``"4,8,16"`` -> sorted sizes >= 1."""
    sizes: set[int] = set()
    for part in text.split(","):
        fields = part.strip().split(":")
        try:
            nums = [int(f) for f in fields]
        except ValueError:
            raise UsageError(f"--n: cannot read {part!r}; use N, A:B, A:B:STEP or a comma list") from None
        if len(nums) == 1:
            sizes.add(nums[0])
        elif len(nums) in (2, 3):
            step = nums[2] if len(nums) == 3 else 1
            if step < 1 or nums[1] < nums[0]:
                raise UsageError(f"--n: malformed range {part!r} (need A <= B and STEP >= 1)")
            sizes.update(range(nums[0], nums[1] + 1, step))
        else:
            raise UsageError(f"--n: malformed range {part!r}")
    bad = sorted(s for s in sizes if s < 1)
    if bad:
        raise UsageError(f"--n: sizes must be >= 1, got {bad[0]}")
    return sorted(sizes)


ACTIONS = ("rank", "fit", "atlas")

#: The most Adam steps ``fit`` takes: its step counter is a JAX int32 (as in
#: :data:`rnnlab.capacity.fit.MAX_STEPS`, repeated here so that the flag is checked before JAX loads).
MAX_FIT_STEPS = 2**31 - 1

#: What each action does: its --help description (``rnnlab capacity fit --help``).
DESCRIPTIONS = {
    "rank": "Measure the Jacobian rank of theta -> W(theta) at random points (float64, jax.jacfwd) and "
    "compare it with the dimension of the map's manifold (N^2 on U(N), N(N-1)/2 on O(N)); explain any "
    "deficit from the null space. --exact adds a certificate: an exact rank at a rational point (a proven "
    "lower bound) against P minus the known redundancies (an upper bound).",
    "fit": "Fit Haar-random targets on each map's own manifold (U(N) for a complex map; for a real map, "
    "the component of O(N) its image lies in) by Adam from several random starts, and report the best "
    "residual ||W - U||_F^2 / N: about 0 where the map reaches the target, bounded away from 0 where its "
    "image has measure zero.",
    "atlas": "Every family over --n (default 2:32): the measured rank, the rank law it follows and exact "
    "certificates up to --certify-up-to, written as atlas.json, atlas.md and atlas.png in --out.",
}


class _ActionHelp(argparse.Action):
    """``-h``: the help of the action given before it (``rnnlab capacity fit --help``: fit's
    description and only the options fit takes); without one, the help of the whole command."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        action = getattr(namespace, "action", None)
        if action is None:
            parser.print_help()
            parser.exit()
        view = argparse.ArgumentParser(prog=f"{parser.prog} {action}", description=DESCRIPTIONS[action],
                                       add_help=False)
        for a in parser._actions:
            if a.option_strings and action in getattr(a, "actions", ACTIONS):
                view._add_action(a)
        view.print_help()
        parser.exit()


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "capacity", add_help=False,
        help="Jacobian rank of each unitary or orthogonal parameterization vs its manifold's dimension",
        description="How much of its manifold (U(N), or O(N) for a real map) each parameterization reaches. "
        + " ".join(f"{a}: {DESCRIPTIONS[a]}" for a in ACTIONS)
        + " 'rnnlab capacity ACTION --help' lists the options of one action.",
    )
    p.add_argument("-h", "--help", action=_ActionHelp, help="show this help (after an action: that action's) and exit")
    p.add_argument("action", nargs="?", choices=ACTIONS, default=None,
                   help="rank (default): Jacobian rank; fit: fit Haar-random targets; atlas: every "
                   "family over --n (default 2:32) with rank laws and certificates, table + figure in --out")

    def option(actions, *flags, **kwargs):
        p.add_argument(*flags, **kwargs).actions = actions  # read by _ActionHelp and _check_applies

    every, rank_fit = ACTIONS, ("rank", "fit")
    option(every, "--n", default="8", help="size(s): N, A:B (inclusive), A:B:STEP or a comma list "
           "(default 8; atlas: 2:32)")
    option(every, "--param", action="append", metavar="NAME",
           help="parameterization (repeatable; default: all registered), or a map of your own as "
           "package.module:function (importable from the current folder or PYTHONPATH), where function(n) "
           "returns (matrix, sample): matrix(theta) -> W (n, n) unitary or real orthogonal, sample(key) -> theta (P,)")
    option(rank_fit, "--layers", type=int, help="layers for restricted-stack/givens/householder "
           "(default: 2 / max(N, 2) / N)")
    option(every, "--seeds", type=int, default=3,
           help="number of seeds (as in every command): random points per size (rank; atlas uses at most "
           "2) or random targets per size (fit) (default 3)")
    option(("rank",), "--exact", action="store_true",
           help="also certify the rank: an exact rank at a rational point (a proven lower bound) against "
           "P minus the known redundancies (an upper bound)")
    option(("rank",), "--exact-method", choices=["modular", "sympy", "both"], default="modular",
           help="modular (default): rank over F_p with python-flint, fast to N = 64 and beyond; sympy: over "
           "Q(zeta_M), minutes beyond N = 6; both: the two, as a cross-check")
    option(("atlas",), "--out", type=Path, default=Path("atlas"), help="output folder (default ./atlas)")
    option(("atlas",), "--certify-up-to", type=int, default=16, metavar="N",
           help="certify exactly at N <= this (default 16)")
    option(("fit",), "--starts", type=int, default=4, help="random starts per target (default 4)")
    option(("fit",), "--steps", type=int, default=2000, help="Adam steps (default 2000)")
    option(rank_fit, "--json", action="store_true", help="print a JSON list of records on stdout, nothing else")
    option(rank_fit, "--plot", type=Path, metavar="FILE", help="draw rank (or residual) vs N to FILE "
           "(.png/.pdf); the data goes to FILE with suffix .json first")
    p.set_defaults(func=capacity_command, capacity_options=[a for a in p._actions if hasattr(a, "actions")])


def _check_applies(args, parser_actions) -> None:
    """Refuse an option the chosen action does not take (``fit --exact`` was ignored silently)."""
    for a in parser_actions:
        if getattr(a, "actions", None) and args.action not in a.actions and getattr(args, a.dest) != a.default:
            raise UsageError(f"{a.option_strings[0]} applies to {' and '.join(a.actions)}, not {args.action}")


def _current_folder_importable() -> None:
    """Let ``--param package.module:function`` import from the current folder, as ``python -m``
    does (the ``rnnlab`` script puts its own folder on the path instead). It goes after the
    installed packages, so a folder here never hides one of them."""
    here = os.getcwd()
    if not any(os.path.abspath(entry or os.curdir) == here for entry in sys.path):
        sys.path.append(here)


def _selected(args) -> list[str]:
    from rnnlab.capacity.parameterizations import get, names, takes_layers

    chosen = args.param or names()
    for name in chosen:
        get(name)
    if args.layers is not None:
        if args.layers < 1:
            raise UsageError(f"--layers must be >= 1, got {args.layers}")
        if args.param and not any(takes_layers(n) for n in chosen):
            raise UsageError(f"--layers applies to {', '.join(n for n in names() if takes_layers(n))}")
    return chosen


def capacity_command(args) -> int:
    args.action = args.action or "rank"
    _check_applies(args, args.capacity_options)
    if args.action == "atlas" and args.n == "8":
        args.n = "2:32"
    sizes = parse_sizes(args.n)
    if args.seeds < 1:
        raise UsageError("--seeds must be >= 1")
    if args.action == "fit" and (args.starts < 1 or args.steps < 1):
        raise UsageError("--starts and --steps must be >= 1")
    if args.action == "fit" and args.steps > MAX_FIT_STEPS:
        raise UsageError(f"--steps must be at most {MAX_FIT_STEPS} (JAX counts Adam's steps in int32), "
                         f"got {args.steps}")
    if args.plot is not None:
        check_figure(args.plot, "--plot")
    if any(":" in name for name in args.param or ()):
        _current_folder_importable()
    chosen = _selected(args)  # the registry of maps loads JAX: the flags above are checked first
    if args.action == "atlas":
        check_folder(args.out, "--out")
        return _run_atlas(args)
    if args.exact and args.action == "rank":
        _check_exact(args, sizes, chosen)
    _check_memory(args, sizes, chosen)
    return _run_fit(args, sizes, chosen) if args.action == "fit" else _run_rank(args, sizes, chosen)


def fit_bytes(structure, starts: int) -> int:
    """Estimated peak memory of :func:`rnnlab.capacity.fit.fit_target` for one map.

    Per start, reverse mode keeps one complex64 N x N intermediate per factor, and the
    matrix functions (expm, the Cayley solve) a few more; Adam keeps three copies of theta.
    """
    n = structure[0].n
    params = sum(f.size for f in structure)
    return starts * (8 * n * n * (len(structure) + 24) + 4 * 6 * params)


def _certificate_only(args, n: int, params: int) -> bool:
    """``--exact`` where the float64 rank would take the Gram path (minutes, gigabytes): the
    certificate alone is computed, its F_p sketch never forms the Jacobian."""
    from rnnlab.capacity.jacobian import uses_gram

    return args.exact and args.action == "rank" and args.exact_method == "modular" and uses_gram(n, params)


def _check_exact(args, sizes, chosen) -> None:
    """Refuse ``--exact`` on a map of the user's own, or at a size whose F_p sketch cannot fit
    in memory or time, before anything is computed."""
    from rnnlab.capacity.certificate import USER_MAP_REASON
    from rnnlab.capacity.modular import check_sketch_fits
    from rnnlab.capacity.parameterizations import get

    for name in chosen:
        if ":" in name:
            raise UsageError(f"--exact: {name}: {USER_MAP_REASON}; without --exact its float64 rank is measured")
    if args.exact_method == "sympy":
        return
    for name in chosen:
        for n in sizes:
            check_sketch_fits(name, n, get(name).structure(n, args.layers))


def _check_memory(args, sizes, chosen) -> None:
    """Refuse a size that cannot fit before anything of size N^2 is allocated (W0 included)."""
    from rnnlab.capacity.jacobian import jacobian_bytes_for
    from rnnlab.capacity.parameterizations import get

    for name in chosen:
        for n in sizes:
            structure = get(name).structure(n, args.layers)
            params = sum(f.size for f in structure)
            if _certificate_only(args, n, params):
                continue  # checked by _check_exact
            if args.action == "fit":
                check_memory(fit_bytes(structure, args.starts), f"fitting {name} at n={n} ({args.starts} starts)")
            else:
                check_memory(jacobian_bytes_for(n, params),
                             f"{name} at n={n} (a {2 * n * n} x {params} Jacobian and its workspace)")


def _run_rank(args, sizes, chosen) -> int:
    from rnnlab.capacity.jacobian import measure

    records = []
    with progress.bar(total=len(sizes) * len(chosen) * args.seeds, desc="capacity rank", unit="seed") as bar:
        for p in _jobs_lazily(args, sizes, chosen):
            bar.set_postfix_str(f"{p.name} n={p.n}")
            if _certificate_only(args, p.n, p.num_params):
                from rnnlab.capacity.certificate import certified_record

                bar.set_postfix_str(f"{p.name} n={p.n} exact (certificate only)")
                try:
                    records.append(certified_record(p))
                except ValueError as e:
                    raise UsageError(f"--exact: {e}") from None
                bar.update(args.seeds)
                continue
            rec = measure(p, seeds=tuple(range(args.seeds)),
                          on_seed=_counter(bar, progress.Estimate(args.seeds, f"{p.name} n={p.n}", "seed"))).as_record()
            if args.exact:
                from rnnlab.capacity.certificate import certify

                bar.set_postfix_str(f"{p.name} n={p.n} exact")
                try:
                    rec.update(certify(p, rec, method=args.exact_method))
                except ValueError as e:
                    raise UsageError(f"--exact: {e}") from None
            records.append(rec)
    _emit(args, records, _rank_table, _plot_rank)
    return 0


def _counter(bar, estimate):
    """A hook for each item done: one step of ``bar``, and the estimate's line once it has one."""

    def done(*_):
        bar.update()
        line = estimate.done()
        if line is not None:
            progress.say(line)

    return done


def _jobs_lazily(args, sizes, chosen):
    """The maps one at a time, so that only one base point W0 is held at once."""
    from rnnlab.capacity.parameterizations import get

    for name in chosen:
        for n in sizes:
            yield get(name)(n, layers=args.layers)


def _run_fit(args, sizes, chosen) -> int:
    from rnnlab.capacity.fit import fit_target

    records = []
    with progress.bar(total=len(sizes) * len(chosen) * args.seeds, desc="capacity fit", unit="target") as bar:
        for p in _jobs_lazily(args, sizes, chosen):
            bar.set_postfix_str(f"{p.name} n={p.n}")
            fits = []
            done = _counter(bar, progress.Estimate(args.seeds, f"{p.name} n={p.n}", "target"))
            for s in range(args.seeds):
                fits.append(fit_target(p, seed=s, starts=args.starts, steps=args.steps))
                done()
            rec = fits[0].as_record()
            rec["seeds"] = list(range(args.seeds))
            rec["best_residual"] = max(f.best_residual for f in fits)  # worst target's best fit
            rec["residuals"] = [f.best_residual for f in fits]
            rec["manifold_dim"] = p.manifold_dim
            rec["rank"] = None
            records.append(rec)
    _emit(args, records, _fit_table, _plot_fit)
    return 0


def _emit(args, records, table, figure) -> None:
    """Print, then save the data, then draw: a picture that fails loses nothing."""
    if args.json:
        print(json.dumps(records), flush=True)
    else:
        print(table(records), flush=True)
    if args.plot is None:
        return
    data = write_json(figure_data_path(args.plot), {"command": sys.argv, "records": records})
    save_figure(figure(records), args.plot, data_path=data)
    if not args.json:
        print(f"\nwrote {data} and {args.plot}")


def _fmt_gap(g) -> str:
    return "inf" if g is None else f"{g:.1e}"


def _rank_table(records) -> str:
    head = ["parameterization", "N", "layers", "P", "rank", "dim", "full?", "gap"]
    exact = any("exact_rank" in r for r in records)
    if exact:
        head.insert(5, "exact")
    rows = []
    for r in records:
        row = [r["parameterization"], r["n"], r["layers"] or "-", r["params"], _dash(r["rank"]), r["manifold_dim"],
               {True: "yes", False: "NO", None: "?"}[r["full_capacity"]],
               "-" if "rank_source" in r else _fmt_gap(r["gap"])]
        if exact:
            row.insert(5, r.get("exact_rank", "-"))
        rows.append([str(x) for x in row])
    out = [_table(head, rows)]
    deficient = [r for r in records if r["full_capacity"] is False]
    if deficient:
        out.append("\nWhy the rank falls short of dim (N^2 on U(N), N(N-1)/2 on O(N); null-space directions of the Jacobian):")
        for r in deficient:
            nullity = r["params"] - r["rank"]
            out.append(f"  {r['parameterization']} N={r['n']}: P - rank = {r['params']} - {r['rank']} = {nullity}")
            for red in r["redundant_directions"]:
                out.append(f"    {red['count']:3d}  {red['reason']} ({', '.join(red['where'])})")
            if r["unexplained_null_directions"]:
                load = ", ".join(f"{k} {v:.0%}" for k, v in r["unexplained_loadings"].items())
                out.append(f"    {r['unexplained_null_directions']:3d}  not explained by a known symmetry; weight on: {load}")
    out += _certificate_lines(records)
    out += _restricted_note(records)
    return "\n".join(out)


def _dash(x) -> str:
    return "-" if x is None else str(x)


def _certificate_lines(records) -> list[str]:
    out = []
    for r in records:
        if "exact_rank" not in r:
            continue
        head = f"{r['parameterization']} N={r['n']}:"
        if r["certified"]:
            out.append(f"{head} certified rank {r['exact_rank']}")
        else:
            out.append(f"{head} rank between {r['exact_rank']} and {r['upper_bound']} (not certified)")
        out.append(f"    lower bound {r['exact_rank']}: {r['exact_method']}")
        out.append(f"    upper bound {r['upper_bound']}: min(dim {r['manifold_dim']}, P {r['params']} - "
                   f"{r['known_redundancies']} known redundancies)")
        for skip in r.get("skipped_primes", []):
            out.append(f"    note: F_{skip['prime']} skipped ({skip['why']}); the next prime was used")
        if "rank_source" in r:
            out.append("    float64 rank not measured at this size (it would take the Gram path); "
                       "drop --exact for it")
        if "modular_rank_at_sympy_point" in r:
            same = r["sympy_rank"] == r["modular_rank_at_sympy_point"]
            out.append(f"    cross-check at one small rational point: sympy over Q(zeta_M) {r['sympy_rank']}, "
                       f"F_p {r['modular_rank_at_sympy_point']} ({'agree' if same else 'DISAGREE'})")
    return ["\nExact certificates:"] + out if out else []


def _run_atlas(args) -> int:
    from rnnlab.capacity.atlas import markdown_table, plot_atlas, run_atlas, summary_rows

    sizes = parse_sizes(args.n)
    records = run_atlas(sizes, families=args.param, seeds=tuple(range(min(args.seeds, 2))),
                        certify_up_to=args.certify_up_to)
    rows = summary_rows(records)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "atlas.json").write_text(json.dumps({"command": sys.argv, "sizes": sizes, "records": records,
                                                     "summary": rows}, indent=2))
    table = markdown_table(rows)
    (args.out / "atlas.md").write_text(table + "\n")
    save_figure(plot_atlas(records), args.out / "atlas.png", data_path=args.out / "atlas.json")
    print(table)
    print(f"\nwrote {args.out / 'atlas.json'}, {args.out / 'atlas.md'} and {args.out / 'atlas.png'}")
    return 0


def _restricted_note(records) -> list[str]:
    """Compare the measured failure point of `restricted` with the paper's 7N < N^2 bound.

    Only rank-deficient sizes (rank < N^2) feed the note: at N <= 5 the map has more
    parameters than U(N) has dimensions, so P - rank there counts surplus, not waste."""
    measured = [r for r in records if r["parameterization"] == "restricted" and r["full_capacity"] is False]
    if not measured:
        return []
    r = max(measured, key=lambda r: r["n"])
    lost = r["params"] - r["rank"]
    # With P = 7N and `lost` wasted directions, rank = 7N - lost < N^2 beyond the larger
    # root of N^2 - 7N + lost = 0.
    first = math.floor((7 + math.sqrt(max(49 - 4 * lost, 0))) / 2) + 1
    seen = sorted(x["n"] for x in records if x["parameterization"] == "restricted" and x["full_capacity"] is False)
    full = [x["n"] for x in records if x["parameterization"] == "restricted" and x["full_capacity"] is True
            and x["n"] < seen[0]]
    # "First" only where this run also measured a smaller size at which it is full.
    seen_txt = (f" In this run it is full up to N = {max(full)} and first falls short at N = {seen[0]}." if full
                else f" In this run it falls short at every size measured ({', '.join(map(str, seen))}).")
    return [
        f"\nNote: restricted wastes {lost} of its 7N parameters at N={r['n']} (listed above); if that holds "
        f"at every N, its rank 7N - {lost} is below N^2 from N = {first} on, not from N = 8 as the paper's "
        f"7N < N^2 bound says.{seen_txt} See docs/capacity.md."
    ]


def _fit_table(records) -> str:
    head = ["parameterization", "N", "layers", "P", "dim", "target on", "best residual", "starts", "steps"]
    rows = [[r["parameterization"], r["n"], r["layers"] or "-", r["params"], r["manifold_dim"], r["target"],
             f"{r['best_residual']:.2e}", r["starts"], r["steps"]] for r in records]
    return _table(head, [[str(x) for x in row] for row in rows]) + (
        "\n\nbest residual = min over starts of ||W - U||_F^2 / N (worst over targets), U Haar-random on the "
        "map's manifold; ~0 means the target was reached."
    )


def _table(head, rows) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths))
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line, sep] + ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows])


def _plot_rank(records):
    from rnnlab.capacity.plots import plot_rank

    return plot_rank(records)


def _plot_fit(records):
    from rnnlab.capacity.plots import plot_fit

    return plot_fit(records)
