"""over_seeds: one seed (squeezed) and k seeds (vmapped) give each seed's own result."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnlab.training.seeds import over_seeds


def _fn(p, x):
    return {"y": jnp.tanh(p["w"] @ x), "s": jnp.sum(p["w"])}


@pytest.mark.parametrize("k", [1, 3])
def test_each_seed_gets_its_own_result_and_shared_args_are_shared(k):
    w = jax.random.normal(jax.random.key(0), (k, 4, 4), jnp.float32)
    x = jnp.arange(4.0, dtype=jnp.float32)
    out = over_seeds(_fn, k, in_axes=(0, None))({"w": w}, x)
    assert out["y"].shape == (k, 4) and out["s"].shape == (k,)
    for s in range(k):
        ref = _fn({"w": w[s]}, x)
        np.testing.assert_allclose(out["y"][s], ref["y"], rtol=0, atol=16 * np.finfo(np.float32).eps)
        np.testing.assert_allclose(out["s"][s], ref["s"], rtol=0, atol=64 * np.finfo(np.float32).eps)


def test_default_maps_every_argument():
    a = jnp.arange(6.0).reshape(2, 3)
    out = over_seeds(lambda u, v: u * v, 2)(a, a + 1)
    np.testing.assert_array_equal(out, a * (a + 1))
