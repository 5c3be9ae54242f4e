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

import jax.numpy as jnp

from rnnlab.capacity.factors import Diagonal, Factor
from rnnlab.capacity.rotations import PairLayer, _rotate, brick_pairs


@dataclass(frozen=True)
class MziLayer(PairLayer):
    """Disjoint Mach-Zehnder blocks on the given pairs of modes: 2 parameters each (theta, phi)."""

    pairs: tuple[tuple[int, int], ...] = ()
    per_pair = 2

    def rotate(self, theta, xt, xb):
        t, phi = theta[0::2], theta[1::2]
        return _rotate(t, jnp.exp(1j * phi).astype(xt.dtype)[:, None] * xt, xb)

    def block(self, fld, params):
        c, s = fld.cos_sin_from_tangent(params[0])
        e = fld.unit_from_tangent(params[1])
        # d/dtheta: cos -> -sin, sin -> cos; d/dphi: e -> i e (first column only).
        dtheta = [[-e * s, -c], [e * c, -s]]
        dphi = [[fld.i * e * c, fld.zero], [fld.i * e * s, fld.zero]]
        return [[e * c, -s], [e * s, c]], [dtheta, dphi]


def reck_columns(n: int) -> list[tuple[tuple[int, int], ...]]:
    """The triangle of N(N-1)/2 blocks as 2N - 3 columns of disjoint pairs (column 1 acts first)."""
    cols = []
    for t in range(max(2 * n - 3, 0)):
        top = min(t, 2 * n - 4 - t, n - 2)
        cols.append(tuple(brick_pairs(top + 2, t % 2)))  # the bricks within modes 0 .. top + 1
    return cols


def clements_columns(n: int) -> list[tuple[tuple[int, int], ...]]:
    """N columns of blocks on pairs (j, j+1), j even in odd columns and odd in even ones."""
    return [tuple(brick_pairs(n, t % 2)) for t in range(n)]


def mesh_factors(n: int, columns) -> list[Factor]:
    # Column 1 acts first, so it is the rightmost factor; the output phases act last.
    layers = [MziLayer(n, f"T{k + 1}", pairs=cols) for k, cols in enumerate(columns) if cols]
    return [Diagonal(n, "D")] + list(reversed(layers))
