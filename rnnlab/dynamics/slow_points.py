"""Fixed and slow points of a smooth (or piecewise smooth) map by optimisation (Sussillo & Barak 2013).

For a map ``F`` on states ``h (d,)`` (one step of a recurrent network at a constant input),
the points where the state hardly moves are the minima of

    q(h) = |F(h) - h|^2 / 2.

``q = 0`` is a fixed point; a local minimum with small ``q > 0`` is a *slow point*, where the
dynamics linger. Starting from states sampled where the network actually goes (its
trajectories), :func:`slow_points`

1. runs Adam on ``q`` for every start at once (first order: one forward and one backward
   pass of ``F`` per iteration over all starts), the learning rate decaying geometrically
   from ``lr`` to ``lr * final_lr_ratio`` so that late iterations settle;
2. merges the results closer than ``merge_radius`` (they went to the same place) and
   keeps, for each, the start with the smallest ``q``;
3. polishes each survivor by Levenberg-Marquardt on the residual ``r = F(h) - h`` (the
   Jacobian ``J = F'(h) - I`` by forward-mode autodiff, steps ``-(J^T J + mu I)^{-1} J^T r``
   with ``mu`` adapted per point): quadratic convergence at a fixed point, the
   Gauss-Newton rate at a slow point. Second order costs ``d^3`` per point, which is why it
   runs only on the merged set, not on every start;
4. merges again at a tight radius, and linearises: the eigenvalues of ``F'(h)`` at each
   point, the number of unstable directions (``|lambda| > 1 + eig_tol``) and a verdict
   (``attracting`` / ``marginal`` / ``repelling``, as :func:`rnnlab.dynamics.fixed_points.classify`).

A point is reported as *fixed* when ``max_i |F(h) - h|_i <= tol`` (default :data:`FIXED_TOL`,
float64); the others are slow points with their ``q``. Everything runs in float64 (the map is
traced inside :func:`jax.enable_x64`; a map closing over float32 arrays computes in float32
where those arrays enter, so pass float64 NumPy arrays).

**Limits.** It finds what the starts lead to: fixed points off the sampled trajectories' reach
(or whose basins under the flow of ``-grad q`` the starts miss) are not found. Two distinct
points closer than ``merge_radius`` after step 1 count as one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.dynamics.fixed_points import classify
from rnnlab.errors import UsageError, check_int

#: Largest residual ``max |F(h) - h|`` of a point reported as fixed (float64 arithmetic).
FIXED_TOL = 1e-10
#: ``|lambda|`` within this of 1 is marginal; above ``1 + EIG_TOL`` a direction is unstable.
EIG_TOL = 1e-6


@dataclass(frozen=True)
class SlowPoint:
    """One fixed or slow point of ``F``."""

    point: np.ndarray  # (d,)
    q: float  # |F(h) - h|^2 / 2
    residual: float  # max_i |F(h) - h|_i
    fixed: bool  # residual <= tol
    eigenvalues: np.ndarray  # of F'(h), complex, sorted by |.| descending
    unstable: int  # eigenvalues with |lambda| > 1 + eig_tol
    stability: str  # attracting / marginal / repelling, from the largest |lambda|
    starts: int  # starts that ended here

    @property
    def spectral_radius(self) -> float:
        return float(np.abs(self.eigenvalues[0])) if len(self.eigenvalues) else 0.0

    def to_dict(self) -> dict:
        return {
            "fixed": self.fixed, "stability": self.stability, "unstable": self.unstable,
            "q": self.q, "residual": self.residual, "spectral_radius": self.spectral_radius,
            "starts": self.starts, "point": self.point.tolist(),
            "eigenvalues": [[float(e.real), float(e.imag)] for e in self.eigenvalues],
        }


@dataclass(frozen=True)
class SlowPoints:
    """The points found from ``starts`` starts, fixed ones first (then by ``q``), and the
    settings that decide what counts (``settings``: tolerances, radii, iterations)."""

    points: list[SlowPoint]
    starts: int
    settings: dict = field(default_factory=dict)

    @property
    def fixed(self) -> list[SlowPoint]:
        return [p for p in self.points if p.fixed]

    def to_dict(self) -> dict:
        return {"starts": self.starts, "settings": self.settings, "points": [p.to_dict() for p in self.points]}


def _adam(residual, h0, iterations: int, lr: float, final_ratio: float):
    """``iterations`` Adam steps on ``q = |r(h)|^2 / 2`` for every row of ``h0`` at once."""
    b1, b2, eps = 0.9, 0.999, 1e-12
    decay = final_ratio ** (1.0 / max(iterations - 1, 1))

    def q_all(h):
        r = jax.vmap(residual)(h)
        return 0.5 * jnp.sum(r * r)

    grad = jax.grad(q_all)

    def body(i, carry):
        h, m, v = carry
        g = grad(h)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        t = i + 1
        step = lr * decay**i * jnp.sqrt(1 - b2**t) / (1 - b1**t)
        return h - step * m / (jnp.sqrt(v) + eps), m, v

    zeros = jnp.zeros_like(h0)
    return jax.lax.fori_loop(0, iterations, body, (h0, zeros, zeros))[0]


def _levenberg_marquardt(residual, h0, iterations: int):
    """Levenberg-Marquardt on ``r(h)`` for every row of ``h0``; ``mu`` per point, raised on a
    rejected step and lowered on an accepted one."""
    d = h0.shape[1]
    eye = jnp.eye(d, dtype=h0.dtype)

    def one(h):
        def body(_, carry):
            h, mu = carry
            r = residual(h)
            j = jax.jacfwd(residual)(h)
            jtj = j.T @ j
            # mu is relative to the curvature's scale, so the damping means the same at any size.
            scale = jnp.trace(jtj) / d + 1e-300
            delta = jnp.linalg.solve(jtj + mu * scale * eye, -(j.T @ r))
            new = h + delta
            r_new = residual(new)
            better = jnp.all(jnp.isfinite(r_new)) & (r_new @ r_new < r @ r)
            h = jnp.where(better, new, h)
            mu = jnp.where(better, jnp.maximum(mu / 10.0, 1e-15), jnp.minimum(mu * 10.0, 1e12))
            return h, mu

        return jax.lax.fori_loop(0, iterations, body, (h, jnp.asarray(1e-3, h.dtype)))[0]

    return jax.vmap(one)(h0)


def _merge(points: np.ndarray, order: np.ndarray, radius: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Greedy merge in ``order``: each point joins the first kept point within its radius.
    Returns the kept indices and, for every point, the index (into kept) it joined."""
    kept: list[int] = []
    owner = np.empty(len(points), int)
    for i in order:
        if kept:
            dist = np.max(np.abs(points[kept] - points[i]), axis=1)
            j = int(np.argmin(dist))
            if dist[j] <= radius[i]:
                owner[i] = j
                continue
        owner[i] = len(kept)
        kept.append(int(i))
    return kept, owner


