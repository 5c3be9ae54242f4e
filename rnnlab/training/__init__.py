"""Training: cells, tasks, optimisers and experiment runs.

- :mod:`rnnlab.training.cells`   the model registry (``tanh-rnn``, ``relu-rnn``, ``irnn``,
  ``np-rnn``, ``lstm``, ``restricted-urnn``, ``full-urnn``, ``exp-rnn``, ...).
- :mod:`rnnlab.training.tasks`   ``addition``, ``multiplication``, ``copy``, ``system-id``,
  ``mnist``, ``pmnist``, ``speech``, ``action`` (one module per family).
- :mod:`rnnlab.training.optim`   the Cayley step on U(N) (:func:`cayley_unitary`) and its
  combination with optax's Euclidean optimisers.
- :mod:`rnnlab.training.loop`    :func:`make_train_step`, :func:`make_train_chunk`, :func:`run`.
- :mod:`rnnlab.training.evaluation` the test batch and whole-split evaluation of a run.
- :mod:`rnnlab.training.seeds`   several seeds in one program (:func:`over_seeds`, ``seed_keys``).
- :mod:`rnnlab.training.result`  :func:`train`: one run as one call, a :class:`TrainResult` back.
- :mod:`rnnlab.training.config`  :class:`TrainConfig`, TOML loading, per-model optimiser defaults.
- :mod:`rnnlab.training.run_folder` the run folder's files, data-only checkpoints, resume rules.
- :mod:`rnnlab.training.lock`    :class:`FolderLock`, one writer per run or sweep folder.
- :mod:`rnnlab.training.curves`  training curves of run folders (a matplotlib Figure).
- :mod:`rnnlab.training.datasets` offline MNIST and speech data.
"""

from __future__ import annotations

from rnnlab.training.config import TrainConfig
from rnnlab.training.loop import (
    TrainState,
    build,
    init_state,
    make_train_step,
    make_train_chunk,
    run,
)
from rnnlab.training.evaluation import make_eval
from rnnlab.training.lock import FolderLock
from rnnlab.training.optim import cayley_unitary
from rnnlab.training.drift import cayley_drift
from rnnlab.training.result import TrainResult, train

__all__ = [
    "FolderLock",
    "TrainConfig",
    "TrainResult",
    "TrainState",
    "build",
    "cayley_drift",
    "cayley_unitary",
    "init_state",
    "make_eval",
    "make_train_chunk",
    "make_train_step",
    "run",
    "train",
]
