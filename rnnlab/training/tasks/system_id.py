"""System identification of a random target uRNN (Wisdom et al.): the ``system-id`` task."""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from rnnlab.errors import UsageError
from rnnlab.training import cells as cells_mod
from rnnlab.training.tasks.base import Task

SYSTEM_ID_BIAS = -0.1
SYSTEM_ID_TARGETS = ("full", "restricted")


@dataclass(frozen=True)
class SystemID(Task):
    """System identification of a uRNN with ``n`` hidden units (see the module table)."""

    n: int = 16
    target: str = "full"
    target_seed: int = 0

    name = "system-id"
    description = "fit the W of a random target uRNN (option target: full or restricted); MSE"
    all_steps = True

    @property
    def n_in(self):  # type: ignore[override]
        return 2 * self.n

    @property
    def n_out(self):  # type: ignore[override]
        return 2 * self.n

    def target_model(self) -> tuple[cells_mod.UnitaryRNN, dict]:
        """The target cell and its parameters (a pure function of ``target_seed``)."""
        cell = cells_mod.UnitaryRNN(self.n, self.n_in, self.n_out, capacity=self.target)
        # The third key of the split, so a learner started from key(seed) never starts at the target.
        params = self.prepare(cell, cell.init(jax.random.split(jax.random.key(self.target_seed), 3)[2]))
        return cell, params

    def sample(self, key, batch):
        # Circular complex Gaussian of unit variance: Re and Im each N(0, 1/2).
        x = jax.random.normal(key, (self.T, batch, self.n_in)) * math.sqrt(0.5)
        cell, params = self.target_model()
        return x, cell.apply(params, x, all_steps=True)

    def check_model(self, cell):
        if not isinstance(cell, cells_mod.UnitaryRNN):
            raise UsageError("system-id trains only the W of a uRNN: use restricted-urnn or full-urnn")

    def prepare(self, cell, params):
        dtype = params["b"].dtype
        # Two separate arrays: a train step donates its state, and one buffer cannot be donated twice.
        return params | {
            "V": jnp.eye(2 * self.n, dtype=dtype),
            "W_out": jnp.eye(2 * self.n, dtype=dtype),
            "b": jnp.full((self.n,), SYSTEM_ID_BIAS, dtype),
            "b_out": jnp.zeros((2 * self.n,), dtype),
        }

    def labels(self, cell, params):
        labels = cell.labels(params)
        return {k: (v if k == cell.recurrent_leaf else cells_mod.FROZEN) for k, v in labels.items()}
