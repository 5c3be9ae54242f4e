"""Linear algebra shared by every part of rnnlab.

- :func:`numerical_rank` the rank of a matrix *with its evidence* (singular values,
  tolerance, gap).
- :func:`unitarity_error`, :func:`haar_unitary`, :func:`polar_project` for U(N);
  :func:`complex_dtype` the complex dtype matching a real one.
- :func:`definiteness` eigenvalue-based positive-definiteness check.
"""

from rnnlab.analysis.definite import Definiteness, definiteness
from rnnlab.analysis.rank import RankResult, default_tolerance, null_space, numerical_rank
from rnnlab.analysis.unitary import complex_dtype, haar_orthogonal, haar_unitary, polar_project, unitarity_error

__all__ = [
    "Definiteness",
    "RankResult",
    "complex_dtype",
    "default_tolerance",
    "definiteness",
    "haar_orthogonal",
    "haar_unitary",
    "null_space",
    "numerical_rank",
    "polar_project",
    "unitarity_error",
]
