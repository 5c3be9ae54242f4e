"""The custom-VJP linear recurrence gives the plain scan's outputs and gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnlab.training import cells


def _plain_apply(cell, params, x, all_steps):
    # Cell.apply without the linear_form fast path: a lax.scan of cell.step.
    u = cell.project_inputs(params, x)
    consts = cell.prepare(params)
    h0 = cell.initial_state(x.shape[1:-1], u.dtype)

    def body(h, u_t):
        h = cell.step(consts, h, u_t)
        return h, (cell.features(h) if all_steps else None)

    h_last, hs = jax.lax.scan(body, h0, u)
    return cell.readout(params, hs if all_steps else cell.features(h_last))


@pytest.mark.parametrize("model", ["relu-rnn", "tanh-rnn", "full-urnn"])
@pytest.mark.parametrize("all_steps", [False, True])
def test_linear_recurrence_matches_plain_scan(model, all_steps):
    with jax.enable_x64(True):
        cell = cells.make(model, 6, 3, 2)
        assert cell.linear_form(cell.init(jax.random.key(0), jnp.float64)) is not None
        params = cell.init(jax.random.key(0), jnp.float64)
        params = {k: v + 0.1 * jax.random.normal(jax.random.key(9), v.shape, v.dtype) if k == "b" else v
                  for k, v in params.items()}
        x = jax.random.normal(jax.random.key(1), (7, 4, 3), jnp.float64)

        def loss(apply, p):
            return jnp.sum(jnp.sin(apply(cell, p, x, all_steps)))

        fast = jax.value_and_grad(lambda p: loss(lambda c, q, xx, a: c.apply(q, xx, a), p))(params)
        ref = jax.value_and_grad(lambda p: loss(_plain_apply, p))(params)
        np.testing.assert_allclose(fast[0], ref[0], rtol=1e-12)
        for k in params:
            np.testing.assert_allclose(np.asarray(fast[1][k]), np.asarray(ref[1][k]), rtol=1e-9, atol=1e-12)

        # Vmapped over stacked parameters (as seeds are), the gradients are those of each.
        stacked = jax.tree.map(lambda a: jnp.stack([a, 1.1 * a]), params)
        vg = jax.vmap(jax.grad(lambda p: loss(lambda c, q, xx, a: c.apply(q, xx, a), p)))(stacked)
        one = jax.grad(lambda p: loss(_plain_apply, p))(jax.tree.map(lambda a: a[1], stacked))
        for k in params:
            np.testing.assert_allclose(np.asarray(vg[k][1]), np.asarray(one[k]), rtol=1e-9, atol=1e-12)


def test_restricted_urnn_keeps_the_plain_scan():
    cell = cells.make("restricted-urnn", 4, 1, 1)
    assert cell.linear_form(cell.init(jax.random.key(0))) is None
