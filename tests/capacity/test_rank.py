"""Measured ranks: each map follows its rank law, exact == numeric at the same point."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnlab.capacity import get, names
from rnnlab.capacity.exact import exact_rank
from rnnlab.capacity.jacobian import jacobian, measure
from rnnlab.analysis import numerical_rank


#: The six original maps and their rank laws (docs/capacity.md; the atlas families' laws are
#: checked exactly by tests/capacity/test_modular.py). restricted-stack's observed law is
#: min(N^2, 13N - 21): N^2 up to N = 11, short of it from N = 12 (test_modular checks N = 12, 13).
RANK_LAW = {
    "restricted": lambda n: n * n if n <= 5 else 7 * n - 7,
    "restricted-stack": lambda n: n * n,
    "full": lambda n: n * n,
    "givens": lambda n: n * n - n + 1,
    "householder": lambda n: n * n,
    "cayley": lambda n: n * n,
}


@pytest.mark.parametrize("name", list(RANK_LAW))
@pytest.mark.parametrize("n", [2, 4, 6])
def test_rank_follows_the_law_and_full_capacity_means_rank_n_squared(name, n):
    r = measure(get(name)(n), seeds=(0, 1))
    assert r.rank == RANK_LAW[name](n)
    assert list(r.ranks) == [r.rank, r.rank]
    assert r.full_capacity is (RANK_LAW[name](n) == n * n)


def test_restricted_loses_capacity_with_every_null_direction_explained():
    # Below N = 6 the 7N parameters cover U(N); from N = 6 the rank is 7N - 7 < N^2.
    small = measure(get("restricted")(5), seeds=(0,))
    assert small.full_capacity
    big = measure(get("restricted")(7), seeds=(0, 1))
    assert not big.full_capacity
    assert big.rank == 7 * 7 - 7
    assert big.unexplained == 0
    explained = sum(r.count for r in big.redundancies)
    assert explained == big.params - big.rank
    reasons = {r.reason for r in big.redundancies}
    assert "two reflections act only through their product on a 2-plane" in reasons


def test_gap_separates_the_rank_cleanly():
    r = measure(get("restricted")(8), seeds=(0,))
    assert r.gap is not None and r.gap > 1e8


@pytest.mark.parametrize(
    "name,n",
    # Not `full`: its exponential factor is exact only at theta = 0, where the Jacobian is a
    # basis of the tangent space by construction, so the comparison would test nothing.
    [("restricted", 2), ("restricted", 4), ("givens", 3), ("householder", 3), ("cayley", 3)],
)
def test_exact_rank_agrees_with_numerical_rank_at_the_same_point(name, n):
    p = get(name)(n)
    e = exact_rank(p, seed=0)
    numeric = numerical_rank(jacobian(p, e.numeric_point(p)))
    assert e.rank == numeric.rank == RANK_LAW[name](n)


def test_exact_rank_confirms_restricted_deficit_at_n6():
    p = get("restricted")(6)
    e = exact_rank(p, seed=0)
    assert e.rank == 35
    assert e.rank == numerical_rank(jacobian(p, e.numeric_point(p))).rank


def test_rank_deficient_jacobian_has_matching_null_space():
    from rnnlab.analysis import null_space

    p = get("restricted")(6)
    with jax.enable_x64(True):
        theta = np.asarray(p.init(jax.random.key(0), jnp.float64))
    j = jacobian(p, theta)
    res = numerical_rank(j)
    basis = null_space(j, res.rank)
    assert basis.shape == (p.num_params, p.num_params - res.rank) == (42, 7)
    assert np.linalg.norm(j @ basis) < 1e-8 * res.singular_values[0]


@pytest.mark.parametrize("name", names())
def test_factorwise_jacobian_equals_jacfwd(name):
    p = get(name)(5)
    with jax.enable_x64(True):
        theta = p.init(jax.random.key(3), jnp.float64)

        def image(t):
            w = p.matrix(t)
            return jnp.concatenate([w.real.ravel(), w.imag.ravel()])

        reference = np.asarray(jax.jacfwd(image)(theta))
    j = jacobian(p, np.asarray(theta))
    assert j.shape == reference.shape == (2 * 25, p.num_params)
    assert np.allclose(j, reference, rtol=0, atol=1e-13)
