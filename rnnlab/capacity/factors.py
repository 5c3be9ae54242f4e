"""The building blocks of unitary parameterizations: one class per kind of factor.

A parameterization is a product ``W = F_1 F_2 ... F_k`` of factors. Each factor knows

- ``size``: how many real parameters it owns (0 for a fixed factor such as the DFT);
- ``apply(theta, x)``: ``F(theta) @ x`` for ``x`` of shape ``(n, m)``, in JAX, using the
  factor's structure (an FFT is an FFT, a reflection is a rank-one update) so that the
  Jacobian of a 7N-parameter product at N = 128 costs O(N^2 log N) per direction;
- ``sample(key)``: a random parameter point (the paper's initialisation where it has one);
- ``exact(field, point)``: the factor and its partial derivatives in exact arithmetic at a
  rational point (see :mod:`rnnlab.capacity.exact`);
- ``invariance_directions(theta)`` and ``phase_direction()``: parameter directions that are known not to
  move ``W``, used to *explain* a rank deficit (see :mod:`rnnlab.capacity.explain`).

The file stays whole (about 350 lines) because every factor class implements the same five
methods side by side: reading them together is how one checks that a new factor is complete,
and each class is short. The layers of 2x2 rotations share a base class and live in
:mod:`rnnlab.capacity.rotations`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from fractions import Fraction

import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np

from rnnlab.analysis.unitary import complex_dtype


#: Heights of the rational points the exact paths draw (largest numerator and denominator). The
#: rank at one point is a lower bound of the generic rank; it falls short only on a hypersurface
#: of the parameters, which a random point of height h meets with probability at most about
#: degree / h (Schwartz-Zippel). Over F_p the size of the numbers costs nothing, so the modular
#: path draws from LARGE_HEIGHT; sympy's Q(zeta_M) arithmetic slows with them, so it draws small.
SMALL_HEIGHT = 5
LARGE_HEIGHT = 2**40


def rational(rng: np.random.Generator, height: int, *, nonzero: bool = False, min_den: int = 1) -> Fraction:
    """A random rational with numerator in [-height, height] (not 0 if ``nonzero``) and
    denominator in [min_den, height + min_den)."""
    while True:
        num = int(rng.integers(-height, height + 1))
        if num or not nonzero:
            return Fraction(num, int(rng.integers(min_den, height + min_den)))


def nonzero_tangent(rng: np.random.Generator, height: int = SMALL_HEIGHT) -> Fraction:
    """A rational half-angle tangent t not in {0, 1, -1}: angles 0 and pi/2 make a rotation the identity
    or a swap, special points where the rank can drop."""
    while True:
        t = rational(rng, height, nonzero=True)
        if abs(t) != 1:
            return t


@dataclass(frozen=True)
class Factor:
    """Base class: a fixed or parameterized unitary ``(n, n)`` factor."""

    n: int
    label: str

    size = 0

    def apply(self, theta: jax.Array, x: jax.Array) -> jax.Array:
        raise NotImplementedError(type(self).__name__)

    def sample(self, key: jax.Array, dtype=jnp.float64) -> jax.Array:
        return jnp.zeros((self.size,), dtype)

    def invariance_directions(self, theta: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """Directions in this factor's own parameters, at ``theta``, that leave it constant."""
        return []

    def phase_direction(self) -> np.ndarray | None:
        """A direction whose flow multiplies the factor by a global phase ``e^{i t}``."""
        return None

    def rational_point(self, rng: np.random.Generator, height: int = SMALL_HEIGHT) -> list[Fraction]:
        """A point where the factor is exactly representable (see ``exact``), its numbers drawn
        with numerators and denominators up to ``height``."""
        return []

    def numeric_point(self, point: list[Fraction]) -> np.ndarray:
        """The float parameters that correspond to a rational point."""
        return np.array([float(p) for p in point])


def _half_angle(t):
    """Map t in Q to w = 2 atan(t): exp(i w) = (1 - t^2 + 2 i t) / (1 + t^2) is rational."""
    return 2.0 * np.arctan(float(t))


@dataclass(frozen=True)
class Diagonal(Factor):
    """``diag(exp(i w))``, ``w`` in R^n: n parameters."""

    @property
    def size(self) -> int:
        return self.n

    def apply(self, theta, x):
        return jnp.exp(1j * theta).astype(x.dtype)[:, None] * x

    def sample(self, key, dtype=jnp.float64):
        return jax.random.uniform(key, (self.n,), dtype, -jnp.pi, jnp.pi)

    def phase_direction(self):
        return np.ones(self.n)

    def rational_point(self, rng, height=SMALL_HEIGHT):
        # Parameters are the half-angle tangents t_j; the float point is w_j = 2 atan(t_j).
        return [nonzero_tangent(rng, height) for _ in range(self.n)]

    def numeric_point(self, point):
        return np.array([_half_angle(t) for t in point])

    def exact(self, fld, point):
        phases = [fld.unit_from_tangent(t) for t in point]
        value = fld.diag(phases)
        derivs = []
        for j, e in enumerate(phases):
            d = [fld.zero] * self.n
            d[j] = fld.i * e  # d/dw exp(i w) = i exp(i w)
            derivs.append(fld.diag(d))
        return value, derivs


