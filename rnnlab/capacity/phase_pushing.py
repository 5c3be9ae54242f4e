"""Wasted directions of the brick (EUNN, ``givens``) and butterfly (``eunn-fft``) rotation products.

Each 2x2 block ``[[e^{i phi} cos t, -e^{i phi} sin t], [sin t, cos t]] = diag(e^{i phi}, 1) R(t)``
puts its phase on the top mode of its pair, on the output side. A diagonal phase commutes
with ``R(t)`` exactly when it is equal on both modes of the pair, and it passes a mode that a
layer leaves alone. So a set of phase changes ``delta phi`` whose accumulated phase
``x_{k-1}`` (after layers 1..k-1) is equal on both modes of every pair of layer k, for every
k, can be pushed through all later layers and undone by the final diagonal (``delta D =
-x_L``): W does not change. These directions form the null space of a small linear system,
valid at every parameter point; they account for the ``givens`` map's N - 1 lost directions.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from rnnlab.capacity.factors import Diagonal
from rnnlab.capacity.rotations import GivensLayer

REASON = "a phase pushed through the later rotations into the diagonal"


def phase_pushing_directions(p) -> list[tuple[str, str, np.ndarray]]:
    """``(reason, where, direction)`` for ``D G_L ... G_1`` maps (D diagonal, G rotation layers); else []."""
    factors = list(p.factors)
    if len(factors) < 2 or not isinstance(factors[0], Diagonal):
        return []
    if not all(isinstance(f, GivensLayer) for f in factors[1:]):
        return []
    n, slices = p.n, p.slices()
    layers = list(range(len(factors) - 1, 0, -1))  # factor indices in the order they act
    offsets, total = {}, 0
    for k in layers:
        offsets[k] = total
        total += len(factors[k].pairs)
    if total == 0:
        return []
    # top[k]: (n, total) phase placed on each mode by layer k's own phase changes.
    top = {}
    for k in layers:
        t = np.zeros((n, total))
        for b, (a, _) in enumerate(factors[k].pairs):
            t[a, offsets[k] + b] = 1.0
        top[k] = t
    rows, acc = [], np.zeros((n, total))
    for k in layers:
        for a, b in factors[k].pairs:
            rows.append(acc[a] - acc[b])  # the phase entering this block is equal on both modes
        acc = acc + top[k]
    basis = scipy.linalg.null_space(np.array(rows)) if rows else np.eye(total)
    out = []
    for v in basis.T:
        d = np.zeros(p.num_params)
        for k in layers:
            d[slices[k].start + 1 : slices[k].stop : 2] = v[offsets[k] : offsets[k] + len(factors[k].pairs)]
        d[slices[0]] = -(acc @ v)
        out.append((REASON, f"{factors[0].label}~G*", d))
    return out
