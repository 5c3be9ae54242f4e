import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnlab.analysis import definiteness, unitarity_error
from rnnlab.dynamics import initializers
from rnnlab.errors import UsageError

EPS64 = float(np.finfo(np.float64).eps)
seeds = st.integers(0, 2**31 - 1)


def test_registry_names():
    assert set(initializers.names()) == {"identity", "scaled-identity", "np", "orthogonal", "gaussian"}
    assert list(initializers.names()) == sorted(initializers.names())


@pytest.mark.parametrize("n", [1, 3, 17])
@given(seed=seeds)
def test_np_init_symmetric_pd_top_eigenvalue_one(n, seed):
    with jax.enable_x64(True):
        w = np.asarray(initializers.get("np")(jax.random.key(seed), n, dtype=jnp.float64))
    assert w.dtype == np.float64 and w.shape == (n, n)
    d = definiteness(w)
    assert d.symmetric_error == 0.0
    assert d.is_positive_definite
    assert abs(d.eigenvalues[-1] - 1.0) < 1e-12
    others = d.eigenvalues[:-1]
    assert np.all(others > 0) and np.all(others < 1)


@pytest.mark.parametrize("n", [1, 4, 16])
@given(seed=seeds)
def test_orthogonal_init_is_unitary(n, seed):
    with jax.enable_x64(True):
        w = initializers.get("orthogonal")(jax.random.key(seed), n, dtype=jnp.float64)
        assert float(unitarity_error(w)) < 50 * n * EPS64


@given(seeds=st.lists(seeds, min_size=2, max_size=2, unique=True),
       scale=st.floats(-2, 2, width=32, allow_subnormal=False))
def test_identity_and_scaled_identity_are_exact_and_ignore_the_key(seeds, scale):
    # Deterministic inits: two different keys must give bit-identical matrices, exactly
    # I and s I in float32 (a stray random term or a wrong dtype fails here).
    ident = [initializers.get("identity")(jax.random.key(k), 5) for k in seeds]
    scaled = [initializers.get("scaled-identity")(jax.random.key(k), 5, scale=scale) for k in seeds]
    for w in ident:
        assert w.dtype == jnp.float32
        assert np.array_equal(w, np.eye(5, dtype=np.float32))
    for w in scaled:
        assert w.dtype == jnp.float32
        assert np.array_equal(w, np.float32(scale) * np.eye(5, dtype=np.float32))


def test_gaussian_std_and_default_float32():
    w = initializers.get("gaussian")(jax.random.key(0), 400, g=2.0)
    assert w.dtype == jnp.float32 and w.shape == (400, 400)
    # std g / sqrt(n) = 0.1; 160000 samples pin it to about 0.2 %
    assert abs(float(jnp.std(w)) - 0.1) < 0.002


def test_input_and_output_weights():
    n, n_in, n_out = 300, 200, 100
    x = initializers.input_weights(jax.random.key(1), n_in, n)
    assert x.shape == (n, n_in)
    alpha = initializers.input_alpha(n)
    assert alpha == pytest.approx(np.sqrt(2) * np.exp(1.2 / (n - 2.4)))
    assert float(jnp.std(x)) == pytest.approx(alpha / np.sqrt(n), rel=0.02)
    lit = initializers.input_weights(jax.random.key(1), n_in, n, alpha="literal")
    assert float(jnp.std(lit)) == pytest.approx(np.sqrt(2) * np.exp(1.2 / n - 2.4) / np.sqrt(n), rel=0.02)
    y = initializers.output_weights(jax.random.key(2), n, n_out)
    assert y.shape == (n_out, n)
    assert float(jnp.std(y)) == pytest.approx(np.sqrt(2 / (n + n_out)), rel=0.02)
    # alpha's readings differ for small n only through max(n, 6)
    assert initializers.input_alpha(2) == initializers.input_alpha(6)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_sizes_and_names(bad):
    for name in initializers.names():
        with pytest.raises(UsageError, match="positive integer"):
            initializers.get(name)(jax.random.key(0), bad)
    with pytest.raises(UsageError, match="unknown initialiser 'nope'"):
        initializers.get("nope")
    with pytest.raises(UsageError, match="unknown alpha"):
        initializers.input_alpha(10, "sqrt2")
