"""Slow points by minimising q = |F(h) - h|^2 / 2: maps whose fixed and slow points are known."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

from rnnlab.dynamics.slow_points import FIXED_TOL, slow_points
from rnnlab.errors import UsageError


def test_tanh_of_twice_the_state_has_nine_fixed_points_with_their_stability():
    # F(h) = tanh(2 h) per unit: in 1-d fixed points 0 (slope 2, unstable) and +-a with
    # a = tanh(2 a) (slope 2 (1 - a^2) < 1, stable). In 2-d their 9 products: 4 stable nodes,
    # 4 saddles (one unstable direction) and a source at 0 (two).
    a = brentq(lambda h: np.tanh(2 * h) - h, 0.5, 1.0)
    rng = np.random.default_rng(0)
    starts = rng.uniform(-1.2, 1.2, (400, 2))
    found = slow_points(lambda h: jnp.tanh(2.0 * h), starts)
    fixed = found.fixed
    assert len(fixed) == len(found.points) == 9
    want = {(x, y) for x in (-a, 0.0, a) for y in (-a, 0.0, a)}
    for p in fixed:
        # A fixed point of the map to the stated tolerance, checked with NumPy.
        assert np.max(np.abs(np.tanh(2 * p.point) - p.point)) <= FIXED_TOL
        match = [w for w in want if np.allclose(p.point, w, atol=1e-12)]
        assert len(match) == 1
        want.discard(match[0])
        slopes = 2 * (1 - p.point**2)
        np.testing.assert_allclose(np.sort(np.abs(p.eigenvalues)), np.sort(slopes), rtol=1e-9)
        zeros = int(np.sum(np.abs(p.point) < 0.5))
        assert p.unstable == zeros
        assert p.stability == ("attracting" if zeros == 0 else "repelling")
    assert want == set()
    assert sum(p.starts for p in found.points) == len(starts)


def test_a_minimum_of_q_above_zero_is_a_slow_point_not_a_fixed_one():
    # F(h) = h + h^2 + c: F(h) - h = h^2 + c never vanishes; q has its minimum c^2 / 2 at h = 0.
    c = 1e-3
    found = slow_points(lambda h: h + h**2 + c, np.linspace(-0.5, 0.5, 64)[:, None])
    assert found.fixed == []
    best = min(found.points, key=lambda p: p.q)
    assert abs(best.point[0]) < 1e-4
    assert best.q == pytest.approx(c**2 / 2, rel=1e-6)


@pytest.mark.parametrize("starts, match", [(np.zeros((0, 2)), "non-empty"), (np.zeros(3), "non-empty"),
                                           (np.array([[np.nan, 0.0]]), "NaN")])
def test_bad_starts(starts, match):
    with pytest.raises(UsageError, match=match):
        slow_points(lambda h: h, starts)