def slow_points(
    step, starts, *, tol: float = FIXED_TOL, eig_tol: float = EIG_TOL, iterations: int = 1500,
    lr: float | None = None, final_lr_ratio: float = 1e-3, polish: int = 30, merge_radius: float | None = None,
    max_points: int = 200,
) -> SlowPoints:
    """Fixed and slow points of ``step`` found from ``starts`` (see the module docstring).

    ``step``: a JAX-traceable function ``(d,) -> (d,)``. ``starts`` ``(m, d)``. ``lr``:
    Adam's first learning rate (default ``1e-2`` times the RMS of the starts, at least 1e-3);
    ``iterations`` its steps; ``polish`` Levenberg-Marquardt steps per merged point;
    ``merge_radius`` (max-norm, default ``1e-3 (1 + RMS of the starts)``) merges the Adam
    results; at most ``max_points`` merged points (smallest ``q`` first) are polished, the
    count left out is in ``settings``. Raises :class:`~rnnlab.errors.UsageError` for
    non-finite or badly shaped starts.
    """
    starts = np.asarray(starts, dtype=np.float64)
    if starts.ndim != 2 or starts.shape[0] < 1 or starts.shape[1] < 1:
        raise UsageError(f"starts must be a non-empty (m, d) array, got shape {starts.shape}")
    if not np.all(np.isfinite(starts)):
        raise UsageError("starts contain NaN or infinite entries")
    check_int(iterations, "iterations", 0)
    check_int(polish, "polish", 0)
    check_int(max_points, "max_points")
    rms = float(np.sqrt(np.mean(starts**2)))
    lr = max(1e-2 * rms, 1e-3) if lr is None else float(lr)
    merge_radius = 1e-3 * (1.0 + rms) if merge_radius is None else float(merge_radius)
    settings = {"tol": tol, "tol_meaning": "max_i |F(h) - h|_i of a fixed point (float64)",
                "eig_tol": eig_tol, "adam_iterations": iterations, "adam_lr": lr,
                "adam_final_lr": lr * final_lr_ratio, "merge_radius": merge_radius,
                "polish_iterations": polish, "max_points": max_points}

    with jax.enable_x64(True):
        def residual(h):
            return step(h) - h

        h0 = jnp.asarray(starts)
        adam = jax.jit(_adam, static_argnums=(0, 2))(residual, h0, iterations, lr, final_lr_ratio)
        rough = np.asarray(adam)
        q_rough = 0.5 * np.sum(np.asarray(jax.jit(jax.vmap(residual))(adam)) ** 2, axis=1)
        q_rough = np.where(np.isfinite(q_rough), q_rough, np.inf)
        finite = np.flatnonzero(np.all(np.isfinite(rough), axis=1))
        order = finite[np.argsort(q_rough[finite], kind="stable")]
        kept, adam_owner = _merge(rough, order, np.full(len(rough), merge_radius))
        cluster_size = np.bincount(adam_owner[finite], minlength=len(kept))
        settings["merged_after_adam"] = len(kept)
        settings["left_out"] = max(len(kept) - max_points, 0)
        settings["diverged_starts"] = int(len(rough) - len(finite))
        kept = kept[:max_points]
        if not kept:
            return SlowPoints([], len(starts), settings)
        polished = np.asarray(jax.jit(_levenberg_marquardt, static_argnums=(0, 2))(
            residual, jnp.asarray(rough[kept]), polish))
        r = np.asarray(jax.jit(jax.vmap(residual))(jnp.asarray(polished)))
        jac = np.asarray(jax.jit(jax.vmap(jax.jacfwd(step)))(jnp.asarray(polished)))

    res = np.max(np.abs(r), axis=1)
    res = np.where(np.isfinite(res), res, np.inf)
    q = 0.5 * np.sum(r * r, axis=1)
    # Tight merge: polished points that reached the same point (to far below merge_radius).
    scale = 1.0 + np.max(np.abs(polished), axis=1)
    tight = np.maximum(np.sqrt(np.maximum(res, 0.0)) * 10, 1e-7) * scale
    ok = np.flatnonzero(np.isfinite(res) & np.all(np.isfinite(polished), axis=1))
    order = ok[np.lexsort((q[ok], res[ok] > tol))]
    final, owner = _merge(polished, order, tight)
    # Starts per final point: the starts of each Adam cluster, summed over the clusters merged here.
    counts = np.zeros(len(final), int)
    np.add.at(counts, owner[ok], cluster_size[ok])
    points = []
    for k, i in enumerate(final):
        eig = np.linalg.eigvals(jac[i])
        eig = eig[np.argsort(-np.abs(eig), kind="stable")]
        rho = float(np.abs(eig[0])) if len(eig) else 0.0
        points.append(SlowPoint(
            point=polished[i], q=float(q[i]), residual=float(res[i]), fixed=bool(res[i] <= tol),
            eigenvalues=eig.astype(complex), unstable=int(np.sum(np.abs(eig) > 1.0 + eig_tol)),
            stability=classify(rho, eig_tol), starts=int(counts[k]),
        ))
    return SlowPoints(points, len(starts), settings)
