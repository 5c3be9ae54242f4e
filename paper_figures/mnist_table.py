"""Full-capacity uRNN paper, pixel / permuted MNIST: test accuracy per model (configs/full-urnn-mnist.toml).

Rows: one per model and N: the parameter count and the test accuracy (10k test images, at
the end of training) unpermuted and permuted, with the validation accuracy beside it; where
a row has several seeds (``configs/full-urnn-mnist-seeds.toml`` adds seeds 1 and 2 of the
rows that fit a CPU), their median, with the minimum, maximum and number of seeds beside it.
Full mode: restricted uRNN N=512, full uRNN N=116 and 512, LSTM N=128, 784 steps per image,
10^5 steps of batch 100 (days per run on the 2-core CPU; a GPU is the place for it; a
shorter run, ``--steps``, is titled with its length). Rows from a record: ``--from results/mnist_table``.
Quick mode: images block-averaged to 7x7 (49 steps), small N, 200 steps of batch 32,
about 2-3 minutes.
"""

from __future__ import annotations

import statistics

from paper_figures._common import CONFIGS, run_seed, run_sweep, save_figure, save_rows, sweep_parser

NAME = "mnist_table"
CONFIG = CONFIGS / "full-urnn-mnist.toml"


def main(argv=None) -> int:
    args = sweep_parser(NAME, __doc__.splitlines()[0]).parse_args(argv)
    runs, rc, results, meta = run_sweep(NAME, CONFIG, args)
    rows = table_rows(results)
    save_rows(args.out, NAME, rows, meta)

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.axis("off")
    # The training length goes in the title (a run shorter than the paper's 10^5 steps says
    # so), and beside the model where the rows differ in it.
    length = sorted({(r["steps"], r["batch"]) for r in rows})
    cells = [[f"{r['model']} N={r['n']}" + (f", clip {r['clip']:g}" if r["clip"] else "")
              + (f", {r['steps']} steps" if len(length) > 1 else ""), f"{r['params']:,}",
              *(_cell(r, kind) for kind in ("unpermuted", "permuted"))] for r in rows]
    ax.table(cellText=cells, colLabels=["model", "params", "MNIST %", "permuted %"], loc="center")
    trained = "; ".join(f"{s} steps of batch {b}" for s, b in length)
    ax.set_title(f"test accuracy ({'quick: 7x7 images, ' if args.quick else ''}{trained})", fontsize=9)
    if any(r.get(f"seeds_{kind}", 1) > 1 for r in rows for kind in ("unpermuted", "permuted")):
        fig.text(0.5, 0.02, "several seeds: median (min-max, number of seeds)", ha="center", fontsize=8)
    save_figure(fig, args.out, NAME)
    return rc


def table_rows(results: list[dict]) -> list[dict]:
    """One row per model, N, clipping and training length, from a sweep's result rows: per
    task its test and validation accuracy, the median over its seeds (each seed counted once),
    with the test accuracy's minimum and maximum and the number of seeds."""
    table: dict[tuple, dict] = {}
    seeds: dict[tuple, dict[int, tuple[float, float]]] = {}
    for r in results:
        if r.get("final_test_accuracy") is None:
            continue
        # A model at two settings (the LSTM unclipped and clipped at norm 1) keeps two rows, and
        # so do runs of two lengths: seeds are pooled only where everything but the seed agrees.
        clip = float(r.get("clip") or 0.0)
        key = (r["model"], r["n"], clip, r["steps"], r["batch"])
        table.setdefault(key, dict(model=r["model"], n=r["n"], clip=clip, params=r["num_params"], T=r["T"],
                                   steps=r["steps"], batch=r["batch"]))
        kind = "permuted" if r["task"] == "pmnist" else "unpermuted"
        seeds.setdefault((*key, kind), {})[run_seed(r)] = (r["final_test_accuracy"], r["final_val_accuracy"])
    for (*key, kind), by_seed in seeds.items():
        test = [t for t, _ in by_seed.values()]
        table[tuple(key)].update({f"test_accuracy_{kind}": statistics.median(test),
                                  f"val_accuracy_{kind}": statistics.median(v for _, v in by_seed.values()),
                                  f"test_accuracy_{kind}_min": min(test), f"test_accuracy_{kind}_max": max(test),
                                  f"seeds_{kind}": len(test)})
    return list(table.values())


def _cell(row: dict, kind: str) -> str:
    """``93.6``, or with several seeds ``93.6 (92.9-94.0, 3)``; ``-`` for a cell not run."""
    if f"test_accuracy_{kind}" not in row:
        return "-"
    text = f"{100 * row[f'test_accuracy_{kind}']:.1f}"
    if row[f"seeds_{kind}"] > 1:
        text += (f" ({100 * row[f'test_accuracy_{kind}_min']:.1f}-{100 * row[f'test_accuracy_{kind}_max']:.1f}, "
                 f"{row[f'seeds_{kind}']})")
    return text


if __name__ == "__main__":
    raise SystemExit(main())
