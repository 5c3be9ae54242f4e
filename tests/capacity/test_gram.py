"""The Gram path (J^T J built block by block) against the dense Jacobian path."""

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnlab.analysis import numerical_rank
import rnnlab.capacity.gram as gram_mod
from rnnlab.capacity import get

# The module, not the function `jacobian` that rnnlab.capacity re-exports under the same name.
jac_mod = importlib.import_module("rnnlab.capacity.jacobian")
from rnnlab.capacity.jacobian import jacobian, measure


def _point(p, seed=0):
    with jax.enable_x64(True):
        return np.asarray(p.init(jax.random.key(seed), jnp.float64))


@pytest.mark.parametrize("name,n,skew", [("restricted", 9, False), ("full", 5, False), ("restricted", 9, True),
                                         ("givens-real", 6, True), ("householder", 1, True)])
def test_gram_blocks_sum_to_jtj(name, n, skew, monkeypatch):
    # Blocks of 2 columns of W (the last one short at odd n) exercise the accumulation;
    # skew: the half rows of W^H dW (a real orthogonal W included), same Gram.
    monkeypatch.setattr(gram_mod, "BLOCK_BYTES", 16 * n * get(name)(n).num_params * 2)
    p = get(name)(n)
    assert gram_mod.block_columns(n, p.num_params) == min(n, 2)
    theta = _point(p)
    j = jacobian(p, theta)
    g = gram_mod.gram(p, theta, skew=skew)
    want = j.T @ j
    tol = 2 * n * n * np.finfo(float).eps * np.abs(want).max()
    assert np.abs(g - want).max() <= tol
    # One thread folding every block gives the same Gram as the threads sharing them.
    one = gram_mod.gram(p, theta, workers=1, skew=skew)
    assert np.abs(one - g).max() <= tol


@pytest.mark.parametrize("n,c", [(1, 1), (5, 2), (6, 2), (7, 4), (8, 8)])
def test_skew_blocks_cover_each_lower_entry_once(n, c):
    # Every column once; every strictly lower entry (i > j) and every diagonal entry once;
    # the padding points at the trailing zero (index n c).
    blocks = gram_mod.skew_blocks(n, c)
    cols = [int(j) for b in blocks for j in b[0] if j >= 0]
    assert sorted(cols) == list(range(n))
    lower, diag = set(), set()
    for cols_b, low, dia in blocks:
        assert low.shape == ((n - 1) * c // 2,) and dia.shape == (c,)
        for idx, into in ((low, lower), (dia, diag)):
            for f in idx[idx < n * c]:
                i, k = divmod(int(f), c)
                entry = (i, int(cols_b[k]))
                assert entry not in into
                into.add(entry)
    assert lower == {(i, j) for j in range(n) for i in range(j + 1, n)}
    assert diag == {(j, j) for j in range(n)}


def test_gram_takes_full_rows_when_w_is_not_unitary(monkeypatch):
    # The half-row identity needs a unitary W; a W off the group gets the plain rows.
    p = get("restricted")(4)
    theta = _point(p)
    j = jacobian(p, theta)
    calls = []
    real_compiled = gram_mod._compiled
    monkeypatch.setattr(gram_mod, "_compiled", lambda p_, skew: calls.append(skew) or real_compiled(p_, skew))
    gram_mod.gram(p, theta)
    monkeypatch.setattr(gram_mod, "UNITARY_TOL", -1.0)
    g = gram_mod.gram(p, theta)
    assert calls == [True, False]
    assert np.abs(g - j.T @ j).max() <= 32 * np.finfo(float).eps * np.abs(j.T @ j).max()


@pytest.mark.parametrize("name,n", [("restricted", 6), ("restricted", 8), ("restricted", 11), ("full", 4)])
def test_gram_rank_and_null_space_match_the_dense_path(name, n):
    p = get(name)(n)
    theta = _point(p, seed=n)
    j = jacobian(p, theta)
    dense = numerical_rank(j)
    res, root = gram_mod.rank_from_gram(gram_mod.gram(p, theta), j.shape[0])
    assert res.rank == dense.rank
    assert res.shape == dense.shape
    kept = res.rank
    # The kept singular values agree to the Gram's accuracy (relative sqrt(eps) at worst
    # for the smallest; here they are O(1e-2) of the largest, so far better).
    s0 = dense.singular_values[0]
    assert np.allclose(res.singular_values[:kept], dense.singular_values[:kept], rtol=0, atol=1e-7 * s0)
    # Dropped "singular values" are rounding: below the tolerance, which is far below the kept ones.
    if kept < p.num_params:
        assert res.singular_values[kept] <= res.tol < 1e-3 * res.singular_values[kept - 1]
        # The square-root factor carries J's null space: J times it is rounding.
        from rnnlab.analysis import null_space

        null = null_space(root, kept)
        assert null.shape == (p.num_params, p.num_params - kept)
        assert np.linalg.norm(j @ null, 2) <= 1e-6 * s0


def test_measure_through_the_gram_gives_the_dense_report(monkeypatch):
    p = get("restricted")(7)
    dense = measure(p, seeds=(0, 1))
    monkeypatch.setattr(jac_mod, "GRAM_FROM_BYTES", 0)
    assert jac_mod.uses_gram(7, p.num_params)
    via_gram = measure(p, seeds=(0, 1))
    a, b = dense.as_record(), via_gram.as_record()
    for key in ("rank", "ranks_per_seed", "redundant_directions", "unexplained_null_directions", "full_capacity"):
        assert a[key] == b[key], key
    assert dense.unexplained == 0 and dense.rank < p.num_params


def test_paper_size_is_estimated_by_the_gram_path():
    n, params = 512, get("restricted")(512).num_params
    assert jac_mod.uses_gram(n, params)
    dense = 2 * n * n * params * jac_mod._BYTES_PER_ENTRY
    est = jac_mod.jacobian_bytes_for(n, params)
    assert est == gram_mod.gram_bytes_for(n, params)
    # The Gram and its eigendecomposition (6 P^2 float64) dominate; J itself would be 2 n^2 P.
    assert 6 * 8 * params**2 < est < dense / 10
    assert not jac_mod.uses_gram(32, get("restricted")(32).num_params)
