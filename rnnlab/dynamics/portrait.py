"""Phase portraits of the 2-unit map ``h -> relu(W h + b)``.

One panel shows the step field ``relu(W h + b) - h`` (arrows of equal length; their shade
is the step size), sample trajectories, the eigenvectors of ``W`` (dashed) and the fixed
sets from :func:`rnnlab.dynamics.fixed_points.fixed_points`, coloured by stability.
Figures are built without pyplot: no backend is chosen and nothing is registered with
pyplot, so a notebook shows the returned Figure only when asked (display it, or save it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnlab.dynamics.fixed_points import FixedSet, fixed_points
from rnnlab.dynamics.relu_map import CASES, DEFAULT_ANGLE, check_weights, relu_step, trajectories, two_unit
from rnnlab.errors import UsageError

STABILITY_COLORS = {"attracting": "tab:green", "marginal": "tab:orange", "repelling": "tab:red"}


def _starts(lim: float, count: int) -> np.ndarray:
    """``(count, 2)`` starts spread over an arc of radius 0.9 lim in the positive quadrant,
    plus two on the negative axes (the map sends them into the quadrant in one step)."""
    angles = np.linspace(0.05, np.pi / 2 - 0.05, count - 2)
    arc = 0.9 * lim * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return np.vstack([arc, [[-0.15 * lim, 0.8 * lim], [0.8 * lim, -0.15 * lim]]])


def _reach(u: np.ndarray, lo: float, hi: float) -> float:
    """How far the ray ``t u`` (t >= 0) stays inside the box ``[lo, hi]^2``."""
    bounds = [(hi if c > 0 else lo) / c for c in u if abs(c) > 1e-12]
    return min(bounds) if bounds else 0.0


def _fixed_extent(w: np.ndarray, b: np.ndarray, fs: FixedSet, lim: float) -> np.ndarray:
    """The segment ``(2, 2)`` of a 1-dimensional fixed set that lies in the plotted box."""
    t = np.linspace(-3 * lim, 3 * lim, 2001)
    pts = fs.point[None, :] + t[:, None] * fs.basis[:, 0][None, :]
    fixed = np.all(np.abs(relu_step(w, pts, b) - pts) <= 1e-9 * (1 + np.abs(pts)), axis=1)
    inside = fixed & np.all(np.abs(pts) <= 1.5 * lim, axis=1)
    sel = pts[inside]
    return np.stack([sel[0], sel[-1]])


def portrait_panel(
    ax, w, b=None, *, title: str | None = None, lim: float = 1.25, steps: int = 40,
    starts: int = 10,
) -> list[FixedSet]:
    """Draw the phase portrait of a 2-unit map on ``ax``.

    Arrows show one step of the map, dashed lines the eigenvectors, purple lines a few
    trajectories, and the fixed sets are marked. The view is ``[-0.25 lim, lim]^2``: after one
    step every state is non-negative, so the positive quadrant is where the dynamics lives.

    Args:
        ax: a matplotlib Axes.
        w: ``(2, 2)``, the weights.
        b: ``(2,)``, the bias (default zeros).
        title: the panel's title.
        lim: the view's upper limit in both units.
        steps: the steps of each trajectory drawn.
        starts: the number of trajectories drawn.

    Returns:
        The fixed sets drawn.

    Raises:
        ValueError: ``w`` is not ``(2, 2)``, or bad weights (:func:`check_weights`).
    """
    w, b = check_weights(w, b)
    if w.shape != (2, 2):
        raise ValueError(f"a phase portrait needs 2 units, got W of shape {w.shape}")
    lo = -0.25 * lim
    g = np.linspace(lo, lim, 19)
    hx, hy = np.meshgrid(g, g)
    grid = np.stack([hx.ravel(), hy.ravel()], axis=1)
    step = relu_step(w, grid, b) - grid
    size = np.linalg.norm(step, axis=1)
    unit = step / np.where(size > 0, size, 1.0)[:, None]
    ax.quiver(grid[:, 0], grid[:, 1], unit[:, 0], unit[:, 1], np.log10(size + 1e-3),
              cmap="Greys", clim=(-3.5, 0.5), angles="xy", scale_units="xy",
              scale=1 / (0.045 * (lim - lo)), width=0.004, alpha=0.8, zorder=1)

    vals, vecs = np.linalg.eig(w)
    # Eigenvectors are drawn only when they are real and determined (not for W = c I).
    if np.isrealobj(vals) or not np.any(vals.imag):
        vals, vecs = vals.real, vecs.real
        order = np.argsort(-vals)
        if abs(vals[0] - vals[1]) > 1e-12:
            for k, j in enumerate(order):
                v = vecs[:, j]
                ax.plot(*(np.outer([-3 * lim, 3 * lim], v).T), ls="--", lw=0.8, color="tab:blue",
                        alpha=0.6, zorder=2)
                # Label it at the end that reaches furthest into the view.
                reach = [_reach(sign * v, lo, lim) for sign in (1.0, -1.0)]
                sign = 1.0 if reach[0] >= reach[1] else -1.0
                ax.annotate(f"$\\lambda_{k + 1}={vals[j]:.3g}$", sign * v * 0.8 * max(reach),
                            fontsize=8, color="tab:blue", ha="center",
                            bbox=dict(fc="white", ec="none", alpha=0.7, pad=0.5), zorder=7)

    h0 = _starts(lim, starts)
    path = trajectories(w, h0, steps, b)
    for i in range(len(h0)):
        p = path[:, i]
        keep = np.all(np.isfinite(p), axis=1) & np.all(np.abs(p) < 50 * lim, axis=1)
        p = p[keep]
        ax.plot(p[:, 0], p[:, 1], "-", color="tab:purple", lw=1.0, alpha=0.8, zorder=3)
        ax.plot(p[:, 0], p[:, 1], ".", color="tab:purple", ms=2.5, zorder=3)
        ax.plot(*p[0], "o", mfc="white", mec="tab:purple", ms=4, zorder=4)

    sets = fixed_points(w, b)
    for fs in sets:
        color = STABILITY_COLORS[fs.stability]
        label = f"{fs.dimension}-dim fixed set, {fs.stability}"
        if fs.dimension == 0:
            filled = fs.stability == "attracting"
            ax.plot(*fs.point, "o", ms=9, mfc=color if filled else "white", mec=color, mew=2,
                    zorder=6, label=label)
        elif fs.dimension == 1:
            seg = _fixed_extent(w, b, fs, lim)
            ax.plot(seg[:, 0], seg[:, 1], "-", color=color, lw=4, alpha=0.85, zorder=5,
                    solid_capstyle="round", label=label)
        else:
            ax.fill_between([0, 1.5 * lim], 0, 1.5 * lim, color=color, alpha=0.25, zorder=0, label=label)
    ax.axhline(0, color="k", lw=0.6, zorder=1)
    ax.axvline(0, color="k", lw=0.6, zorder=1)
    ax.set_xlim(lo, lim)
    ax.set_ylim(lo, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("$h_1$")
    ax.set_ylabel("$h_2$")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(loc="upper right", fontsize=7, framealpha=0.9)
    return sets


def portrait_figure(panels: Sequence[tuple[str, np.ndarray]], **kwargs):
    """A figure with one :func:`portrait_panel` per ``(title, W)``, side by side.

    Args:
        panels: ``(title, W)`` pairs, each W ``(2, 2)``.
        **kwargs: passed to :func:`portrait_panel`.

    Returns:
        A matplotlib Figure (built without pyplot: display it or save it).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2 * len(panels), 4.4))
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, (title, w) in zip(axes[0], panels):
        portrait_panel(ax, w, title=title, **kwargs)
    fig.suptitle("$h_{t+1} = \\mathrm{relu}(W h_t)$: arrows point along one step, "
                 "purple lines are trajectories", fontsize=10)
    fig.tight_layout()
    return fig


def portrait(w=None, *, case: str | None = None, angle: float = DEFAULT_ANGLE, **kwargs):
    """The phase portrait of one 2-unit map as a matplotlib Figure.

    Args:
        w: ``(2, 2)``, the weights; give either ``w`` or ``case``.
        case: one of the np-RNN paper's four cases (:data:`rnnlab.dynamics.relu_map.CASES`).
        angle: the angle of the case's first eigenvector, in degrees.
        **kwargs: passed to :func:`portrait_panel`.

    Returns:
        A matplotlib Figure (built without pyplot: display it or save it).

    Raises:
        UsageError: an unknown case (the message names the cases), or both or neither of
            ``w`` and ``case``. ``UsageError`` is a ``ValueError``.
    """
    if (w is None) == (case is None):
        raise UsageError("give either w or case")
    if case is not None:
        if case not in CASES:
            raise UsageError(f"unknown case {case!r}; choose from {', '.join(CASES)}")
        lam1, lam2 = CASES[case]
        return portrait_figure([(f"{case}: eigenvalues {lam1:g}, {lam2:g}", two_unit(lam1, lam2, angle))], **kwargs)
    return portrait_figure([("W", w)], **kwargs)
