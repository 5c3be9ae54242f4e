"""Jacobian rank at large N from the Gram matrix ``J^T J``, without ever storing ``J``.

The dense path (:func:`rnnlab.capacity.jacobian.jacobian`) holds the whole ``2N^2 x P``
Jacobian: for ``restricted`` at N = 512 that is 524288 x 3584 float64, 15 GB before any
workspace. Here the rows of ``J`` are produced a block at a time (the tangents of a few
columns of ``W``: ``W e_cols`` is the same product of factors applied to a few columns of
the identity) and each block is folded into the ``P x P`` Gram ``G = J^T J`` by a symmetric
rank-k update, then thrown away. Peak memory is ``G`` plus one block. The update is NumPy's
``rows @ rows.T``, which NumPy runs as BLAS ``dsyrk`` with the GIL released, so the worker
threads run their updates on separate cores; SciPy's ``blas.dsyrk`` wrapper holds the GIL
for the whole call, and with it two threads took as long as one.

Accuracy. The eigenvalues of ``G`` are the squared singular values of ``J``, but ``G`` is
formed and diagonalised in floating point with an absolute error of order
``eps * ||J||^2``: a direction of the null space shows up as an eigenvalue of rounding size
(about ``eps * lambda_max``, either sign), that is a "singular value" near
``sqrt(eps) * sigma_max`` instead of ``eps * sigma_max``. The Gram squares the condition
number, so it resolves only half the digits. The rank tolerance is therefore put on the
eigenvalues with the same rule the dense path puts on singular values,
``lambda > lambda_max * max(m, P) * eps``, which in singular-value terms keeps
``sigma > sigma_max * sqrt(max(m, P) * eps)`` (about ``1e-5 sigma_max`` at N = 512 instead
of ``1e-10``). The two paths agree whenever no singular value of ``J`` lies between those
two thresholds; ``RankResult.gap`` reports the measured gap so a reader can check it.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from rnnlab.analysis import RankResult
from rnnlab.analysis.rank import default_tolerance
from rnnlab.capacity.parameterizations import Parameterization
from rnnlab.devices import usable_cores

#: Bytes of tangents (complex128) per row block: large enough for an efficient ``dsyrk``,
#: small enough that a block and its copies stay well below the Gram's own size at large N.
BLOCK_BYTES = 64 << 20


def block_columns(n: int, num_params: int) -> int:
    """Columns of ``W`` per block: each block is ``2 n c`` rows of ``J``."""
    return int(max(1, min(n, BLOCK_BYTES // (16 * n * num_params))))


def gram_bytes_for(n: int, num_params: int) -> int:
    """Estimated peak memory of the Gram path: ``G`` and its eigendecomposition, and per
    worker thread its own partial ``G``, the product it adds to it, and one block of
    tangents with its intermediate copies (the factor-by-factor pushes keep about four)."""
    c = block_columns(n, num_params)
    block = 16 * num_params * n * c
    return 6 * 8 * num_params * num_params + usable_cores() * (2 * 8 * num_params * num_params + 6 * block) + (256 << 20)


def _column_tangents(p: Parameterization):
    """``(theta, x) -> (P, 2 n c)`` real: ``[Re, Im] d(W x)/d theta_i`` for the ``(n, c)`` columns ``x``.

    :func:`rnnlab.capacity.jacobian.product_tangents` started from ``x`` instead of the
    identity; every factor acts on the columns of its argument, so this is exactly a row
    block of the Jacobian (transposed).
    """
    from rnnlab.capacity.jacobian import product_tangents  # jacobian imports this module

    of_columns = product_tangents(p)

    def tangents(theta, x):
        # (P, 2 n c) real rows, [Re | Im] per parameter: one row of J^T each.
        flat = of_columns(theta, x).reshape(p.num_params, -1)
        return jnp.concatenate([flat.real, flat.imag], axis=1)

    return tangents


def _skew_tangents(p: Parameterization):
    """``(theta, x, lower, diag) -> (P, 2 L + c)`` real: half the rows of :func:`_column_tangents`, same Gram.

    For a unitary ``W`` every tangent ``A_i = dW/dtheta_i W^H`` is skew-Hermitian (from
    ``W W^H = I``) and ``<dW_i, dW_j> = <A_i, A_j>`` (Frobenius, invariant under ``W^H``).
    Columns of ``A_i`` cost no more than columns of ``dW``: they are the tangents of ``W x``
    at ``x`` = columns of ``W^H``. A skew-Hermitian
    ``A`` is fixed by its strictly lower triangle and the imaginary part of its diagonal,
    ``n^2`` reals, and ``Re <A_i, A_j> = sum Im(a_kk) Im(b_kk) + 2 Re sum_{k > l} conj(a_kl) b_kl``.
    So the rows ``[sqrt2 Re, sqrt2 Im]`` of the lower entries and ``Im`` of the diagonal
    have exactly the Gram of ``J`` with ``n^2`` rows instead of ``2 n^2``: half the work of
    the rank-k updates, which dominate. ``lower`` / ``diag`` index the entries of the
    ``(n, c)`` block ``dW x`` flattened, plus one trailing zero used as padding.
    """
    from rnnlab.capacity.jacobian import product_tangents  # jacobian imports this module

    of_columns = product_tangents(p)

    def tangents(theta, x, lower, diag):
        a = of_columns(theta, x).reshape(p.num_params, -1)
        a = jnp.concatenate([a, jnp.zeros((p.num_params, 1), a.dtype)], axis=1)
        low, dia = a[:, lower], a[:, diag]
        r2 = np.sqrt(2.0)
        return jnp.concatenate([r2 * low.real, r2 * low.imag, dia.imag], axis=1)

    return tangents


def skew_blocks(n: int, c: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Column blocks for :func:`_skew_tangents`: ``(columns, lower, diag)`` per block.

    Columns are taken in pairs ``j, n - 1 - j`` (``n - 1 - j`` and ``j`` entries below the
    diagonal), so every block of ``c`` (even) columns has the same ``(n - 1) c / 2`` lower
    entries and one shape serves all blocks; a short last block is padded with index
    ``n c`` (the trailing zero) and its missing columns with ``-1`` (zero columns).
    """
    order = []
    for j in range((n + 1) // 2):
        order += [j] if j == n - 1 - j else [j, n - 1 - j]
    width = (n - 1) * c // 2
    blocks = []
    for lo in range(0, n, c):
        cols = order[lo : lo + c]
        lower = [i * c + k for k, j in enumerate(cols) for i in range(j + 1, n)]
        diag = [j * c + k for k, j in enumerate(cols)]
        pad = n * c
        blocks.append((np.array(cols + [-1] * (c - len(cols)), dtype=int),
                       np.array(lower + [pad] * (width - len(lower)), dtype=int),
                       np.array(diag + [pad] * (c - len(diag)), dtype=int)))
    return blocks


#: ``W^H W`` may differ from the identity by at most this (max abs entry) for the half-row
#: Gram; a map whose ``W`` is not unitary to rounding gets the full rows.
UNITARY_TOL = 1e-9


@functools.lru_cache(maxsize=16)
def _compiled(p: Parameterization, skew: bool):
    return jax.jit(_skew_tangents(p) if skew else _column_tangents(p))


def gram(p: Parameterization, theta, workers: int | None = None, skew: bool | None = None) -> np.ndarray:
    """``J^T J`` (``(P, P)`` float64, symmetric) at ``theta``.

    ``J = d[Re W, Im W] / d theta`` as in :func:`rnnlab.capacity.jacobian.jacobian`, up to
    the order of its rows (which ``J^T J`` does not see). With ``skew`` (default: when
    ``W(theta)`` is unitary to :data:`UNITARY_TOL`) the rows are those of
    :func:`_skew_tangents`, ``n^2`` instead of ``2 n^2``, with the same Gram. The row
    blocks are shared out over ``workers`` threads (default: the usable cores), each
    folding its blocks into its own Gram with single-threaded BLAS (the command line pins
    OpenBLAS to one thread); the partial Grams are summed at the end.
    """
    n, params = p.n, p.num_params
    with jax.enable_x64(True):
        theta = jnp.asarray(theta, jnp.float64)
        w = np.asarray(p.matrix(theta), dtype=np.complex128)
    if skew is None:
        skew = bool(np.max(np.abs(w.conj().T @ w - np.eye(n))) <= UNITARY_TOL)
    c = block_columns(n, params)
    if skew:
        c = min(n, c + c % 2)  # pairs of columns: every block the same shape
        blocks = skew_blocks(n, c)
    else:
        blocks = [(np.arange(lo, min(lo + c, n)), None, None) for lo in range(0, n, c)]
    workers = max(1, min(workers or usable_cores(), len(blocks)))
    f = _compiled(p, skew)
    # Rows of the starting columns (each block takes its columns): those of W^H for the
    # half rows, of the identity otherwise; row -1 is zero (a padding column).
    start = np.vstack([w.conj() if skew else np.eye(n, dtype=np.complex128), np.zeros((1, n))])

    def fold(w_: int) -> np.ndarray:
        g = np.zeros((params, params))
        with jax.enable_x64(True):  # JAX's config contexts are per thread
            for cols, lower, diag in blocks[w_::workers]:
                x = jnp.asarray(start[cols].T)  # (n, c)
                rows = np.asarray(f(theta, x, lower, diag) if skew else f(theta, x))
                g += rows @ rows.T  # dsyrk inside NumPy, GIL released
                del rows
        return g

    if workers == 1:
        return fold(0)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(fold, range(workers)))
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def rank_from_gram(g: np.ndarray, rows: int) -> tuple[RankResult, np.ndarray]:
    """Numerical rank of the ``(rows, P)`` matrix ``J`` whose Gram is ``g`` (lower triangle used).

    Returns the :class:`RankResult` in singular-value terms (``sqrt|lambda|``, descending;
    ``tol`` is the square root of the eigenvalue tolerance) and a ``(P, P)`` square-root
    factor ``B = diag(sqrt|lambda|) V^T`` with the same right singular vectors as ``J``, so
    anything that needs only ``J``'s singular values and right singular vectors (its null
    space) can take ``B`` in place of ``J``.
    """
    params = g.shape[0]
    lam, vec = scipy.linalg.eigh(g, lower=True, check_finite=False, overwrite_a=True, driver="evr")
    order = np.argsort(-np.abs(lam), kind="stable")
    lam, vec = lam[order], vec[:, order]
    lam_tol = default_tolerance(max(float(lam[0]), 0.0) if params else 0.0, (rows, params), np.float64)
    rank = int(np.sum(lam > lam_tol))
    s = np.sqrt(np.abs(lam))
    res = RankResult(rank=rank, singular_values=s, tol=float(np.sqrt(lam_tol)), shape=(rows, params))
    return res, s[:, None] * vec.T
