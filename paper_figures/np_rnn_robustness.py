"""np-RNN paper, robustness to the learning rate: success rate and median validation MSE vs learning rate per model (configs/np-rnn-robustness.toml).

The paper's thesis is that the np-RNN trains well over a wide range of hyperparameters where
the IRNN is sensitive. Each cell (task, T, model, optimiser, learning rate) is run at several
seeds and summarised over all of them (:mod:`rnnlab.training.selection`): the success rate
(seeds whose final validation MSE is below 10% of the empirical baseline of the validation
batch; a diverged seed fails) and the median over all seeds (a diverged seed counts as
infinite). Each model's rate is chosen on the validation median; the test batch then reports
the chosen cell only (``test_*`` columns, filled for chosen cells alone).

Rows: one per cell. Figure: per task, T and optimiser, success rate (left) and median
validation MSE with its range (right) against the learning rate, one curve per model, the
chosen rate ringed, the empirical validation baseline dashed. Full mode is 280 runs of
5 x 10^4 SGD steps (about 24 core-hours on the project's CPU); quick mode is 12 tiny runs.
"""

from __future__ import annotations

import math

from paper_figures._common import CONFIGS, batch_baseline, run_seed, run_sweep, save_figure, save_rows, sweep_parser
from rnnlab.training.selection import cells, select

NAME = "np_rnn_robustness"
CONFIG = CONFIGS / "np-rnn-robustness.toml"


def _cell(r: dict) -> tuple:
    return r["task"], r["T"], r["optimiser"] or "adam", r["model"], r["lr"]


def table_rows(results: list[dict]) -> list[dict]:
    """One row per cell: its validation summary over all seeds, whether its rate was chosen
    for its (task, T, optimiser, model), and for chosen cells the test summary."""
    val = cells(results, _cell, run_seed, "final_val_mse", lambda r: batch_baseline(r, "val"))
    test = cells(results, _cell, run_seed, "final_test_mse", lambda r: batch_baseline(r, "test"))
    chosen = set(select(val, choose=4).values())
    first = {}
    for r in results:
        first.setdefault(_cell(r), r)
    rows = []
    for key in sorted(val, key=lambda k: (k[0], k[1], k[2], k[3], k[4])):
        task, T, opt, model, lr = key
        v, r = val[key], first[key]
        row = dict(task=task, T=T, optimiser=opt, model=model, lr=lr, n=r["n"], seeds=v.seeds, diverged=v.diverged,
                   pending=v.pending, val_successes=v.successes, val_success_rate=v.success_rate,
                   val_mse_median=v.median, val_mse_min=v.low, val_mse_max=v.high, val_threshold=v.threshold,
                   val_baseline=batch_baseline(r, "val"), test_baseline=batch_baseline(r, "test"),
                   chosen=key in chosen)
        if key in chosen:
            t = test[key]
            row.update(test_successes=t.successes, test_success_rate=t.success_rate, test_mse_median=t.median,
                       test_mse_min=t.low, test_mse_max=t.high)
        rows.append(row)
    return rows


def _draw(ax_rate, ax_mse, rows: list[dict], colors: dict) -> None:
    lrs = sorted({r["lr"] for r in rows})
    finite = [r["val_mse_max"] for r in rows if math.isfinite(r["val_mse_max"])]
    top = max(finite + [r["val_baseline"] for r in rows]) * 3
    for model in sorted({r["model"] for r in rows}):
        mine = sorted((r for r in rows if r["model"] == model), key=lambda r: r["lr"])
        seeds = max(r["seeds"] for r in mine)
        label = f"{model} ({seeds} seed{'s' if seeds > 1 else ''})"
        x = [r["lr"] for r in mine]
        ax_rate.plot(x, [r["val_success_rate"] for r in mine], marker="o", color=colors[model], label=label)
        med = [r["val_mse_median"] if math.isfinite(r["val_mse_median"]) else math.nan for r in mine]
        lo = [r["val_mse_min"] if math.isfinite(r["val_mse_min"]) else math.nan for r in mine]
        hi = [min(r["val_mse_max"], top) for r in mine]
        ax_mse.plot(x, med, marker="o", color=colors[model], label=label)
        ax_mse.fill_between(x, lo, hi, color=colors[model], alpha=0.12, lw=0)
        # A median made infinite by diverged seeds: an x at the top of the panel.
        lost = [r["lr"] for r in mine if not math.isfinite(r["val_mse_median"])]
        ax_mse.plot(lost, [top] * len(lost), marker="x", ls="none", color=colors[model])
        for r in mine:
            if r["chosen"]:
                for ax, y in ((ax_rate, r["val_success_rate"]), (ax_mse, r["val_mse_median"])):
                    ax.plot([r["lr"]], [y], marker="o", ms=11, mfc="none", color=colors[model])
    ax_mse.axhline(rows[0]["val_baseline"], color="gray", ls="--", lw=1, label="baseline (this batch)")
    task, T, opt = rows[0]["task"], rows[0]["T"], rows[0]["optimiser"]
    name = opt.upper() if opt == "sgd" else opt.capitalize()
    ax_rate.set(xscale="log", xlabel="learning rate", ylabel="success rate (val MSE < 10% of baseline)",
                ylim=(-0.05, 1.05), title=f"{task} T = {T}, {name}: success rate", xticks=lrs)
    ax_mse.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="validation MSE (median, range)",
               title=f"{task} T = {T}, {name}: median over all seeds (x: infinite)", xticks=lrs)
    for ax in (ax_rate, ax_mse):
        ax.set_xticklabels([f"{v:g}" for v in lrs])
    ax_rate.legend(fontsize=7)
    ax_mse.legend(fontsize=7)


def main(argv=None) -> int:
    args = sweep_parser(NAME, __doc__.splitlines()[0]).parse_args(argv)
    runs, rc, results, meta = run_sweep(NAME, CONFIG, args)
    rows = table_rows(results)
    meta["rule"] = ("each model's learning rate chosen on the median final validation MSE over all seeds "
                    "(a diverged seed counts as infinite); test columns only for the chosen cells; "
                    "success: final MSE below 10% of the empirical baseline of the same batch")
    save_rows(args.out, NAME, rows, meta)
    if not rows:
        print(f"python -m paper_figures.{NAME}: no finished run to draw yet")
        return rc or 1

    import matplotlib.pyplot as plt

    panels = sorted({(r["task"], r["T"], r["optimiser"]) for r in rows})
    models = sorted({r["model"] for r in rows})
    colors = {m: f"C{k % 10}" for k, m in enumerate(models)}
    fig, axes = plt.subplots(len(panels), 2, figsize=(11, 3.8 * len(panels)), squeeze=False, layout="constrained")
    for (ax_rate, ax_mse), panel in zip(axes, panels):
        _draw(ax_rate, ax_mse, [r for r in rows if (r["task"], r["T"], r["optimiser"]) == panel], colors)
    save_figure(fig, args.out, NAME)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
