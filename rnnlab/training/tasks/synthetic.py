"""The generated sequence tasks: addition and multiplication (np-RNN paper), copy memory
(uRNN papers). Layouts and baselines: the table of :mod:`rnnlab.training.tasks`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from rnnlab.training.tasks.base import Task

COPY_SYMBOLS = 8
COPY_LENGTH = 10


@dataclass(frozen=True)
class _MarkedPair(Task):
    """Addition / multiplication: two marked values, one in each half of the sequence."""

    n_in = 2
    n_out = 1

    #: The population mean of the target: the input-blind guess whose MSE is the baseline.
    mean_target = 0.0

    def combine(self, a, b):
        raise NotImplementedError

    def batch_baseline(self, y):
        return float(jnp.mean((y - self.mean_target) ** 2))

    def sample(self, key, batch):
        kv, k1, k2 = jax.random.split(key, 3)
        values = jax.random.uniform(kv, (self.T, batch))
        half = self.T // 2
        p1 = jax.random.randint(k1, (batch,), 0, half)
        p2 = jax.random.randint(k2, (batch,), half, self.T)
        t = jnp.arange(self.T)[:, None]
        markers = ((t == p1) | (t == p2)).astype(values.dtype)
        cols = jnp.arange(batch)
        y = self.combine(values[p1, cols], values[p2, cols])[:, None]
        return jnp.stack([values, markers], axis=-1), y


@dataclass(frozen=True)
class Addition(_MarkedPair):
    name = "addition"
    description = "sum of two marked values in [0, 1] (np-RNN paper); MSE, baseline 1/6"
    mean_target = 1.0

    @property
    def baseline(self):
        return 1.0 / 6.0  # Var(U1 + U2), the MSE of predicting the mean 1

    def combine(self, a, b):
        return a + b


@dataclass(frozen=True)
class Multiplication(_MarkedPair):
    name = "multiplication"
    description = "product of two marked values in [0, 1]; MSE, baseline 7/144"
    mean_target = 0.25

    @property
    def baseline(self):
        return 7.0 / 144.0  # Var(U1 U2) = E[U^2]^2 - E[U]^4 = 1/9 - 1/16

    def combine(self, a, b):
        return a * b


@dataclass(frozen=True)
class Copy(Task):
    name = "copy"
    description = "recall 10 symbols after a delay T (uRNN papers); cross-entropy, baseline 10 log 8 / (T + 20)"
    n_in = COPY_SYMBOLS + 2  # blank 0, symbols 1..8, marker 9
    n_out = COPY_SYMBOLS + 1  # blank, symbols
    all_steps = True

    @property
    def length(self):
        return self.T + 2 * COPY_LENGTH

    @property
    def baseline(self):
        return COPY_LENGTH * math.log(COPY_SYMBOLS) / self.length

    def sample(self, key, batch):
        symbols = jax.random.randint(key, (COPY_LENGTH, batch), 1, COPY_SYMBOLS + 1)
        blanks = jnp.zeros((self.T - 1, batch), symbols.dtype)
        marker = jnp.full((1, batch), COPY_SYMBOLS + 1, symbols.dtype)
        tail = jnp.zeros((COPY_LENGTH, batch), symbols.dtype)
        tokens = jnp.concatenate([symbols, blanks, marker, tail])
        targets = jnp.concatenate([jnp.zeros((self.T + COPY_LENGTH, batch), symbols.dtype), symbols])
        return jax.nn.one_hot(tokens, self.n_in), targets

    def loss(self, pred, y):
        logp = jax.nn.log_softmax(pred, axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, y[..., None], axis=-1))

    def metrics(self, pred, y):
        xent = self.loss(pred, y)
        recalled = jnp.argmax(pred[-COPY_LENGTH:], axis=-1) == y[-COPY_LENGTH:]
        return {"xent": xent, "xent_over_baseline": xent / self.baseline, "accuracy": jnp.mean(recalled)}
