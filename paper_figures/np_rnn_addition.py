"""np-RNN paper, addition / multiplication: test MSE vs T for each model (sweep configs/np-rnn-addition.toml).

Rows: one per task, T and model: the final test MSE (1000 fixed sequences in full mode,
256 in quick mode; mean over seeds) and the input-blind baseline. Full mode is 48 runs of
2 x 10^4 steps (about 1-6 h each on the 2-core CPU at T = 150-400; much less on a GPU);
quick mode is 6 runs (T = 10, 20; N = 16; 300 steps), about 1-2 minutes.
"""

from __future__ import annotations

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
    rows = [dict(task=t, T=T, model=m, n=n, params=k, test_mse=sum(v) / len(v), seeds=len(v), baseline=b,
                 status="complete") for (t, T, m, n, k, b), v in sorted(table.items())]
    # Points stopped by a non-finite loss (IRNN at long T) stay in the table, without an MSE.
    rows += [dict(task=r["task"], T=r["T"], model=r["model"], n=r["n"], status=r["status"])
             for r in results if r.get("status", "complete") != "complete"]
    save_rows(args.out, NAME, rows, meta)

    import matplotlib.pyplot as plt

    task_names = sorted({r["task"] for r in rows})
    fig, axes = plt.subplots(1, len(task_names), figsize=(5 * len(task_names), 3.6), squeeze=False)
    for ax, task in zip(axes[0], task_names):
        sub = [r for r in rows if r["task"] == task and r["status"] == "complete"]
        for model in sorted({r["model"] for r in sub}):
            pts = sorted((r["T"], r["test_mse"]) for r in sub if r["model"] == model)
            ax.plot(*zip(*pts), marker="o", label=model)
        if sub:
            ax.axhline(sub[0]["baseline"], color="gray", ls="--", label="baseline")
        ax.set(xlabel="T", ylabel="test MSE", title=task, yscale="log")
        ax.legend(fontsize=7)
    save_figure(fig, args.out, NAME)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
