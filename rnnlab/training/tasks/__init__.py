"""The training tasks, one module per family, and their registry.

``make(name, T, n, **options)`` builds a :class:`Task`; ``task.sample(key, batch)`` returns
inputs ``x (L, batch, n_in)`` (time first, as the cells scan over it) and targets ``y``.
Generated tasks are drawn in JAX from a key (deterministic, jit-friendly).

Modules: :mod:`~rnnlab.training.tasks.base` (the interface), ``synthetic`` (addition,
multiplication, copy), ``system_id``, ``mnist`` (mnist, pmnist), ``speech``, ``action``,
``flipflop``.

=============  ========================================================================
name           task
=============  ========================================================================
addition       L = T, inputs [value ~ U[0,1], marker]; one marker in each half;
               target = sum of the two marked values at the last step; MSE.
               Baseline (predict 1): Var = 1/6 ~ 0.167.
multiplication same inputs, target = their product; baseline (predict 1/4): 7/144.
copy           L = T + 20: 10 symbols from {1..8}, T - 1 blanks (0), the marker 9,
               10 blanks; output: blanks, then the 10 symbols in the last 10 steps.
               One-hot inputs (10), 9 output classes; cross-entropy averaged over all
               L steps; baseline 10 log(8) / (T + 20) (blanks known, symbols guessed).
mnist          pixel MNIST: one pixel (in [0, 1]) per step, L = T = 784 by default
               (T = 196, 49, 16, 4 or 1: images block-averaged to 14x14, 7x7, ... for
               quick runs); 10 classes read out at the last step; cross-entropy and
               accuracy. Training batches come from the 55k training images, validation
               metrics (``val_*``) from the 5k held-out ones, test metrics from the 10k.
pmnist         the same with the pixel order fixed by ``permutation_seed``.
speech         next-frame prediction on 8 kHz STFT log-magnitudes (129 bins; Wisdom et al.):
               the input at step t is frame t (standardised per bin with training-set
               statistics), the target frame t + 1 (raw log-magnitude), read out at every
               step; MSE over the valid (unpadded) frames. Training sequences are crops of
               T + 1 frames of whole utterances (a random start when an utterance is
               longer, zero padding and a mask when shorter); ``val_*`` / ``test_*`` metrics
               use whole utterances: MSE, oracle-phase SegSNR, and on test STOI / PESQ when
               pystoi and pesq are installed. Data: the espeak-ng corpus, or ``data`` = a
               TIMIT folder, or ``"synthetic"``: a small generated corpus (tests).
system-id      a target uRNN with a random unitary W (``target="full"``: Haar;
               ``"restricted"``: the Arjovsky product at a random point, seeded by
               ``target_seed``), V = U = I, h0 = 0, hidden bias -0.1; inputs unit-variance
               circular complex Gaussian as [Re x, Im x]; outputs [Re h_t, Im h_t] at
               every step; MSE. Only the learner's W is trained (uRNN models only).
flip-flop      3-bit flip-flop (Sussillo & Barak): 3 input lines of sparse +-1 pulses
               (every line pulses at step 0, then with probability 0.1 per step); the 3
               outputs hold the sign of each line's last pulse at every step; MSE,
               baseline 1 (predict 0), accuracy of the signs.
=============  ========================================================================
"""

from __future__ import annotations

from pathlib import Path

from rnnlab.errors import UsageError, check_int
from rnnlab.registry import Registry
from rnnlab.training.tasks import action
from rnnlab.training.tasks.action import ActionRecognition
from rnnlab.training.tasks.base import Task
from rnnlab.training.tasks.flipflop import FlipFlop
from rnnlab.training.tasks.mnist import PermutedMNIST, PixelMNIST
from rnnlab.training.tasks.speech import Speech
from rnnlab.training.tasks.synthetic import COPY_LENGTH, COPY_SYMBOLS, Addition, Copy, Multiplication
from rnnlab.training.tasks.system_id import SYSTEM_ID_BIAS, SYSTEM_ID_TARGETS, SystemID

REGISTRY: Registry[type[Task]] = Registry("task")
for _task in (Addition, Multiplication, Copy, SystemID, PixelMNIST, PermutedMNIST, Speech, ActionRecognition, FlipFlop):
    REGISTRY.add(_task.name, _task, _task.description)
MIN_T = {"addition": 2, "multiplication": 2, "copy": 1, "system-id": 1, "flip-flop": 1}

__all__ = [
    "COPY_LENGTH", "COPY_SYMBOLS", "MIN_T", "REGISTRY", "SYSTEM_ID_BIAS", "SYSTEM_ID_TARGETS",
    "ActionRecognition", "Addition", "Copy", "FlipFlop", "Multiplication", "PermutedMNIST", "PixelMNIST",
    "Speech", "SystemID", "Task", "get", "make", "names",
]


def names() -> list[str]:
    return REGISTRY.names()


def get(name: str) -> type[Task]:
    """The task class registered as ``name``; :class:`UsageError` naming the choices if none is."""
    return REGISTRY.get(name)


def make(name: str, T: int, n: int, *, target: str = "full", target_seed: int = 0,
         permutation_seed: int = 0, data: str | None = None, train_subset: int = 0) -> Task:
    """The task ``name`` with length option ``T``; ``n``, ``target`` and ``target_seed`` are for
    system-id; ``permutation_seed`` (pmnist), ``data`` (an IDX folder) and ``train_subset``
    (first K training images, 0: all) for mnist / pmnist; for speech ``data`` is a TIMIT folder
    (default: the espeak corpus) and ``train_subset`` the first K training utterances."""
    cls = get(name)
    if name in ("mnist", "pmnist"):
        from rnnlab.training.datasets.mnist import MNIST_LENGTHS

        if T not in MNIST_LENGTHS:
            raise UsageError(f"T must be one of {', '.join(map(str, MNIST_LENGTHS))} for {name}, got {T!r}")
        if data is not None and not Path(data).expanduser().is_dir():
            raise UsageError(f"--data {data!r} is not a folder of MNIST IDX files")
        return cls(T, permuted=name == "pmnist", permutation_seed=permutation_seed,
                   data=data, train_subset=train_subset)
    if name == "action":
        return action.make(T, data)
    if name == "speech":
        check_int(T, "T (frames per training crop) for speech")
        if data not in (None, "espeak", "synthetic") and not Path(data).expanduser().is_dir():
            raise UsageError(f"--data {data!r} is not a folder (speech: your TIMIT directory, "
                             "or 'synthetic' for the small generated corpus)")
        return Speech(T, data=data, train_subset=train_subset)
    check_int(T, f"T for {name}", MIN_T[name])
    if name == "system-id":
        if target not in SYSTEM_ID_TARGETS:
            raise UsageError(f"unknown system-id target {target!r}; choose from {', '.join(SYSTEM_ID_TARGETS)}")
        return SystemID(T, n, target, target_seed)
    return cls(T)
