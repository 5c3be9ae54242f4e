"""Our figure: best residual of fitting a Haar-random unitary vs N, per parameterization."""

from __future__ import annotations

from rnnlab.capacity import fit_target, get, names
from paper_figures._common import parser, save_figure, save_rows


def main(argv=None) -> int:
    args = parser("capacity_fit", __doc__).parse_args(argv)
    sizes = [2, 4, 6, 8] if args.quick else [2, 4, 6, 8, 12, 16, 24, 32]
    steps = 800 if args.quick else 3000
    rows = []
    for name in names():
        for n in sizes:
            r = fit_target(get(name)(n), seed=0, starts=2 if args.quick else 4, steps=steps)
            rows.append(r.as_record() | {"manifold_dim": n * n})
    save_rows(args.out, "capacity_fit", rows, {"sizes": sizes, "steps": steps, "quick": args.quick})
    from rnnlab.capacity.plots import plot_fit

    save_figure(plot_fit(rows), args.out, "capacity_fit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
