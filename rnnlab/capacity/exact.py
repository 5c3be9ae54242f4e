"""Exact Jacobian rank at a rational point, in a cyclotomic field (sympy).

Every factor is evaluated exactly at a point where it is rational over Q(i) or, for the
DFT, over Q(zeta_M): phases and rotation angles enter through the tangent half-angle
substitution ``exp(i w) = (1 - t^2 + 2 i t) / (1 + t^2)`` with rational ``t``, reflection
vectors and Cayley generators have rational entries, and the DFT is used unnormalised
together with its exact inverse (the 1/sqrt(N) factors cancel and scalars never change a
rank). The expm factor of ``full`` is exact only at ``theta = 0``.

The real Jacobian ``[Re J; Im J]`` has the same rank as ``[J; conj(J)]`` (an invertible
change of rows), and ``conj(J)`` is computed by running the same product with every
constant conjugated, so the rank is taken over the field ``K = Q(zeta_M)`` by sympy's
``DomainMatrix``; rank does not change under field extension, so this is the rank over
the reals. The numerical rank at the same point (``numeric_point``) must agree.

Cost grows fast: fine for N <= 6 or so, minutes beyond.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy
from sympy import QQ
from sympy.polys.matrices import DomainMatrix

from rnnlab.capacity.factors import SMALL_HEIGHT
from rnnlab.capacity.parameterizations import Parameterization, dft_order


class ExactField:
    """Exact scalars and matrices over Q(zeta_M), optionally complex-conjugating everything."""

    def __init__(self, order: int, conjugate: bool = False):
        self.order = order
        self.conjugate = conjugate
        self.K = QQ.algebraic_field(sympy.exp(2 * sympy.pi * sympy.I / order))
        self.gen = self.K.convert(self.K.ext)
        self.zero, self.one = self.K.zero, self.K.one
        i = self.gen ** (order // 4)
        self.i = -i if conjugate else i

    def q(self, x: Fraction | int):
        x = Fraction(x)
        return self.K.convert(QQ(x.numerator, x.denominator))

    def c(self, re, im):
        return self.q(re) + self.q(im) * self.i

    def root_of_unity(self, n: int, k: int):
        """``exp(2 pi i k / n)`` (conjugated when the field conjugates)."""
        e = (self.order // n) * k * (-1 if self.conjugate else 1)
        return self.gen ** (e % self.order)

    def cos_sin_from_tangent(self, t):
        t = Fraction(t)
        return self.q((1 - t * t) / (1 + t * t)), self.q(2 * t / (1 + t * t))

    def unit_from_tangent(self, t):
        c, s = self.cos_sin_from_tangent(t)
        return c + s * self.i

    def matrix(self, rows) -> DomainMatrix:
        return DomainMatrix(rows, (len(rows), len(rows[0])), self.K)

    def diag(self, entries) -> DomainMatrix:
        n = len(entries)
        return self.matrix([[entries[j] if j == k else self.zero for k in range(n)] for j in range(n)])

    def eye(self, n: int) -> DomainMatrix:
        return DomainMatrix.eye(n, self.K)

    def zeros(self, n: int) -> DomainMatrix:
        return DomainMatrix.zeros((n, n), self.K)

    def outer(self, u, w) -> DomainMatrix:
        return self.matrix([[a * b for b in w] for a in u])


@dataclass
class ExactRank:
    parameterization: str
    n: int
    rank: int
    params: int
    field: str
    point: list[Fraction]

    def numeric_point(self, p: Parameterization) -> np.ndarray:
        """The float parameters of the same point, for comparison with the numerical rank."""
        out, start = [], 0
        for f in p.factors:
            out.append(f.numeric_point(self.point[start : start + f.size]))
            start += f.size
        return np.concatenate(out) if out else np.zeros(0)


def rational_point(p: Parameterization, seed: int = 0, height: int = SMALL_HEIGHT) -> list[Fraction]:
    """The rational point of ``seed``: each factor's numbers of height at most ``height``."""
    rng = np.random.default_rng(seed)
    return [x for f in p.factors for x in f.rational_point(rng, height)]


def _jacobian_columns(p: Parameterization, fld: ExactField, point: list[Fraction]) -> list[list]:
    values, derivs, start = [], [], 0
    for f in p.factors:
        v, ds = f.exact(fld, point[start : start + f.size])
        values.append(v)
        derivs.append(ds)
        start += f.size
    k = len(values)
    n = p.n
    prefix = [fld.eye(n)]
    for v in values:
        prefix.append(prefix[-1] * v)
    suffix = [fld.eye(n)]
    for v in reversed(values):
        suffix.append(v * suffix[-1])
    suffix = suffix[::-1]  # suffix[j] = values[j] ... values[k-1]
    cols = []
    for j in range(k):
        for d in derivs[j]:
            m = prefix[j] * d * suffix[j + 1]
            cols.append([x for row in m.to_list() for x in row])
    return cols


def exact_rank(p: Parameterization, seed: int = 0, height: int = SMALL_HEIGHT) -> ExactRank:
    """The exact rank of ``d[Re W, Im W]/d theta`` at a rational point, in sympy.

    Computed over ``Q(zeta_M)``, ``M = lcm(4, N)``, with sympy's ``DomainMatrix``: for small N
    only, as the cost grows quickly with the field's degree (N = 7 needs ``Q(zeta_28)``:
    minutes). For larger N, the F_p certificate (``rnnlab capacity --exact``).

    Args:
        p: the parameterization.
        seed: the seed of the rational point.
        height: the largest numerator and denominator of the point's numbers.

    Returns:
        The exact rank, the number of parameters, the field and the point.
    """
    point = rational_point(p, seed, height)
    order = dft_order(p)
    plain = _jacobian_columns(p, ExactField(order), point)
    conj = _jacobian_columns(p, ExactField(order, conjugate=True), point)
    fld = ExactField(order)
    rows = [list(r) for r in zip(*[c + cj for c, cj in zip(plain, conj)])]
    if not rows:
        rank = 0
    else:
        rank = DomainMatrix(rows, (len(rows), len(rows[0])), fld.K).rank()
    return ExactRank(p.name, p.n, int(rank), p.num_params, str(fld.K), point)