@dataclass(frozen=True)
class Reflection(Factor):
    """Complex Householder reflection ``I - 2 v v^H / ||v||^2``, ``v = a + i b``: 2n parameters."""

    @property
    def size(self) -> int:
        return 2 * self.n

    def apply(self, theta, x):
        if self.n == 1:
            # On C^1 every reflection is -1. The general formula gives the same value, but its
            # derivative (exactly 0) comes out as rounding noise of size eps / |v|, which a small
            # random v lifts above the rank tolerance: householder at N = 1 measured rank 2 > N^2.
            return -x
        v = (theta[: self.n] + 1j * theta[self.n :]).astype(x.dtype)
        coeff = (v.conj() @ x) / jnp.vdot(v, v).real
        return x - 2.0 * v[:, None] * coeff[None, :]

    def sample(self, key, dtype=jnp.float64):
        return jax.random.uniform(key, (2 * self.n,), dtype, -1.0, 1.0)

    def invariance_directions(self, theta):
        # v -> c v for complex c != 0 leaves the reflection unchanged: a real scale and a phase.
        a, b = theta[: self.n], theta[self.n :]
        return [
            ("real scale of the reflection vector", np.concatenate([a, b])),
            ("complex phase of the reflection vector", np.concatenate([-b, a])),
        ]

    def rational_point(self, rng, height=SMALL_HEIGHT):
        while True:
            pt = [rational(rng, height) for _ in range(2 * self.n)]
            if any(pt):
                return pt

    def exact(self, fld, point):
        n = self.n
        v = [fld.c(point[j], point[n + j]) for j in range(n)]
        vbar = [fld.c(point[j], -point[n + j]) for j in range(n)]
        s = sum((p * p for p in point), Fraction(0))
        outer = fld.outer(v, vbar)
        value = fld.eye(n) - outer * fld.q(2 / s)
        derivs = []
        for j in range(2 * n):
            dv = [fld.zero] * n
            dvbar = [fld.zero] * n
            if j < n:
                dv[j], dvbar[j] = fld.one, fld.one
            else:
                dv[j - n], dvbar[j - n] = fld.i, -fld.i
            ds = 2 * point[j]
            d_outer = fld.outer(dv, vbar) + fld.outer(v, dvbar)
            # d(v v^H / s) = (dv v^H + v dv^H) / s - v v^H ds / s^2
            derivs.append(d_outer * fld.q(-2 / s) + outer * fld.q(2 * ds / (s * s)))
        return value, derivs


@dataclass(frozen=True)
class DFT(Factor):
    """The unitary DFT (``inverse=True``: its inverse). Fixed: no parameters."""

    inverse: bool = False

    def apply(self, theta, x):
        return (jnp.fft.ifft if self.inverse else jnp.fft.fft)(x, axis=0, norm="ortho")

    def exact(self, fld, point):
        # The unnormalised DFT and its exact inverse: their 1/sqrt(n) factors cancel in any
        # product holding both, and a scalar factor never changes a rank.
        n = self.n
        sign = 1 if self.inverse else -1
        scale = fld.q(Fraction(1, n)) if self.inverse else fld.one
        rows = [[fld.root_of_unity(n, sign * j * k) * scale for k in range(n)] for j in range(n)]
        return fld.matrix(rows), []


@dataclass(frozen=True)
class Permutation(Factor):
    """A fixed permutation matrix: ``(P x)_j = x_{perm_j}``."""

    perm: tuple[int, ...] = ()

    def apply(self, theta, x):
        return x[jnp.asarray(self.perm)]

    def exact(self, fld, point):
        rows = [[fld.one if k == self.perm[j] else fld.zero for k in range(self.n)] for j in range(self.n)]
        return fld.matrix(rows), []


@dataclass(frozen=True)
class Fixed(Factor):
    """A fixed unitary matrix (e.g. the base point ``W0`` of the full parameterization).

    Exact arithmetic uses the identity in its place: left-multiplying by a fixed unitary
    does not change the rank of a Jacobian.
    """

    matrix: np.ndarray = field(default=None, compare=False)
    # Equality and hashing go by the matrix's bytes (an array is not hashable): two maps
    # with different base points must not share a cache entry of compiled Jacobians.
    digest: str = field(init=False, repr=False)

    def __post_init__(self):
        matrix = np.ascontiguousarray(self.matrix)
        key = f"{matrix.dtype.str}{matrix.shape}".encode() + matrix.tobytes()
        object.__setattr__(self, "digest", hashlib.sha256(key).hexdigest())

    def apply(self, theta, x):
        return jnp.asarray(self.matrix, x.dtype) @ x

    def exact(self, fld, point):
        return fld.eye(self.n), []


