"""A proven lower bound on the Jacobian rank, computed over a finite field F_p (python-flint).

The exact path of :mod:`rnnlab.capacity.exact` evaluates every factor at a rational point in
the cyclotomic field ``K = Q(zeta_M)`` and ranks ``[J; conj J]`` there; that is exact but slow
beyond N = 8. Here the same matrix is mapped into ``F_p`` by the ring homomorphism
``phi: Z[1/d][zeta_M] -> F_p`` that sends ``zeta_M`` to an element ``omega`` of exact order
``M`` (it exists when ``p = 1 mod M``) and each rational to its residue (every denominator
``d`` of the point must be invertible mod p; otherwise the prime is skipped, with a note, for
the next one). Complex conjugation on ``K`` is ``zeta -> zeta^-1``, so ``phi(conj J)`` is the
same product computed with ``omega^-1``.

Why it is a proof: every minor of ``phi(A)`` is ``phi`` of the same minor of ``A``, so a
nonzero minor mod p is a nonzero minor over ``K``: ``rank_Fp phi(A) <= rank_K A``. The
rank at one point is at most the generic rank (lower semicontinuity). Finally the rank is
taken of ``R phi(A)`` for a random ``R`` over F_p (``rank(R B) <= rank(B)``). Each step can
only lose rank, never gain it, so the printed number is a proven lower bound on the generic
rank whatever the random draws; an unlucky draw (probability about ``P / p``, ``p ~ 2^26``)
could only make it smaller.

The sketch (:func:`sketch`): ``R``'s ``P`` rows are functionals ``X -> u^T X w``, and for a
product ``W = A_0 ... A_last`` the functional of a derivative is
``u^T dW w = (A_{j-1}^T ... A_0^T u)^T dA_j (A_{j+1} ... A_last w)``. So ``P`` vectors ``u``
are pushed once through the transposed factors, ``P`` vectors ``w`` once through the
factors, and each factor's block is read off between them: the ``2 N^2 x P`` Jacobian is
never formed (at N = 1024, 7.5e9 entries). Each factor acts by its structure
(:class:`FactorMod`): a diagonal scales, a reflection is a rank-one update, a permutation an
index, the DFT a fixed matrix of powers of ``omega``. The memory is the ``P x P`` sketch
and one ``(N, P)`` block per factor; the time is the rank of the sketch (python-flint's
``nmod_mat.rank``, ``O(P^3)``), which :func:`sketch_cost` estimates so that a size that cannot
fit is refused up front.

Arithmetic: residues are int64 below ``2^26``; products of matrices go through float64
BLAS with one operand split in 13-bit halves, every partial sum below ``2^53`` and so exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import flint
import numpy as np
import sympy

from rnnlab.capacity.exact import rational_point
from rnnlab.capacity.factors import DFT, LARGE_HEIGHT, Diagonal, Factor, Fixed, Permutation, Reflection
from rnnlab.capacity.parameterizations import Parameterization, dft_order
from rnnlab.errors import UsageError

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


class Degenerate(ValueError):
    """The point cannot be mapped into F_p: ``p`` divides a denominator (of a coordinate, of a
    reflection's ``|v|^2``, of ``1 + t^2``) or a matrix to invert is singular mod p."""


def residue(x, p: int) -> int:
    """``phi(x)`` for a rational ``x``: numerator times the inverse of the denominator mod p."""
    x = Fraction(x)
    den = x.denominator % p
    if den == 0:
        raise Degenerate(f"{p} divides a denominator of the point")
    return x.numerator * pow(den, -1, p) % p


def _inverse(x: int, p: int) -> int:
    if x % p == 0:
        raise Degenerate(f"{p} divides a denominator of the map at the point")
    return pow(x, -1, p)


@dataclass(frozen=True)
class FactorMod:
    """One factor ``A`` mod p as an operator on blocks of vectors (``(n, r)`` int64 residues).

    ``apply(x) = A x``, ``apply_t(x) = A^T x`` and, for a factor with parameters,
    ``block(left, right)[j, k] = left[:, k]^T (dA/dtheta_j) right[:, k]`` of shape ``(size, r)``.
    """

    apply: Callable[[np.ndarray], np.ndarray]
    apply_t: Callable[[np.ndarray], np.ndarray]
    block: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None


def _dense(value: np.ndarray, p: int, block=None) -> FactorMod:
    return FactorMod(lambda x: matmul_mod(value, x, p), lambda x: matmul_mod(value.T, x, p), block)


def _dense_block(derivs: np.ndarray, p: int):
    def block(left, right):
        size, n = derivs.shape[:2]
        t = matmul_mod(derivs.reshape(size * n, n), right, p).reshape(size, n, right.shape[1])
        return (t * left[None] % p).sum(axis=1) % p

    return block


def _diagonal_mod(fld: ModularField, point) -> FactorMod:
    p = fld.p
    t = np.array([residue(x, p) for x in point], dtype=np.int64)
    inv = np.array([_inverse(int(1 + x * x), p) for x in t], dtype=np.int64)  # 1 / (1 + t^2)
    # exp(i w) = (1 - t^2 + 2 i t) / (1 + t^2): the tangent half-angle form of a unit.
    e = (1 - t * t % p + 2 * t % p * fld.i) % p * inv % p
    ie = e * fld.i % p

    def scale(x):
        return e[:, None] * x % p

    return FactorMod(scale, scale, lambda left, right: ie[:, None] * (left * right % p) % p)


def _reflection_mod(fld: ModularField, point) -> FactorMod:
    p, n = fld.p, len(point) // 2
    x = np.array([residue(c, p) for c in point], dtype=np.int64)
    re, im = x[:n], x[n:]
    v = (re + im * fld.i) % p
    vbar = (re - im * fld.i) % p
    inv_s = _inverse(int((x * x % p).sum() % p), p)  # 1 / |v|^2
    two_s = 2 * inv_s % p
    minus_two_s = (-two_s) % p

    def apply(y):  # (I - 2 v v^H / s) y
        return (y - two_s * v[:, None] % p * matmul_mod(vbar[None], y, p) % p) % p

    def apply_t(y):  # (I - 2 conj(v) v^T / s) y
        return (y - two_s * vbar[:, None] % p * matmul_mod(v[None], y, p) % p) % p

    # d(v v^H / s) = (dv v^H + v dv^H) / s - v v^H ds / s^2 with dv = e_j (re) or i e_j (im),
    # so u^T dA w = -2/s [(u^T dv)(v^H w) + (u^T v)(dv^H w)] + 4 x_j / s^2 (u^T v)(v^H w).
    dv = np.concatenate([np.ones(n, np.int64), np.full(n, fld.i, np.int64)])
    dvbar = np.concatenate([np.ones(n, np.int64), np.full(n, (-fld.i) % p, np.int64)])
    ds = 4 * x % p * (inv_s * inv_s % p) % p
    idx = np.arange(2 * n) % n

    def block(left, right):
        ul = matmul_mod(v[None], left, p)[0]  # u^T v
        vr = matmul_mod(vbar[None], right, p)[0]  # v^H w
        first = dv[:, None] * left[idx] % p * vr[None] % p
        second = dvbar[:, None] * right[idx] % p * ul[None] % p
        third = ds[:, None] * (ul * vr % p)[None] % p
        return ((first + second) % p * minus_two_s + third) % p

    return FactorMod(apply, apply_t, block)


def _dft_mod(f: DFT, fld: ModularField) -> FactorMod:
    # The DFT matrix is symmetric, so A^T = A. It is applied as a dense matrix through BLAS
    # (matmul_mod): O(n^2) per vector, seconds in all at n = 1024, a small part of the rank,
    # and the same code for every n (a number-theoretic FFT would need a mixed radix at n = 470).
    n, p = f.n, fld.p
    sign = 1 if f.inverse else -1
    jk = np.outer(np.arange(n), np.arange(n)) * sign * (fld.order // n) % fld.order
    powers = np.array([pow(fld.gen, e, p) for e in range(fld.order)], dtype=np.int64)
    value = powers[jk]
    if f.inverse:
        value = value * residue(Fraction(1, n), p) % p
    return _dense(value, p)


def _permutation_mod(f: Permutation) -> FactorMod:
    perm = np.asarray(f.perm, dtype=np.intp)

    def apply_t(x):
        out = np.empty_like(x)
        out[perm] = x
        return out

    return FactorMod(lambda x: x[perm], apply_t)


def factor_mod(f: Factor, fld: ModularField, point: list[Fraction]) -> FactorMod:
    """A factor mod p as an operator, through its structure where it has one.

    Diagonals and reflections act by O(n) scalings and rank-one updates and their derivative
    blocks cost O(n r), a permutation is an index, a fixed base point is the identity (it does
    not change the rank). Every other factor goes through its own ``exact`` method with
    :class:`ModularField`, as dense matrices.
    """
    p = fld.p
    if isinstance(f, Diagonal):
        return _diagonal_mod(fld, point)
    if isinstance(f, Reflection):
        return _reflection_mod(fld, point)
    if isinstance(f, DFT):
        return _dft_mod(f, fld)
    if isinstance(f, Permutation):
        return _permutation_mod(f)
    if isinstance(f, Fixed):
        return FactorMod(lambda x: x, lambda x: x)
    try:
        value, derivs = f.exact(fld, point)
    except ZeroDivisionError:  # a matrix to invert (I + A of a Cayley map) is singular mod p
        raise Degenerate(f"a matrix of {f.label} is singular modulo {p}") from None
    except ValueError as e:  # ModularField.q: p divides a denominator
        raise Degenerate(str(e)) from None
    block = _dense_block(np.stack([d.a for d in derivs]), p) if derivs else None
    return _dense(value.a, p, block)


def _structured(f: Factor) -> bool:
    return isinstance(f, (Diagonal, Reflection, DFT, Permutation, Fixed))


#: Cost model of :func:`sketch` plus the rank, fitted to runs on the project's 2-core CPU: the
#: rank by python-flint's elimination, the entry-by-entry copy into it, and the dense products.
_RANK_S_PER_CUBE = 3.5e-10
_COPY_S_PER_ENTRY = 6e-7
_PRODUCT_S_PER_FLOP = 1e-10
#: A certificate estimated to take longer than this is refused up front (seconds).
MAX_SECONDS = 2 * 3600


@dataclass(frozen=True)
class SketchCost:
    """Estimated peak memory and time of one F_p lower bound (:func:`modular_rank`)."""

    bytes: int
    seconds: float
    params: int

    def describe_time(self) -> str:
        t = self.seconds
        when = f"{t:.0f} s" if t < 120 else f"{t / 60:.0f} min" if t < 7200 else f"{t / 3600:.1f} h"
        return f"about {when} on a 2-core CPU"

    def describe(self) -> str:
        from rnnlab.memory import format_bytes

        return (f"a {self.params} x {self.params} sketch ranked over F_p: about {format_bytes(self.bytes)} and "
                f"{self.describe_time()[6:]}")


def sketch_cost(n: int, factors) -> SketchCost:
    """The cost of :func:`modular_rank` on the product of ``factors`` at size ``n``, from their
    sizes alone (nothing allocated; ``Entry.structure`` gives them).

    Memory: the ``P x P`` sketch and python-flint's copy (8 bytes an entry each), the pushed
    vectors (one ``(n, P)`` block per factor with parameters, a few more in flight), and each
    dense factor's derivatives. Time: the rank (``P^3``), the copy into python-flint, and two
    float64 products per dense factor per direction and half.
    """
    params = sum(f.size for f in factors)
    param_factors = sum(1 for f in factors if f.size)
    dense = [f for f in factors if not _structured(f)]
    dfts = sum(1 for f in factors if isinstance(f, DFT))
    mem = 16 * params * params + 8 * n * params * (param_factors + 8)
    mem += sum(3 * 8 * (f.size + 2) * n * n for f in dense) + 8 * n * n * dfts
    flops = 2 * 2 * 2 * (len(dense) + dfts) * 2 * n * n * params
    flops += sum(2 * 2 * 2 * f.size * n * n * params for f in dense)  # dense derivative blocks
    secs = _RANK_S_PER_CUBE * params**3 + _COPY_S_PER_ENTRY * params * params + _PRODUCT_S_PER_FLOP * flops
    return SketchCost(int(mem) + (128 << 20), float(secs), params)


def check_sketch_fits(name: str, n: int, factors, max_seconds: float = MAX_SECONDS) -> SketchCost:
    """Refuse (:class:`UsageError`, with the estimate) an F_p lower bound for the map ``name``
    at size ``n`` that cannot fit in the available memory or would take longer than ``max_seconds``."""
    from rnnlab.memory import check_memory

    cost = sketch_cost(n, factors)
    what = f"certifying {name} at n={n}"
    if n >= 1 << 14:
        raise UsageError(f"{what} ({cost.describe()}): exact products mod p need n < {1 << 14}")
    check_memory(cost.bytes, f"{what} (a {cost.params} x {cost.params} sketch ranked over F_p, "
                 f"{cost.describe_time()})")
    if cost.seconds > max_seconds:
        raise UsageError(f"{what} ({cost.describe()}) would take longer than the {max_seconds / 3600:g} h allowed")
    return cost


@dataclass
class ModularRank:
    """The rank over F_p at a rational point: a proven lower bound on the generic rank.

    ``skipped`` lists the primes tried first and left because the point degenerates there
    (a denominator divisible by p), each with the reason.
    """

    parameterization: str
    n: int
    rank: int
    params: int
    prime: int
    order: int
    seed: int
    skipped: list[tuple[int, str]] = field(default_factory=list)

    @property
    def method(self) -> str:
        return (f"rank over F_{self.prime} (python-flint nmod_mat) of P random functionals u^T dW w of the "
                f"Jacobian at a rational point, zeta_{self.order} -> an element of order {self.order}: "
                "a proven lower bound")


def sketch(p: Parameterization, point, prime: int, omega: int, order: int, seed: int) -> np.ndarray:
    """``R [J; conj J] mod p``: ``P`` random functionals ``X -> u^T X w`` of each half, summed.

    Row ``k`` of the result is ``u_k^T (dW/dtheta_j) w_k`` over the columns ``j``, for the
    product and (with ``omega^-1``) its conjugate. With ``W = A_0 ... A_last``,
    ``u^T dW w = (A_{j-1}^T ... A_0^T u)^T dA_j (A_{j+1} ... A_last w)``: the vectors ``u`` are
    pushed left to right through the transposed factors and the ``w`` right to left, a block of
    ``P`` vectors at a time, and each factor's derivative block is read off between them. The
    Jacobian itself (``2 n^2 x P``) is never formed. Raises :class:`Degenerate` where the point
    has no image in F_p.
    """
    n, rows = p.n, p.num_params
    rng = np.random.default_rng([seed, 7])
    z = np.zeros((rows, p.num_params), np.int64)
    starts = np.cumsum([0] + [f.size for f in p.factors])
    for conjugate in (False, True):
        fld = ModularField(order, prime, omega, conjugate)
        ops = [factor_mod(f, fld, point[a:b]) for f, a, b in zip(p.factors, starts, starts[1:])]
        u = rng.integers(0, prime, (n, rows), dtype=np.int64)
        w = rng.integers(0, prime, (n, rows), dtype=np.int64)
        right, x = {}, w  # right[k] = A_{k+1} ... A_last w, kept only where factor k has parameters
        for k in reversed(range(len(ops))):
            if p.factors[k].size:
                right[k] = x
            if k:
                x = ops[k].apply(x)
        del w
        x = u  # (A_0 ... A_{k-1})^T u
        for k, (f, op) in enumerate(zip(p.factors, ops)):
            if f.size:
                cols = slice(starts[k], starts[k + 1])
                z[:, cols] = (z[:, cols] + op.block(x, right.pop(k)).T) % prime
            if k + 1 < len(ops):
                x = op.apply_t(x)
    return z


def rank_mod(z: np.ndarray, prime: int) -> int:
    """The rank of ``z`` over F_prime (python-flint), copied in one row at a time so that no
    Python list of every entry is held at once."""
    rows, cols = z.shape
    if rows == 0 or cols == 0:
        return 0
    m = flint.nmod_mat(rows, cols, prime)
    for i in range(rows):
        for j, x in enumerate(z[i].tolist()):
            m[i, j] = x
    return int(m.rank())


def modular_rank(p: Parameterization, seed: int = 0, tries: int = 8, height: int = LARGE_HEIGHT) -> ModularRank:
    """A proven lower bound on the generic Jacobian rank of ``p``: its rank over F_p at a rational point.

    The point is :func:`rnnlab.capacity.exact.rational_point` for ``seed`` and ``height``
    (large by default, so that it avoids the special points where the rank drops; pass the
    sympy path's ``SMALL_HEIGHT`` to compare the two at one point). A prime where the point
    degenerates (a denominator or a ``(I + A)`` divisible by p) is skipped for the next one
    and listed in ``skipped``. The cost is :func:`sketch_cost`; nothing is refused here
    (:func:`check_sketch_fits` does that).
    """
    if p.num_params == 0:
        return ModularRank(p.name, p.n, 0, 0, 0, 0, seed)
    point = rational_point(p, seed, height)
    order = dft_order(p)
    below = 1 << _PRIME_BITS
    skipped: list[tuple[int, str]] = []
    for _ in range(tries):
        prime, omega = choose_prime(order, below)
        try:
            z = sketch(p, point, prime, omega, order, seed)
        except Degenerate as e:
            skipped.append((prime, str(e)))
            below = prime
            continue
        rank = rank_mod(z, prime)
        return ModularRank(p.name, p.n, rank, p.num_params, prime, order, seed, skipped)
    raise ValueError(f"{p.name} at n={p.n}: the rational point degenerates modulo {tries} primes "
                     f"({', '.join(str(q) for q, _ in skipped)})")
