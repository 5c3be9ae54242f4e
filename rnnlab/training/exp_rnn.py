"""expRNN: an orthogonal RNN whose W is the exponential of a skew-symmetric matrix."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import jax.scipy.linalg

from rnnlab.training.cell_base import Cell, glorot, size


@dataclass(frozen=True)
class ExpRNN(Cell):
    """Orthogonal RNN ``h_t = modReLU(W h_{t-1} + W_in x_t, b)`` with ``W = expm(S - S^T)``.

    ``S`` (leaf ``"S"``, only its strict upper triangle matters) is trained by the
    Euclidean optimiser, so ``W`` stays orthogonal to rounding at every step. Init: the
    block-diagonal 2x2 rotations of Henaff et al. with angles uniform in ``[-pi, pi]``.
    """

    recurrent_leaf = "S"

    def is_unitary(self) -> bool:
        return True

    def init(self, key, dtype=jnp.float32):
        ks, ki, ko = jax.random.split(key, 3)
        angles = jax.random.uniform(ks, (self.n // 2,), dtype, -jnp.pi, jnp.pi)
        idx = jnp.arange(self.n // 2) * 2
        # S - S^T then has the blocks [[0, a], [-a, 0]], whose exponential rotates by a.
        s = jnp.zeros((self.n, self.n), dtype).at[idx, idx + 1].set(angles)
        return {
            "S": s,
            "W_in": glorot(ki, (self.n, self.n_in), dtype),
            "b": jnp.zeros((self.n,), dtype),
            "W_out": glorot(ko, (self.n_out, self.n), dtype),
            "b_out": jnp.zeros((self.n_out,), dtype),
        }

    def num_params(self, params):
        return sum(self.n * (self.n - 1) // 2 if k == "S" else size(p) for k, p in params.items())

    def recurrent_matrix(self, params):
        s = jnp.triu(params["S"], 1)
        return jax.scipy.linalg.expm(s - s.T)

    def project_inputs(self, params, x):
        return x @ params["W_in"].T

    def step_constants(self, params):
        return self.recurrent_matrix(params).T, params["b"]

    def step(self, consts, h, u):
        w_t, b = consts
        z = h @ w_t + u
        return jnp.sign(z) * jax.nn.relu(jnp.abs(z) + b)


