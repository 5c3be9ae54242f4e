"""Figures of the capacity records: rank vs N against N^2 and P; fit residual vs N."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _by_param(records):
    groups = defaultdict(list)
    for r in records:
        groups[r["parameterization"]].append(r)
    return {k: sorted(v, key=lambda r: r["n"]) for k, v in groups.items()}


def plot_rank(records, path: Path):
    groups = _by_param(records)
    fig, axes = plt.subplots(1, len(groups), figsize=(4 * len(groups), 3.6), squeeze=False)
    for ax, (name, rs) in zip(axes[0], groups.items()):
        ns = [r["n"] for r in rs]
        ax.plot(ns, [n * n for n in ns], "k--", lw=1, label="dim U(N) = N$^2$")
        ax.plot(ns, [r["params"] for r in rs], ":", color="gray", label="P (parameters)")
        ax.plot(ns, [r["rank"] for r in rs], "o-", color="C0", label="measured rank")
        for r in rs:
            if not r["full_capacity"]:
                ax.plot(r["n"], r["rank"], "x", color="C3", ms=9)
        ax.set_title(name)
        ax.set_xlabel("N")
        ax.set_ylabel("real dimension")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Jacobian rank of theta -> W(theta) (x: rank < N$^2$, restricted capacity)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)


def plot_fit(records, path: Path):
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, rs in _by_param(records).items():
        ax.plot([r["n"] for r in rs], [max(r["best_residual"], 1e-16) for r in rs], "o-", label=name)
    ax.set_yscale("log")
    ax.set_xlabel("N")
    ax.set_ylabel(r"best $\|W(\theta) - U\|_F^2 / N$")
    ax.set_title("Fitting a Haar-random target unitary")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)
