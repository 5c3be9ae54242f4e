"""Recurrent initialisations, ReLU maps, their fixed points, portraits and gradient flow.

- :mod:`rnnlab.dynamics.initializers` the registry of recurrent initialisers
  (``identity``, ``scaled-identity``, ``np``, ``orthogonal``, ``gaussian``) and the
  paper's input / output weight inits.
- :mod:`rnnlab.dynamics.relu_map` the map ``h -> relu(W h + b)``, the paper's four 2-unit
  cases, simulation of where trajectories end.
- :mod:`rnnlab.dynamics.fixed_points` exact fixed sets of that map, with dimension and
  stability.
- :mod:`rnnlab.dynamics.slow_points` fixed and slow points of any map by minimising
  ``|F(h) - h|^2 / 2`` (``rnnlab.dynamics.slow_points.slow_points``; not exported by name,
  which is the module's).
- :mod:`rnnlab.dynamics.portrait` phase portraits of the 2-unit map.
- :mod:`rnnlab.dynamics.propagation` gradient norm, singular values and Lyapunov exponents
  of ``dh_t/dh_0`` along input-driven trajectories, and input sensitivity.
- :mod:`rnnlab.dynamics.spectrum` the np initialiser's eigenvalues against Marchenko-Pastur.
"""

from __future__ import annotations

import importlib

# The maps, fixed sets and portraits need only numpy and load with the package; the modules
# built on JAX (initialisers, propagation, spectrum) load on first use of one of their names
# (PEP 562), so that the command line can list the cases, print its help or a usage error
# without importing JAX.
from rnnlab.dynamics.relu_map import (
    CASES,
    Outcomes,
    check_weights,
    relu_step,
    simulate_outcomes,
    trajectories,
    two_unit,
)
from rnnlab.dynamics.fixed_points import FixedSet, fixed_points, supports_of, visited_supports
from rnnlab.dynamics.portrait import portrait, portrait_figure, portrait_panel

_LAZY = {
    "ALPHA_READINGS": "initializers",
    "DEFAULT_ALPHA": "initializers",
    "input_alpha": "initializers",
    "input_weights": "initializers",
    "output_weights": "initializers",
    "Propagation": "propagation",
    "measure_trajectory": "propagation",
    "propagate": "propagation",
    "propagation_figure": "propagation",
    "ks_distance": "spectrum",
    "marchenko_pastur_density": "spectrum",
    "np_eigenvalues": "spectrum",
    "np_predicted_density": "spectrum",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    else:  # a submodule, as ``rnnlab.dynamics.initializers``
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


__all__ = [
    "ALPHA_READINGS",
    "CASES",
    "DEFAULT_ALPHA",
    "FixedSet",
    "Outcomes",
    "Propagation",
    "check_weights",
    "fixed_points",
    "initializers",
    "input_alpha",
    "input_weights",
    "ks_distance",
    "marchenko_pastur_density",
    "measure_trajectory",
    "np_eigenvalues",
    "np_predicted_density",
    "output_weights",
    "portrait",
    "portrait_figure",
    "portrait_panel",
    "propagate",
    "propagation_figure",
    "relu_step",
    "simulate_outcomes",
    "supports_of",
    "trajectories",
    "two_unit",
    "visited_supports",
]
