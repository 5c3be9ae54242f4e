"""Every registered map lands on U(N), for arbitrary finite parameters."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnlab.analysis import unitarity_error
from rnnlab.capacity import get, names
from rnnlab.capacity.factors import CayleyMap, Exponential, Reflection
from rnnlab.capacity.kronecker import KroneckerUnitary
from rnnlab.capacity.orthogonal import RealReflection, SkewCayley, SkewExponential
from rnnlab.errors import UsageError

EPS64 = float(np.finfo(np.float64).eps)


@pytest.mark.parametrize("name", names())
@pytest.mark.parametrize("n", [1, 3, 6])
@given(data=st.data())
def test_every_map_is_unitary_for_arbitrary_parameters(name, n, data):
    p = get(name)(n)
    # Finite draws of any size: phases and angles wrap, reflection vectors away from 0,
    # Cayley/exp generators A bounded: expm's scaling and squaring and the solve with I + A
    # each lose about eps * |A| of unitarity (a property of expm and of the solve, not of the
    # map), up to 400 n eps at entries of 1e3.
    generator = (Exponential, SkewExponential, KroneckerUnitary, CayleyMap, SkewCayley)
    bound = 3.0 if any(isinstance(f, generator) for f in p.factors) else 1e3
    theta = data.draw(
        st.lists(st.floats(-bound, bound, allow_nan=False), min_size=p.num_params, max_size=p.num_params)
    )
    theta = np.asarray(theta)
    with jax.enable_x64(True):
        for f, s in zip(p.factors, p.slices()):
            if isinstance(f, (Reflection, RealReflection)) and np.linalg.norm(theta[s]) < 1e-3:
                theta[s] += 1.0  # a zero reflection vector is outside the map's domain
        w = p.matrix(jnp.asarray(theta, jnp.float64))
        assert w.shape == (n, n)
        scale = 1 + np.abs(theta).max() if name == "full" else 1.0
        assert float(unitarity_error(w)) < 200 * n * EPS64 * scale


@pytest.mark.parametrize("name", names())
def test_apply_matches_matrix(name):
    p = get(name)(5)
    with jax.enable_x64(True):
        theta = p.init(jax.random.key(1), jnp.float64)
        x = jax.random.normal(jax.random.key(2), (5, 3)) + 0j
        assert np.allclose(p.apply(theta, x.astype(jnp.complex128)), p.matrix(theta) @ x, atol=1e-12)


def test_parameter_counts_follow_the_structure():
    assert get("restricted")(10).num_params == 70
    assert get("restricted-stack")(10, layers=3).num_params == 210
    assert get("full")(10).num_params == 100
    assert get("householder")(10, layers=4).num_params == 2 * 10 * 4 + 10
    assert get("cayley")(10).num_params == 110
    assert get("givens")(8, layers=8).num_params == 64


def test_same_arguments_same_map():
    a, b = get("restricted")(6), get("restricted")(6)
    theta = a.init(jax.random.key(0))
    assert np.array_equal(a.matrix(theta), b.matrix(theta))


@pytest.mark.parametrize("name", names())
@pytest.mark.parametrize("bad", [0, -3])
def test_bad_sizes_are_usage_errors(name, bad):
    with pytest.raises(UsageError, match=f"got {bad}"):
        get(name)(bad)


@pytest.mark.parametrize("bad", [0, -2])
def test_bad_layer_counts_are_usage_errors(bad):
    with pytest.raises(UsageError, match=f"got {bad}"):
        get("givens")(4, layers=bad)


def test_unknown_map_is_named_in_the_error():
    with pytest.raises(UsageError, match="no-such-map"):
        get("no-such-map")
