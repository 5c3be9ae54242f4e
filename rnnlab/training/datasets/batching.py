"""Deterministic, resumable shuffling and batching shared by every dataset.

The order of examples is a pure function of ``(seed, epoch)``: step ``s`` of a run always
sees the same batch, so a run interrupted at step ``s`` continues exactly by asking for
``start_step=s`` (or :meth:`BatchSchedule.indices` at ``s``), with no iterator state to save.

Orders come from :func:`stable_permutation`, which sorts raw 64-bit words of NumPy's PCG64
bit generator. NumPy promises that bit-generator streams (and ``SeedSequence``) do not change
between versions, whereas ``Generator.permutation`` may; sorting raw words keeps a
permutation saved today reproducible on any NumPy.

Seeds: a non-negative ``int``, or a JAX PRNG key (typed or raw ``uint32`` key data), whose
words are used as the seed. Nothing here touches global random state.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnlab.errors import UsageError

Seed = Any  # an int >= 0 or a JAX PRNG key; see :func:`seed_words`


def seed_words(seed: Seed) -> tuple[int, ...]:
    """The non-negative integers that a seed stands for (``int`` -> itself, key -> its words)."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise UsageError(f"seed must be a non-negative integer, got {seed}")
        return (int(seed),)
    dtype = getattr(seed, "dtype", None)
    if dtype is None:
        raise UsageError(f"seed must be an int or a JAX PRNG key, got {type(seed).__name__}")
    import jax  # only when a key is passed, so plain data loading never imports JAX

    if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        seed = jax.random.key_data(seed)
    words = np.asarray(seed)
    if words.dtype != np.uint32:
        raise UsageError(f"a raw PRNG key must hold uint32 words, got dtype {words.dtype}")
    return tuple(int(w) for w in words.ravel())


@functools.lru_cache(maxsize=8)
def _cached_permutation(n: int, words: tuple[int, ...]) -> np.ndarray:
    raw = np.random.PCG64(np.random.SeedSequence(list(words))).random_raw(n)
    order = np.argsort(raw, kind="stable")
    order.setflags(write=False)  # shared by the cache: callers must not mutate it
    return order


def stable_permutation(n: int, seed: Seed, *salt: int) -> np.ndarray:
    """A permutation of ``range(n)``, shape ``(n,)`` int64, fixed by ``seed`` and ``salt``.

    ``salt`` separates independent uses of one seed (e.g. the epoch number). The result is
    read-only and identical on every NumPy version (see the module docstring).
    """
    if n < 0:
        raise UsageError(f"cannot permute a negative number of items ({n})")
    return _cached_permutation(int(n), seed_words(seed) + tuple(int(s) for s in salt))


@dataclass(frozen=True)
class BatchSchedule:
    """Which examples each training step sees: reshuffled every epoch, remainder dropped.

    An epoch is ``num_examples // batch_size`` steps over a fresh permutation of the
    examples; the ``num_examples % batch_size`` examples left at the end of that epoch's
    order are skipped for that epoch only (a different set each epoch), so every batch has
    the same shape and JAX compiles one step function.
    """

    num_examples: int
    batch_size: int
    seed: Seed = 0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise UsageError(f"batch size must be at least 1, got {self.batch_size}")
        if self.num_examples < self.batch_size:
            raise UsageError(
                f"batch size {self.batch_size} exceeds the {self.num_examples} examples available"
            )
        seed_words(self.seed)  # reject a bad seed now rather than at the first batch

    @property
    def steps_per_epoch(self) -> int:
        return self.num_examples // self.batch_size

    def epoch_order(self, epoch: int) -> np.ndarray:
        """Order of all examples in ``epoch``, shape ``(num_examples,)``."""
        return stable_permutation(self.num_examples, self.seed, epoch)

    def indices(self, step: int) -> np.ndarray:
        """Example indices ``(batch_size,)`` of global step ``step`` (from 0, across epochs)."""
        if step < 0:
            raise UsageError(f"step must be non-negative, got {step}")
        epoch, k = divmod(step, self.steps_per_epoch)
        return self.epoch_order(epoch)[k * self.batch_size : (k + 1) * self.batch_size]


def batches(
    *arrays: np.ndarray,
    batch_size: int,
    seed: Seed,
    epochs: int = 1,
    start_step: int = 0,
) -> Iterator[tuple[np.ndarray, ...]]:
    """Yield ``tuple(a[idx] for a in arrays)`` for each step from ``start_step`` to the last.

    The last step is ``epochs * steps_per_epoch - 1`` (see :class:`BatchSchedule`).
    All ``arrays`` share their leading axis (e.g. images ``(N, 784)`` and labels ``(N,)``);
    each yielded array has leading axis ``batch_size``. Resuming with ``start_step=s``
    yields exactly what an uninterrupted run yields from step ``s`` on.
    """
    if not arrays:
        raise UsageError("batches needs at least one array")
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise UsageError(f"arrays disagree on the number of examples: {[len(a) for a in arrays]}")
    if epochs < 0:
        raise UsageError(f"epochs must be non-negative, got {epochs}")
    schedule = BatchSchedule(n, batch_size, seed)
    for step in range(start_step, epochs * schedule.steps_per_epoch):
        idx = schedule.indices(step)
        yield tuple(a[idx] for a in arrays)
