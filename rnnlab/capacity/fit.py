"""Tie rank to result: can a parameterization fit a Haar-random target unitary?

For a target ``U`` drawn from Haar measure, minimise ``||W(theta) - U||_F^2 / N`` by Adam
from several random starts (vmapped in one compiled program) and keep the best residual.
A full-capacity map reaches ~0 (float32 rounding, about 1e-6); a map whose image has
measure zero in U(N) stalls at a residual bounded away from zero with probability one.
The residual is relative: 0 is a perfect fit, 2 is the expected value for an unrelated
pair of Haar unitaries (``E||W - U||^2 / N = 2``).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab.analysis import haar_unitary
from rnnlab.capacity.parameterizations import Parameterization


@dataclass
class FitResult:
    parameterization: str
    n: int
    layers: int | None
    params: int
    starts: int
    steps: int
    seed: int
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
    """Fit ``W(theta)`` to a Haar-random target from ``starts`` random points."""
    key_target, key_starts = jax.random.split(jax.random.key(seed))
    target = haar_unitary(key_target, p.n, jnp.complex64)
    theta0 = jax.vmap(lambda k: p.init(k, jnp.float32))(jax.random.split(key_starts, starts))
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
        best_residual=float(np.min(residuals)),
        residuals=[float(r) for r in residuals],
    )
