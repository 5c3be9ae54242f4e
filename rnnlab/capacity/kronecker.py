"""Kronecker products of small unitaries (KRU, Jose, Cisse & Fleuret 2018).

``W = U_1 (x) U_2 (x) ... (x) U_m`` with ``U_k = expm(A_k)`` in U(n_k), ``n_1 n_2 ... n_m = N``:
``sum n_k^2`` parameters. A phase moved from one factor to another leaves ``W`` unchanged,
so m - 1 directions are always wasted.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np
import sympy

from rnnlab.capacity.factors import Factor, _skew_basis_exact, skew_hermitian


def prime_sizes(n: int) -> tuple[int, ...]:
    """The default block sizes: the prime factors of N (N = 12 -> 2, 2, 3)."""
    return tuple(p for p, k in sorted(sympy.factorint(n).items()) for _ in range(k)) or (1,)


@dataclass(frozen=True)
class KroneckerUnitary(Factor):
    """``expm(A_1) (x) ... (x) expm(A_m)``, each ``A_k`` skew-Hermitian from ``n_k^2`` reals."""

    sizes: tuple[int, ...] = ()

    def __post_init__(self):
        if prod(self.sizes) != self.n:
            raise ValueError(f"Kronecker block sizes {self.sizes} do not multiply to n={self.n}")

    @property
    def size(self) -> int:
        return sum(k * k for k in self.sizes)

    def _offsets(self):
        out, start = [], 0
        for k in self.sizes:
            out.append((start, start + k * k))
            start += k * k
        return out

    def apply(self, theta, x):
        m = x.shape[1]
        y = x.reshape(*self.sizes, m)
        for axis, (k, (a, b)) in enumerate(zip(self.sizes, self._offsets())):
            u = jax.scipy.linalg.expm(skew_hermitian(theta[a:b], k)).astype(x.dtype)
            y = jnp.moveaxis(jnp.tensordot(u, y, axes=([1], [axis])), 0, axis)
        return y.reshape(self.n, m)

    def sample(self, key, dtype=jnp.float64):
        keys = jax.random.split(key, len(self.sizes))
        return jnp.concatenate([jax.random.normal(k_, (k * k,), dtype) / jnp.sqrt(2.0 * k)
                                for k_, k in zip(keys, self.sizes)])

    def invariance_directions(self, theta):
        out = []
        offs = self._offsets()
        for (k1, (a1, _)), (k2, (a2, _)) in zip(zip(self.sizes, offs), zip(self.sizes[1:], offs[1:])):
            d = np.zeros(self.size)
            d[a1 : a1 + k1] = 1.0  # i*t*I added to A_1 multiplies U_1 by e^{it} ...
            d[a2 : a2 + k2] = -1.0  # ... and U_2 by e^{-it}: the product is unchanged
            out.append(("one global phase shared by the Kronecker factors", d))
        return out

    def rational_point(self, rng, height=None):
        return [0] * self.size

    def exact(self, fld, point):
        if any(point):
            raise ValueError("the Kronecker factor is exact only at theta = 0")
        derivs = []
        for axis, k in enumerate(self.sizes):
            left, right = prod(self.sizes[:axis]), prod(self.sizes[axis + 1 :])
            for j in range(k * k):
                b = np.array(_skew_basis_exact(fld, k, j).to_list(), dtype=object)
                d = np.kron(np.kron(np.eye(left, dtype=int), b), np.eye(right, dtype=int))
                derivs.append(fld.matrix(d.tolist()))
        return fld.eye(self.n), derivs
