"""The 3-bit flip-flop (Sussillo & Barak 2013): the standard test of a fixed-point finder.

Three input lines carry sparse pulses of +1 or -1; three outputs must hold, at every step,
the sign of the last pulse on their line. A network that solves it has to keep one of
``2^3 = 8`` memory states between pulses, and the textbook solution is 8 stable fixed points
of the zero-input map (one per memory state) with saddles between them, which is what
:func:`rnnlab.training.analyze` looks for.

Layout (``L = T`` steps, inputs and targets time first):

- step 0 carries a pulse on every line (random signs), so every output is defined from the
  first step and no ninth "nothing seen yet" state is asked for;
- at each later step each line pulses with probability :data:`PULSE_PROBABILITY`, with a
  random sign;
- target ``y[t, :, i]`` is the sign of the last pulse on line ``i`` up to and including step
  ``t``; MSE over all steps and lines. The input-blind guess (0) has MSE 1 (:attr:`baseline`);
  ``accuracy`` counts the steps and lines where the output has the target's sign.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from rnnlab.training.tasks.base import Task

#: Lines (bits) of the flip-flop.
BITS = 3
#: Chance per step and line of a pulse after step 0 (a line flips about every 1 / p steps).
PULSE_PROBABILITY = 0.1


@dataclass(frozen=True)
class FlipFlop(Task):
    name = "flip-flop"
    description = "3-bit flip-flop: hold the sign of the last +-1 pulse on each of 3 lines (Sussillo & Barak); MSE"
    n_in = BITS
    n_out = BITS
    all_steps = True

    @property
    def baseline(self):
        return 1.0  # every target is +-1; predicting 0 costs 1

    def sample(self, key, batch):
        kp, ks = jax.random.split(key)
        shape = (self.T, batch, BITS)
        pulse = jax.random.bernoulli(kp, PULSE_PROBABILITY, shape).at[0].set(True)
        sign = jnp.where(jax.random.bernoulli(ks, 0.5, shape), 1.0, -1.0)
        x = jnp.where(pulse, sign, 0.0)

        def hold(last, x_t):
            last = jnp.where(x_t != 0, x_t, last)
            return last, last

        _, y = jax.lax.scan(hold, jnp.zeros((batch, BITS)), x)
        return x, y

    def metrics(self, pred, y):
        return {"mse": self.loss(pred, y), "accuracy": jnp.mean(jnp.sign(pred) == y)}
