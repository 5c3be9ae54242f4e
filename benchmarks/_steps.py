"""The rnnlab train step on the addition task, built as ``docs/training.md`` describes."""

from __future__ import annotations

import jax

from benchmarks import Timing, time_stateful
from rnnlab.training import loop
from rnnlab.training.config import TrainConfig


def rnnlab_step(model: str, n: int, T: int, batch: int, repeats: int, lr: float = 1e-3) -> Timing:
    """Median seconds of one jitted step (forward scan, BPTT, SGD / Cayley update), float32."""
    exp = loop.build(TrainConfig(task="addition", model=model, n=n, T=T, batch=batch, optimiser="sgd", lr=lr))
    state = loop.init_state(exp, jax.random.key(0))
    step = loop.make_train_step(exp.cell, exp.task, exp.tx, exp.labels)
    x, y = exp.task.sample(jax.random.key(1), batch)
    timing, _ = time_stateful(lambda s: step(s, x, y)[0], state, repeats)
    return timing
