"""Interferometer meshes: 2x2 Mach-Zehnder blocks on neighbouring modes, then output phases.

Each block is Clements et al.'s ``T(theta, phi) = [[e^{i phi} cos theta, -sin theta],
[e^{i phi} sin theta, cos theta]]`` on modes (m, m+1): two parameters, the phase on its
input. Both published meshes hold N(N-1)/2 blocks and N output phases, N^2 parameters,
and claim to reach every unitary:

- Reck et al. (1994): a triangle, laid out here in 2N - 3 columns of disjoint blocks;
- Clements et al. (2016): a rectangle of N columns alternating offsets 0 and 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.capacity.factors import SMALL_HEIGHT, Diagonal, Factor, _half_angle, nonzero_tangent


@dataclass(frozen=True)
class MziLayer(Factor):
    """Disjoint Mach-Zehnder blocks on the given pairs of modes: 2 parameters each (theta, phi)."""

    pairs: tuple[tuple[int, int], ...] = ()

    @property
    def size(self) -> int:
        return 2 * len(self.pairs)

    def apply(self, theta, x):
        if not self.pairs:
            return x
        top = jnp.asarray([p[0] for p in self.pairs])
        bot = jnp.asarray([p[1] for p in self.pairs])
        t, phi = theta[0::2], theta[1::2]
        c, s = jnp.cos(t)[:, None], jnp.sin(t)[:, None]
        xt = jnp.exp(1j * phi).astype(x.dtype)[:, None] * x[top]
        xb = x[bot]
        return x.at[top].set(c * xt - s * xb).at[bot].set(s * xt + c * xb)

    def sample(self, key, dtype=jnp.float64):
        return jax.random.uniform(key, (self.size,), dtype, -jnp.pi, jnp.pi)

    def rational_point(self, rng, height=SMALL_HEIGHT):
        return [nonzero_tangent(rng, height) for _ in range(self.size)]

    def numeric_point(self, point):
        return np.array([_half_angle(t) for t in point])

    def exact(self, fld, point):
        n, zero = self.n, fld.zero

        def put(rows, a, b, blk):
            rows[a][a], rows[a][b], rows[b][a], rows[b][b] = blk[0][0], blk[0][1], blk[1][0], blk[1][1]

        value = [[fld.one if j == k else zero for k in range(n)] for j in range(n)]
        derivs = []
        for p, (a, b) in enumerate(self.pairs):
            c, s = fld.cos_sin_from_tangent(point[2 * p])
            e = fld.unit_from_tangent(point[2 * p + 1])
            put(value, a, b, [[e * c, -s], [e * s, c]])
            # d/dtheta: cos -> -sin, sin -> cos; d/dphi: e -> i e (first column only).
            for blk in ([[-e * s, -c], [e * c, -s]], [[fld.i * e * c, zero], [fld.i * e * s, zero]]):
                d = [[zero] * n for _ in range(n)]
                put(d, a, b, blk)
                derivs.append(fld.matrix(d))
        return fld.matrix(value), derivs


def reck_columns(n: int) -> list[tuple[tuple[int, int], ...]]:
    """The triangle of N(N-1)/2 blocks as 2N - 3 columns of disjoint pairs (column 1 acts first)."""
    cols = []
    for t in range(max(2 * n - 3, 0)):
        top = min(t, 2 * n - 4 - t, n - 2)
        cols.append(tuple((j, j + 1) for j in range(t % 2, top + 1, 2)))
    return cols


def clements_columns(n: int) -> list[tuple[tuple[int, int], ...]]:
    """N columns of blocks on pairs (j, j+1), j even in odd columns and odd in even ones."""
    return [tuple((j, j + 1) for j in range(t % 2, n - 1, 2)) for t in range(n)]


def mesh_factors(n: int, columns) -> list[Factor]:
    # Column 1 acts first, so it is the rightmost factor; the output phases act last.
    layers = [MziLayer(n, f"T{k + 1}", pairs=cols) for k, cols in enumerate(columns) if cols]
    return [Diagonal(n, "D")] + list(reversed(layers))
