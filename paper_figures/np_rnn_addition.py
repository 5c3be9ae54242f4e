"""np-RNN paper, addition / multiplication: test MSE vs T for each model (sweep configs/np-rnn-addition.toml).

Rows: one per task, T, model, optimiser and learning rate: the final test MSE (1000 fixed
sequences in full mode, 256 in quick mode; median, min and max over the seeds that finished,
and how many diverged) and the input-blind baseline. A record may hold several optimisers
(the Adam table and the paper's SGD with its learning-rate search,
``configs/np-rnn-addition-sgd.toml``): each task and optimiser gets its own panels, test MSE
vs T for every (model, learning rate) run at two or more T, and test MSE vs learning rate at
each T where a model was run at several rates (the search). Full mode of the Adam table is
144 runs of 2 x 10^4 steps (2 tasks x 4 T x 6 models x 3 seeds); on the project's 2-core CPU
at T = 300 a ReLU / tanh run took 3-5 min and an LSTM run 13 min, about 50 min for one
column of 18 runs with two at a time (``--where task=addition --where T=300`` through
``rnnlab sweep``). Quick mode is 6 runs (T = 10, 20; N = 16; 300 steps), about 1-2 minutes.
"""

from __future__ import annotations

import numpy as np

from paper_figures._common import CONFIGS, batch_baseline, run_seed, run_sweep, save_figure, save_rows, sweep_parser
from rnnlab.training.selection import SUCCESS_FRACTION, cells

NAME = "np_rnn_addition"
CONFIG = CONFIGS / "np-rnn-addition.toml"


def _setting(r: dict) -> tuple:
    """What distinguishes one row of the table from another: task, T, model, optimiser, lr."""
    return r["task"], r["T"], r["model"], r.get("optimiser") or "adam", r["lr"]


def table_rows(results: list[dict]) -> list[dict]:
    """One row per setting: median and spread of the final test MSE over the seeds that
    finished, and how many seeds a non-finite loss stopped; beside them the same setting over
    all its seeds (:mod:`rnnlab.training.selection`: ``success_rate``, the seeds ending below
    10% of the empirical baseline of the test batch, a diverged seed failing; ``test_mse_all``,
    the median with a diverged seed counted as infinite) and ``test_baseline``, the input-blind
    guess's MSE on the very test batch (the population ``baseline`` differs from it by the
    batch's sampling error); then one row per stopped seed."""
    finals: dict[tuple, list] = {}
    size: dict[tuple, tuple] = {}
    stopped: dict[tuple, int] = {}
    lost: list[dict] = []
    seen: set = set()
    for r in results:
        key = _setting(r)
        # The SGD table's best rate at T = 150 reruns its search's point (same setting and
        # seed, the same numbers): a seed counts once.
        if (key, run_seed(r)) in seen:
            continue
        seen.add((key, run_seed(r)))
        if r.get("status", "complete") != "complete":
            stopped[key] = stopped.get(key, 0) + 1
            lost.append(r)
        elif r.get("final_test_mse") is not None:
            finals.setdefault(key, []).append(r["final_test_mse"])
            size[key] = (r["n"], r["num_params"], r["baseline"])
    every = cells(results, _setting, run_seed, "final_test_mse", lambda r: batch_baseline(r, "test"))
    rows = []
    for key, v in sorted(finals.items()):
        (task, T, model, opt, lr), (n, params, baseline) = key, size[key]
        alls = every[key]
        rows.append(dict(task=task, T=T, model=model, optimiser=opt, lr=lr, n=n, params=params,
                         test_mse=float(np.median(v)), test_mse_min=min(v), test_mse_max=max(v), seeds=len(v),
                         diverged=stopped.get(key, 0), baseline=baseline, status="complete",
                         test_baseline=alls.threshold / SUCCESS_FRACTION, successes=alls.successes,
                         success_rate=alls.success_rate, test_mse_all=alls.median))
    rows += [dict(zip(("task", "T", "model", "optimiser", "lr"), _setting(r)), n=r["n"], seed=run_seed(r),
                  status=r["status"]) for r in lost]
    return rows


def _t_sets(rows: list[dict]) -> dict[tuple, set]:
    """The T values each (model, lr) of ``rows`` was run at."""
    Ts: dict[tuple, set] = {}
    for r in rows:
        Ts.setdefault((r["model"], r["lr"]), set()).add(r["T"])
    return Ts


def _panels(rows: list[dict]) -> list[tuple]:
    """``(task, optimiser, "T", None)`` where some (model, lr) ran at two or more T (or nothing
    else would be drawn), and ``(task, optimiser, "lr", T)`` where some model ran at several lr."""
    panels = []
    for task, opt in sorted({(r["task"], r["optimiser"]) for r in rows}):
        sub = [r for r in rows if (r["task"], r["optimiser"]) == (task, opt)]
        lrs: dict[tuple, set] = {}
        for r in sub:
            lrs.setdefault((r["T"], r["model"]), set()).add(r["lr"])
        searched = sorted({T for (T, _), v in lrs.items() if len(v) > 1})
        if any(len(v) > 1 for v in _t_sets(sub).values()) or not searched:
            panels.append((task, opt, "T", None))
        panels += [(task, opt, "lr", T) for T in searched]
    return panels


