"""Measure the Jacobian rank of a parameterization (the deficit is explained in
:mod:`rnnlab.capacity.explain`; the memory check is :mod:`rnnlab.memory`).

The Jacobian is that of ``theta -> [Re W, Im W]`` (a real ``2N^2 x P`` matrix), computed
with ``jax.jacfwd`` in float64 and ranked by :func:`rnnlab.analysis.numerical_rank`.
The generic rank is the largest rank seen over several random points (rank is lower
semicontinuous, so a random point attains it with probability one; more seeds guard
against an unlucky draw). A parameterization is full-capacity at N exactly when that
generic rank equals dim U(N) = N^2: then its image has nonempty interior in U(N);
otherwise the image has measure zero (Sard).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.analysis import RankResult, complex_dtype, numerical_rank
from rnnlab.capacity.explain import Redundancy, explain_null_space
from rnnlab.capacity.gram import gram, gram_bytes_for, rank_from_gram
from rnnlab.capacity.parameterizations import Parameterization
from rnnlab.memory import check_memory

# Bytes per Jacobian entry, all copies included: the complex128 tangents (8 B per real entry)
# and their last concatenation (8 B), the float64 result (8 B), and the row blocks the QR
# before the SVD copies (8 B), with some slack.
_BYTES_PER_ENTRY = 40
# Above this estimate the rank comes from the Gram J^T J built block by block (rnnlab.capacity.gram).
GRAM_FROM_BYTES = 2 << 30


def uses_gram(n: int, num_params: int) -> bool:
    return 2 * n * n * num_params * _BYTES_PER_ENTRY > GRAM_FROM_BYTES


def jacobian_bytes_for(n: int, num_params: int) -> int:
    """Estimated peak memory of the rank computation of a map with ``num_params`` parameters at size ``n``."""
    if uses_gram(n, num_params):
        return gram_bytes_for(n, num_params)
    return 2 * n * n * num_params * _BYTES_PER_ENTRY


def jacobian_bytes(p: Parameterization) -> int:
    """Estimated peak memory of one Jacobian and its rank computation."""
    return jacobian_bytes_for(p.n, p.num_params)


def check_fits(p: Parameterization) -> None:
    check_memory(jacobian_bytes(p), f"{p.name} at n={p.n} (a {2 * p.n * p.n} x {p.num_params} Jacobian "
                 "and its workspace)")


def product_tangents(p: Parameterization):
    """``(theta, x) -> dW/dtheta @ x`` as complex ``(P, n, c)`` for ``x`` ``(n, c)``: one
    tangent per parameter, of ``W`` applied to the columns of ``x`` (``x = I`` gives ``dW/dtheta``).

    Factor by factor rather than ``jacfwd`` of the whole product: with ``W = A_0 A_1 ... A_k``,
    ``dW/dtheta_i = A_0 ... A_{i-1} (dA_i/dtheta_i) A_{i+1} ... A_k``, so the tangents of a
    factor's own parameters are pushed only through the factors to its left, and those
    factors are applied Horner-style to all the tangents collected so far at once. ``jacfwd``
    pushes every one of the P tangents through every factor (for ``restricted`` that is about
    three times the FFTs). The result is the same Jacobian to rounding (a few 1e-17).
    """
    factors, slices = p.factors, p.slices()

    def tangents(theta, x):
        inputs = [None] * len(factors)  # inputs[i] = A_{i+1} ... A_k x
        for i in reversed(range(len(factors))):
            inputs[i] = x
            x = factors[i].apply(theta[slices[i]], x)
        acc = None  # after factor i: the tangents of factors i.. with A_i ... applied
        for i in reversed(range(len(factors))):
            f, th, xi = factors[i], theta[slices[i]], inputs[i]
            if acc is not None:
                acc = jax.vmap(lambda y, f=f, th=th: f.apply(th, y))(acc)
            if f.size:
                own = jax.vmap(lambda v, f=f, th=th, xi=xi: jax.jvp(lambda u: f.apply(u, xi), (th,), (v,))[1])(
                    jnp.eye(f.size, dtype=theta.dtype)
                )
                acc = own if acc is None else jnp.concatenate([own, acc], axis=0)
        return acc

    return tangents


def _tangents(p: Parameterization):
    """``theta -> dW/dtheta`` as complex ``(P, n, n)``: :func:`product_tangents` at ``x = I``."""
    of_columns = product_tangents(p)
    return lambda theta: of_columns(theta, jnp.eye(p.n, dtype=complex_dtype(theta.dtype)))


@functools.lru_cache(maxsize=64)
def _compiled_tangents(p: Parameterization):
    # One compiled Jacobian per map, reused across seeds (p is hashable: a frozen dataclass).
    return jax.jit(_tangents(p))


def jacobian(p: Parameterization, theta) -> np.ndarray:
    """The real Jacobian ``d[Re W, Im W] / d theta`` at ``theta``, in float64.

    The array is Fortran-ordered (each column contiguous), the layout LAPACK factors
    without a transposing copy.

    Args:
        p: the parameterization.
        theta: ``(P,)``, the point.

    Returns:
        ``(2 n^2, P)``, float64.
    """
    if p.num_params == 0:  # a constant map (O(1) = {+1, -1}): no columns
        return np.zeros((2 * p.n * p.n, 0), order="F")
    with jax.enable_x64(True):
        theta = jnp.asarray(theta, jnp.float64)
        tangents = np.asarray(_compiled_tangents(p)(theta))
    params = tangents.shape[0]
    tangents = tangents.reshape(params, -1)
    out = np.empty((params, 2, tangents.shape[1]))
    np.copyto(out[:, 0], tangents.real)
    np.copyto(out[:, 1], tangents.imag)
    return out.reshape(params, -1).T


def _jacobian_and_rank(p: Parameterization, theta) -> tuple[np.ndarray, RankResult]:
    """``J`` (or, at large size, a ``(P, P)`` factor with ``J``'s right singular vectors) and its rank."""
    if uses_gram(p.n, p.num_params):
        res, root = rank_from_gram(gram(p, theta), 2 * p.n * p.n)
        return root, res
    jac = jacobian(p, theta)
    return jac, numerical_rank(jac)


@dataclass
class CapacityReport:
    """The measured capacity of one parameterization at one size.

    Attributes:
        parameterization: the map's name.
        n: the size N.
        layers: the number of layers (None for a family without layers).
        params: P, the number of real parameters.
        manifold_dim: the dimension of the manifold the map lands on.
        seeds: the seeds of the random points measured.
        ranks: the numerical rank at each seed's point.
        gaps: the singular-value gap at each rank (None: infinite).
        tols: the tolerance of each rank.
        redundancies: the named families of null directions and how many each accounts for.
        unexplained: the null directions no named family accounts for.
        unexplained_loadings: where the unexplained null directions load, by factor.
        singular_values: the singular values at the point of the highest rank.
    """

    parameterization: str
    n: int
    layers: int | None
    params: int
    manifold_dim: int
    seeds: list[int]
    ranks: list[int]
    gaps: list[float | None]
    tols: list[float]
    redundancies: list[Redundancy] = field(default_factory=list)
    unexplained: int = 0
    unexplained_loadings: dict[str, float] = field(default_factory=dict)
    singular_values: list[float] = field(default_factory=list)

    @property
    def rank(self) -> int:
        """The generic rank: the largest over the seeds."""
        return max(self.ranks)

    @property
    def full_capacity(self) -> bool:
        """Whether the rank equals the manifold's dimension."""
        return self.rank == self.manifold_dim

    @property
    def gap(self) -> float | None:
        """The smallest gap over the seeds that reached the generic rank (None = infinite)."""
        gs = [g for g, r in zip(self.gaps, self.ranks) if r == self.rank]
        finite = [g for g in gs if g is not None]
        return min(finite) if finite else None

    def as_record(self) -> dict:
        """The JSON-ready record ``rnnlab capacity --json`` prints.

        Returns:
            The record: sizes, rank, verdict, gap, per-seed ranks and the null space's
            explanation.
        """
        return {
            "parameterization": self.parameterization,
            "n": self.n,
            "layers": self.layers,
            "params": self.params,
            "rank": self.rank,
            "manifold_dim": self.manifold_dim,
            "full_capacity": self.full_capacity,
            "gap": self.gap,
            "seeds": self.seeds,
            "ranks_per_seed": self.ranks,
            "tol": max(self.tols),
            "redundant_directions": [
                {"reason": r.reason, "count": r.count, "where": r.where} for r in self.redundancies
            ],
            "unexplained_null_directions": self.unexplained,
            "unexplained_loadings": self.unexplained_loadings,
        }


def measure(p: Parameterization, seeds=(0, 1, 2), explain: bool = True, *,
            on_seed: Callable[[int], None] | None = None) -> CapacityReport:
    """Rank of the Jacobian of ``p`` at one random point per seed, with the null space explained.

    At large sizes the rank comes from the Gram matrix ``J^T J`` instead of ``J`` itself
    (``docs/capacity.md``, the Gram path). The size is checked against the memory available
    before anything is allocated.

    Args:
        p: the parameterization.
        seeds: one random point (``p.init``) per seed.
        explain: also split the null space into named redundancies.
        on_seed: called with each seed once it is measured (a progress hook; the command line
            counts seeds with it).

    Returns:
        The ranks, gaps and tolerances of every seed, and the explanation.

    Raises:
        UsageError: the Jacobian of ``p`` would not fit in memory (the message says how
            much it needs).
    """
    check_fits(p)
    ranks, gaps, tols = [], [], []
    report_null = None
    for seed in seeds:
        with jax.enable_x64(True):
            theta = np.asarray(p.init(jax.random.key(seed), jnp.float64))
        jac, res = _jacobian_and_rank(p, theta)
        ranks.append(res.rank)
        gaps.append(res.gap)
        tols.append(res.tol)
        if report_null is None or res.rank > report_null[1].rank:
            report_null = (jac, res, theta)
        del jac
        if on_seed is not None:
            on_seed(seed)
    report = CapacityReport(
        parameterization=p.name,
        n=p.n,
        layers=p.layers,
        params=p.num_params,
        manifold_dim=p.manifold_dim,
        seeds=list(seeds),
        ranks=ranks,
        gaps=gaps,
        tols=tols,
        singular_values=[float(x) for x in report_null[1].singular_values],
    )
    if explain:
        jac, res, theta = report_null
        report.redundancies, report.unexplained, report.unexplained_loadings = explain_null_space(p, jac, res, theta)
    return report