def skew_hermitian(theta: jax.Array, n: int) -> jax.Array:
    """The skew-Hermitian ``(n, n)`` matrix of n^2 reals: i*diag (n), then Re, Im of the upper triangle."""
    iu = jnp.triu_indices(n, 1)
    m = len(iu[0])
    diag, re, im = theta[:n], theta[n : n + m], theta[n + m :]
    cdt = complex_dtype(theta.dtype)
    upper = jnp.zeros((n, n), cdt).at[iu].set((re + 1j * im).astype(cdt))
    return upper - upper.conj().T + jnp.diag(1j * diag.astype(cdt))


def _skew_basis_exact(fld, n: int, j: int):
    """The skew-Hermitian matrix of the j-th unit parameter, exactly."""
    iu = list(zip(*np.triu_indices(n, 1)))
    rows = [[fld.zero] * n for _ in range(n)]
    if j < n:
        rows[j][j] = fld.i
    elif j < n + len(iu):
        a, b = iu[j - n]
        rows[a][b], rows[b][a] = fld.one, -fld.one
    else:
        a, b = iu[j - n - len(iu)]
        rows[a][b], rows[b][a] = fld.i, fld.i
    return fld.matrix(rows)


@dataclass(frozen=True)
class SkewMap(Factor):
    """Base of the maps of a skew-Hermitian ``A`` from n^2 reals (:class:`Exponential`, :class:`CayleyMap`).

    Their real versions in :mod:`rnnlab.capacity.orthogonal` override only ``size``, ``skew`` and
    ``skew_basis`` (a real skew-symmetric ``S`` from n(n-1)/2 reals).
    """

    @property
    def size(self) -> int:
        return self.n * self.n

    def skew(self, theta: jax.Array) -> jax.Array:
        """The skew matrix ``A(theta)``."""
        return skew_hermitian(theta, self.n)

    def skew_basis(self, fld, j: int):
        """``dA / dtheta_j``, exactly."""
        return _skew_basis_exact(fld, self.n, j)

    def sample(self, key, dtype=jnp.float64):
        # Off-diagonal entries of size 1/sqrt(n) keep A's spectrum inside (-2i, 2i), far from
        # the eigenvalue gaps 2*pi*k where the differential of expm becomes singular.
        return jax.random.normal(key, (self.size,), dtype) / jnp.sqrt(2.0 * self.n)


@dataclass(frozen=True)
class Exponential(SkewMap):
    """``expm(A(theta))`` with ``A`` skew-Hermitian from n^2 reals: the tangent space of U(N).

    Exact arithmetic is available only at ``theta = 0`` (``expm`` is not rational elsewhere),
    where the factor is ``I`` and its derivatives are the skew-Hermitian basis.
    """

    def apply(self, theta, x):
        return jax.scipy.linalg.expm(self.skew(theta)).astype(x.dtype) @ x

    def phase_direction(self):
        d = np.zeros(self.size)
        d[: self.n] = 1.0
        return d

    def rational_point(self, rng, height=SMALL_HEIGHT):
        return [Fraction(0)] * self.size

    def exact(self, fld, point):
        if any(point):
            raise ValueError("the exponential factor is exact only at theta = 0")
        return fld.eye(self.n), [self.skew_basis(fld, j) for j in range(self.size)]


@dataclass(frozen=True)
class CayleyMap(SkewMap):
    """``(I + A)^{-1} (I - A)`` with ``A`` skew-Hermitian from n^2 reals.

    It reaches every unitary without eigenvalue -1; a diagonal factor beside it covers the rest.
    """

    def apply(self, theta, x):
        a = self.skew(theta).astype(x.dtype)
        eye = jnp.eye(self.n, dtype=x.dtype)
        return jnp.linalg.solve(eye + a, (eye - a) @ x)

    def rational_point(self, rng, height=SMALL_HEIGHT):
        return [rational(rng, height, min_den=2) for _ in range(self.size)]

    def exact(self, fld, point):
        n = self.n
        basis = [self.skew_basis(fld, j) for j in range(self.size)]
        a = fld.zeros(n)
        for p, b in zip(point, basis):
            if p:
                a = a + b * fld.q(p)
        inv = (fld.eye(n) + a).inv()
        value = inv * (fld.eye(n) - a)
        # d[(I + A)^{-1} (I - A)] = -(I + A)^{-1} dA (I + C(A))
        right = fld.eye(n) + value
        return value, [-(inv * b * right) for b in basis]
