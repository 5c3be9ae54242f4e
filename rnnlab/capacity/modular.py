"""A proven lower bound on the Jacobian rank, computed over a finite field F_p (python-flint).

The exact path of :mod:`rnnlab.capacity.exact` evaluates every factor at a rational point in
the cyclotomic field ``K = Q(zeta_M)`` and ranks ``[J; conj J]`` there; that is exact but slow
beyond N = 8. Here the same matrix is mapped into ``F_p`` by the ring homomorphism
``phi: Z[1/d][zeta_M] -> F_p`` that sends ``zeta_M`` to an element ``omega`` of exact order
``M`` (it exists when ``p = 1 mod M``) and each rational to its residue (every denominator
``d`` of the point must be invertible mod p; otherwise another prime is taken). Complex
conjugation on ``K`` is ``zeta -> zeta^-1``, so ``phi(conj J)`` is the same product computed
with ``omega^-1``.

Why it is a proof: every minor of ``phi(A)`` is ``phi`` of the same minor of ``A``, so a
nonzero minor mod p is a nonzero minor over ``K``: ``rank_Fp phi(A) <= rank_K A``. The
rank at one point is at most the generic rank (lower semicontinuity). Finally the rank is
taken of ``R phi(A)`` for a random ``R`` over F_p (``rank(R B) <= rank(B)``), with ``R``'s rows
the functionals ``X -> u^T X w`` so that ``R phi(A)`` costs a few N x N products per factor
instead of the whole ``2 N^2 x P`` matrix. Each step can only lose rank, never gain it, so
the printed number is a proven lower bound on the generic rank whatever the random draws;
an unlucky draw (probability about ``P / p``, ``p ~ 2^26``) could only make it smaller.

Arithmetic: residues are int64 below ``2^26``; products of matrices go through float64
BLAS with one operand split in 13-bit halves, every partial sum below ``2^53`` and so exact.
The rank itself is python-flint's ``nmod_mat.rank``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import flint
import numpy as np
import sympy

from rnnlab.capacity.exact import rational_point
from rnnlab.capacity.factors import DFT, LARGE_HEIGHT, Diagonal, Factor, Reflection
from rnnlab.capacity.parameterizations import Parameterization, dft_order

_PRIME_BITS = 26
_SPLIT = 1 << 13


def matmul_mod(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    """``a @ b mod p`` for int64 residues below ``2^26`` and an inner size below ``2^14``."""
    if a.shape[-1] >= 1 << 14:
        raise ValueError("matmul_mod: inner dimension too large for exact float64 products")
    hi, lo = np.divmod(a, _SPLIT)
    bf = b.astype(np.float64)
    c_hi = np.rint(hi.astype(np.float64) @ bf).astype(np.int64) % p
    c_lo = np.rint(lo.astype(np.float64) @ bf).astype(np.int64) % p
    return (c_hi * _SPLIT + c_lo) % p


def choose_prime(order: int, below: int = 1 << _PRIME_BITS) -> tuple[int, int]:
    """The largest prime ``p < below`` with ``p = 1 mod order``, and an element of exact order ``order``."""
    k = (below - 2) // order
    while k > 0:
        p = k * order + 1
        if sympy.isprime(p):
            break
        k -= 1
    else:
        raise ValueError(f"no prime below {below} is 1 mod {order}")
    factors = sympy.primefactors(order)
    g = 2
    while True:
        w = pow(g, (p - 1) // order, p)
        if all(pow(w, order // q, p) != 1 for q in factors):
            return p, w
        g += 1


class ModMat:
    """An ``(r, c)`` matrix of residues mod p, with the operations :meth:`Factor.exact` uses."""

    __slots__ = ("a", "p")

    def __init__(self, a: np.ndarray, p: int):
        self.a, self.p = a, p

    def _wrap(self, a):
        return ModMat(a % self.p, self.p)

    def __mul__(self, other):
        if isinstance(other, ModMat):
            return ModMat(matmul_mod(self.a, other.a, self.p), self.p)
        return self._wrap(self.a * (int(other) % self.p))

    __rmul__ = __mul__

    def __add__(self, other):
        return self._wrap(self.a + other.a)

    def __sub__(self, other):
        return self._wrap(self.a - other.a)

    def __neg__(self):
        return self._wrap(-self.a)

    def inv(self) -> ModMat:
        m = flint.nmod_mat(*self.a.shape, self.a.ravel().tolist(), self.p)
        inv = m.inv()  # raises ZeroDivisionError when singular mod p
        return ModMat(np.array([[int(inv[i, j]) for j in range(inv.ncols())] for i in range(inv.nrows())],
                               dtype=np.int64), self.p)

    def to_list(self):
        return self.a.tolist()


class ModularField:
    """The image of ``Q(zeta_M)`` in ``F_p`` under ``zeta_M -> omega`` (``omega^-1`` when conjugating).

    Same interface as :class:`rnnlab.capacity.exact.ExactField`, so every factor's ``exact``
    method runs unchanged; scalars are Python ints, matrices :class:`ModMat`.
    """

    def __init__(self, order: int, p: int, omega: int, conjugate: bool = False):
        self.order, self.p, self.conjugate = order, p, conjugate
        self.gen = pow(omega, -1, p) if conjugate else omega
        self.zero, self.one = 0, 1
        self.i = pow(self.gen, order // 4, p)

    def q(self, x) -> int:
        x = Fraction(x)
        return x.numerator * pow(x.denominator, -1, self.p) % self.p  # ValueError if p | denominator

    def c(self, re, im) -> int:
        return (self.q(re) + self.q(im) * self.i) % self.p

    def root_of_unity(self, n: int, k: int) -> int:
        return pow(self.gen, ((self.order // n) * k) % self.order, self.p)

    def cos_sin_from_tangent(self, t):
        t = Fraction(t)
        return self.q((1 - t * t) / (1 + t * t)), self.q(2 * t / (1 + t * t))

    def unit_from_tangent(self, t) -> int:
        c, s = self.cos_sin_from_tangent(t)
        return (c + s * self.i) % self.p

    def matrix(self, rows) -> ModMat:
        return ModMat(np.array([[int(x) % self.p for x in r] for r in rows], dtype=np.int64), self.p)

    def diag(self, entries) -> ModMat:
        return ModMat(np.diag(np.array([int(x) % self.p for x in entries], dtype=np.int64)), self.p)

    def eye(self, n: int) -> ModMat:
        return ModMat(np.eye(n, dtype=np.int64), self.p)

    def zeros(self, n: int) -> ModMat:
        return ModMat(np.zeros((n, n), np.int64), self.p)

    def outer(self, u, w) -> ModMat:
        uu = np.array([int(x) % self.p for x in u], dtype=np.int64)
        ww = np.array([int(x) % self.p for x in w], dtype=np.int64)
        return ModMat(np.outer(uu, ww) % self.p, self.p)


def _dense_block(derivs: np.ndarray, p: int):
    def block(left, right):
        size, n = derivs.shape[:2]
        t = matmul_mod(derivs.reshape(size * n, n), right, p).reshape(size, n, right.shape[1])
        return (t * left[None] % p).sum(axis=1) % p

    return block


def factor_mod(f: Factor, fld: ModularField, point: list[Fraction]):
    """A factor mod p: ``(value (n, n), block)``, where ``block(left, right)`` is ``(size, r)``.

    ``block(left, right)[j, k] = left[:, k]^T (dA/dtheta_j) right[:, k]``. Diagonals and
    reflections have rank-one and rank-two derivatives, so their blocks cost O(n r) and the
    dense derivatives are never formed; the DFT is a fixed matrix of roots of unity. Every
    other factor goes through its own ``exact`` method with :class:`ModularField`.
    """
    p, n = fld.p, f.n
    if isinstance(f, Diagonal):
        e = np.array([fld.unit_from_tangent(t) for t in point], dtype=np.int64)
        ie = e * fld.i % p
        return np.diag(e), lambda left, right: ie[:, None] * (left * right % p) % p
    if isinstance(f, Reflection):
        v = np.array([fld.c(point[j], point[n + j]) for j in range(n)], dtype=np.int64)
        vbar = np.array([fld.c(point[j], -point[n + j]) for j in range(n)], dtype=np.int64)
        s = sum((x * x for x in point), Fraction(0))
        two_s = fld.q(2 / s)
        value = (np.eye(n, dtype=np.int64) - two_s * (np.outer(v, vbar) % p)) % p
        # d(v v^H / s) = (dv v^H + v dv^H) / s - v v^H ds / s^2 with dv = e_j (re) or i e_j (im),
        # so u^T dA w = -2/s [(u^T dv)(v^H w) + (u^T v)(dv^H w)] + 4 x_j / s^2 (u^T v)(v^H w).
        dv = np.concatenate([np.ones(n, np.int64), np.full(n, fld.i, np.int64)])
        dvbar = np.concatenate([np.ones(n, np.int64), np.full(n, (-fld.i) % p, np.int64)])
        ds = np.array([fld.q(4 * x / (s * s)) for x in point], dtype=np.int64)
        idx = np.arange(2 * n) % n

        def block(left, right):
            ul = matmul_mod(v[None], left, p)[0]  # u^T v
            vr = matmul_mod(vbar[None], right, p)[0]  # v^H w
            first = dv[:, None] * left[idx] % p * vr[None] % p
            second = dvbar[:, None] * right[idx] % p * ul[None] % p
            third = ds[:, None] * (ul * vr % p)[None] % p
            return ((first + second) % p * ((-two_s) % p) + third) % p

        return value, block
    if isinstance(f, DFT):
        sign = 1 if f.inverse else -1
        jk = np.outer(np.arange(n), np.arange(n)) * sign * (fld.order // n) % fld.order
        powers = np.array([pow(fld.gen, e, p) for e in range(fld.order)], dtype=np.int64)
        value = powers[jk]
        if f.inverse:
            value = value * fld.q(Fraction(1, n)) % p
        return value, None
    value, derivs = f.exact(fld, point)
    if not derivs:
        return value.a, None
    return value.a, _dense_block(np.stack([d.a for d in derivs]), p)


@dataclass
class ModularRank:
    """The rank over F_p at a rational point: a proven lower bound on the generic rank."""

    parameterization: str
    n: int
    rank: int
    params: int
    prime: int
    order: int
    seed: int

    @property
    def method(self) -> str:
        return (f"rank over F_{self.prime} (python-flint nmod_mat) of the Jacobian at a rational point, "
                f"zeta_{self.order} -> an element of order {self.order}: a proven lower bound")


def _projected_jacobian(p: Parameterization, point, prime: int, omega: int, order: int, seed: int) -> np.ndarray:
    """``R [J; conj J] mod p`` with ``P`` random rank-one functionals ``X -> u^T X w`` per half."""
    n, rows = p.n, p.num_params
    rng = np.random.default_rng([seed, 7])
    z = np.zeros((rows, p.num_params), np.int64)
    for conjugate in (False, True):
        fld = ModularField(order, prime, omega, conjugate)
        vals, ders, start = [], [], 0
        for f in p.factors:
            v, d = factor_mod(f, fld, point[start : start + f.size])
            vals.append(v)
            ders.append(d)
            start += f.size
        u = rng.integers(0, prime, (n, rows), dtype=np.int64)
        w = rng.integers(0, prime, (n, rows), dtype=np.int64)
        # left[k] = (A_0 ... A_{k-1})^T u and right[k] = A_{k+1} ... A_last w.
        left, x = [], u
        for v in vals:
            left.append(x)
            x = matmul_mod(v.T, x, prime)
        right, x = [None] * len(vals), w
        for k in reversed(range(len(vals))):
            right[k] = x
            x = matmul_mod(vals[k], x, prime)
        col = 0
        for f, blk, lt, rt in zip(p.factors, ders, left, right):
            if f.size:
                z[:, col : col + f.size] = (z[:, col : col + f.size] + blk(lt, rt).T) % prime
            col += f.size
    return z


def modular_rank(p: Parameterization, seed: int = 0, tries: int = 8, height: int = LARGE_HEIGHT) -> ModularRank:
    """A proven lower bound on the generic Jacobian rank of ``p``: its rank over F_p at a rational point.

    The point is :func:`rnnlab.capacity.exact.rational_point` for ``seed`` and ``height``
    (large by default, so that it avoids the special points where the rank drops; pass the
    sympy path's ``SMALL_HEIGHT`` to compare the two at one point). A prime where the point
    degenerates (a denominator or a ``(I + A)`` divisible by p) is skipped for the next one.
    """
    if p.num_params == 0:
        return ModularRank(p.name, p.n, 0, 0, 0, 0, seed)
    point = rational_point(p, seed, height)
    order = dft_order(p)
    below = 1 << _PRIME_BITS
    for _ in range(tries):
        prime, omega = choose_prime(order, below)
        try:
            z = _projected_jacobian(p, point, prime, omega, order, seed)
        except (ValueError, ZeroDivisionError):
            below = prime
            continue
        rank = flint.nmod_mat(*z.shape, z.ravel().tolist(), prime).rank()
        return ModularRank(p.name, p.n, int(rank), p.num_params, prime, order, seed)
    raise ValueError(f"{p.name} at n={p.n}: the rational point degenerates modulo {tries} primes")
