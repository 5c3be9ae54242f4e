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
- :mod:`rnnlab.training.config`  :class:`TrainConfig`, TOML loading, per-model optimiser defaults.
- :mod:`rnnlab.training.run_folder` the run folder's files, data-only checkpoints, resume rules.
- :mod:`rnnlab.training.lock`    :class:`FolderLock`, one writer per run or sweep folder.
- :mod:`rnnlab.training.curves`  training curves of run folders (a matplotlib Figure).
- :mod:`rnnlab.training.datasets` offline MNIST and speech data.

Names are re-exported lazily (PEP 562) so that ``rnnlab --help`` does not import JAX.
"""

from __future__ import annotations

from rnnlab._lazy import lazy_exports

_EXPORTS = {
    "TrainConfig": "rnnlab.training.config",
    "TrainState": "rnnlab.training.loop",
    "build": "rnnlab.training.loop",
    "init_state": "rnnlab.training.loop",
    "make_train_step": "rnnlab.training.loop",
    "make_train_chunk": "rnnlab.training.loop",
    "make_eval": "rnnlab.training.evaluation",
    "run": "rnnlab.training.loop",
    "FolderLock": "rnnlab.training.lock",
    "cayley_unitary": "rnnlab.training.optim",
    "cayley_drift": "rnnlab.training.drift",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
