"""Measure the Jacobian rank of a parameterization and explain any deficit.

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
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.analysis import RankResult, null_space, numerical_rank
from rnnlab.capacity.factors import Diagonal, Reflection
from rnnlab.capacity.parameterizations import Parameterization
from rnnlab.memory import check_memory

# Bytes per Jacobian entry, all copies included: the complex128 tangents (8 B per real entry)
# and their last concatenation (8 B), the float64 result (8 B), and the row blocks the QR
# before the SVD copies (8 B), with some slack.
_BYTES_PER_ENTRY = 40


def jacobian_bytes_for(n: int, num_params: int) -> int:
    """Estimated peak memory of the Jacobian of a map with ``num_params`` parameters at size ``n``."""
    return 2 * n * n * num_params * _BYTES_PER_ENTRY


def jacobian_bytes(p: Parameterization) -> int:
    """Estimated peak memory of one Jacobian and its rank computation."""
    return jacobian_bytes_for(p.n, p.num_params)


def check_fits(p: Parameterization) -> None:
    check_memory(jacobian_bytes(p), f"{p.name} at n={p.n} (a {2 * p.n * p.n} x {p.num_params} Jacobian "
                 "and its workspace)")


def _tangents(p: Parameterization):
    """``theta -> dW/dtheta`` as complex ``(P, n, n)``: one tangent matrix per parameter.

    Factor by factor rather than ``jacfwd`` of the whole product: with ``W = A_0 A_1 ... A_k``,
    ``dW/dtheta_i = A_0 ... A_{i-1} (dA_i/dtheta_i) A_{i+1} ... A_k``, so the tangents of a
    factor's own parameters are pushed only through the factors to its left, and those
    factors are applied Horner-style to all the tangents collected so far at once. ``jacfwd``
    pushes every one of the P tangents through every factor (for ``restricted`` that is about
    three times the FFTs). The result is the same Jacobian to rounding (a few 1e-17).
    """
    factors, slices = p.factors, p.slices()

    def tangents(theta):
        x = jnp.eye(p.n, dtype=jnp.complex128 if theta.dtype == jnp.float64 else jnp.complex64)
        inputs = [None] * len(factors)  # inputs[i] = A_{i+1} ... A_k
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


@functools.lru_cache(maxsize=64)
def _compiled_tangents(p: Parameterization):
    # One compiled Jacobian per map, reused across seeds (p is hashable: a frozen dataclass).
    return jax.jit(_tangents(p))


def jacobian(p: Parameterization, theta) -> np.ndarray:
    """``d[Re W, Im W] / d theta`` at ``theta``, float64, shape ``(2 n^2, P)``.

    The array is Fortran-ordered (each column contiguous), the layout LAPACK factors
    without a transposing copy.
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


@dataclass
class Redundancy:
    """A family of parameter directions known to leave W unchanged, and how many are null."""

    reason: str
    count: int
    where: list[str] = field(default_factory=list)


@dataclass
class CapacityReport:
    """The measured capacity of one parameterization at one size."""

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
        return max(self.ranks)

    @property
    def full_capacity(self) -> bool:
        return self.rank == self.manifold_dim

    @property
    def gap(self) -> float | None:
        """The smallest gap over the seeds that reached the generic rank (None = infinite)."""
        gs = [g for g, r in zip(self.gaps, self.ranks) if r == self.rank]
        finite = [g for g in gs if g is not None]
        return min(finite) if finite else None

    def as_record(self) -> dict:
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


def _between(p: Parameterization, theta: np.ndarray, i: int, j: int) -> np.ndarray:
    """The product of the factors strictly between factors ``i < j``, at ``theta``."""
    m = np.eye(p.n, dtype=complex)
    for f, s in zip(reversed(p.factors[i + 1 : j]), reversed(p.slices()[i + 1 : j])):
        with jax.enable_x64(True):
            m = np.asarray(f.apply(jnp.asarray(theta[s]), jnp.asarray(m, jnp.complex128)))
    return m


def _reflection_pair_direction(p, theta, i, j) -> np.ndarray | None:
    """The direction that turns both reflection vectors inside the plane they span.

    ``R(a) M R(b) = M R(a') R(b)`` with ``a' = M^H a``; a product of two reflections is a
    unitary on span{a', b} (identity elsewhere), and rotating a' and b together by any
    generator X of that plane that commutes with the product leaves it unchanged. That is
    one real direction that two 2N-parameter reflections waste between them.
    """
    si, sj = p.slices()[i], p.slices()[j]
    n = p.n
    a = theta[si][:n] + 1j * theta[si][n:]
    b = theta[sj][:n] + 1j * theta[sj][n:]
    m = _between(p, theta, i, j)
    a1 = m.conj().T @ a
    basis, _ = np.linalg.qr(np.column_stack([a1, b]))
    if np.linalg.matrix_rank(np.column_stack([a1, b])) < 2:
        return None

    def refl(v):
        return np.eye(n) - 2 * np.outer(v, v.conj()) / np.vdot(v, v).real

    prod = refl(a1) @ refl(b)
    q = basis @ basis.conj().T
    x = q @ (prod - prod.conj().T) @ q
    da = m @ (x @ a1)
    db = x @ b
    full = np.zeros(p.num_params)
    full[si] = np.concatenate([da.real, da.imag])
    full[sj] = np.concatenate([db.real, db.imag])
    return full if np.linalg.norm(full) > 0 else None


