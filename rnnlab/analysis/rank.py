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

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from rnnlab.devices import usable_cores


@dataclass(frozen=True)
class RankResult:
    """The numerical rank of an ``(m, n)`` matrix and the evidence behind it.

    Attributes:
        rank: the number of singular values above ``tol``.
        singular_values: all ``min(m, n)`` singular values, descending.
        tol: the tolerance the rank was cut at.
        shape: ``(m, n)``, the matrix's shape.
    """

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
    """The default rank tolerance ``sigma_max * max(m, n) * eps(dtype)`` (LAPACK's, numpy's).

    Args:
        sigma_max: the largest singular value.
        shape: ``(m, n)``, the matrix's shape.
        dtype: the floating dtype the singular values were computed in.

    Returns:
        The tolerance.
    """
    return float(sigma_max) * max(shape) * float(np.finfo(dtype).eps)


# Below about this many flops (m n^2) a QR takes milliseconds and threads are not worth it.
_THREADED_FLOPS = 1 << 26
# Column block of ?geqrt.
_BLOCK = 128


def _qr_r(a: np.ndarray) -> np.ndarray:
    """``R`` of a Householder QR of ``a`` (``m >= n``), ``n x n``.

    LAPACK's ``?geqrt`` (compact-WY blocks of 128 columns, each panel factored recursively)
    rather than ``?geqrf`` (whose panels are factored column by column, a memory-bound level-2
    loop on a tall panel): the same Householder reflections, about 40% less time on a
    16384 x 896 float64 block with one BLAS thread.
    """
    m, n = a.shape
    if n == 0 or m == 0:
        return np.zeros((min(m, n), n), a.dtype)
    (geqrt,) = scipy.linalg.lapack.get_lapack_funcs(("geqrt",), (a,))
    qr, _, info = geqrt(min(_BLOCK, n), a)
    if info != 0:
        raise np.linalg.LinAlgError(f"{geqrt.typecode}geqrt failed (info={info})")
    return np.triu(qr[:n])


def triangle(matrix: np.ndarray, workers: int | None = None) -> np.ndarray:
    """The ``n x n`` triangle ``R`` of a tall ``(m, n)`` matrix: same singular values, same
    right singular vectors.

    A tall-skinny QR (TSQR): the rows are cut into ``workers`` blocks (default: the usable
    cores, as long as each block stays at least ``2n`` rows tall and the matrix is not
    small), each block is reduced to its triangle by Householder QR in its own thread, and
    the stacked triangles are reduced once more. Every step is an orthogonal transformation, so this is as exact as one
    Householder QR of the whole matrix (backward stable: the singular values move by
    ``O(eps) ||A||``). The threads are coarse (one LAPACK call each, the GIL released, BLAS
    single-threaded), so a core taken by another process slows one block down instead of
    stalling a fine-grained BLAS thread pool.
    """
    a = np.asarray(matrix)
    m, n = a.shape
    k = min(workers or usable_cores(), m // (2 * n)) if n else 1
    if k < 2 or (workers is None and m * n * n < _THREADED_FLOPS):
        return _qr_r(a)
    cuts = np.linspace(0, m, k + 1).astype(int)
    with ThreadPoolExecutor(k) as pool:
        parts = list(pool.map(_qr_r, [a[lo:hi] for lo, hi in zip(cuts[:-1], cuts[1:])]))
    return _qr_r(np.vstack(parts))


def numerical_rank(matrix, tol: float | None = None) -> RankResult:
    """Rank of ``matrix`` (shape ``(m, n)``) from its singular values.

    The singular values are computed in the matrix's own precision (float64 recommended:
    float32 cannot resolve a gap below about 1e-7). A tall matrix is first reduced to its
    ``n x n`` triangle by a threaded QR (same singular values).

    Args:
        matrix: a 2-D array ``(m, n)`` with finite entries.
        tol: the tolerance; default :func:`default_tolerance`.

    Returns:
        The rank with its singular values, tolerance and gap.

    Raises:
        ValueError: ``matrix`` is not 2-D or has non-finite entries.
    """
    a = np.asarray(matrix)
    if a.ndim != 2:
        raise ValueError(f"numerical_rank needs a 2-D matrix, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("numerical_rank: the matrix has non-finite entries")
    if a.shape[0] > 2 * a.shape[1]:
        # Tall: reduce to the n x n triangle first, which LAPACK's SVD would also do,
        # but without its workspace for the m x n bidiagonalisation (and on all cores).
        a = triangle(a)
    s = scipy.linalg.svd(a, compute_uv=False, check_finite=False, lapack_driver="gesdd")
    shape = tuple(np.asarray(matrix).shape)
    if tol is None:
        tol = default_tolerance(s[0] if s.size else 0.0, shape, a.dtype)
    rank = int(np.sum(s > tol))
    return RankResult(rank=rank, singular_values=s, tol=float(tol), shape=shape)


def null_space(matrix, rank: int) -> np.ndarray:
    """Orthonormal basis of the null space, from the SVD's right singular vectors.

    Args:
        matrix: a 2-D array ``(m, n)``.
        rank: its rank (from :func:`numerical_rank`): the first ``rank`` right singular
            vectors span the row space, the rest the null space.

    Returns:
        ``(n, n - rank)``, orthonormal columns.
    """
    a = np.asarray(matrix)
    if a.shape[0] > 2 * a.shape[1]:
        a = triangle(a)
    _, _, vh = scipy.linalg.svd(a, full_matrices=True, check_finite=False)
    return vh[rank:].conj().T
