"""Recurrent initialisations, ReLU maps, their fixed points, portraits and gradient flow.

- :mod:`rnnlab.dynamics.initializers` the registry of recurrent initialisers
  (``identity``, ``scaled-identity``, ``np``, ``orthogonal``, ``gaussian``) and the
  paper's input / output weight inits.
- :mod:`rnnlab.dynamics.relu_map` the map ``h -> relu(W h + b)``, the paper's four 2-unit
  cases, simulation of where trajectories end.
- :mod:`rnnlab.dynamics.fixed_points` exact fixed sets of that map, with dimension and
  stability.
- :mod:`rnnlab.dynamics.portrait` phase portraits of the 2-unit map.
- :mod:`rnnlab.dynamics.propagation` gradient norm, singular values and Lyapunov exponents
  of ``dh_t/dh_0`` along input-driven trajectories, and input sensitivity.
- :mod:`rnnlab.dynamics.spectrum` the np initialiser's eigenvalues against Marchenko-Pastur.
"""

from __future__ import annotations

from rnnlab.dynamics import initializers
from rnnlab.dynamics.initializers import (
    ALPHA_READINGS,
    DEFAULT_ALPHA,
    input_alpha,
    input_weights,
    output_weights,
)
from rnnlab.dynamics.relu_map import (
    CASES,
    Outcomes,
    check_weights,
    relu_step,
    simulate_outcomes,
    trajectories,
    two_unit,
)
from rnnlab.dynamics.fixed_points import FixedSet, fixed_points, visited_supports
from rnnlab.dynamics.portrait import portrait, portrait_figure, portrait_panel
from rnnlab.dynamics.propagation import Propagation, propagate, propagation_figure, measure_trajectory
from rnnlab.dynamics.spectrum import (
    marchenko_pastur_density,
    np_eigenvalues,
    np_predicted_density,
    ks_distance,
)

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
    "trajectories",
    "two_unit",
    "visited_supports",
]
