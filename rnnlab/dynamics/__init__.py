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

Names are re-exported lazily (PEP 562): ``import rnnlab.dynamics`` costs nothing, so the
CLI's ``--help`` stays instant and the training code pays only for what it uses.
"""

from __future__ import annotations

from rnnlab._lazy import lazy_exports

_EXPORTS = {
    "initializers": "rnnlab.dynamics",
    "ALPHA_READINGS": "rnnlab.dynamics.initializers",
    "DEFAULT_ALPHA": "rnnlab.dynamics.initializers",
    "input_alpha": "rnnlab.dynamics.initializers",
    "input_weights": "rnnlab.dynamics.initializers",
    "output_weights": "rnnlab.dynamics.initializers",
    "CASES": "rnnlab.dynamics.relu_map",
    "Outcomes": "rnnlab.dynamics.relu_map",
    "check_weights": "rnnlab.dynamics.relu_map",
    "relu_step": "rnnlab.dynamics.relu_map",
    "simulate_outcomes": "rnnlab.dynamics.relu_map",
    "trajectories": "rnnlab.dynamics.relu_map",
    "two_unit_weights": "rnnlab.dynamics.relu_map",
    "FixedSet": "rnnlab.dynamics.fixed_points",
    "fixed_points": "rnnlab.dynamics.fixed_points",
    "visited_supports": "rnnlab.dynamics.fixed_points",
    "portrait_figure": "rnnlab.dynamics.portrait",
    "portrait_panel": "rnnlab.dynamics.portrait",
    "Propagation": "rnnlab.dynamics.propagation",
    "propagate": "rnnlab.dynamics.propagation",
    "propagation_figure": "rnnlab.dynamics.propagation",
    "measure_trajectory": "rnnlab.dynamics.propagation",
    "marchenko_pastur_density": "rnnlab.dynamics.spectrum",
    "np_eigenvalues": "rnnlab.dynamics.spectrum",
    "np_predicted_density": "rnnlab.dynamics.spectrum",
    "ks_distance": "rnnlab.dynamics.spectrum",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