def _draw(ax, rows: list[dict], task: str, opt: str, axis: str, at, colors: dict) -> None:
    sub = [r for r in rows if (r["task"], r["optimiser"]) == (task, opt)]
    done = [r for r in sub if r["status"] == "complete"]
    if axis == "T":
        xs = sorted({r["T"] for r in sub})
        # At one T only (nothing else to draw) every (model, lr) is a point; else the lines.
        lines = sorted(combo for combo, Ts in _t_sets(sub).items() if len(Ts) > 1 or len(xs) == 1)
        x_of = "T"
    else:
        lines = sorted({(r["model"], None) for r in sub if r["T"] == at})
        sub = [r for r in sub if r["T"] == at]
        done = [r for r in done if r["T"] == at]
        xs = sorted({r["lr"] for r in sub})
        x_of = "lr"
    one_lr = len({r["lr"] for r in sub}) == 1
    top = max([r["test_baseline"] for r in done] + [r["test_mse_max"] for r in done] + [1e-3])
    lost_at: dict = {}
    for model, lr in lines:
        mine = [r for r in sub if r["model"] == model and (lr is None or r["lr"] == lr)]
        pts = {r[x_of]: (r["test_mse"], r["test_mse_min"], r["test_mse_max"]) for r in mine if r["status"] == "complete"}
        label = model if one_lr or lr is None else f"{model}, lr {lr:g}"
        if pts:
            # NaN where no seed finished breaks the line there instead of bridging it.
            x = np.array([v for v in xs if min(pts) <= v <= max(pts)])
            med, lo, hi = np.array([pts.get(v, (np.nan,) * 3) for v in x]).T
            ax.errorbar(x, med, yerr=[med - lo, hi - med], marker="o", capsize=3, color=colors[model],
                        label=f"{label} (median, min-max)")
        for r in mine:
            if r["status"] == "complete" and r["diverged"]:
                # A point where seeds diverged is drawn from the survivors only: say so beside it.
                ax.annotate(f"{r['diverged']} of {r['seeds'] + r['diverged']} diverged", (r[x_of], r["test_mse"]),
                            xytext=(-5, 3), textcoords="offset points", fontsize=6, ha="right", color=colors[model])
        # Where every seed diverged there is no MSE: an x above the baseline.
        for v in sorted({r[x_of] for r in mine if r["status"] != "complete"} - set(pts)):
            count = sum(1 for r in mine if r[x_of] == v and r["status"] != "complete")
            k = lost_at.setdefault(v, 0)
            lost_at[v] += 1
            y = top * 2.0 * 1.5 ** k
            ax.plot([v], [y], marker="x", ls="none", color=colors[model], markersize=7)
            left = v == xs[0]  # the text goes inward
            ax.annotate(f"{label}: " + (f"all {count} diverged" if count > 1 else "diverged"), (v, y), xytext=(6 if left else -6, -2),
                        textcoords="offset points", fontsize=6, ha="left" if left else "right", color=colors[model])
    if done:
        # The line a model that learned nothing ends on: the blind guess on this very test batch.
        bases = sorted({(r[x_of], r["test_baseline"]) for r in done})
        if axis == "T" and len(bases) > 1:
            ax.plot(*zip(*bases), color="gray", ls="--", label="baseline (this test batch)")
        else:
            ax.axhline(bases[0][1], color="gray", ls="--", label="baseline (this test batch)")
    name = opt.upper() if opt == "sgd" else opt.capitalize()
    if axis == "T":
        title = f"{task}, {name}" + (f" lr {sub[0]['lr']:g}" if one_lr else "")
        ax.set(xlabel="T", xticks=xs)
    else:
        title = f"{task}, {name} learning-rate search, T = {at}"
        ax.set(xlabel="learning rate", xscale="log")
    ax.set(ylabel="test MSE", title=title, yscale="log")
    ax.legend(fontsize=7)


def main(argv=None) -> int:
    args = sweep_parser(NAME, __doc__.splitlines()[0]).parse_args(argv)
    runs, rc, results, meta = run_sweep(NAME, CONFIG, args)
    rows = table_rows(results)
    save_rows(args.out, NAME, rows, meta)

    import matplotlib.pyplot as plt

    models = sorted({r["model"] for r in rows})
    colors = {m: f"C{k % 10}" for k, m in enumerate(models)}
    panels = _panels(rows)
    ncols = min(len(panels), 2) or 1
    nrows = -(-len(panels) // ncols) or 1
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.6 * nrows), squeeze=False,
                             layout="constrained")
    for ax, panel in zip(axes.flat, panels):
        _draw(ax, rows, *panel, colors)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    save_figure(fig, args.out, NAME)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
