"""Numerical rank that returns its evidence, not just a number.

Tolerance rule (the LAPACK / ``numpy.linalg.matrix_rank`` convention)::

    tol = sigma_max * max(m, n) * eps(dtype)

A singular value counts towards the rank when it exceeds ``tol``. The *gap*
``sigma_r / sigma_{r+1}`` says how confident the cut is: a gap of 1e8 or more in float64
is a clean rank; a gap near 1 means the rank is not numerically determined and should be
confirmed exactly (see :mod:`rnnlab.capacity.exact`). When ``r = min(m, n)`` there is no
``sigma_{r+1}`` and the gap is reported as ``None`` (infinite).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg


@dataclass(frozen=True)
class RankResult:
    """The numerical rank of an ``(m, n)`` matrix and the evidence behind it."""

    rank: int
    singular_values: np.ndarray  # (min(m, n),), descending
    tol: float
    shape: tuple[int, int]

    @property
    def gap(self) -> float | None:
        """``sigma_r / sigma_{r+1}``; ``None`` when ``r = min(m, n)`` (no ``sigma_{r+1}``)."""
        s = self.singular_values
        r = self.rank
        if r >= len(s):
            return None
        if r == 0:
            return 0.0
        below = s[r]
        return float("inf") if below == 0 else float(s[r - 1] / below)

    @property
    def nullity(self) -> int:
        """Dimension of the null space of the matrix (columns minus rank)."""
        return self.shape[1] - self.rank


def default_tolerance(sigma_max: float, shape: tuple[int, int], dtype) -> float:
    """``sigma_max * max(m, n) * eps(dtype)``."""
    return float(sigma_max) * max(shape) * float(np.finfo(dtype).eps)


def numerical_rank(matrix, tol: float | None = None) -> RankResult:
    """Rank of ``matrix`` (shape ``(m, n)``) from its singular values.

    ``tol`` overrides the default rule (:func:`default_tolerance`). The singular values
    are computed in the matrix's own precision (float64 recommended: float32 cannot
    resolve a gap below about 1e-7).
    """
    a = np.asarray(matrix)
    if a.ndim != 2:
        raise ValueError(f"numerical_rank needs a 2-D matrix, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("numerical_rank: the matrix has non-finite entries")
    if a.shape[0] > 2 * a.shape[1]:
        # Tall: reduce to the n x n triangle first, which LAPACK's SVD would also do,
        # but without its workspace for the m x n bidiagonalisation.
        a = scipy.linalg.qr(a, mode="r", overwrite_a=False, check_finite=False)[0][: a.shape[1]]
    s = scipy.linalg.svd(a, compute_uv=False, check_finite=False, lapack_driver="gesdd")
    shape = tuple(np.asarray(matrix).shape)
    if tol is None:
        tol = default_tolerance(s[0] if s.size else 0.0, shape, a.dtype)
    rank = int(np.sum(s > tol))
    return RankResult(rank=rank, singular_values=s, tol=float(tol), shape=shape)


def null_space(matrix, rank: int) -> np.ndarray:
    """Orthonormal basis ``(n, n - rank)`` of the null space, from the SVD's right vectors."""
    a = np.asarray(matrix)
    if a.shape[0] > 2 * a.shape[1]:
        a = scipy.linalg.qr(a, mode="r", check_finite=False)[0][: a.shape[1]]
    _, _, vh = scipy.linalg.svd(a, full_matrices=True, check_finite=False)
    return vh[rank:].conj().T
