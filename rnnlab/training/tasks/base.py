"""The task interface every training task implements (:class:`Task`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp

from rnnlab.training import cells as cells_mod

@dataclass(frozen=True)
class Task:
    """Shared interface; ``T`` is the task's length option, ``length`` the sequence length."""

    T: int

    name = ""
    description = ""
    n_in = 0
    n_out = 0
    #: Whether the model emits an output at every step (else only at the last).
    all_steps = False

    @property
    def length(self) -> int:
        return self.T

    @property
    def baseline(self) -> float | None:
        """The loss of the best input-blind guess, for comparison (None if not defined)."""
        return None

    def batch_baseline(self, y: jax.Array) -> float | None:
        """The loss of the input-blind guess behind :attr:`baseline` on the targets ``y`` of
        one batch (its sampling error included), or None where the task has no such guess.
        By default the population value itself (a batch-independent baseline)."""
        return self.baseline

    def sample(self, key: jax.Array, batch: int) -> tuple[jax.Array, jax.Array]:
        raise NotImplementedError

    def sample_step(self, data_key: jax.Array, step: jax.Array, batch: int) -> tuple[jax.Array, jax.Array]:
        """The training batch of step ``step`` (a function of the step number alone)."""
        return self.sample(jax.random.fold_in(data_key, step), batch)

    #: Splits of a fixed dataset evaluated during (``"val"``) and at the end of (``"test"``)
    #: a run; empty for generated tasks, which use fixed sampled validation and test batches
    #: (:mod:`rnnlab.training.evaluation`).
    eval_splits = ()

    def check_batch(self, batch: int) -> None:
        """Raise :class:`UsageError` if ``batch`` cannot be drawn (datasets too small)."""

    def write_files(self, out: Path) -> None:
        """Files the task leaves in the run folder (pmnist: ``permutation.npy``)."""

    def loss(self, pred: jax.Array, y: jax.Array) -> jax.Array:
        return jnp.mean((pred - y) ** 2)

    def metrics(self, pred: jax.Array, y: jax.Array) -> dict[str, jax.Array]:
        """Scalar metrics of one batch (the loss included, under its task's name)."""
        return {"mse": self.loss(pred, y)}

    def check_model(self, cell: cells_mod.Cell) -> None:
        """Raise :class:`UsageError` if the task cannot train this cell."""

    def prepare(self, cell: cells_mod.Cell, params: dict) -> dict:
        """Parameters the task fixes before training (identity by default)."""
        return params

    def labels(self, cell: cells_mod.Cell, params: dict) -> dict[str, str]:
        return cell.labels(params)

    def split_eval(self, cell: cells_mod.Cell, chunk: int, k: int):
        """A task's own ``(params, split) -> {metric: (k,) array}`` for its ``eval_splits``
        (``params`` with a leading ``(k,)`` seed axis, ``chunk`` examples at a time), or None
        for the classification evaluation of :func:`rnnlab.training.evaluation.make_split_eval`."""
        return None
