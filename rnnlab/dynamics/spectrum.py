"""Eigenvalue spectrum of the np initialiser against the Marchenko-Pastur law.

``A = R^T R / n`` with ``R`` ``(n, n)`` standard normal is a Wishart matrix with ratio
``c = 1``; as ``n -> inf`` its eigenvalues follow Marchenko-Pastur on ``[(1 - sqrt c)^2,
(1 + sqrt c)^2] = [0, 4]``. The np matrix ``W = (A + I) / e_max`` maps an eigenvalue ``x``
of ``A`` to ``mu = (x + 1) / e_max``, and ``e_max -> (1 + sqrt c)^2 + 1 = 5``, so the
predicted spectrum of ``W`` lives on ``[1/5, 1]`` with density ``5 p_MP(5 mu - 1)``. At
finite ``n`` the largest eigenvalue of ``A`` falls short of 4 by ``O(n^(-2/3))``, which
stretches the spectrum of ``W`` slightly to the right of the prediction.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.dynamics import initializers
from rnnlab.errors import UsageError, check_int


def marchenko_pastur_density(x, ratio: float = 1.0) -> np.ndarray:
    """The Marchenko-Pastur density (unit variance) at ``x``.

    ``p(x) = sqrt((b - x)(x - a)) / (2 pi ratio x)`` on ``[a, b] = [(1 -+ sqrt ratio)^2]``,
    zero outside.

    Args:
        x: where to evaluate it (any shape).
        ratio: ``n_cols / n_rows``, in ``(0, 1]``.

    Returns:
        The density, shaped as ``x``, float64.

    Raises:
        UsageError: ``ratio`` outside ``(0, 1]``.
    """
    if not 0 < ratio <= 1:
        raise UsageError(f"ratio must be in (0, 1], got {ratio}")
    x = np.asarray(x, dtype=np.float64)
    a, b = (1 - math.sqrt(ratio)) ** 2, (1 + math.sqrt(ratio)) ** 2
    inside = (x > a) & (x < b)
    safe = np.where(inside, x, 1.0)
    return np.where(inside, np.sqrt(np.clip((b - safe) * (safe - a), 0, None)) / (2 * math.pi * ratio * safe), 0.0)


#: The asymptotic normaliser of the np initialiser: largest eigenvalue of ``A + I``.
NP_EDGE = 5.0


def np_predicted_density(mu) -> np.ndarray:
    """The predicted density of the np matrix's eigenvalues (large-n limit): ``5 p_MP(5 mu - 1)`` on ``[1/5, 1]``.

    Args:
        mu: where to evaluate it (any shape).

    Returns:
        The density, shaped as ``mu``, float64.
    """
    mu = np.asarray(mu, dtype=np.float64)
    return NP_EDGE * marchenko_pastur_density(NP_EDGE * mu - 1.0, 1.0)


def np_predicted_cdf(mu) -> np.ndarray:
    """Predicted distribution function of the np eigenvalues (numerical integral)."""
    grid = np.linspace(1 / NP_EDGE, 1.0, 20001)
    dens = np_predicted_density(grid)
    cdf = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(grid))])
    return np.interp(np.asarray(mu, dtype=np.float64), grid, cdf / cdf[-1])


def np_eigenvalues(key: jax.Array, n: int, trials: int) -> np.ndarray:
    """The eigenvalues of ``trials`` independent np matrices, computed in float64.

    Args:
        key: a JAX PRNG key.
        n: the size of each matrix.
        trials: the number of matrices.

    Returns:
        ``(trials, n)``, each row ascending.

    Raises:
        UsageError: a bad size or count.
    """
    check_int(trials, "trials")
    make = initializers.get("np")
    with jax.enable_x64(True):
        keys = jax.random.split(key, trials)
        ws = jax.vmap(lambda k: make(k, n, dtype=jnp.float64))(keys)
        return np.asarray(jnp.linalg.eigvalsh(ws))


def ks_distance(eigenvalues: np.ndarray) -> float:
    """The Kolmogorov-Smirnov distance between the pooled eigenvalues and the prediction.

    Args:
        eigenvalues: eigenvalues of np matrices (any shape; pooled).

    Returns:
        ``sup |F_empirical - F_predicted|``.
    """
    e = np.sort(np.ravel(eigenvalues))
    cdf = np_predicted_cdf(e)
    k = np.arange(1, len(e) + 1) / len(e)
    return float(max(np.max(k - cdf), np.max(cdf - (k - 1 / len(e)))))
