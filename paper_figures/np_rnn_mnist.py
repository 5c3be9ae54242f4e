"""np-RNN paper, sequential pixel MNIST: test accuracy and validation curves per model (configs/np-rnn-mnist.toml).

Rows: one per model and evaluation step: the validation accuracy and cross-entropy on the
5k held-out images, with the final test accuracy on the 10k test images in the last row
of each model. Full mode: IRNN, scaled-identity iRNN, np-RNN, np-tanhRNN, tanh-RNN, LSTM, 100 units,
784 steps per image, 5 x 10^4 steps of batch 16 (days per run on the 2-core CPU: one step
of a 128-unit ReLU RNN at T = 784, batch 16 takes about 30 ms forward + backward, so
5 x 10^4 steps is ~25 min of pure compute per model on an idle core, hours under load).
Quick mode: images block-averaged to 7x7 (49 steps), N = 32, 300 steps, a few minutes.
"""

from __future__ import annotations

from paper_figures._common import CONFIGS, run_sweep, save_figure, save_rows, sweep_parser

NAME = "np_rnn_mnist"
CONFIG = CONFIGS / "np-rnn-mnist.toml"


def main(argv=None) -> int:
    args = sweep_parser(NAME, __doc__.splitlines()[0]).parse_args(argv)
    from rnnlab.training import sweep

    runs, rc, results, meta = run_sweep(NAME, CONFIG, args)
    rows = []
    for r in results:
        if r.get("final_test_accuracy") is None:
            continue
        curve = sweep.curves(runs, r["point"], ("val_accuracy", "val_xent"))
        for i, c in enumerate(c for c in curve if c["seed"] == r["final_seed"]):
            rows.append(dict(model=r["model"], n=r["n"], params=r["num_params"], T=r["T"], seed=c["seed"],
                             step=c["step"], val_accuracy=c["val_accuracy"], val_xent=c["val_xent"],
                             test_accuracy=r["final_test_accuracy"] if c["step"] == r["final_step"] else None))
    save_rows(args.out, NAME, rows, meta)

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for model in sorted({r["model"] for r in rows}):
        sub = [r for r in rows if r["model"] == model]
        final = [r["test_accuracy"] for r in sub if r["test_accuracy"] is not None]
        label = f"{model} (test {100 * final[-1]:.1f}%)" if final else model
        ax.plot([r["step"] for r in sub], [100 * r["val_accuracy"] for r in sub], marker="o", label=label)
    T = rows[0]["T"] if rows else 784
    ax.set(xlabel="step", ylabel="validation accuracy (%)", title=f"pixel MNIST, {T} steps per image")
    ax.legend(fontsize=7)
    save_figure(fig, args.out, NAME)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
