"""The tanh and ReLU RNNs (np-RNN paper notation); IRNN, iRNN and np-RNN are these with a fixed init."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from rnnlab.dynamics import initializers
from rnnlab.errors import UsageError
from rnnlab.training.cell_base import Cell


def _relu(z, b):
    return jax.nn.relu(z)


def _tanh(z, b):
    return jnp.tanh(z)


@dataclass(frozen=True)
class SimpleRNN(Cell):
    """``h_t = act(W h_{t-1} + W_in x_t + b)``, ``y_t = W_out h_t + b_out`` (np-RNN paper notation).

    ``W`` comes from the dynamics registry (``init``, with ``init_scale`` passed as the
    initialiser's ``scale`` or ``g``); ``W_in`` is the paper's ``alpha * N(0, 1/n)`` and
    ``W_out`` Glorot normal; biases are zero.
    """

    activation: str = "relu"
    init_name: str = "orthogonal"
    init_scale: float | None = None
    alpha: str | float = initializers.DEFAULT_ALPHA

    def init(self, key, dtype=jnp.float32):
        kw, ki, ko = jax.random.split(key, 3)
        options = {}
        if self.init_scale is not None:
            options = {"scaled-identity": {"scale": self.init_scale}, "gaussian": {"g": self.init_scale}}.get(
                self.init_name, {}
            )
            if not options:
                raise UsageError(f"init {self.init_name!r} takes no init_scale")
        return {
            "W": initializers.get(self.init_name)(kw, self.n, dtype=dtype, **options).astype(dtype),
            "W_in": initializers.input_weights(ki, self.n_in, self.n, alpha=self.alpha, dtype=dtype).astype(dtype),
            "b": jnp.zeros((self.n,), dtype),
            "W_out": initializers.output_weights(ko, self.n, self.n_out, dtype=dtype).astype(dtype),
            "b_out": jnp.zeros((self.n_out,), dtype),
        }

    def project_inputs(self, params, x):
        return x @ params["W_in"].T + params["b"]

    def step_constants(self, params):
        return params["W"].T

    def step(self, w_t, h, u):
        z = h @ w_t + u
        return jax.nn.relu(z) if self.activation == "relu" else jnp.tanh(z)

    def linear_form(self, params):
        w_t = self.step_constants(params)
        return w_t, jnp.zeros((0,), w_t.dtype), (_relu if self.activation == "relu" else _tanh)


