"""The LSTM cell (gates i, f, g, o in one matmul per time step, forget-gate bias 1)."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from rnnlab.dynamics import initializers
from rnnlab.training.cell_base import Cell, glorot
from rnnlab.training.recurrence import lstm_recurrence


@dataclass(frozen=True)
class LSTM(Cell):
    """Standard LSTM (gates i, f, g, o); state ``[h, c]`` of length ``2n``; forget bias 1.

    :meth:`apply` runs :func:`rnnlab.training.recurrence.lstm_recurrence` (custom backward
    pass); :meth:`step` is the same recurrence one step at a time.
    """

    recurrent_leaf = "W_h"

    @property
    def state_size(self) -> int:
        return 2 * self.n

    def init(self, key, dtype=jnp.float32):
        kx, kh, ko = jax.random.split(key, 3)
        # One orthogonal block per gate keeps the recurrent Jacobian well scaled at init.
        w_h = jnp.concatenate(
            [initializers.get("orthogonal")(k, self.n, dtype=dtype) for k in jax.random.split(kh, 4)], axis=1
        )
        b = jnp.zeros((4 * self.n,), dtype).at[self.n : 2 * self.n].set(1.0)
        return {
            "W_x": glorot(kx, (self.n_in, 4 * self.n), dtype),
            "W_h": w_h.astype(dtype),
            "b": b,
            "W_out": glorot(ko, (self.n_out, self.n), dtype),
            "b_out": jnp.zeros((self.n_out,), dtype),
        }

    def recurrent_matrix(self, params):
        return params["W_h"]

    def project_inputs(self, params, x):
        return x @ params["W_x"] + params["b"]

    def step_constants(self, params):
        return params["W_h"]

    def step(self, w_h, hc, u):
        n = self.n
        h, c = hc[..., :n], hc[..., n:]
        gates = h @ w_h + u
        i, f, g, o = (gates[..., k * n : (k + 1) * n] for k in range(4))
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return jnp.concatenate([h, c], axis=-1)

    def features(self, hc):
        return hc[..., : self.n]

    def apply(self, params, x, all_steps):
        u = self.project_inputs(params, x)
        h0 = jnp.zeros(x.shape[1:-1] + (self.n,), u.dtype)
        hs = lstm_recurrence(all_steps, params["W_h"], h0, h0, u)
        return self.readout(params, hs)