def candidate_redundancies(p: Parameterization, theta: np.ndarray) -> list[tuple[str, str, np.ndarray]]:
    """Directions in R^P that the structure of ``p`` says cannot move W: (reason, where, vector).

    - each factor's own invariances (a reflection is unchanged by v -> c v);
    - a global phase moved from one phase-carrying factor to another (phases commute
      with every unitary, so only their total matters);
    - two adjacent diagonal factors, which only act through their product;
    - two reflections, which act only through their product on the plane they span.
    """
    cands: list[tuple[str, str, np.ndarray]] = []
    slices = p.slices()
    total = p.num_params
    for f, s in zip(p.factors, slices):
        for reason, v in f.invariance_directions(theta[s]):
            full = np.zeros(total)
            full[s] = v
            cands.append((reason, f.label, full))
    phased = [(f, s) for f, s in zip(p.factors, slices) if f.phase_direction() is not None]
    if len(phased) > 1:
        for (fa, sa), (fb, sb) in zip(phased, phased[1:]):
            full = np.zeros(total)
            full[sa] = fa.phase_direction()
            full[sb] = -fb.phase_direction()
            cands.append(("one global phase shared by the phase factors", f"{fa.label}~{fb.label}", full))
    for (fa, sa), (fb, sb) in zip(zip(p.factors, slices), zip(p.factors[1:], slices[1:])):
        if isinstance(fa, Diagonal) and isinstance(fb, Diagonal):
            for j in range(p.n):
                full = np.zeros(total)
                full[sa.start + j], full[sb.start + j] = 1.0, -1.0
                cands.append(("adjacent diagonals act only through their product", f"{fa.label}~{fb.label}", full))
    from rnnlab.capacity.phase_pushing import phase_pushing_directions

    cands += phase_pushing_directions(p)
    refl = [k for k, f in enumerate(p.factors) if isinstance(f, Reflection)]
    for x, i in enumerate(refl):
        for j in refl[x + 1 :]:
            d = _reflection_pair_direction(p, theta, i, j)
            if d is not None:
                where = f"{p.factors[i].label}~{p.factors[j].label}"
                cands.append(("two reflections act only through their product on a 2-plane", where, d))
    return cands


def explain_null_space(p: Parameterization, jac: np.ndarray, res: RankResult, theta: np.ndarray):
    """Split the null space of ``jac`` into known redundancies and an unexplained remainder.

    A candidate direction counts only if it lies in the measured null space (its component
    outside it is below 1e-6 of its norm); each is projected onto the null space and counted
    greedily by rank, so no direction is counted twice and the explained dimension never
    exceeds the nullity. Returns ``(redundancies, unexplained, loadings)`` where
    ``loadings`` maps each factor label to its share of the unexplained directions' weight.
    """
    nullity = res.nullity
    if nullity == 0:
        return [], 0, {}
    basis_null = null_space(jac, res.rank)
    out: dict[str, Redundancy] = {}
    kept = np.zeros((p.num_params, 0))
    for reason, where, v in candidate_redundancies(p, theta):
        v = v / np.linalg.norm(v)
        inside = basis_null @ (basis_null.T @ v)
        if np.linalg.norm(v - inside) > 1e-6:
            continue
        trial = np.column_stack([kept, inside])
        if np.linalg.matrix_rank(trial, tol=1e-6) > kept.shape[1]:
            kept = trial
            red = out.setdefault(reason, Redundancy(reason, 0))
            red.count += 1
            if where not in red.where:
                red.where.append(where)
    unexplained = nullity - kept.shape[1]
    loadings: dict[str, float] = {}
    if unexplained:
        q, _ = np.linalg.qr(kept) if kept.shape[1] else (np.zeros((p.num_params, 0)), None)
        rest = basis_null - q @ (q.T @ basis_null)
        u, _, _ = np.linalg.svd(rest, full_matrices=False)
        weight = np.sum(u[:, :unexplained] ** 2, axis=1)
        for f, s in zip(p.factors, p.slices()):
            share = float(weight[s].sum() / unexplained)
            if share > 0.01:
                loadings[f.label] = round(share, 3)
    return list(out.values()), unexplained, loadings


def measure(p: Parameterization, seeds=(0, 1, 2), explain: bool = True) -> CapacityReport:
    """Rank of the Jacobian of ``p`` at one random point per seed, with the null space explained."""
    check_fits(p)
    ranks, gaps, tols = [], [], []
    report_null = None
    for seed in seeds:
        with jax.enable_x64(True):
            theta = np.asarray(p.init(jax.random.key(seed), jnp.float64))
        jac = jacobian(p, theta)
        res = numerical_rank(jac)
        ranks.append(res.rank)
        gaps.append(res.gap)
        tols.append(res.tol)
        if report_null is None or res.rank > report_null[1].rank:
            report_null = (jac, res, theta)
        del jac
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


def null_directions(p: Parameterization, seed: int = 0) -> tuple[np.ndarray, RankResult]:
    """An orthonormal basis ``(P, P - rank)`` of the Jacobian's null space at one point."""
    with jax.enable_x64(True):
        theta = np.asarray(p.init(jax.random.key(seed), jnp.float64))
    jac = jacobian(p, theta)
    res = numerical_rank(jac)
    return null_space(jac, res.rank), res
