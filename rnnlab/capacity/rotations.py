"""Layers of disjoint 2x2 rotations on pairs of coordinates, and their shared base :class:`PairLayer`.

:class:`GivensLayer` is the complex rotation of Jing et al.'s EUNN (angle and phase per pair); the
Mach-Zehnder layers of :mod:`rnnlab.capacity.meshes` and the real Givens layers of
:mod:`rnnlab.capacity.orthogonal` subclass :class:`PairLayer` too, each stating only its rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.capacity.factors import SMALL_HEIGHT, Factor, _half_angle, nonzero_tangent


def brick_pairs(n: int, offset: int) -> list[tuple[int, int]]:
    """The brick pattern: pairs (offset, offset+1), (offset+2, offset+3), ... within n coordinates."""
    return [(j, j + 1) for j in range(offset, n - 1, 2)]


def _rotate(t, xt, xb):
    """Rows ``xt``, ``xb`` rotated by the angles ``t``: ``(cos t xt - sin t xb, sin t xt + cos t xb)``."""
    c, s = jnp.cos(t)[:, None], jnp.sin(t)[:, None]
    return c * xt - s * xb, s * xt + c * xb


def _put(rows, a, b, blk) -> None:
    rows[a][a], rows[a][b], rows[b][a], rows[b][b] = blk[0][0], blk[0][1], blk[1][0], blk[1][1]


@dataclass(frozen=True)
class PairLayer(Factor):
    """Base of the layers of disjoint 2x2 rotations on ``self.pairs`` (given by each subclass).

    Each pair owns ``per_pair`` parameters, all angles: sampled in (-pi, pi), exact at rational
    half-angle tangents. A subclass states only its rotation: ``rotate`` (the new top and bottom
    rows) and ``block`` (the exact 2x2 block and its derivatives in the pair's own parameters).
    """

    per_pair = 1

    @property
    def size(self) -> int:
        return self.per_pair * len(self.pairs)

    def rotate(self, theta, xt, xb):
        raise NotImplementedError(type(self).__name__)

    def block(self, fld, params):
        raise NotImplementedError(type(self).__name__)

    def apply(self, theta, x):
        pairs = self.pairs
        if not pairs:
            return x
        top = jnp.asarray([p[0] for p in pairs])
        bot = jnp.asarray([p[1] for p in pairs])
        new_top, new_bot = self.rotate(theta, x[top], x[bot])
        return x.at[top].set(new_top).at[bot].set(new_bot)

    def sample(self, key, dtype=jnp.float64):
        return jax.random.uniform(key, (self.size,), dtype, -jnp.pi, jnp.pi)

    def rational_point(self, rng, height=SMALL_HEIGHT):
        return [nonzero_tangent(rng, height) for _ in range(self.size)]

    def numeric_point(self, point):
        return np.array([_half_angle(t) for t in point])

    def exact(self, fld, point):
        # The identity with each pair's block in place; each derivative is one pair's block alone.
        n, k = self.n, self.per_pair
        value = [[fld.one if j == i else fld.zero for i in range(n)] for j in range(n)]
        derivs = []
        for p, (a, b) in enumerate(self.pairs):
            blk, dblks = self.block(fld, point[k * p : k * p + k])
            _put(value, a, b, blk)
            for dblk in dblks:
                d = [[fld.zero] * n for _ in range(n)]
                _put(d, a, b, dblk)
                derivs.append(fld.matrix(d))
        return fld.matrix(value), derivs


@dataclass(frozen=True)
class GivensLayer(PairLayer):
    """Disjoint 2x2 unitary rotations on pairs (offset, offset+1), (offset+2, offset+3), ...

    Each rotation ``[[e^{i phi} cos t, -e^{i phi} sin t], [sin t, cos t]]`` has 2 parameters
    (Jing et al.'s tunable EUNN layer); alternating offsets 0 and 1 mix all coordinates.
    """

    offset: int = 0
    per_pair = 2

    @property
    def pairs(self) -> list[tuple[int, int]]:
        return brick_pairs(self.n, self.offset)

    def rotate(self, theta, xt, xb):
        t, phi = theta[0::2], theta[1::2]
        e = jnp.exp(1j * phi).astype(xt.dtype)[:, None]
        new_top, new_bot = _rotate(t, xt, xb)
        return e * new_top, new_bot

    def block(self, fld, params):
        ct, st = fld.cos_sin_from_tangent(params[0])
        e = fld.unit_from_tangent(params[1])
        # d/dt: cos -> -sin, sin -> cos; d/dphi: e -> i e.
        dt = [[-e * st, -e * ct], [ct, -st]]
        dphi = [[fld.i * e * ct, -fld.i * e * st], [fld.zero, fld.zero]]
        return [[e * ct, -e * st], [st, ct]], [dt, dphi]
