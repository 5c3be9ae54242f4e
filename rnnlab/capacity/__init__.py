"""How much of U(N) each unitary parameterization reaches, measured by its Jacobian rank.

- :mod:`~rnnlab.capacity.parameterizations` the registry of maps ``theta -> W`` (``get``, ``names``).
- :mod:`~rnnlab.capacity.factors` the building blocks (diagonal, reflection, DFT, exponential, ...).
- :mod:`~rnnlab.capacity.rotations` the layers of disjoint 2x2 rotations (Givens, EUNN).
- :mod:`~rnnlab.capacity.jacobian` numerical rank over random points (:func:`measure`).
- :mod:`~rnnlab.capacity.explain` the null space split into known redundancies and a remainder.
- :mod:`~rnnlab.capacity.exact` the same rank in exact arithmetic (sympy) for small N.
- :mod:`~rnnlab.capacity.fit` fitting a Haar-random target: does the image reach it?
- :mod:`~rnnlab.capacity.atlas` every family's rank against its rank law over a range of N.
- :mod:`~rnnlab.capacity.questions` one call per question: :func:`rank`, :func:`atlas`.
"""

from __future__ import annotations

from rnnlab.capacity.parameterizations import Parameterization, get, names
from rnnlab.capacity.jacobian import measure, jacobian, CapacityReport
from rnnlab.capacity.exact import exact_rank
from rnnlab.capacity.fit import fit_target
from rnnlab.capacity.questions import AtlasTable, RankReport, atlas, rank

__all__ = [
    "AtlasTable",
    "RankReport",
    "atlas",
    "rank",
    "CapacityReport",
    "Parameterization",
    "exact_rank",
    "fit_target",
    "get",
    "jacobian",
    "measure",
    "names",
]
