"""Explain a rank deficit: split the Jacobian's null space into the redundancies the
structure of a parameterization predicts (a reflection's scale and phase, a global phase
shared by phase factors, adjacent diagonals, a pair of reflections) and a remainder.

:func:`explain_null_space` does it against a measured Jacobian; :func:`named_redundancies`
counts the same identities without one (a directional derivative each), which is what an
upper bound on the rank needs at sizes where the Jacobian is too large to form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.analysis import RankResult, null_space
from rnnlab.capacity.factors import Diagonal, Reflection
from rnnlab.capacity.parameterizations import Parameterization


@dataclass
class Redundancy:
    """A family of parameter directions known to leave W unchanged, and how many are null."""

    reason: str
    count: int
    where: list[str] = field(default_factory=list)


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

    A candidate direction counts only if ``jac`` maps it (unit norm) below the rank's own
    tolerance ``res.tol``, i.e. it lies in the numerical null space; this is tested on
    ``jac @ v``, which is accurate however ill-conditioned ``jac`` is, rather than against the
    SVD's null basis, whose error grows as eps / (the smallest kept singular value) and
    passes 1e-6 for the deep rotation meshes at N >= 18. Directions are counted greedily by
    rank, so none is counted twice and the explained dimension never exceeds the nullity.
    Returns ``(redundancies, unexplained, loadings)`` where ``loadings`` maps each factor
    label to its share of the unexplained directions' weight.
    """
    nullity = res.nullity
    if nullity == 0:
        return [], 0, {}
    basis_null = null_space(jac, res.rank)
    out: dict[str, Redundancy] = {}
    kept = np.zeros((p.num_params, 0))
    for reason, where, v in candidate_redundancies(p, theta):
        v = v / np.linalg.norm(v)
        if kept.shape[1] == nullity or np.linalg.norm(jac @ v) > res.tol:
            continue
        trial = np.column_stack([kept, v])
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


class _Independent:
    """Greedy independence of unit vectors by Gram-Schmidt (twice, for stability): a vector is
    kept when its component outside the span of those kept has norm above ``tol``."""

    def __init__(self, dim: int, tol: float = 1e-6):
        self.q = np.zeros((dim, 0))
        self.tol = tol

    def add(self, v: np.ndarray) -> bool:
        r = v / np.linalg.norm(v)
        for _ in range(2):
            r = r - self.q @ (self.q.T @ r)
        norm = np.linalg.norm(r)
        if norm <= self.tol:
            return False
        self.q = np.column_stack([self.q, r / norm])
        return True


def named_redundancies(p: Parameterization, theta: np.ndarray, rel_tol: float = 1e-8,
                       probes: int = 4) -> list[Redundancy]:
    """The known redundancies of ``p`` at ``theta`` (:func:`candidate_redundancies`), each checked
    to lie in the Jacobian's kernel, counted once each among independent directions.

    No Jacobian is formed: a candidate ``v`` (unit norm) is in the kernel when the directional
    derivative ``|dW(theta)[v]|_F`` is below ``rel_tol`` times the largest of ``probes`` random
    unit directions' (a kernel vector gives rounding, 1e-15 of it; the directions that move W
    give 1e-2 and more for every built-in map). The identities behind the candidates hold at
    every point, so ``k`` of them independent here bound the generic rank by ``P - k``.
    """
    if p.num_params == 0:
        return []
    cands = candidate_redundancies(p, theta)
    if not cands:
        return []
    rng = np.random.default_rng(0)
    dirs = [v / np.linalg.norm(v) for _, _, v in cands]
    dirs += [r / np.linalg.norm(r) for r in rng.standard_normal((probes, p.num_params))]
    with jax.enable_x64(True):
        th = jnp.asarray(theta, jnp.float64)
        jvp = jax.jit(jax.vmap(lambda v: jnp.linalg.norm(jax.jvp(p.matrix, (th,), (v,))[1])))
        moved = np.concatenate([np.asarray(jvp(jnp.asarray(np.stack(dirs[i : i + 64]))))
                                for i in range(0, len(dirs), 64)])
    tol = rel_tol * moved[len(cands):].max()
    out: dict[str, Redundancy] = {}
    kept = _Independent(p.num_params)
    for (reason, where, _), v, size in zip(cands, dirs, moved):
        if size <= tol and kept.add(v):
            red = out.setdefault(reason, Redundancy(reason, 0))
            red.count += 1
            if where not in red.where:
                red.where.append(where)
    return list(out.values())
