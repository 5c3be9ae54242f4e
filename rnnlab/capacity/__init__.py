"""How much of U(N) each unitary parameterization reaches, measured by its Jacobian rank.

- :mod:`~rnnlab.capacity.parameterizations` the registry of maps ``theta -> W`` (``get``, ``names``).
- :mod:`~rnnlab.capacity.factors` the building blocks (diagonal, reflection, DFT, rotations, ...).
- :mod:`~rnnlab.capacity.jacobian` numerical rank over random points (:func:`measure`).
- :mod:`~rnnlab.capacity.explain` the null space split into known redundancies and a remainder.
- :mod:`~rnnlab.capacity.exact` the same rank in exact arithmetic (sympy) for small N.
- :mod:`~rnnlab.capacity.fit` fitting a Haar-random target: does the image reach it?

Names are re-exported lazily so that ``rnnlab --help`` does not import JAX.
"""

from __future__ import annotations

from rnnlab._lazy import lazy_exports

_EXPORTS = {
    "Parameterization": "rnnlab.capacity.parameterizations",
    "get": "rnnlab.capacity.parameterizations",
    "names": "rnnlab.capacity.parameterizations",
    "measure": "rnnlab.capacity.jacobian",
    "jacobian": "rnnlab.capacity.jacobian",
    "CapacityReport": "rnnlab.capacity.jacobian",
    "exact_rank": "rnnlab.capacity.exact",
    "fit_target": "rnnlab.capacity.fit",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
