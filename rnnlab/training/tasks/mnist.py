"""Sequential pixel MNIST and its permuted variant: the ``mnist`` and ``pmnist`` tasks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.errors import UsageError
from rnnlab.training.tasks.base import Task


@dataclass(frozen=True)
class PixelMNIST(Task):
    """Sequential (optionally permuted) pixel MNIST; see the module table."""

    permuted: bool = False
    permutation_seed: int = 0
    data: str | None = None
    train_subset: int = 0

    name = "mnist"
    description = "pixel MNIST, one pixel per step (T = 784; 196, 49, ... pool the image); cross-entropy, accuracy"
    n_in = 1
    n_out = 10
    eval_splits = ("val", "test")

    @property
    def baseline(self):
        return math.log(10.0)  # uniform guess

    @property
    def order(self) -> np.ndarray | None:
        """Pixel order ``(T,)`` of pmnist (step t sees pixel ``order[t]``); None for mnist."""
        if not self.permuted:
            return None
        from rnnlab.training.datasets import permutation

        return permutation(self.permutation_seed, self.T)

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Images ``(n, T) uint8`` (pixel order applied) and labels ``(n,)`` of a split."""
        from rnnlab.training.datasets import pooled_splits

        x, y = pooled_splits(self.data, self.T)[name]
        if name == "train" and self.train_subset:
            x, y = x[: self.train_subset], y[: self.train_subset]
        order = self.order
        return (x if order is None else x[:, order]), y

    def check_batch(self, batch):
        n = len(self.split("train")[0])
        if batch > n:
            raise UsageError(f"batch {batch} exceeds the {n} training images")

    def write_files(self, out):
        if self.permuted:
            np.save(out / "permutation.npy", self.order)

    @staticmethod
    def to_sequences(images: jax.Array) -> jax.Array:
        """``(B, T) uint8 -> (T, B, 1)`` float32 in [0, 1], time first."""
        return (images.astype(jnp.float32) / 255.0).T[:, :, None]

    def sample_step(self, data_key, step, batch):
        # Epoch e visits the training images in the order permutation(fold_in(key, e)); the
        # batch of a step is its slice of that order, so it depends on the step number alone.
        images, labels = self.split("train")
        n = len(images)
        per_epoch = n // batch
        epoch, k = jnp.divmod(step, per_epoch)
        order = jax.random.permutation(jax.random.fold_in(data_key, epoch), n)
        idx = jax.lax.dynamic_slice(order, (k * batch,), (batch,))
        return self.to_sequences(jnp.asarray(images)[idx]), jnp.asarray(labels)[idx]

    def sample(self, key, batch):
        images, labels = self.split("train")
        idx = jax.random.choice(key, len(images), (batch,), replace=False)
        return self.to_sequences(jnp.asarray(images)[idx]), jnp.asarray(labels)[idx]

    def loss(self, pred, y):
        logp = jax.nn.log_softmax(pred, axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=-1))

    def metrics(self, pred, y):
        return {"xent": self.loss(pred, y), "accuracy": jnp.mean(jnp.argmax(pred, axis=-1) == y)}


@dataclass(frozen=True)
class PermutedMNIST(PixelMNIST):
    name = "pmnist"
    description = "permuted pixel MNIST (pixel order from permutation_seed, saved as permutation.npy)"
