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

import os
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.analysis import RankResult, null_space, numerical_rank
from rnnlab.capacity.factors import Diagonal
from rnnlab.capacity.parameterizations import Parameterization
from rnnlab.errors import UsageError

# Bytes per Jacobian entry, all copies included: jacfwd's complex128 tangents (16 B) and the
# float64 result (8 B) live at once, and the QR before the SVD copies the result once more.
_BYTES_PER_ENTRY = 40


def jacobian_bytes(p: Parameterization) -> int:
    """Estimated peak memory of one Jacobian and its rank computation."""
    return 2 * p.n * p.n * p.num_params * _BYTES_PER_ENTRY


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable), or physical memory where unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits(p: Parameterization) -> None:
    need, have = jacobian_bytes(p), available_memory()
    if need > 0.8 * have:
        raise UsageError(
            f"{p.name} at n={p.n} needs a {2 * p.n * p.n} x {p.num_params} Jacobian, about "
            f"{need / 2**30:.1f} GiB with its workspace; only {have / 2**30:.1f} GiB is available"
        )


def _real_image(p: Parameterization):
    def f(theta):
        w = p.matrix(theta)
        return jnp.concatenate([w.real.ravel(), w.imag.ravel()])

    return f


def jacobian(p: Parameterization, theta) -> np.ndarray:
    """``d[Re W, Im W] / d theta`` at ``theta``, float64, shape ``(2 n^2, P)``."""
    with jax.enable_x64(True):
        theta = jnp.asarray(theta, jnp.float64)
        return np.asarray(jax.jit(jax.jacfwd(_real_image(p)))(theta))


@dataclass
class Redundancy:
    """A family of parameter directions known to leave W unchanged, and how many are null."""

    reason: str
    count: int


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
            "redundant_directions": [{"reason": r.reason, "count": r.count} for r in self.redundancies],
            "unexplained_null_directions": self.unexplained,
        }


def candidate_redundancies(p: Parameterization, theta: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Directions in R^P that the structure of ``p`` says cannot move W, with their reasons.

    - each factor's own invariances (a reflection is unchanged by v -> c v);
    - a global phase moved from one phase-carrying factor to another (phases commute
      with every unitary, so only their total matters);
    - two adjacent diagonal factors, which only act through their product.
    """
    cands: list[tuple[str, np.ndarray]] = []
    slices = p.slices()
    total = p.num_params
    for f, s in zip(p.factors, slices):
        for reason, v in f.invariance_directions(theta[s]):
            full = np.zeros(total)
            full[s] = v
            cands.append((f"{reason} in {f.label}", full))
    phased = [(f, s) for f, s in zip(p.factors, slices) if f.phase_direction() is not None]
    if len(phased) > 1:
        names_ = ", ".join(f.label for f, _ in phased)
        for (fa, sa), (fb, sb) in zip(phased, phased[1:]):
            full = np.zeros(total)
            full[sa] = fa.phase_direction()
            full[sb] = -fb.phase_direction()
            cands.append((f"one global phase shared by {names_}", full))
    for (fa, sa), (fb, sb) in zip(zip(p.factors, slices), zip(p.factors[1:], slices[1:])):
        if isinstance(fa, Diagonal) and isinstance(fb, Diagonal):
            for j in range(p.n):
                full = np.zeros(total)
                full[sa.start + j], full[sb.start + j] = 1.0, -1.0
                cands.append((f"adjacent diagonals {fa.label} {fb.label} act only through their product", full))
    return cands


def explain_null_space(p: Parameterization, jac: np.ndarray, res: RankResult, theta: np.ndarray):
    """Split the null space of ``jac`` into known redundancies and an unexplained remainder.

    A candidate direction counts only if the Jacobian really annihilates it (relative
    residual within ``sqrt(eps)``); counts are ranks of the verified families, taken in
    order so that a direction is never counted twice.
    """
    cands = candidate_redundancies(p, theta)
    nullity = res.nullity
    if nullity == 0 or not cands:
        return [], nullity
    smax = res.singular_values[0]
    verified = []
    for reason, v in cands:
        v = v / np.linalg.norm(v)
        if np.linalg.norm(jac @ v) <= np.sqrt(np.finfo(float).eps) * smax:
            verified.append((reason, v))
    out: dict[str, int] = {}
    basis = np.zeros((p.num_params, 0))
    for reason, v in verified:
        trial = np.column_stack([basis, v])
        if np.linalg.matrix_rank(trial, tol=1e-8) > basis.shape[1]:
            basis = trial
            out[reason] = out.get(reason, 0) + 1
    explained = basis.shape[1]
    if explained > nullity:
        raise AssertionError("verified redundancies exceed the measured nullity: tolerance mismatch")
    return [Redundancy(r, c) for r, c in out.items()], nullity - explained


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
        report.redundancies, report.unexplained = explain_null_space(p, jac, res, theta)
    return report


def null_directions(p: Parameterization, seed: int = 0) -> tuple[np.ndarray, RankResult]:
    """An orthonormal basis ``(P, P - rank)`` of the Jacobian's null space at one point."""
    with jax.enable_x64(True):
        theta = np.asarray(p.init(jax.random.key(seed), jnp.float64))
    jac = jacobian(p, theta)
    res = numerical_rank(jac)
    return null_space(jac, res.rank), res
