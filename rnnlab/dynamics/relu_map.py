"""The autonomous ReLU map ``h -> relu(W h + b)`` and the paper's 2-unit examples.

Everything here is float64 NumPy: the map is cheap, and the fixed-point analysis built on
it needs eigenvalues resolved to rounding, not to float32.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnlab.errors import UsageError

CASES: dict[str, tuple[float, float]] = {
    "decay": (0.8, 0.5),  # both < 1: the origin attracts everything
    "explode": (1.2, 1.1),  # both > 1: trajectories diverge
    "line": (1.0, 0.5),  # one = 1: a line attractor along the unit eigenvector
    "identity": (1.0, 1.0),  # W = I (IRNN): every point of the quadrant is fixed
}
"""The np-RNN paper's four 2-unit cases (zero input, zero bias, W symmetric positive definite),
as the eigenvalues ``(lambda1, lambda2)`` of W: ``decay`` (both below 1: the origin attracts
everything), ``explode`` (both above 1), ``line`` (one equal to 1: a line attractor along its
eigenvector) and ``identity`` (W = I, the IRNN: every point of the quadrant is fixed). The values
are representatives of the regimes, not taken from the paper, which states the regimes only."""

#: Default angle (degrees) of lambda1's eigenvector from the h1 axis. 30 degrees puts the
#: line attractor inside the positive quadrant, away from the axes.
DEFAULT_ANGLE = 30.0


def two_unit(lam1: float, lam2: float, angle: float = DEFAULT_ANGLE) -> np.ndarray:
    """The symmetric ``(2, 2)`` matrix ``R diag(lam1, lam2) R^T``.

    ``R`` rotates by ``angle`` degrees, so lambda1's unit eigenvector is
    ``(cos angle, sin angle)`` and lambda2's is ``(-sin angle, cos angle)``.

    Args:
        lam1: the first eigenvalue.
        lam2: the second eigenvalue.
        angle: the angle of lambda1's eigenvector from the h1 axis, in degrees.

    Returns:
        ``(2, 2)``, float64, exactly symmetric.

    Raises:
        UsageError: a value is not finite.
    """
    for name, value in (("lambda1", lam1), ("lambda2", lam2), ("angle", angle)):
        if not math.isfinite(value):
            raise UsageError(f"{name} must be finite, got {value!r}")
    t = math.radians(angle)
    r = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    w = r @ np.diag([lam1, lam2]) @ r.T
    # Exactly symmetric, so eigenvalue routines for symmetric matrices apply.
    return (w + w.T) / 2 + 0.0  # + 0.0 turns -0.0 into 0.0 for printing


def check_weights(w, b=None) -> tuple[np.ndarray, np.ndarray]:
    """``(W, b)`` as float64 arrays, or a :class:`UsageError` saying what is wrong.

    Args:
        w: the recurrent weights: a finite, real, square ``(n, n)`` matrix with ``n >= 1``.
        b: the bias: a finite ``(n,)`` vector (default zeros).

    Returns:
        ``(W, b)``, float64.

    Raises:
        UsageError: a wrong shape, a non-real dtype or a non-finite entry.
    """
    w = np.asarray(w)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise UsageError(f"recurrent weights must be a square (n, n) matrix, got shape {w.shape}")
    if w.shape[0] < 1:
        raise UsageError("recurrent weights must have n >= 1 units, got an empty matrix")
    if not np.issubdtype(w.dtype, np.number) or np.iscomplexobj(w):
        raise UsageError(f"recurrent weights must be real numbers, got dtype {w.dtype}")
    if not np.all(np.isfinite(w)):
        raise UsageError("recurrent weights contain NaN or infinite entries")
    n = w.shape[0]
    if b is None:
        b = np.zeros(n)
    b = np.asarray(b)
    if b.shape != (n,):
        raise UsageError(f"bias must have shape ({n},) to match the weights, got {b.shape}")
    if not np.all(np.isfinite(b)):
        raise UsageError("bias contains NaN or infinite entries")
    return w.astype(np.float64), b.astype(np.float64)


def relu_step(w: np.ndarray, h: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """One step ``relu(W h + b)`` of the map.

    Args:
        w: ``(n, n)``, the weights.
        h: ``(n,)``, a state, or ``(m, n)``, a batch of states.
        b: ``(n,)``, the bias (default none).

    Returns:
        The next state(s), shaped as ``h``.
    """
    pre = h @ w.T
    if b is not None:
        pre = pre + b
    return np.maximum(pre, 0.0)


def trajectories(w: np.ndarray, h0: np.ndarray, steps: int, b: np.ndarray | None = None) -> np.ndarray:
    """The states ``h_0 .. h_steps`` of the map from each start.

    Diverging states overflow to ``inf``; that is the honest answer, so no clipping.

    Args:
        w: ``(n, n)``, the weights.
        h0: ``(m, n)``, the starts.
        steps: the number of steps.
        b: ``(n,)``, the bias (default none).

    Returns:
        ``(steps + 1, m, n)``, float64.
    """
    out = np.empty((steps + 1,) + h0.shape)
    out[0] = h0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            out[t + 1] = relu_step(w, out[t], b)
    return out


@dataclass(frozen=True)
class Outcomes:
    """Where ``starts`` trajectories ended after ``steps`` steps (:func:`simulate_outcomes`).

    Attributes:
        starts: the trajectories run.
        steps: the steps each ran.
        converged: those whose last step moved less than the tolerance: at (or next to) a
            fixed point.
        diverged: those whose norm grew by more than the growth factor.
        other: those still moving: slow convergence, cycles or chaos.
    """

    starts: int
    steps: int
    converged: int  # ||h_T - h_{T-1}|| below tol: at (or next to) a fixed point
    diverged: int  # ||h_T|| grew by more than ``growth`` over ||h_0||
    other: int  # still moving: slow convergence, cycles or chaos

    def to_dict(self) -> dict:
        """The counts as a JSON-ready dict.

        Returns:
            ``{"starts", "steps", "converged", "diverged", "other"}``.
        """
        return dict(starts=self.starts, steps=self.steps, converged=self.converged,
                    diverged=self.diverged, other=self.other)


def simulate_outcomes(
    w, b=None, *, seed: int = 0, starts: int = 200, steps: int = 500,
    tol: float = 1e-8, growth: float = 1e6,
) -> Outcomes:
    """Run the map from ``starts`` random non-negative states and count how each ended.

    Starts are ``|N(0, 1)|`` in every unit (after one step every state is non-negative
    anyway). A trajectory *diverged* when its norm grew by more than ``growth`` times;
    it *converged* when its last step moved less than ``tol * (1 + ||h||)``.

    Args:
        w: ``(n, n)``, the weights.
        b: ``(n,)``, the bias (default zeros).
        seed: the seed of the starts.
        starts: the number of trajectories.
        steps: the steps each runs.
        tol: the convergence tolerance, relative.
        growth: the growth factor of the norm that counts as divergence.

    Returns:
        The counts of converged, diverged and other trajectories.

    Raises:
        UsageError: bad weights (see :func:`check_weights`).
    """
    w, b = check_weights(w, b)
    rng = np.random.default_rng(seed)
    h0 = np.abs(rng.standard_normal((starts, w.shape[0])))
    hs = trajectories(w, h0, steps, b)
    with np.errstate(over="ignore", invalid="ignore"):
        size0 = np.linalg.norm(h0, axis=1)
        size = np.linalg.norm(hs[-1], axis=1)
        moved = np.linalg.norm(hs[-1] - hs[-2], axis=1)
        diverged = ~np.isfinite(size) | (size > growth * np.maximum(size0, 1.0))
        converged = ~diverged & (moved <= tol * (1.0 + size))
    return Outcomes(starts=starts, steps=steps, converged=int(converged.sum()),
                    diverged=int(diverged.sum()), other=int((~diverged & ~converged).sum()))
