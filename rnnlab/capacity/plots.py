"""Figures of the capacity records: rank vs N against the manifold's dimension (N^2 on U(N),
N(N-1)/2 on O(N)) and P; fit residual vs N.

Each function returns a matplotlib Figure and touches no global state (no backend choice):
the caller saves it (the CLI through :func:`rnnlab.cli.outputs.save_figure`) or shows it.
"""

from __future__ import annotations

from collections import defaultdict

import matplotlib.pyplot as plt

from rnnlab.plotting import integer_ticks


#: Line styles of many lines on one axis: colour k % 10 of matplotlib's cycle, with the line
#: style changing every 10 lines and the marker every 7, so no two of up to 40 lines look alike.
_LINESTYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "v", "D", "P", "X")


def line_style(k: int) -> dict:
    """Matplotlib keywords of the ``k``-th line of a figure with many (colour, line style, marker)."""
    return {"color": f"C{k % 10}", "linestyle": _LINESTYLES[k // 10 % len(_LINESTYLES)],
            "marker": _MARKERS[k % len(_MARKERS)]}


def _dim_label(r) -> str:
    """The manifold's dimension as a label: N(N-1)/2 differs from N^2 at every N >= 1."""
    return "dim U(N) = N$^2$" if r["manifold_dim"] == r["n"] ** 2 else "dim O(N) = N(N-1)/2"


def _by_param(records):
    groups = defaultdict(list)
    for r in records:
        groups[r["parameterization"]].append(r)
    return {k: sorted(v, key=lambda r: r["n"]) for k, v in groups.items()}


def plot_rank(records):
    """Rank vs N against N^2 and P, one panel per parameterization; a single N is drawn as
    one bar chart of rank, N^2 and P for every parameterization."""
    groups = _by_param(records)
    if len({r["n"] for r in records}) == 1:
        return _rank_bars(groups)
    fig, axes = plt.subplots(1, len(groups), figsize=(4 * len(groups), 3.6), squeeze=False)
    for ax, (name, rs) in zip(axes[0], groups.items()):
        ns = [r["n"] for r in rs]
        ax.plot(ns, [r["manifold_dim"] for r in rs], "k--", lw=1, label=_dim_label(rs[0]))
        ax.plot(ns, [r["params"] for r in rs], ":", color="gray", label="P (parameters)")
        ax.plot(ns, [r["rank"] for r in rs], "o-", color="C0", label="measured rank")
        for r in rs:
            if r["full_capacity"] is False:
                ax.plot(r["n"], r["rank"], "x", color="C3", ms=9)
        ax.set_title(name)
        ax.legend(fontsize=8)
        ax.set_xlabel("N")
        ax.set_ylabel("real dimension")
        ax.set_yscale("log")
        integer_ticks(ax, ns)
        ax.grid(alpha=0.3)
    fig.suptitle("Jacobian rank of theta -> W(theta) (x: rank below the manifold's dimension, restricted capacity)")
    fig.tight_layout()
    return fig


def _rank_bars(groups):
    import numpy as np

    names = list(groups)
    rs = [groups[name][0] for name in names]
    n = rs[0]["n"]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(names) + 2), 3.8))
    width = 0.27
    dims = sorted({r["manifold_dim"] for r in rs}, reverse=True)
    ax.bar(x - width, [r["rank"] for r in rs], width, color="C0", label="measured rank")
    ax.bar(x, [r["manifold_dim"] for r in rs], width, color="0.25",
           label="dim of the manifold: " + ", ".join(f"{_dim_label({'n': n, 'manifold_dim': d})} = {d}" for d in dims))
    ax.bar(x + width, [r["params"] for r in rs], width, color="0.7", label="P (parameters)")
    for xi, r in zip(x, rs):
        ax.annotate(str(r["rank"]) + ("" if r["full_capacity"] else " < dim"), (xi - width, r["rank"]),
                    ha="center", va="bottom", fontsize=7, color="C0" if r["full_capacity"] else "C3")
    ax.set_xticks(x, names, rotation=20, ha="right")
    ax.set_ylabel("real dimension")
    ax.set_title(f"Jacobian rank of theta -> W(theta) at N = {n}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def plot_fit(records):
    """Best fit residual of a Haar-random target on each map's manifold vs N, one line per
    parameterization, each in its own colour, line style and marker (:func:`line_style`)."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ns = set()
    for k, (name, rs) in enumerate(_by_param(records).items()):
        ns.update(r["n"] for r in rs)
        ax.plot([r["n"] for r in rs], [max(r["best_residual"], 1e-16) for r in rs], label=name, **line_style(k))
    ax.set_yscale("log")
    ax.set_xlabel("N")
    integer_ticks(ax, ns)
    ax.set_ylabel(r"best $\|W(\theta) - U\|_F^2 / N$")
    ax.set_title("Fitting a Haar-random target on each map's manifold (U(N) or O(N))")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2 if len(ax.lines) > 8 else 1)
    fig.tight_layout()
    return fig
