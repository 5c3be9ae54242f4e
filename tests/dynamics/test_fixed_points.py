import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
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


def _fingerprint(sets):
    return sorted((s.support, s.dimension, s.stability, tuple(np.round(s.point, 8))) for s in sets)


@settings(max_examples=12)
@given(seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(["random", "near-identity", "line", "np", "identity"]))
def test_the_batched_screen_drops_only_supports_without_fixed_points(seed, kind):
    # The screen solves many supports at once and drops those whose (unique) solution breaks a
    # sign condition; with it switched off every support goes to the exact solver. Both must
    # find the same sets, also where W_SS - I is singular (identity) or singular to the
    # tolerance (line).
    import importlib

    fp = importlib.import_module("rnnlab.dynamics.fixed_points")
    rng = np.random.default_rng(seed)
    n = 6
    if kind == "random":
        w, b = rng.standard_normal((n, n)) * 1.2 / np.sqrt(n), rng.standard_normal(n) * 0.5
    elif kind == "near-identity":
        w, b = np.eye(n) + 0.05 * rng.standard_normal((n, n)), rng.standard_normal(n) * 0.1
    elif kind == "line":
        # Eigenvalue 1 - 1e-6 (1 to the tolerance 1e-5 given below) along a mixed-sign v, b
        # consistent to 2e-7: the fixed points are a short segment through h0, and the LU
        # solution of the nearly singular system lands off it, so only the singular-value
        # check keeps the support.
        v, h0 = rng.standard_normal(n), np.abs(rng.standard_normal(n)) * 0.01 + 0.005
        q, _ = np.linalg.qr(np.column_stack([v, rng.standard_normal((n, n - 1))]))
        w = q @ np.diag(np.concatenate([[1.0 - 1e-6], rng.uniform(0.2, 0.9, n - 1)])) @ q.T
        b = (np.eye(n) - w) @ h0 + 2e-7 * rng.standard_normal(n)
    elif kind == "np":
        r = rng.standard_normal((n, n))
        a = r.T @ r / n + np.eye(n)
        w, b = a / np.linalg.eigvalsh(a).max(), np.zeros(n)
    else:
        w, b = np.eye(n), np.zeros(n)
    tol = 1e-5 if kind == "line" else None
    screened = fixed_points(w, b, tol=tol)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(fp, "_may_hold_fixed_points", lambda w, b, s, tol, chunk=256: np.ones(len(s), bool))
        unscreened = fixed_points(w, b, tol=tol)
    assert _fingerprint(screened) == _fingerprint(unscreened)
    if kind == "line":
        assert any(s.dimension == 1 for s in screened)


def test_given_supports_are_examined_instead_of_sampled_ones():
    # n = 12 > exact_max_n: with W = 0.5 I and b = 1 the only fixed point, 2 * 1, has the full
    # support; given only other supports it is not found, given its support it is.
    n = 12
    w, b = 0.5 * np.eye(n), np.ones(n)
    found = fixed_points(w, b, supports=[tuple(range(n))])
    assert [(s.dimension, s.stability) for s in found] == [(0, "attracting")]
    np.testing.assert_allclose(found[0].point, 2.0 * np.ones(n), rtol=1e-14)
    assert fixed_points(w, b, supports=[tuple(range(n - 1)), (0,)]) == []
    with pytest.raises(UsageError, match="unit indices"):
        fixed_points(w, b, supports=[(0, n)])


def test_supports_of_counts_and_orders():
    from rnnlab.dynamics.fixed_points import supports_of

    states = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.5, 0.0]])
    assert supports_of(states) == [(1,), (0,), ()]
