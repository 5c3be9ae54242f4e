"""np-RNN paper, addition / multiplication: test MSE vs T for each model (sweep configs/np-rnn-addition.toml).

Rows: one per task, T and model: the final test MSE (1000 fixed sequences in full mode,
256 in quick mode; median, min and max over the seeds that finished, and how many diverged)
and the input-blind baseline. Full mode is 144 runs of 2 x 10^4 steps (2 tasks x 4 T x 6
models x 3 seeds); on the project's 2-core CPU at T = 300 a ReLU / tanh run took 3-5 min and
an LSTM run 13 min, about 50 min for one column of 18 runs with two at a time (``--where
task=addition --where T=300`` through ``rnnlab sweep``). Quick mode is 6 runs (T = 10, 20;
N = 16; 300 steps), about 1-2 minutes.
"""

from __future__ import annotations

import numpy as np

from paper_figures._common import CONFIGS, run_sweep, save_figure, save_rows, sweep_parser

NAME = "np_rnn_addition"
CONFIG = CONFIGS / "np-rnn-addition.toml"


def main(argv=None) -> int:
    args = sweep_parser(NAME, __doc__.splitlines()[0]).parse_args(argv)
    runs, rc, results, meta = run_sweep(NAME, CONFIG, args)
    table: dict[tuple, list] = {}
    for r in results:
        if r.get("final_test_mse") is not None:
            table.setdefault((r["task"], r["T"], r["model"], r["n"], r["num_params"], r["baseline"]), []).append(
                r["final_test_mse"])
    # Median and spread over the seeds that finished; seeds stopped by a non-finite loss (IRNN
    # at long T) are counted per model and T, and listed without an MSE.
    stopped: dict[tuple, int] = {}
    for r in results:
        if r.get("status", "complete") != "complete":
            stopped[(r["task"], r["T"], r["model"])] = stopped.get((r["task"], r["T"], r["model"]), 0) + 1
    rows = [dict(task=t, T=T, model=m, n=n, params=k, test_mse=float(np.median(v)), test_mse_min=min(v),
                 test_mse_max=max(v), seeds=len(v), diverged=stopped.get((t, T, m), 0), baseline=b,
                 status="complete") for (t, T, m, n, k, b), v in sorted(table.items())]
    rows += [dict(task=r["task"], T=r["T"], model=r["model"], n=r["n"], seed=r.get("seed"), status=r["status"])
             for r in results if r.get("status", "complete") != "complete"]
    save_rows(args.out, NAME, rows, meta)

    import matplotlib.pyplot as plt

    task_names = sorted({r["task"] for r in rows})
    models = sorted({r["model"] for r in rows})
    colors = {m: f"C{k % 10}" for k, m in enumerate(models)}
    fig, axes = plt.subplots(1, len(task_names), figsize=(5 * len(task_names), 3.6), squeeze=False)
    for ax, task in zip(axes[0], task_names):
        sub = [r for r in rows if r["task"] == task and r["status"] == "complete"]
        task_Ts = sorted({r["T"] for r in rows if r["task"] == task})
        for model in sorted({r["model"] for r in sub}):
            pts = {r["T"]: (r["test_mse"], r["test_mse_min"], r["test_mse_max"]) for r in sub if r["model"] == model}
            # NaN at a T with no finished seed breaks the line there instead of bridging it.
            Ts = np.array([T for T in task_Ts if min(pts) <= T <= max(pts)])
            med, lo, hi = np.array([pts.get(T, (np.nan,) * 3) for T in Ts]).T
            ax.errorbar(Ts, med, yerr=[med - lo, hi - med], marker="o", capsize=3, color=colors[model],
                        label=f"{model} (median, min-max)")
            # A point where seeds diverged is drawn from the survivors only: say so beside it.
            for r in sub:
                if r["model"] == model and r["diverged"]:
                    ax.annotate(f"{r['diverged']} of {r['seeds'] + r['diverged']} diverged", (r["T"], r["test_mse"]),
                                xytext=(-5, 3), textcoords="offset points", fontsize=6, ha="right",
                                color=colors[model])
        # A model whose every seed diverged at some T has no MSE there: an x above the baseline.
        finished = {(r["T"], r["model"]) for r in sub}
        lost = {(T, m): count for (t, T, m), count in stopped.items() if t == task and (T, m) not in finished}
        top = max([r["baseline"] for r in sub] + [r["test_mse_max"] for r in sub] + [1e-3])
        for (T, model), count in sorted(lost.items()):
            y = top * 2.0 * 1.5 ** (sorted(m for t, m in lost if t == T).index(model))
            ax.plot([T], [y], marker="x", ls="none", color=colors[model], markersize=7)
            left = T == task_Ts[0]  # the text goes inward
            ax.annotate(f"{model}: all {count} diverged", (T, y), xytext=(6 if left else -6, -2),
                        textcoords="offset points", fontsize=6, ha="left" if left else "right", color=colors[model])
        if sub:
            ax.axhline(sub[0]["baseline"], color="gray", ls="--", label="baseline")
        ax.set(xlabel="T", ylabel="test MSE", title=task, yscale="log", xticks=task_Ts)
        ax.legend(fontsize=7)
    save_figure(fig, args.out, NAME)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
