"""Measured ranks: bounded by min(P, N^2), full where the structure allows, exact == numeric."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnlab.capacity import get, names
from rnnlab.capacity.exact import exact_rank
from rnnlab.capacity.jacobian import jacobian, measure
from rnnlab.analysis import numerical_rank


_FIRST_SIX = ["restricted", "restricted-stack", "full", "givens", "householder", "cayley"]


# The atlas families' rank laws are checked exactly by tests/capacity/test_modular.py; one size here.
@pytest.mark.parametrize(
    "name,n", [(m, n) for m in names() for n in ([2, 4] if m in _FIRST_SIX else [3])]
)
def test_rank_never_exceeds_parameters_or_manifold(name, n):
    r = measure(get(name)(n), seeds=(0, 1))
    assert r.rank <= min(r.params, r.manifold_dim)
    assert r.full_capacity == (r.rank == r.manifold_dim)


@pytest.mark.parametrize("name", ["full", "cayley", "householder", "restricted-stack"])
@pytest.mark.parametrize("n", [2, 3, 5])
def test_full_capacity_maps_reach_n_squared(name, n):
    r = measure(get(name)(n), seeds=(0,))
    assert r.rank == n * n
    assert r.full_capacity


def test_restricted_loses_capacity_with_every_null_direction_explained():
    # Below N = 6 the 7N parameters cover U(N); from N = 6 the rank is 7N - 7 < N^2.
    small = measure(get("restricted")(5), seeds=(0,))
    assert small.full_capacity
    big = measure(get("restricted")(7), seeds=(0, 1))
    assert not big.full_capacity
    assert big.rank < 7 * 7
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
    [("restricted", 2), ("restricted", 4), ("full", 3), ("givens", 3), ("householder", 3), ("cayley", 3)],
)
def test_exact_rank_agrees_with_numerical_rank_at_the_same_point(name, n):
    p = get(name)(n)
    e = exact_rank(p, seed=0)
    numeric = numerical_rank(jacobian(p, e.numeric_point(p)))
    assert e.rank == numeric.rank
    assert e.rank <= min(p.num_params, n * n)


def test_exact_rank_confirms_restricted_deficit_at_n6():
    p = get("restricted")(6)
    e = exact_rank(p, seed=0)
    assert e.rank < 36
    assert e.rank == numerical_rank(jacobian(p, e.numeric_point(p))).rank


def test_rank_deficient_jacobian_has_matching_null_space():
    from rnnlab.capacity.jacobian import null_directions

    p = get("restricted")(6)
    basis, res = null_directions(p)
    assert basis.shape == (p.num_params, p.num_params - res.rank)
    with jax.enable_x64(True):
        theta = np.asarray(p.init(jax.random.key(0), jnp.float64))
    j = jacobian(p, theta)
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
