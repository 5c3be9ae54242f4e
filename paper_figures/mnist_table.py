"""Full-capacity uRNN paper, pixel / permuted MNIST: test accuracy per model (configs/full-urnn-mnist.toml).

Rows: one per training setting (model, N and every other config field but the seed: a run
at another learning rate, clipping, length, ``modrelu_eps`` or ``h0`` is another row): the
parameter count and the test accuracy (10k test images, at the end of training) unpermuted
and permuted, with the validation accuracy beside it; where a row has several seeds
(``configs/full-urnn-mnist-seeds.toml`` adds seeds 1 and 2 of the rows that fit a CPU), their
median, with the minimum, maximum and number of seeds beside it. Percentages are rounded half
up from the recorded count (1135 of 10^4 images: 11.4, see :func:`percent`).
Full mode: restricted uRNN N=512, full uRNN N=116 and 512, LSTM N=128, 784 steps per image,
10^5 steps of batch 100 (days per run on the 2-core CPU; a GPU is the place for it; a
shorter run, ``--steps``, is titled with its length). Rows from a record: ``--from results/mnist_table``.
Quick mode: images block-averaged to 7x7 (49 steps), small N, 200 steps of batch 32,
about 2-3 minutes.
"""

from __future__ import annotations

import statistics
from decimal import ROUND_HALF_UP, Decimal

from paper_figures._common import CONFIGS, run_seed, run_sweep, save_figure, save_rows, sweep_parser
from rnnlab.training.config import FIELDS, RUN_CONTROL, model_defaults

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
              + (f", {r['differs']}" if r["differs"] else "")
              + (f", {r['steps']} steps" if len(length) > 1 else ""), f"{r['params']:,}",
              *(_cell(r, kind) for kind in ("unpermuted", "permuted"))] for r in rows]
    ax.table(cellText=cells, colLabels=["model", "params", "MNIST %", "permuted %"], loc="center")
    trained = "; ".join(f"{s} steps of batch {b}" for s, b in length)
    ax.set_title(f"test accuracy ({'quick: 7x7 images, ' if args.quick else ''}{trained})", fontsize=9)
    if any(r.get(f"seeds_{kind}", 1) > 1 for r in rows for kind in ("unpermuted", "permuted")):
        fig.text(0.5, 0.02, "several seeds: median (min-max, number of seeds)", ha="center", fontsize=8)
    save_figure(fig, args.out, NAME)
    return rc


#: Config fields that say which run a results row is, not what was trained: the seed (a row
#: per seed is what gets pooled), how seeds were batched, the task (a row's two columns), and
#: run control.
NOT_SETTINGS = ("seed", "seeds", "task", *RUN_CONTROL)


def setting(row: dict) -> tuple:
    """Every training setting of a results row, as ``(field, value)`` pairs: all config fields
    but :data:`NOT_SETTINGS`, each as the run's ``config.toml`` would load it. A field missing
    from the row (an empty cell: the record predates the field) takes its default, and an unset
    optimiser, rate or clip its model's default, so a run from before ``modrelu_eps`` / ``h0``
    existed pools with one that wrote their defaults out, and with nothing else."""
    defaults = model_defaults(row["model"])
    pairs = []
    for name, f in FIELDS.items():
        if name in NOT_SETTINGS:
            continue
        value = row.get(name)
        if value is None:
            value = defaults.get(name, f.default)
        pairs.append((name, value))
    return tuple(pairs)


def table_rows(results: list[dict]) -> list[dict]:
    """One row per training setting (:func:`setting`: every config field but the seed), from a
    sweep's result rows: per task its test and validation accuracy, the median over its seeds
    (each seed counted once), with the test accuracy's minimum and maximum and the number of
    seeds. Runs are pooled only where every setting agrees (learning rate, clipping, length,
    ``modrelu_eps``, ``h0``, ...); a row names in ``differs`` every setting that varies between
    the rows of its model and N (the clipping and length have labels of their own)."""
    table: dict[tuple, dict] = {}
    seeds: dict[tuple, dict[int, tuple[float, float]]] = {}
    for r in results:
        if r.get("final_test_accuracy") is None:
            continue
        key = setting(r)
        fields = dict(key)
        table.setdefault(key, dict(model=r["model"], n=r["n"], clip=float(fields["clip"] or 0.0),
                                   params=r["num_params"], T=r["T"], steps=r["steps"], batch=r["batch"],
                                   lr=fields["lr"], modrelu_eps=fields["modrelu_eps"], h0=fields["h0"]))
        kind = "permuted" if r["task"] == "pmnist" else "unpermuted"
        seeds.setdefault((key, kind), {})[run_seed(r)] = (r["final_test_accuracy"], r["final_val_accuracy"])
    for (key, kind), by_seed in seeds.items():
        test = [t for t, _ in by_seed.values()]
        table[key].update({f"test_accuracy_{kind}": statistics.median(test),
                           f"val_accuracy_{kind}": statistics.median(v for _, v in by_seed.values()),
                           f"test_accuracy_{kind}_min": min(test), f"test_accuracy_{kind}_max": max(test),
                           f"seeds_{kind}": len(test)})
    for key, row in table.items():
        # Settings (beyond the clipping and length the label shows anyway) that vary between the
        # rows of this model and N: the label must tell such rows apart.
        others = [dict(k) for k in table if k != key and (dict(k)["model"], dict(k)["n"]) == (row["model"], row["n"])]
        row["differs"] = " ".join(f"{name} {_value(value)}" for name, value in key
                                  if name not in ("clip", "steps", "batch")
                                  and any(o[name] != value for o in others))
    return list(table.values())


def _value(value) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def percent(fraction: float, digits: int = 1) -> str:
    """``fraction`` as a percentage with ``digits`` decimals, rounded half up from its decimal
    value. An accuracy is a count over 10^4 (or 5000) images, so a tie such as 1135 / 10^4 =
    11.35% is common, and ``f"{100 * 0.1135:.1f}"`` gives 11.3 only because the binary float
    0.1135 lies a hair below it; by hand, and here, it is 11.4."""
    exact = Decimal(repr(float(fraction))) * 100
    return str(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _cell(row: dict, kind: str) -> str:
    """``93.6``, or with several seeds ``93.6 (92.9-94.0, 3)``; ``-`` for a cell not run."""
    if f"test_accuracy_{kind}" not in row:
        return "-"
    text = percent(row[f"test_accuracy_{kind}"])
    if row[f"seeds_{kind}"] > 1:
        text += (f" ({percent(row[f'test_accuracy_{kind}_min'])}-{percent(row[f'test_accuracy_{kind}_max'])}, "
                 f"{row[f'seeds_{kind}']})")
    return text


if __name__ == "__main__":
    raise SystemExit(main())
