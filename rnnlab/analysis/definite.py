"""Positive-definiteness of symmetric (Hermitian) matrices, checked by eigenvalues."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Definiteness:
    """Eigen-evidence for the definiteness of a matrix.

    Attributes:
        symmetric_error: ``max |W - W^H|``, the distance from Hermitian.
        eigenvalues: the eigenvalues of the Hermitian part ``(W + W^H) / 2``, ascending.
        tol: the tolerance both verdicts use.
    """

    symmetric_error: float  # max |W - W^H|
    eigenvalues: np.ndarray  # ascending, of the Hermitian part
    tol: float

    @property
    def is_symmetric(self) -> bool:
        """Whether ``W`` is Hermitian to within ``tol``."""
        return self.symmetric_error <= self.tol

    @property
    def is_positive_definite(self) -> bool:
        """Whether ``W`` is Hermitian and its smallest eigenvalue exceeds ``tol``."""
        return self.is_symmetric and bool(self.eigenvalues[0] > self.tol)


def definiteness(w, tol: float | None = None) -> Definiteness:
    """Eigenvalues of the Hermitian part of ``w`` and its distance from Hermitian.

    Args:
        w: ``(n, n)``, a square matrix.
        tol: the tolerance of both verdicts; default ``n * eps * max|eigenvalue|``, the
            accuracy of a backward-stable eigensolver, so that an eigenvalue within rounding
            of 0 does not count as positive.

    Returns:
        The eigenvalues, the distance from Hermitian and the tolerance.

    Raises:
        ValueError: ``w`` is not a square matrix.
    """
    a = np.asarray(w)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"definiteness needs a square matrix, got shape {a.shape}")
    herm = (a + a.conj().T) / 2
    eig = np.linalg.eigvalsh(herm)
    if tol is None:
        scale = max(float(np.max(np.abs(eig))), np.finfo(a.dtype).tiny)
        tol = a.shape[0] * float(np.finfo(a.dtype).eps) * scale
    return Definiteness(
        symmetric_error=float(np.max(np.abs(a - a.conj().T))), eigenvalues=eig, tol=float(tol)
    )
