"""The ``full-urnn`` train step, Cayley update included, against the ReLU RNN step
at equal N (addition task, T=784, batch 16, float32, both measured here, one after the other).

A full uRNN does twice the recurrent work of a ReLU RNN of the same N by construction
(its real-form state has 2N entries, so ``W h`` is a ``2N x 2N`` real matmul: 4x the
FLOPs), plus modReLU and, once per step, the Cayley solve. The Cayley update alone
(``cayley_direction`` + ``cayley_update`` on complex64 ``N x N``) is timed apart.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from benchmarks import Row, time_call
from benchmarks._steps import rnnlab_step
from rnnlab.analysis.unitary import haar_unitary
from rnnlab.training.optim import cayley_direction, cayley_update


def cayley_only(n: int, repeats: int):
    kw, kg = jax.random.split(jax.random.key(0))
    w = haar_unitary(kw, n, jnp.complex64)
    g = (jax.random.normal(kg, (n, n)) + 1j * jax.random.normal(jax.random.fold_in(kg, 1), (n, n))).astype(jnp.complex64)
    fn = jax.jit(lambda g, w: cayley_update(cayley_direction(g, w), w, jnp.float32(1e-3)))
    return time_call(lambda: fn(g, w), repeats)


def run(quick: bool) -> list[Row]:
    n, T, batch = 128, (100 if quick else 784), 16
    repeats = 3 if quick else 7
    relu = rnnlab_step("relu-rnn", n, T, batch, repeats)
    full = rnnlab_step("full-urnn", n, T, batch, repeats)
    cay = cayley_only(n, repeats)
    shape = {"n": n, "T": T, "batch": batch, "dtype": "float32", "optimiser": "sgd + cayley"}
    return [
        Row("urnn-step", "full-urnn / relu-rnn step time", full.median / relu.median, target=6.0,
            detail=shape | {"full_urnn": full.as_record(), "relu_rnn": relu.as_record()}),
        Row("urnn-step", "Cayley update / full-urnn step", cay.median / full.median,
            detail={"n": n, "cayley": cay.as_record(), "full_urnn": full.as_record()}),
    ]
