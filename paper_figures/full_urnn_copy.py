"""Full-capacity uRNN paper, copy memory: cross-entropy curves vs the baseline (configs/full-urnn-copy.toml).

Rows: one per model, T and logged step: the training cross-entropy of that step's batch,
the test cross-entropy where evaluated (256 fixed sequences), and the baseline
10 log 8 / (T + 20). The figure draws the test cross-entropy (markers) with the training
batches' faint behind it. Full mode: LSTM N=68, restricted uRNN N=470, full uRNN N=128 at
T = 1000, 2000, 10^4 steps each, the full uRNN's W by the plain Cayley step at lr 5e-4, half
the authors' 1e-3 (their code's gradient of W is about half the true one, docs/training.md) (measured on the shared 2-core CPU: full uRNN 109 min at
T = 1000 and 98 min at T = 2000, LSTM 61 min at T = 1000; the restricted uRNN 4.3 h at
T = 1000 and 6.8 h at T = 2000, beside another job).
Quick mode: T = 20, 150 steps, about 1-2 minutes. ``--from results/full_urnn_copy`` redraws
the committed full-size record.
"""

from __future__ import annotations

from paper_figures._common import CONFIGS, run_sweep, save_figure, save_rows, sweep_parser

NAME = "full_urnn_copy"
CONFIG = CONFIGS / "full-urnn-copy.toml"


def main(argv=None) -> int:
    args = sweep_parser(NAME, __doc__.splitlines()[0]).parse_args(argv)
    from rnnlab.training import sweep

    runs, rc, results, meta = run_sweep(NAME, CONFIG, args)
    rows = []
    for r in results:
        if r.get("final_step") is None or r["seed"] != r["final_seed"]:
            continue
        test = {c["step"]: c["test_xent"] for c in sweep.curves(runs, r["point"], ("test_xent",))}
        for c in sweep.curves(runs, r["point"], ("xent",)):
            rows.append(dict(model=r["model"], n=r["n"], params=r["num_params"], T=r["T"], step=c["step"],
                             xent=c["xent"], test_xent=test.get(c["step"]), baseline=r["baseline"]))
    save_rows(args.out, NAME, rows, meta)

    import matplotlib.pyplot as plt

    Ts = sorted({r["T"] for r in rows})
    fig, axes = plt.subplots(1, len(Ts), figsize=(5 * len(Ts), 3.6), squeeze=False)
    for ax, T in zip(axes[0], Ts):
        sub = [r for r in rows if r["T"] == T]
        for model in sorted({r["model"] for r in sub}):
            n = next(r["n"] for r in sub if r["model"] == model)
            train = [(r["step"], r["xent"]) for r in sub if r["model"] == model]
            test = [(r["step"], r["test_xent"]) for r in sub if r["model"] == model and r["test_xent"] is not None]
            line, = ax.plot(*zip(*train), lw=0.6, alpha=0.35)
            if test:  # the paper's figure: test cross-entropy; the training batches faint behind it
                ax.plot(*zip(*test), "-o", ms=3, color=line.get_color(), label=f"{model} N={n} (test)")
            else:
                line.set_label(f"{model} N={n} (train)")
        ax.axhline(sub[0]["baseline"], color="gray", ls="--", label="baseline")
        ax.set(xlabel="step", ylabel="cross-entropy", title=f"copy, T = {T}", yscale="log")
        ax.legend(fontsize=7)
    save_figure(fig, args.out, NAME)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
