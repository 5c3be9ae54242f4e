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
- :mod:`rnnlab.training.attractors` :func:`analyze`: fixed and slow points of a trained network.
- :mod:`rnnlab.training.datasets` offline MNIST and speech data.
"""

from __future__ import annotations

import importlib

# What ``rnnlab.training`` exports, and the module each name comes from. They load on first
# use (PEP 562), so that the command line can read a config's fields, and print its help or
# a usage error, without importing JAX.
_EXPORTS = {
    "FolderLock": "lock",
    "TrainConfig": "config",
    "TrainResult": "result",
    "TrainState": "loop",
    "analyze": "attractors",
    "build": "loop",
    "cayley_drift": "drift",
    "cayley_unitary": "optim",
    "init_state": "loop",
    "make_eval": "evaluation",
    "make_train_chunk": "loop",
    "make_train_step": "loop",
    "run": "loop",
    "train": "result",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    else:  # a submodule, as ``rnnlab.training.loop`` after ``import rnnlab.training``
        try:
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
