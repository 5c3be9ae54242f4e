"""Real orthogonal factors: maps onto SO(N) or O(N), real dimension N(N-1)/2.

- :class:`SkewExponential` ``expm(S)``, ``S`` real skew-symmetric (expRNN, Lezcano-Casado &
  Martinez-Rubio 2019);
- :class:`SkewCayley` ``(I + S)^-1 (I - S)`` and :class:`SignDiagonal` a fixed diagonal of +-1
  (scoRNN, Helfrich, Willmott & Ye 2018, uses ``W = (I + S)^-1 (I - S) D``);
- :class:`RealReflection` ``I - 2 u u^T / |u|^2`` (oRNN, Mhammedi et al. 2017, multiplies k of them);
- :class:`RotationLayer` disjoint real 2x2 rotations on a brick pattern of pairs (Givens products).

A real ``W`` is a point of U(N) too, so the Jacobian of ``[Re W, Im W]`` used everywhere has
the rank of the Jacobian of ``W``; only the manifold's dimension changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.capacity.factors import SMALL_HEIGHT, CayleyMap, Exponential, Factor, rational
from rnnlab.capacity.rotations import PairLayer, _rotate, brick_pairs


def skew_symmetric(theta: jax.Array, n: int) -> jax.Array:
    """The real skew-symmetric ``(n, n)`` matrix whose upper triangle is ``theta`` (n(n-1)/2 reals)."""
    iu = jnp.triu_indices(n, 1)
    upper = jnp.zeros((n, n), theta.dtype).at[iu].set(theta)
    return upper - upper.T


def _skew_basis_exact(fld, n: int, j: int):
    a, b = list(zip(*np.triu_indices(n, 1)))[j]
    rows = [[fld.zero] * n for _ in range(n)]
    rows[a][b], rows[b][a] = fld.one, -fld.one
    return fld.matrix(rows)


class RealSkew:
    """Mixin for the real versions of the skew maps of :mod:`rnnlab.capacity.factors`: ``S`` real
    skew-symmetric from n(n-1)/2 reals in place of ``A`` skew-Hermitian from n^2. A real ``S`` has a
    zero diagonal, so no direction of it multiplies the factor by a global phase."""

    @property
    def size(self) -> int:
        return self.n * (self.n - 1) // 2

    def skew(self, theta):
        return skew_symmetric(theta, self.n)

    def skew_basis(self, fld, j: int):
        return _skew_basis_exact(fld, self.n, j)

    def phase_direction(self):
        return None


@dataclass(frozen=True)
class SkewExponential(RealSkew, Exponential):
    """``expm(S)``, ``S`` real skew-symmetric from n(n-1)/2 reals: onto SO(n). Exact only at 0."""


@dataclass(frozen=True)
class SkewCayley(RealSkew, CayleyMap):
    """``(I + S)^-1 (I - S)``, ``S`` real skew-symmetric from n(n-1)/2 reals."""


@dataclass(frozen=True)
class SignDiagonal(Factor):
    """A fixed diagonal of +-1 (scoRNN's D): ``signs[j] = -1`` where the entry is negative."""

    signs: tuple[int, ...] = ()

    def apply(self, theta, x):
        return jnp.asarray(self.signs, x.real.dtype)[:, None] * x

    def exact(self, fld, point):
        return fld.diag([fld.one if s > 0 else -fld.one for s in self.signs]), []


@dataclass(frozen=True)
class RealReflection(Factor):
    """Real Householder reflection ``I - 2 u u^T / |u|^2``, ``u`` in R^n: n parameters."""

    @property
    def size(self) -> int:
        return self.n

    def apply(self, theta, x):
        if self.n == 1:
            # As for the complex reflection: on R^1 every reflection is -1, also at u = 0 where the
            # formula is 0/0, and its derivative is exactly 0 rather than rounding noise.
            return -x
        u = theta.astype(x.real.dtype)
        coeff = (u @ x) / (u @ u)
        return x - 2.0 * u[:, None] * coeff[None, :]

    def sample(self, key, dtype=jnp.float64):
        return jax.random.uniform(key, (self.n,), dtype, -1.0, 1.0)

    def invariance_directions(self, theta):
        return [("real scale of the reflection vector", np.asarray(theta, float).copy())]

    def rational_point(self, rng, height=SMALL_HEIGHT):
        while True:
            pt = [rational(rng, height) for _ in range(self.n)]
            if any(pt):
                return pt

    def exact(self, fld, point):
        n = self.n
        u = [fld.q(x) for x in point]
        s = sum((x * x for x in point), Fraction(0))
        outer = fld.outer(u, u)
        value = fld.eye(n) - outer * fld.q(2 / s)
        derivs = []
        for j in range(n):
            e = [fld.zero] * n
            e[j] = fld.one
            d_outer = fld.outer(e, u) + fld.outer(u, e)
            derivs.append(d_outer * fld.q(-2 / s) + outer * fld.q(4 * point[j] / (s * s)))
        return value, derivs


@dataclass(frozen=True)
class RotationLayer(PairLayer):
    """Disjoint real rotations ``[[cos t, -sin t], [sin t, cos t]]`` on the pairs (offset, offset+1), ..."""

    offset: int = 0
    pair_list: tuple[tuple[int, int], ...] = field(default=())

    @property
    def pairs(self) -> list[tuple[int, int]]:
        return list(self.pair_list) or brick_pairs(self.n, self.offset)

    def rotate(self, theta, xt, xb):
        return _rotate(theta, xt, xb)

    def block(self, fld, params):
        c, s = fld.cos_sin_from_tangent(params[0])
        return [[c, -s], [s, c]], [[[-s, -c], [c, -s]]]
