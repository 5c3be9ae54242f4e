import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnlab.analysis import definiteness, haar_unitary, null_space, numerical_rank, polar_project, unitarity_error


@given(m=st.integers(1, 40), n=st.integers(1, 12), r=st.integers(0, 12), seed=st.integers(0, 2**31 - 1))
def test_rank_of_product_of_random_factors(m, n, r, seed):
    r = min(r, m, n)
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, r)) @ rng.standard_normal((r, n))
    res = numerical_rank(a)
    assert res.rank == r
    assert len(res.singular_values) == min(m, n)
    if r < min(m, n) and r > 0:
        assert res.gap > 1e6
    if r == min(m, n):
        assert res.gap is None


def test_tolerance_rule_and_null_space():
    a = np.diag([3.0, 1.0, 1e-20])
    res = numerical_rank(a)
    assert res.rank == 2
    assert res.tol == pytest.approx(3.0 * 3 * np.finfo(float).eps)
    ns = null_space(a, res.rank)
    assert ns.shape == (3, 1)
    assert np.allclose(np.abs(ns[:, 0]), [0, 0, 1])


def test_rank_rejects_bad_input():
    with pytest.raises(ValueError):
        numerical_rank(np.ones(3))
    with pytest.raises(ValueError):
        numerical_rank(np.array([[np.nan, 1.0]]))


@pytest.mark.parametrize("n", [1, 5, 16])
@given(seed=st.integers(0, 2**31 - 1))
def test_haar_unitary_is_unitary(n, seed):
    with jax.enable_x64(True):
        import jax.numpy as jnp

        w = haar_unitary(jax.random.key(seed), n, jnp.complex128)
        assert float(unitarity_error(w)) < 50 * n * np.finfo(np.float64).eps
        w2 = polar_project(w + 1e-3 * jnp.ones((n, n)))
        assert float(unitarity_error(w2)) < 50 * n * np.finfo(np.float64).eps


def test_definiteness():
    d = definiteness(np.array([[2.0, 0.5], [0.5, 1.0]]))
    assert d.is_symmetric and d.is_positive_definite
    d = definiteness(np.array([[1.0, 0.0], [0.0, 0.0]]))
    assert not d.is_positive_definite
    d = definiteness(np.array([[1.0, 1.0], [0.0, 1.0]]))
    assert not d.is_symmetric


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_tall_skinny_triangle_keeps_singular_values_and_rank(workers):
    from rnnlab.analysis.rank import triangle

    rng = np.random.default_rng(workers)
    a = rng.standard_normal((300, 9)) @ rng.standard_normal((9, 12))  # rank 9 of 12
    r = triangle(np.asfortranarray(a), workers=workers)
    assert r.shape == (12, 12)
    s_direct = np.linalg.svd(a, compute_uv=False)
    s_tri = np.linalg.svd(r, compute_uv=False)
    assert np.allclose(s_tri, s_direct, rtol=0, atol=1e-12 * s_direct[0])
    assert numerical_rank(a).rank == 9
    ns = null_space(a, 9)
    assert np.linalg.norm(a @ ns) < 1e-10 * s_direct[0]
