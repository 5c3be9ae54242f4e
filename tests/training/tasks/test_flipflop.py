"""The 3-bit flip-flop task: targets hold the sign of each line's last pulse, pulses as stated."""

import jax
import numpy as np
from scipy.stats import binom

from rnnlab.training import tasks
from rnnlab.training.tasks.flipflop import BITS, PULSE_PROBABILITY


def test_targets_hold_the_sign_of_the_last_pulse():
    task = tasks.make("flip-flop", 40, 8)
    x, y = map(np.asarray, task.sample(jax.random.key(3), 64))
    assert x.shape == y.shape == (40, 64, BITS)
    assert set(np.unique(x)) <= {-1.0, 0.0, 1.0} and set(np.unique(y)) == {-1.0, 1.0}
    assert np.all(x[0] != 0)  # every line pulses at the first step
    # Recompute the held value with a plain loop over time.
    held = np.zeros((64, BITS))
    for t in range(40):
        held = np.where(x[t] != 0, x[t], held)
        np.testing.assert_array_equal(y[t], held)


def test_pulse_rate_and_signs():
    task = tasks.make("flip-flop", 200, 8)
    x = np.asarray(task.sample(jax.random.key(0), 100)[0])[1:]
    count = int(np.sum(x != 0))
    trials = x.size
    # Two-sided 1e-6 binomial bounds on the number of pulses; signs balanced likewise.
    lo, hi = binom.ppf([1e-6, 1 - 1e-6], trials, PULSE_PROBABILITY)
    assert lo <= count <= hi
    lo, hi = binom.ppf([1e-6, 1 - 1e-6], count, 0.5)
    assert lo <= int(np.sum(x > 0)) <= hi


def test_metrics_and_baseline():
    task = tasks.make("flip-flop", 10, 8)
    x, y = task.sample(jax.random.key(1), 16)
    assert float(task.loss(0 * y, y)) == task.baseline == 1.0
    m = task.metrics(y, y)
    assert float(m["mse"]) == 0.0 and float(m["accuracy"]) == 1.0
    flipped = np.asarray(y).copy()
    flipped[:, :, 0] *= -1
    assert abs(float(task.metrics(flipped, y)["accuracy"]) - 2 / 3) < 1e-6
