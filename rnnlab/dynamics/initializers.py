"""Recurrent, input and output weight initialisers of the np-RNN paper and its baselines.

Every recurrent initialiser is registered under a short name and has the signature
``init(key, n, **options) -> W`` with ``W`` of shape ``(n, n)``::

    from rnnlab.dynamics import initializers
    w = initializers.get("np")(jax.random.key(0), 100)
    initializers.names()  # ('gaussian', 'identity', 'np', 'orthogonal', 'scaled-identity')

=================  ============================================  =====================
name               W_hh                                          options (default)
=================  ============================================  =====================
identity           I (IRNN, Le et al. 2015)                      --
scaled-identity    s I (iRNN)                                    scale (0.01) [check]
np                 (R^T R / n + I) / e_max, R_ij ~ N(0, 1)       --
orthogonal         Haar-distributed orthogonal matrix            --
gaussian           W_ij ~ N(0, g^2 / n)                          g (1.0)
=================  ============================================  =====================

All accept ``dtype`` (default: JAX's default float, float32 unless float64 is enabled,
e.g. inside ``with jax.enable_x64(True):`` and ``dtype=jnp.float64``).

The paper's input weights are ``W_hx ~ alpha * N(0, 1/n)`` with ``alpha`` from Sussillo &
Abbott's random-walk initialisation; two readings of its formula circulate (see
``docs/dynamics.md``), both named in :data:`ALPHA_READINGS`. Its output weights are
``W_hy ~ N(0, 2 / (n + n_out))`` (Glorot normal). Biases are zero.

This module imports only JAX so that the training code can use it cheaply.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp

from rnnlab.errors import UsageError, check_int
from rnnlab.registry import Registry

Initializer = Callable[..., jax.Array]

REGISTRY: Registry[Initializer] = Registry("initialiser")


def _float_dtype(dtype) -> jnp.dtype:
    # float64 requested while x64 is off silently becomes float32 in JAX; canonicalising
    # here makes the actual dtype explicit instead.
    return jax.dtypes.canonicalize_dtype(jnp.float64 if dtype is None else dtype)


def names() -> tuple[str, ...]:
    """The registered recurrent initialisers, sorted."""
    return tuple(sorted(REGISTRY.names()))


def get(name: str) -> Initializer:
    """The recurrent initialiser registered as ``name``: ``(key, n, **options) -> (n, n)``.

    Raises :class:`~rnnlab.errors.UsageError` for an unknown name.
    """
    return REGISTRY.get(name)


@REGISTRY.register("identity", "W = I (IRNN)")
def identity(key: jax.Array, n: int, *, dtype=None) -> jax.Array:
    """``I``, shape ``(n, n)`` (IRNN). ``key`` is unused, kept for the common signature."""
    del key
    return jnp.eye(check_int(n, "n"), dtype=_float_dtype(dtype))


@REGISTRY.register("scaled-identity", "W = scale I (iRNN, default scale 0.01)")
def scaled_identity(key: jax.Array, n: int, *, scale: float = 0.01, dtype=None) -> jax.Array:
    """``scale * I``, shape ``(n, n)`` (iRNN; 0.01 is Le et al.'s speech value [check])."""
    del key
    if not math.isfinite(scale):
        raise UsageError(f"scale must be finite, got {scale!r}")
    return scale * jnp.eye(check_int(n, "n"), dtype=_float_dtype(dtype))


@REGISTRY.register("np", "np-RNN: (R^T R / n + I) / e_max, symmetric positive definite, top eigenvalue 1")
def normalized_positive_definite(key: jax.Array, n: int, *, dtype=None) -> jax.Array:
    """The np-RNN matrix ``(R^T R / n + I) / e_max``, shape ``(n, n)``.

    ``R`` is ``(n, n)`` standard normal and ``e_max`` the largest eigenvalue of
    ``R^T R / n + I``, so the result is symmetric positive definite with largest eigenvalue
    1 (to rounding) and all others in ``[1 / e_max, 1)``.
    """
    n = check_int(n, "n")
    dtype = _float_dtype(dtype)
    r = jax.random.normal(key, (n, n), dtype)
    a = r.T @ r / n
    # The matmul is not exactly symmetric in floating point; symmetrise so that W is.
    a = (a + a.T) / 2 + jnp.eye(n, dtype=dtype)
    e_max = jnp.linalg.eigvalsh(a)[-1]
    return a / e_max


@REGISTRY.register("orthogonal", "Haar-random orthogonal W")
def orthogonal(key: jax.Array, n: int, *, dtype=None) -> jax.Array:
    """A Haar-distributed orthogonal ``(n, n)`` matrix (all singular values 1)."""
    # Imported here: rnnlab.analysis pulls in SciPy, which users of the other
    # initialisers (the training loop) should not pay for.
    from rnnlab.analysis.unitary import haar_orthogonal

    return haar_orthogonal(key, check_int(n, "n"), _float_dtype(dtype))


@REGISTRY.register("gaussian", "W_ij ~ N(0, g^2 / n)")
def gaussian(key: jax.Array, n: int, *, g: float = 1.0, dtype=None) -> jax.Array:
    """``W_ij ~ N(0, g^2 / n)``, shape ``(n, n)``; spectral radius about ``g`` for large n."""
    n = check_int(n, "n")
    if not math.isfinite(g):
        raise UsageError(f"g must be finite, got {g!r}")
    return g / math.sqrt(n) * jax.random.normal(key, (n, n), _float_dtype(dtype))


def _alpha_sussillo_abbott(n: int) -> float:
    return math.sqrt(2.0) * math.exp(1.2 / (max(n, 6) - 2.4))


def _alpha_literal(n: int) -> float:
    return math.sqrt(2.0) * math.exp(1.2 / max(n, 6) - 2.4)


ALPHA_READINGS: dict[str, Callable[[int], float]] = {
    "sussillo-abbott": _alpha_sussillo_abbott,
    "literal": _alpha_literal,
}
"""The two readings of the input-weight scale ``alpha(n)``, by name. ``"sussillo-abbott"`` is
the ReLU gain of Sussillo & Abbott's random-walk initialisation, ``sqrt(2) exp(1.2 /
(max(n, 6) - 2.4))`` (about 1.43 at n = 100), the source the np-RNN paper cites; it is the
default. ``"literal"`` is the formula as printed without the inner parentheses,
``sqrt(2) exp(1.2 / max(n, 6) - 2.4)`` (about 0.13 at n = 100)."""
DEFAULT_ALPHA = "sussillo-abbott"
"""The reading of :data:`ALPHA_READINGS` used unless another is asked for."""


def input_alpha(n: int, alpha: str | float = DEFAULT_ALPHA) -> float:
    """The input-weight scale ``alpha(n)`` for ``n`` hidden units.

    Args:
        n: the number of hidden units.
        alpha: a reading's name (:data:`ALPHA_READINGS`) or a number, returned as it is.

    Returns:
        The scale.

    Raises:
        UsageError: an unknown reading (the message names the choices), a non-finite
            number or a bad ``n``.
    """
    n = check_int(n, "n")
    if isinstance(alpha, str):
        try:
            return ALPHA_READINGS[alpha](n)
        except KeyError:
            raise UsageError(
                f"unknown alpha reading {alpha!r}; choose from {', '.join(ALPHA_READINGS)} or give a number"
            ) from None
    if not math.isfinite(alpha):
        raise UsageError(f"alpha must be finite, got {alpha!r}")
    return float(alpha)


def input_weights(
    key: jax.Array, n_in: int, n: int, *, alpha: str | float = DEFAULT_ALPHA, dtype=None
) -> jax.Array:
    """The np-RNN paper's input weights ``W_hx``: ``alpha(n) * N(0, 1/n)`` entries.

    Args:
        key: a JAX PRNG key.
        n_in: the number of inputs.
        n: the number of hidden units.
        alpha: a name from :data:`ALPHA_READINGS` or a number (1.0 gives plain
            ``N(0, 1/n)``).
        dtype: the float dtype (default float64, which is float32 unless JAX's x64 is on).

    Returns:
        ``(n, n_in)``.

    Raises:
        UsageError: a bad size or ``alpha`` (see :func:`input_alpha`).
    """
    n_in = check_int(n_in, "n_in")
    scale = input_alpha(n, alpha) / math.sqrt(n)
    return scale * jax.random.normal(key, (n, n_in), _float_dtype(dtype))


def output_weights(key: jax.Array, n: int, n_out: int, *, dtype=None) -> jax.Array:
    """The np-RNN paper's output weights ``W_hy``: ``N(0, 2 / (n + n_out))`` entries (Glorot normal).

    Args:
        key: a JAX PRNG key.
        n: the number of hidden units.
        n_out: the number of outputs.
        dtype: the float dtype (default float64, which is float32 unless JAX's x64 is on).

    Returns:
        ``(n_out, n)``.

    Raises:
        UsageError: a bad size.
    """
    n = check_int(n, "n")
    n_out = check_int(n_out, "n_out")
    return math.sqrt(2.0 / (n + n_out)) * jax.random.normal(key, (n_out, n), _float_dtype(dtype))
