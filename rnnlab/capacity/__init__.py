"""How much of U(N) each unitary parameterization reaches, measured by its Jacobian rank.

- :mod:`~rnnlab.capacity.parameterizations` the registry of maps ``theta -> W`` (``get``, ``names``).
- :mod:`~rnnlab.capacity.jacobian` numerical rank over random points and the null-space explanation.
- :mod:`~rnnlab.capacity.exact` the same rank in exact arithmetic (sympy) for small N.
- :mod:`~rnnlab.capacity.fit` fitting a Haar-random target: does the image reach it?
"""

from rnnlab.capacity.parameterizations import Parameterization, get, names

__all__ = ["Parameterization", "get", "names"]
