"""Fixed and slow points of a smooth (or piecewise smooth) map by optimisation (Sussillo & Barak 2013).

For a map ``F`` on states ``h (d,)`` (one step of a recurrent network at a constant input),
the points where the state hardly moves are the minima of

    q(h) = |F(h) - h|^2 / 2.

``q = 0`` is a fixed point; a local minimum with small ``q > 0`` is a *slow point*, where the
dynamics linger. Starting from states sampled where the network actually goes (its
trajectories), :func:`slow_points`

1. minimises ``q`` from every start at once by Levenberg-Marquardt on the residual
   ``r = F(h) - h``, matrix-free: the step solves ``(J^T J + mu c I) delta = -J^T r``
   (``J = F'(h) - I``; ``c`` the curvature ``|J g|^2 / |g|^2`` along the gradient ``g``, so
   ``mu`` means the same at any scale) by ``cg_steps`` conjugate-gradient steps, each one
   Jacobian-vector and one vector-Jacobian product of ``F``, batched over the starts: no
   ``d x d`` Jacobian is formed per start. ``mu`` is adapted per start (down on an accepted
   step, up on a rejected one); a start stops once its residual is below ``tol / 100``, and
   the loop once every start has stopped or after ``iterations`` steps. First-order descent
   (Adam, as FixedPointFinder uses) was tried first: on a trained tanh RNN (N = 128) the median
   ``q`` was still 2e-3 after 3000 steps, where this reaches rounding in about 30;
2. merges the results: points that reached the same fixed point (within ``1e-7 (1 + |h|)``,
   max-norm), and slow points within ``merge_radius``, keeping the one with the smallest ``q``;
3. linearises at each merged point (the Jacobian ``F'(h)`` by forward-mode autodiff): its
   eigenvalues, the number of unstable directions (``|lambda| > 1 + eig_tol``) and a verdict
   (``attracting`` / ``marginal`` / ``repelling``, as :func:`rnnlab.dynamics.fixed_points.classify`).

A point is reported as *fixed* when ``max_i |F(h) - h|_i <= tol`` (default :data:`FIXED_TOL`,
float64); the others are slow points with their ``q``. Everything runs in float64 (the map is
traced inside :func:`jax.enable_x64`; a map closing over float32 arrays computes in float32
where those arrays enter, so pass float64 NumPy arrays).

**Limits.** It finds what the starts lead to: fixed points whose basins under the descent the
starts miss are not found. Two distinct slow points closer than ``merge_radius`` count as one.
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


def _descend(residual, h0, iterations: int, cg_steps: int, stop: float):
    """Matrix-free Levenberg-Marquardt on ``r(h)`` for every row of ``h0`` (module docstring, step 1).
    Returns the final points and the number of steps taken."""

    def lm_step(h, mu):
        r, jvp = jax.linearize(residual, h)
        vjp = jax.linear_transpose(jvp, h)
        g = vjp(r)[0]
        jg = jvp(g)
        damping = mu * (jg @ jg) / jnp.maximum(g @ g, 1e-300)

        def cg(_, c):
            x, res, d, rr = c
            ad = vjp(jvp(d))[0] + damping * d
            alpha = rr / jnp.maximum(d @ ad, 1e-300)
            x, res = x + alpha * d, res - alpha * ad
            rr_new = res @ res
            return x, res, res + (rr_new / jnp.maximum(rr, 1e-300)) * d, rr_new

        delta = jax.lax.fori_loop(0, cg_steps, cg, (jnp.zeros_like(h), -g, -g, g @ g))[0]
        new = h + delta
        r_new = residual(new)
        better = jnp.all(jnp.isfinite(r_new)) & (r_new @ r_new < r @ r)
        h = jnp.where(better, new, h)
        mu = jnp.where(better, jnp.maximum(mu / 3.0, 1e-12), jnp.minimum(mu * 4.0, 1e8))
        return h, mu

    step_all = jax.vmap(lm_step)

    def moving(h):
        return jnp.max(jnp.abs(jax.vmap(residual)(h)), axis=1) > stop

    def cond(c):
        i, h, _, active = c
        return (i < iterations) & jnp.any(active)

    def body(c):
        i, h, mu, active = c
        new_h, new_mu = step_all(h, mu)
        # Starts that have converged stay where they are (and cost nothing further to the answer).
        h = jnp.where(active[:, None], new_h, h)
        mu = jnp.where(active, new_mu, mu)
        return i + 1, h, mu, active & moving(h)

    mu0 = jnp.full(h0.shape[0], 1e-2, h0.dtype)
    i, h, _, _ = jax.lax.while_loop(cond, body, (0, h0, mu0, moving(h0)))
    return h, i


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
    step, starts, *, tol: float = FIXED_TOL, eig_tol: float = EIG_TOL, iterations: int = 100,
    cg_steps: int = 15, merge_radius: float | None = None, max_points: int = 500,
) -> SlowPoints:
    """Fixed and slow points of ``step`` found from ``starts`` (see the module docstring).

    ``step``: a JAX-traceable function ``(d,) -> (d,)``. ``starts`` ``(m, d)``. ``iterations``:
    Levenberg-Marquardt steps at most, ``cg_steps`` conjugate-gradient steps in each;
    ``merge_radius`` (max-norm, default ``1e-3 (1 + RMS of the starts)``) merges slow points;
    at most ``max_points`` merged points (fixed ones first, then by ``q``) are linearised and
    reported, the count left out is in ``settings``. Raises :class:`~rnnlab.errors.UsageError`
    for non-finite or badly shaped starts.
    """
    starts = np.asarray(starts, dtype=np.float64)
    if starts.ndim != 2 or starts.shape[0] < 1 or starts.shape[1] < 1:
        raise UsageError(f"starts must be a non-empty (m, d) array, got shape {starts.shape}")
    if not np.all(np.isfinite(starts)):
        raise UsageError("starts contain NaN or infinite entries")
    check_int(iterations, "iterations", 0)
    check_int(cg_steps, "cg_steps")
    check_int(max_points, "max_points")
    rms = float(np.sqrt(np.mean(starts**2)))
    merge_radius = 1e-3 * (1.0 + rms) if merge_radius is None else float(merge_radius)
    settings = {"tol": tol, "tol_meaning": "max_i |F(h) - h|_i of a fixed point (float64)",
                "eig_tol": eig_tol, "iterations": iterations, "cg_steps": cg_steps,
                "merge_radius": merge_radius, "fixed_merge_radius": "1e-7 (1 + max_i |h_i|)", "max_points": max_points}

    with jax.enable_x64(True):
        def residual(h):
            return step(h) - h

        found, taken = jax.jit(_descend, static_argnums=(0, 2, 3))(residual, jnp.asarray(starts), iterations,
                                                                    cg_steps, tol / 100)
        found = np.asarray(found)
        r = np.asarray(jax.jit(jax.vmap(residual))(jnp.asarray(found)))
        settings["iterations_taken"] = int(taken)

        res = np.max(np.abs(r), axis=1)
        res = np.where(np.isfinite(res), res, np.inf)
        q = 0.5 * np.sum(r * r, axis=1)
        ok = np.flatnonzero(np.isfinite(res) & np.all(np.isfinite(found), axis=1))
        settings["diverged_starts"] = int(len(found) - len(ok))
        fixed = res <= tol
        radius = np.where(fixed, 1e-7 * (1.0 + np.max(np.abs(found), axis=1)), merge_radius)
        order = ok[np.lexsort((q[ok], ~fixed[ok]))]
        kept, owner = _merge(found, order, radius)
        counts = np.bincount(owner[ok], minlength=len(kept))
        settings["merged"] = len(kept)
        settings["left_out"] = max(len(kept) - max_points, 0)
        kept = kept[:max_points]
        if not kept:
            return SlowPoints([], len(starts), settings)
        jac = np.asarray(jax.jit(jax.vmap(jax.jacfwd(step)))(jnp.asarray(found[kept])))

    points = []
    for k, i in enumerate(kept):
        eig = np.linalg.eigvals(jac[k])
        eig = eig[np.argsort(-np.abs(eig), kind="stable")]
        rho = float(np.abs(eig[0])) if len(eig) else 0.0
        points.append(SlowPoint(
            point=found[i], q=float(q[i]), residual=float(res[i]), fixed=bool(fixed[i]),
            eigenvalues=eig.astype(complex), unstable=int(np.sum(np.abs(eig) > 1.0 + eig_tol)),
            stability=classify(rho, eig_tol), starts=int(counts[k]),
        ))
    return SlowPoints(points, len(starts), settings)
