"""Evaluation during and after a run: the fixed validation and test batches of a generated
task, and whole splits (``val``, ``test``) of a dataset task, for ``k`` seeds at once.

Every task has three disjoint sources of data. Training batches are drawn from the run's own
data key, one per step; the validation batch and the test batch of a generated task are
drawn once from their own fixed seeds (:data:`VAL_SEED`, :data:`TEST_SEED`), the same for
every model and seed so that numbers compare. A run logs validation metrics (``val_*``) at
every evaluation and test metrics (``test_*``) only at its end: hyperparameters and stopping
points are chosen on the validation batch, and the test batch reports the chosen setting."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.training import cells, tasks
from rnnlab.training.seeds import over_seeds

#: Seed of the test batch: the same for every seed and model, so test metrics compare.
TEST_SEED = 2**31 - 1
#: Seed of the validation batch of a generated task (selection happens on it, never on test).
VAL_SEED = 2**31 - 2
#: The fixed batch of each split of a generated task is drawn from this seed.
SPLIT_SEEDS = {"val": VAL_SEED, "test": TEST_SEED}


def fixed_batch(task: tasks.Task, split: str, batch: int) -> tuple[jax.Array, jax.Array]:
    """The fixed ``split`` batch (``"val"`` or ``"test"``) of a generated task: ``batch``
    sequences drawn from the split's own seed, the same for every run of ``task``."""
    if split not in SPLIT_SEEDS:
        raise ValueError(f"split must be one of {', '.join(SPLIT_SEEDS)}, got {split!r}")
    return task.sample(jax.random.key(SPLIT_SEEDS[split]), batch)


def make_eval(cell: cells.Cell, task: tasks.Task, batch: int, split: str = "test"):
    """``params -> metrics`` on the fixed ``split`` batch of a generated task, not jitted.

    Args:
        cell: the model.
        task: a generated task.
        batch: sequences in the batch.
        split: ``"val"`` or ``"test"`` (each has its own fixed seed; see :func:`fixed_batch`).

    Returns:
        The evaluation function.
    """

    def evaluate(params):
        x, y = fixed_batch(task, split, batch)
        return task.metrics(cell.apply(params, x, task.all_steps), y)

    return evaluate


def empirical_baselines(task: tasks.Task, batch: int) -> dict[str, float]:
    """``{"val_baseline": .., "test_baseline": ..}``: the loss of the task's input-blind guess
    on the very batches a generated task is evaluated on (:meth:`Task.batch_baseline`), which
    differs from the population value :attr:`Task.baseline` by sampling error; empty when the
    task has no such guess."""
    out = {}
    for split in SPLIT_SEEDS:
        value = task.batch_baseline(fixed_batch(task, split, batch)[1])
        if value is not None:
            out[f"{split}_baseline"] = float(value)
    return out


def make_split_eval(cell: cells.Cell, task: tasks.Task, chunk: int, k: int):
    """``(params, split) -> metrics`` over a whole split of a dataset task (``val``, ``test``),
    in chunks of ``chunk`` examples so memory stays bounded; ``params`` carry a leading
    ``(k,)`` seed axis and each metric comes back as ``(k,)``. Metrics are example means."""

    def sums(params, x, y, mask):
        pred = cell.apply(params, task.to_sequences(x), task.all_steps)
        logp = jax.nn.log_softmax(pred, axis=-1)
        nll = -jnp.take_along_axis(logp, y[:, None], axis=-1)[:, 0]
        correct = jnp.argmax(pred, axis=-1) == y
        return jnp.sum(jnp.where(mask, nll, 0.0)), jnp.sum(jnp.where(mask, correct, 0))

    mapped = jax.jit(over_seeds(sums, k, in_axes=(0, None, None, None)))

    def evaluate(params, split: str) -> dict[str, np.ndarray]:
        images, labels = task.split(split)
        n = len(images)
        total_nll, total_correct = np.zeros(k), np.zeros(k)
        for start in range(0, n, chunk):
            x, y = images[start:start + chunk], labels[start:start + chunk]
            m = len(x)
            mask = np.arange(chunk) < m
            if m < chunk:  # pad the last chunk so one compiled program serves every chunk
                x = np.concatenate([x, np.zeros((chunk - m,) + x.shape[1:], x.dtype)])
                y = np.concatenate([y, np.zeros(chunk - m, y.dtype)])
            a, b = jax.device_get(mapped(params, x, y, mask))
            total_nll += a
            total_correct += b
        return {"xent": total_nll / n, "accuracy": total_correct / n}

    return evaluate
