"""Full-capacity uRNN paper, pixel / permuted MNIST: test accuracy per model (configs/full-urnn-mnist.toml).

Rows: one per model and N: the parameter count and the test accuracy (10k test images, at
the end of training) unpermuted and permuted, with the validation accuracy beside it.
Full mode: restricted uRNN N=512, full uRNN N=116 and 512, LSTM N=128, 784 steps per image,
10^5 steps of batch 100 (days per run on the 2-core CPU; a GPU is the place for it; a
shorter run, ``--steps``, is titled with its length). Rows from a record: ``--from results/mnist_table``.
Quick mode: images block-averaged to 7x7 (49 steps), small N, 200 steps of batch 32,
about 2-3 minutes.
"""

from __future__ import annotations

from paper_figures._common import CONFIGS, run_sweep, save_figure, save_rows, sweep_parser

NAME = "mnist_table"
CONFIG = CONFIGS / "full-urnn-mnist.toml"


def main(argv=None) -> int:
    args = sweep_parser(NAME, __doc__.splitlines()[0]).parse_args(argv)
    runs, rc, results, meta = run_sweep(NAME, CONFIG, args)
    table: dict[tuple, dict] = {}
    for r in results:
        if r.get("final_test_accuracy") is None:
            continue
        # A model at two settings (the LSTM unclipped and clipped at norm 1) keeps two rows.
        clip = float(r.get("clip") or 0.0)
        row = table.setdefault((r["model"], r["n"], clip),
                               dict(model=r["model"], n=r["n"], clip=clip, params=r["num_params"], T=r["T"],
                                    steps=r["steps"], batch=r["batch"]))
        kind = "permuted" if r["task"] == "pmnist" else "unpermuted"
        row[f"test_accuracy_{kind}"] = r["final_test_accuracy"]
        row[f"val_accuracy_{kind}"] = r["final_val_accuracy"]
    rows = list(table.values())
    save_rows(args.out, NAME, rows, meta)

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.axis("off")
    cells = [[f"{r['model']} N={r['n']}" + (f", clip {r['clip']:g}" if r["clip"] else ""), f"{r['params']:,}",
              *(f"{100 * r[k]:.1f}" if k in r else "-" for k in ("test_accuracy_unpermuted", "test_accuracy_permuted"))]
             for r in rows]
    ax.table(cellText=cells, colLabels=["model", "params", "MNIST %", "permuted %"], loc="center")
    # The training length goes in the title: a run shorter than the paper's 10^5 steps says so.
    length = sorted({(r["steps"], r["batch"]) for r in rows})
    trained = "; ".join(f"{s} steps of batch {b}" for s, b in length)
    ax.set_title(f"test accuracy ({'quick: 7x7 images, ' if args.quick else ''}{trained})", fontsize=9)
    save_figure(fig, args.out, NAME)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
