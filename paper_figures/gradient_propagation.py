"""Gradient propagation at initialisation: ||dh_t/dh_0||, Lyapunov exponents and input
sensitivity for each recurrent initialiser and size.

Rows: one per initialiser, size and checkpoint t (means over trials).
"""

from __future__ import annotations

from paper_figures._common import parser, save_figure, save_rows

NAME = "gradient_propagation"
INITS = ("identity", "np", "orthogonal", "gaussian")


def main(argv=None) -> int:
    args = parser(NAME, __doc__.splitlines()[0]).parse_args(argv)
    import jax
    from tqdm import tqdm

    from rnnlab.dynamics.propagation import propagate, propagation_figure

    sizes, T, trials = ((16, 64), 200, 2) if args.quick else ((25, 100, 400), 1000, 4)
    rows, results = [], []
    for init in tqdm(INITS, desc=NAME, unit="init"):
        for n in sizes:
            r = propagate(jax.random.key(n), init, n, T, trials=trials)
            results.append(r)
            summary = r.to_dict()
            for row in summary["checkpoints"]:
                rows.append(dict(init=init, n=n, t=row["t"], log10_norm=row["log10_norm"],
                                 rank=row["rank"], log10_sensitivity=row["log10_sensitivity"],
                                 lyapunov_max=summary["lyapunov"][0],
                                 active_fraction=summary["active_fraction"]))
    save_rows(args.out, NAME, rows, dict(inits=INITS, sizes=sizes, T=T, trials=trials,
                                         config=results[0].config | {"init": "each", "n": "each"}))
    largest = [r for r in results if r.n == max(sizes)]
    save_figure(propagation_figure(largest), args.out, NAME)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
