"""How far float32 Cayley steps drift off U(N), with random gradients and no re-projection."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from rnnlab.analysis.unitary import haar_unitary, unitarity_error
from rnnlab.errors import UsageError, check_int
from rnnlab.training.optim import cayley_unitary


def _advance(body, length: int):
    return jax.jit(lambda w, s: jax.lax.scan(body, (w, s), None, length=length)[0])


def cayley_drift(n: int, steps: int, lr: float, seed: int = 0, report_every: int = 10_000,
                 rms_normalise: bool = False) -> list[dict]:
    """How far the Cayley step drifts from U(N) in complex64 (``rnnlab cayley-drift``).

    Starts from a Haar-random ``W`` and takes ``steps`` Cayley steps, each with a fresh
    gradient whose entries are standard circular complex Gaussians.

    Args:
        n: the size of ``W``.
        steps: the number of steps.
        lr: the learning rate.
        seed: the seed of ``W`` and the gradients.
        report_every: steps between reported rows.
        rms_normalise: RMS-normalise the gradient first (natGradRMS).

    Returns:
        Rows ``{"step", "unitarity_error"}`` (``max|W^H W - I|``), the start included.

    Raises:
        UsageError: a bad size or a learning rate that is not a finite positive number.
    """
    for name, value in (("n", n), ("steps", steps), ("report_every", report_every)):
        check_int(value, name)
    if not (math.isfinite(lr) and lr > 0):
        raise UsageError(f"lr must be a finite number > 0, got {lr}")
    k_w, k_g = jax.random.split(jax.random.key(seed))
    tx = cayley_unitary(lr, rms_normalise=rms_normalise)
    w = haar_unitary(k_w, n, jnp.complex64)

    def body(carry, _):
        w, state = carry
        kr, ki = jax.random.split(jax.random.fold_in(k_g, state.count))
        g = (jax.random.normal(kr, (n, n)) + 1j * jax.random.normal(ki, (n, n))) / jnp.sqrt(2.0)
        update, state = tx.update(g.astype(jnp.complex64), state, w)
        return (w + update, state), None

    state = tx.init(w)
    rows = [{"step": 0, "unitarity_error": float(unitarity_error(w))}]
    done = 0
    while done < steps:
        length = min(report_every, steps - done)
        w, state = _advance(body, length)(w, state)
        done += length
        rows.append({"step": done, "unitarity_error": float(unitarity_error(w))})
    return rows
