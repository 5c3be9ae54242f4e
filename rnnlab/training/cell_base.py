"""The interface every recurrent cell implements, and the optimiser labels of its leaves.

A cell is a frozen dataclass holding only static configuration (sizes, names); its
parameters are a plain ``dict`` pytree made by ``cell.init(key)``. Everything is a pure
function of ``(params, inputs)``:

- ``cell.step(params, h, u) -> h`` one time step. ``u`` is the already-projected input
  (``x_t @ W_in + b``); ``h`` and ``u`` may be unbatched ``(H,)`` or batched ``(B, H)``
  because the step is written with right-multiplications ``h @ M``.
- ``cell.apply(params, x, all_steps) -> y`` runs a whole sequence ``x (T, B, n_in)`` and
  returns ``(T, B, n_out)`` outputs (``all_steps``) or ``(B, n_out)`` from the last step.
  The input projection of all ``T`` steps is one matmul done before the scan, and every
  matrix the recurrence needs (``W^T``, the real form of a complex ``W``) is built once per
  call, outside the scan. A cell whose step is ``phi(h @ m + u, b)`` says so
  (:meth:`Cell.recurrence_form`) and runs through :func:`rnnlab.training.recurrence.recurrence`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from rnnlab.training.recurrence import matmul, recurrence

Params = dict[str, jax.Array]

#: Label of a leaf updated by the Cayley step on U(N) (see :mod:`rnnlab.training.optim`).
UNITARY = "unitary"
#: Label of a leaf updated by the Euclidean optimiser.
EUCLIDEAN = "euclidean"
#: Label of a leaf that is not trained (e.g. everything but W in system identification).
FROZEN = "frozen"


def glorot(key: jax.Array, shape: tuple[int, int], dtype) -> jax.Array:
    """Glorot-normal ``N(0, 2 / (fan_in + fan_out))`` entries."""
    return math.sqrt(2.0 / sum(shape)) * jax.random.normal(key, shape, dtype)


def size(p: jax.Array) -> int:
    return int(math.prod(p.shape))


def complex_dtype(dtype):
    """complex128 for float64, else complex64."""
    return jnp.complex128 if dtype == jnp.float64 else jnp.complex64


@dataclass(frozen=True)
class Cell:
    """Shared interface. ``n`` hidden units, ``n_in`` inputs, ``n_out`` outputs per step."""

    n: int
    n_in: int
    n_out: int

    #: Name of the parameter leaf holding (or generating) the recurrent matrix.
    recurrent_leaf = "W"

    def init(self, key: jax.Array, dtype=jnp.float32) -> Params:
        raise NotImplementedError

    def labels(self, params: Params) -> dict[str, str]:
        """Optimiser label of every leaf (all Euclidean unless the cell says otherwise)."""
        return {k: EUCLIDEAN for k in params}

    def num_params(self, params: Params) -> int:
        return sum(size(p) for p in params.values())

    def recurrent_matrix(self, params: Params) -> jax.Array:
        """The ``(n, n)`` recurrent matrix ``W`` (complex for uRNNs)."""
        return params[self.recurrent_leaf]

    def is_unitary(self) -> bool:
        """Whether ``W`` is unitary by construction (its unitarity error is then logged)."""
        return False

    def initial_state(self, batch_shape: tuple[int, ...], dtype) -> jax.Array:
        return jnp.zeros(batch_shape + (self.state_size,), dtype)

    def start_state(self, params: Params, batch_shape: tuple[int, ...], dtype) -> jax.Array:
        """The state a sequence starts from: :meth:`initial_state` unless the cell learns one."""
        return self.initial_state(batch_shape, dtype)

    @property
    def state_size(self) -> int:
        return self.n

    def project_inputs(self, params: Params, x: jax.Array) -> jax.Array:
        """``x (..., n_in) -> (..., state or gate size)``, applied to all steps at once."""
        raise NotImplementedError

    def step_constants(self, params: Params):
        """Per-sequence constants of the recurrence (e.g. ``W^T``), built outside the scan."""
        raise NotImplementedError

    def step(self, consts, h: jax.Array, u: jax.Array) -> jax.Array:
        raise NotImplementedError

    def linear_form(self, params: Params):
        """``(m, b, phi)`` when ``step`` is ``phi(h @ m + u, b)``, else ``None``."""
        return None

    def recurrence_form(self, params: Params):
        """``(op, w, b, phi)`` when ``step`` is ``phi(op(w, h) + u, b)`` with ``op`` linear in ``h``
        (then :func:`~rnnlab.training.recurrence.recurrence` runs the sequence), else ``None``
        (a plain ``lax.scan`` of ``step``). By default the :meth:`linear_form`, if any."""
        form = self.linear_form(params)
        if form is None:
            return None
        m, b, phi = form
        return matmul, m, b, phi

    def features(self, h: jax.Array) -> jax.Array:
        """What the readout sees, ``(..., n_features)``."""
        return h

    def readout(self, params: Params, f: jax.Array) -> jax.Array:
        return f @ params["W_out"].T + params["b_out"]

    def apply(self, params: Params, x: jax.Array, all_steps: bool) -> jax.Array:
        """Run ``x (T, B, n_in)``; outputs ``(T, B, n_out)`` if ``all_steps`` else ``(B, n_out)``."""
        u = self.project_inputs(params, x)
        h0 = self.start_state(params, x.shape[1:-1], u.dtype)
        form = self.recurrence_form(params)
        if form is not None:
            op, w, b, phi = form
            hs = recurrence(op, phi, all_steps, w, b, h0, u)
            return self.readout(params, self.features(hs))
        consts = self.step_constants(params)

        def body(h, u_t):
            h = self.step(consts, h, u_t)
            return h, (self.features(h) if all_steps else None)

        h_last, hs = jax.lax.scan(body, h0, u)
        return self.readout(params, hs if all_steps else self.features(h_last))


