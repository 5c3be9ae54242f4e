"""The unitary group U(N): distance from it, projection onto it, Haar sampling."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def complex_dtype(dtype) -> jnp.dtype:
    """The complex dtype of a real one: complex128 for float64, complex64 for anything else.

    Args:
        dtype: a real dtype.

    Returns:
        The matching complex dtype.
    """
    return jnp.dtype(jnp.complex128 if dtype == jnp.float64 else jnp.complex64)


def unitarity_error(w: jax.Array) -> jax.Array:
    """How far ``w`` is from unitary: ``max |W^H W - I|``.

    Args:
        w: ``(..., n, n)``, square matrices (batched over leading axes).

    Returns:
        ``(...)``, the largest entry of ``|W^H W - I|`` of each matrix.
    """
    w = jnp.asarray(w)
    n = w.shape[-1]
    gram = jnp.swapaxes(w.conj(), -1, -2) @ w
    return jnp.max(jnp.abs(gram - jnp.eye(n, dtype=gram.dtype)), axis=(-2, -1))


def haar_unitary(key: jax.Array, n: int, dtype=jnp.complex64) -> jax.Array:
    """A Haar-distributed unitary: the QR of a complex Ginibre matrix, with R's phases fixed.

    Args:
        key: a JAX PRNG key.
        n: the size.
        dtype: complex64 or complex128.

    Returns:
        ``(n, n)``, unitary.
    """
    kr, ki = jax.random.split(key)
    real = jnp.finfo(dtype).dtype
    z = (jax.random.normal(kr, (n, n), real) + 1j * jax.random.normal(ki, (n, n), real)) / jnp.sqrt(2)
    q, r = jnp.linalg.qr(z.astype(dtype))
    d = jnp.diagonal(r)
    return q * (d / jnp.abs(d))[None, :]


def haar_orthogonal(key: jax.Array, n: int, dtype=jnp.float32) -> jax.Array:
    """A Haar-distributed real orthogonal matrix (QR of a Gaussian matrix, R's signs fixed).

    Args:
        key: a JAX PRNG key.
        n: the size.
        dtype: float32 or float64.

    Returns:
        ``(n, n)``, orthogonal.
    """
    q, r = jnp.linalg.qr(jax.random.normal(key, (n, n), dtype))
    return q * jnp.sign(jnp.diagonal(r))[None, :]


def polar_project(w: jax.Array) -> jax.Array:
    """The nearest unitary to ``w`` in Frobenius norm: ``U V^H`` from ``w = U S V^H``.

    Args:
        w: ``(n, n)``, a square matrix.

    Returns:
        ``(n, n)``, its unitary polar factor.
    """
    u, _, vh = jnp.linalg.svd(w, full_matrices=False)
    return u @ vh
