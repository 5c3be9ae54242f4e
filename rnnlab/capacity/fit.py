"""Tie rank to result: can a parameterization fit a Haar-random target on its manifold?

For a target ``U`` drawn from Haar measure on the map's manifold, minimise
``||W(theta) - U||_F^2 / N`` by Adam from several random starts (vmapped in one compiled
program) and keep the best residual. A full-capacity map reaches ~0 (float32 rounding, about
1e-6); a map whose image has measure zero in its manifold stalls at a residual bounded away
from zero with probability one. The residual is relative: 0 is a perfect fit, 2 is the
expected value for an unrelated pair of Haar matrices (``E||W - U||^2 / N = 2``).

The manifold is the map's own: U(N) for a complex map, O(N) for a real one (``manifold="O"``),
whose full rank is N(N-1)/2 and which can never fit a complex target. The image of a connected
parameter space lies in one of the two components of O(N) (``det W = +1`` or ``-1``; k real
reflections have ``det = (-1)^k``), so a real map's target is Haar on the component of its
sampled points: a Haar O(N) draw with its first column negated when the determinants differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab.analysis import haar_unitary
from rnnlab.analysis.unitary import haar_orthogonal
from rnnlab.capacity.parameterizations import Parameterization
from rnnlab.errors import UsageError

#: The most steps :func:`fit_target` takes: Optax counts them in int32.
MAX_STEPS = int(np.iinfo(np.int32).max)


@dataclass
class FitResult:
    parameterization: str
    n: int
    layers: int | None
    params: int
    starts: int
    steps: int
    seed: int
    target: str
    best_residual: float
    residuals: list[float]

    def as_record(self) -> dict:
        return dict(self.__dict__)


def fit_target(
    p: Parameterization,
    *,
    seed: int = 0,
    starts: int = 4,
    steps: int = 2000,
    learning_rate: float = 0.05,
) -> FitResult:
    """Fit ``W(theta)`` to a Haar-random target on its manifold from ``starts`` random points.

    Minimises ``||W(theta) - U||_F^2 / N`` by Adam (cosine-decayed rate), all starts vmapped
    in one compiled program. The target is Haar on the map's own manifold: U(N) for a complex
    map, for a real one the component of O(N) its image lies in. A full-capacity map reaches
    rounding; a map whose image has measure zero stalls at a residual bounded away from 0.

    Args:
        p: the parameterization.
        seed: the seed of the target and of the starts.
        starts: random starting points.
        steps: Adam steps from each start.
        learning_rate: Adam's initial rate.

    Returns:
        The residual of every start and the best one, with the target's manifold.

    Raises:
        UsageError: ``starts`` below 1, or ``steps`` below 1 or above :data:`MAX_STEPS`.
    """
    if starts < 1 or not 1 <= steps <= MAX_STEPS:
        raise UsageError(f"fit_target needs starts >= 1 and 1 <= steps <= {MAX_STEPS}, "
                         f"got starts={starts}, steps={steps}")
    key_target, key_starts = jax.random.split(jax.random.key(seed))
    theta0 = jax.vmap(lambda k: p.init(k, jnp.float32))(jax.random.split(key_starts, starts))
    target, where = haar_target(p, key_target, theta0[0])
    schedule = optax.cosine_decay_schedule(learning_rate, steps, alpha=0.01)
    opt = optax.adam(schedule)

    def loss(theta):
        return jnp.sum(jnp.abs(p.matrix(theta) - target) ** 2) / p.n

    def run_one(theta):
        def step(carry, _):
            theta, state = carry
            value, grad = jax.value_and_grad(loss)(theta)
            updates, state = opt.update(grad, state, theta)
            return (optax.apply_updates(theta, updates), state), value

        (theta, _), _ = jax.lax.scan(step, (theta, opt.init(theta)), None, length=steps)
        return loss(theta)

    residuals = np.asarray(jax.jit(jax.vmap(run_one))(theta0))
    return FitResult(
        parameterization=p.name,
        n=p.n,
        layers=p.layers,
        params=p.num_params,
        starts=starts,
        steps=steps,
        seed=seed,
        target=where,
        best_residual=float(np.min(residuals)),
        residuals=[float(r) for r in residuals],
    )


def haar_target(p: Parameterization, key: jax.Array, theta: jax.Array) -> tuple[jax.Array, str]:
    """A Haar-random target on the manifold ``p`` maps to, and its name: on U(N) for a complex
    map; for a real map, on the component of O(N) that holds ``W(theta)`` (``SO(N)`` or
    ``O(N), det -1``)."""
    if p.manifold != "O":
        return haar_unitary(key, p.n, jnp.complex64), f"U({p.n})"
    target = haar_orthogonal(key, p.n, jnp.float32)
    sign = float(np.sign(np.linalg.det(np.real(np.asarray(p.matrix(theta), np.complex128)))))
    if np.sign(np.linalg.det(np.asarray(target, np.float64))) != sign:
        target = target.at[:, 0].multiply(-1.0)
    return target, f"SO({p.n})" if sign > 0 else f"O({p.n}), det -1"
