"""Evaluation during and after a run: the fixed test batch of a generated task, and whole
splits (``val``, ``test``) of a dataset task, for ``k`` seeds at once."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.training import cells, tasks
from rnnlab.training.seeds import over_seeds

#: Seed of the test batch: the same for every seed and model, so test metrics compare.
TEST_SEED = 2**31 - 1


def make_eval(cell: cells.Cell, task: tasks.Task, batch: int):
    """``params -> metrics`` on the fixed test batch (seed :data:`TEST_SEED`), not jitted."""

    def evaluate(params):
        x, y = task.sample(jax.random.key(TEST_SEED), batch)
        return task.metrics(cell.apply(params, x, task.all_steps), y)

    return evaluate


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
