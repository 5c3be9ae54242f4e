import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rnnlab.dynamics import initializers
from rnnlab.dynamics.fixed_points import fixed_points
from rnnlab.dynamics.relu_map import check_weights, relu_step, simulate_outcomes, two_unit
from rnnlab.errors import UsageError

below_one = st.floats(0.05, 0.95)
above_one = st.floats(1.05, 2.0)
angles = st.floats(-360.0, 360.0)


def in_first_quadrant(angle):
    """Whether lambda1's eigenvector (cos a, sin a), up to sign, is non-negative.

    Components within 1e-12 of 0 count as 0; angles whose smaller component is between
    that and 1e-6 are within the solver's sign tolerance (1e-9) and are not drawn.
    """
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    small = min(abs(c), abs(s))
    assume(not 1e-12 < small < 1e-6)
    return small <= 1e-12 or c * s > 0


def assert_all_fixed(w, fixed_set, b=None):
    """Points of the set (representative and steps along its directions) are fixed, to the
    1e-9 accuracy at which the solver decides signs."""
    for t in (0.0, 0.1, -0.1):
        for d in fixed_set.basis.T:
            h = fixed_set.point + t * d
            if np.all(h >= 0) and np.all(h[list(fixed_set.support)] > 0):
                assert np.allclose(relu_step(w, h, b), h, atol=1e-8)
    assert np.allclose(relu_step(w, fixed_set.point, b), fixed_set.point, atol=1e-8)


@given(l1=below_one, l2=below_one, angle=angles)
def test_both_below_one_only_the_origin_attracting(l1, l2, angle):
    w = two_unit(l1, l2, angle)
    sets = fixed_points(w)
    assert [(s.dimension, s.stability) for s in sets] == [(0, "attracting")]
    assert np.array_equal(sets[0].point, [0.0, 0.0])


@given(l1=above_one, l2=above_one, angle=angles)
def test_both_above_one_origin_repelling_and_divergence(l1, l2, angle):
    w = two_unit(l1, l2, angle)
    sets = fixed_points(w)
    assert [(s.dimension, s.stability) for s in sets] == [(0, "repelling")]
    out = simulate_outcomes(w, starts=20, steps=400)
    assert out.diverged == out.starts


@given(l2=below_one, angle=angles)
def test_one_eigenvalue_one_gives_a_marginal_line(l2, angle):
    w = two_unit(1.0, l2, angle)
    sets = fixed_points(w)
    if in_first_quadrant(angle):
        assert [(s.dimension, s.stability) for s in sets] == [(1, "marginal")]
        line = sets[0]
        v = np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
        assert abs(abs(line.basis[:, 0] @ v) - 1.0) < 1e-9
        assert_all_fixed(w, line)
        # Simulation: every trajectory ends on the line (h parallel to v). The component off
        # the line shrinks like l2^t, so run until l2^t < 1e-12 (400 steps left 1e-9 at 0.95).
        h = np.abs(np.random.default_rng(0).standard_normal((10, 2)))
        for _ in range(math.ceil(math.log(1e-12) / math.log(l2))):
            h = relu_step(w, h)
        assert np.allclose(h[:, 0] * v[1] - h[:, 1] * v[0], 0.0, atol=1e-9)
    else:
        # lambda1's eigenvector has mixed signs: the line lies outside the quadrant
        # where fixed points can be, and only the (attracting) origin remains.
        assert [(s.dimension, s.stability) for s in sets] == [(0, "attracting")]
        # Why it attracts (convergence can take 1e5 steps near the axes, too slow to
        # simulate here): ||relu(W h)|| <= ||W h|| <= ||h||, with equality only along the
        # mixed-sign eigenvector, so every non-negative state strictly shrinks.
        h = np.abs(np.random.default_rng(0).standard_normal((50, 2)))
        assert np.all(np.linalg.norm(relu_step(w, h), axis=1) < np.linalg.norm(h, axis=1))


@given(angle=angles)
def test_both_one_is_identity_and_the_whole_quadrant(angle):
    w = two_unit(1.0, 1.0, angle)
    sets = fixed_points(w)
    assert [(s.dimension, s.stability) for s in sets] == [(2, "marginal")]
    assert_all_fixed(w, sets[0])


@pytest.mark.parametrize("n", [1, 3, 6])
def test_identity_fixed_sets(n):
    sets = fixed_points(initializers.get("identity")(jax.random.key(0), n))
    assert [(s.dimension, s.stability, s.support) for s in sets] == [(n, "marginal", tuple(range(n)))]


@given(seed=st.integers(0, 2**31 - 1))
def test_np_init_line_exists_iff_top_eigenvector_is_positive(seed):
    n = 5
    with jax.enable_x64(True):
        w = np.asarray(initializers.get("np")(jax.random.key(seed), n, dtype=jnp.float64))
    vals, vecs = np.linalg.eigh(w)
    top = vecs[:, -1] * np.sign(vecs[:, -1].sum())
    sets = fixed_points(w)
    for s in sets:
        assert_all_fixed(w, s)
    lines = [s for s in sets if s.dimension == 1]
    if np.all(top > 1e-9):
        assert len(lines) == 1 and lines[0].stability == "marginal"
        assert np.allclose(lines[0].point, top, atol=1e-9)
    elif np.all(top < 1 - 1e-9) and np.any(top < -1e-9):
        assert lines == []


def test_bias_gives_an_isolated_shifted_point():
    w = np.diag([0.5, 0.5])
    sets = fixed_points(w, np.array([1.0, -1.0]))
    assert len(sets) == 1
    assert sets[0].dimension == 0 and sets[0].stability == "attracting"
    assert np.allclose(sets[0].point, [2.0, 0.0])


def test_sampled_supports_above_exact_limit():
    w = two_unit(1.0, 0.5, 30.0)
    exact = fixed_points(w)
    sampled = fixed_points(w, exact_max_n=0, starts=20, steps=200)
    assert [(s.dimension, s.stability, s.support) for s in sampled] == [
        (s.dimension, s.stability, s.support) for s in exact
    ]


@pytest.mark.parametrize(
    "w, match",
    [
        (np.ones((2, 3)), "square"),
        (np.ones(3), "square"),
        (np.zeros((0, 0)), "n >= 1"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN"),
        (np.array([[np.inf]]), "NaN"),
    ],
)
def test_bad_weights(w, match):
    with pytest.raises(UsageError, match=match):
        fixed_points(w)


def test_bad_bias():
    with pytest.raises(UsageError, match="bias"):
        check_weights(np.eye(2), np.zeros(3))
