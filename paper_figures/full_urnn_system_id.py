"""Full-capacity uRNN paper, system identification: test MSE vs N, full vs restricted target (configs/full-urnn-system-id.toml).

Rows: one per learner (full-urnn: Cayley step on U(N); restricted-urnn: 7N angles), target
(full: Haar W; restricted: the Arjovsky product) and N: the final test MSE (256 fixed
sequences) of each seed, their minimum and median. Full mode is 24 runs of 4 vmapped seeds x
5000 steps, N up to 128 (29 min on the 2-core CPU beside two other jobs); quick mode N = 4,
16, 2 seeds, 400 steps, about 2 minutes. The full run's record is results/full_urnn_system_id.
"""

from __future__ import annotations

import statistics
from paper_figures._common import CONFIGS, run_sweep, save_figure, save_rows, sweep_parser

NAME = "full_urnn_system_id"
CONFIG = CONFIGS / "full-urnn-system-id.toml"


def main(argv=None) -> int:
    args = sweep_parser(NAME, __doc__.splitlines()[0]).parse_args(argv)
    runs, rc, results, meta = run_sweep(NAME, CONFIG, args)
    table: dict[tuple, list] = {}
    for r in results:
        if r.get("final_test_mse") is not None:
            table.setdefault((r["model"], r["target"], r["n"], r["num_params"]), []).append(r["final_test_mse"])
    rows = [dict(learner=m, target=t, n=n, params=k, test_mse_min=min(v), test_mse_median=statistics.median(v),
                 test_mse_seeds=" ".join(f"{x:.3g}" for x in v), n_squared=n * n, seven_n=7 * n)
            for (m, t, n, k), v in sorted(table.items())]
    save_rows(args.out, NAME, rows, meta)

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for learner, color in (("full-urnn", "C0"), ("restricted-urnn", "C1")):
        for target, ls in (("full", "-"), ("restricted", "--")):
            sub = sorted((r["n"], r["test_mse_min"], r["test_mse_median"]) for r in rows
                         if r["learner"] == learner and r["target"] == target)
            if sub:
                # Seeds are bimodal (exact fit or stuck), so the best seed is drawn, the median faintly.
                ax.plot([s[0] for s in sub], [s[1] for s in sub], ls=ls, color=color, marker="o",
                        label=f"{learner} on {target} target")
                ax.plot([s[0] for s in sub], [s[2] for s in sub], ls=ls, color=color, alpha=0.3, lw=1)
    ax.set(xlabel="N", ylabel="test MSE (best seed; faint: median)", xscale="log", yscale="log",
           title="system identification")
    from rnnlab.plotting import integer_ticks

    integer_ticks(ax, [r["n"] for r in rows])
    ax.legend(fontsize=7)
    save_figure(fig, args.out, NAME)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
