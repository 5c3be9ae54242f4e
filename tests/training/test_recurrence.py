"""The fast recurrences give the plain scan's outputs and gradients.

The plain reference is ``Cell.apply`` without a fast path: a ``lax.scan`` of ``cell.step``
(for the restricted uRNN, the factors applied to the state at every step: its FFT path).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnlab.training import cells


def _plain_apply(cell, params, x, all_steps):
    u = cell.project_inputs(params, x)
    consts = cell.step_constants(params)
    h0 = cell.initial_state(x.shape[1:-1], u.dtype)

    def body(h, u_t):
        h = cell.step(consts, h, u_t)
        return h, (cell.features(h) if all_steps else None)

    h_last, hs = jax.lax.scan(body, h0, u)
    return cell.readout(params, hs if all_steps else cell.features(h_last))


def _fast_apply(cell, params, x, all_steps):
    return cell.apply(params, x, all_steps)


def _params(cell):
    params = cell.init(jax.random.key(0), jnp.float64)
    # A nonzero bias, so that modReLU's and the gates' bias gradients are exercised.
    return {k: v + 0.1 * jax.random.normal(jax.random.key(9), v.shape, v.dtype) if k == "b" else v
            for k, v in params.items()}


@pytest.mark.parametrize("model", ["relu-rnn", "tanh-rnn", "full-urnn", "restricted-urnn", "restricted-fft", "lstm"])
@pytest.mark.parametrize("all_steps", [False, True])
def test_fast_recurrence_matches_plain_scan(model, all_steps):
    with jax.enable_x64(True):
        if model == "restricted-fft":
            cell = cells.RestrictedURNN(6, 3, 2, path="fft")
            assert cell.recurrence_form(cell.init(jax.random.key(0)))[0] == cell.recur
        else:
            cell = cells.make(model, 6, 3, 2)
        params = _params(cell)
        x = jax.random.normal(jax.random.key(1), (7, 4, 3), jnp.float64)

        def loss(apply, p):
            return jnp.sum(jnp.sin(apply(cell, p, x, all_steps)))

        # Jitted: one compilation each is faster than op-by-op dispatch; the plain reference is
        # compiled once and used for both parameter sets.
        fast = jax.jit(jax.value_and_grad(lambda p: loss(_fast_apply, p)))(params)
        plain = jax.jit(jax.value_and_grad(lambda p: loss(_plain_apply, p)))
        ref = plain(params)
        np.testing.assert_allclose(fast[0], ref[0], rtol=1e-12)
        for k in params:
            np.testing.assert_allclose(np.asarray(fast[1][k]), np.asarray(ref[1][k]), rtol=1e-9, atol=1e-12,
                                       err_msg=k)

        # Vmapped over stacked parameters (as seeds are), the gradients are those of each.
        stacked = jax.tree.map(lambda a: jnp.stack([a, 1.1 * a]), params)
        vg = jax.jit(jax.vmap(jax.grad(lambda p: loss(_fast_apply, p))))(stacked)
        one = plain(jax.tree.map(lambda a: a[1], stacked))[1]
        for k in params:
            np.testing.assert_allclose(np.asarray(vg[k][1]), np.asarray(one[k]), rtol=1e-9, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("block_rows", [4, 8])
def test_fft_path_weight_gradient_in_blocks(monkeypatch, block_rows):
    # Batch 4, T = 7: blocks of one time step, and of two with the last block padded.
    from rnnlab.training import recurrence

    monkeypatch.setattr(recurrence, "DW_BLOCK_ROWS", block_rows)
    monkeypatch.setattr(recurrence, "DW_WHOLE_MAX_ENTRIES", 0)
    with jax.enable_x64(True):
        cell = cells.RestrictedURNN(6, 3, 2, path="fft")
        params = _params(cell)
        x = jax.random.normal(jax.random.key(1), (7, 4, 3), jnp.float64)
        fast, plain = (jax.grad(lambda p, f=f: jnp.sum(jnp.sin(f(cell, p, x, True))))(params)
                       for f in (_fast_apply, _plain_apply))
        scale = float(np.max(np.abs(plain["theta"])))
        np.testing.assert_allclose(np.asarray(fast["theta"]), np.asarray(plain["theta"]), rtol=0,
                                   atol=64 * np.finfo(np.float64).eps * scale)
        # Vmapped over stacked parameters (as seeds are): the first seed's gradient again.
        stacked = jax.tree.map(lambda a: jnp.stack([a, 1.1 * a]), params)
        vg = jax.vmap(jax.grad(lambda p: jnp.sum(jnp.sin(_fast_apply(cell, p, x, True)))))(stacked)
        np.testing.assert_allclose(np.asarray(vg["theta"][0]), np.asarray(plain["theta"]), rtol=0,
                                   atol=64 * np.finfo(np.float64).eps * scale)


def test_restricted_urnn_paths():
    small = cells.make("restricted-urnn", 4, 1, 1)
    assert small.dense and small.linear_form(small.init(jax.random.key(0))) is not None
    fft = cells.RestrictedURNN(4, 1, 1, path="fft")
    assert not fft.dense and fft.linear_form(fft.init(jax.random.key(0))) is None
    from rnnlab.training.urnn import FFT_FROM

    assert not cells.RestrictedURNN(FFT_FROM, 1, 1).dense and cells.RestrictedURNN(FFT_FROM - 1, 1, 1).dense
    with pytest.raises(ValueError, match="path"):
        cells.RestrictedURNN(4, 1, 1, path="fast")


@pytest.mark.slow  # end to end, tens of seconds: make test-slow (CI runs it)
def test_restricted_urnn_paths_agree_at_a_non_power_of_two_size():
    # 47 units: an FFT length with a large prime factor, as the paper's N = 470 has.
    with jax.enable_x64(True):
        dense = cells.RestrictedURNN(47, 2, 3, path="dense")
        fft = cells.RestrictedURNN(47, 2, 3, path="fft")
        params = _params(dense)
        x = jax.random.normal(jax.random.key(1), (5, 3, 2), jnp.float64)

        def loss(cell, p):
            return jnp.sum(jnp.sin(cell.apply(p, x, True)))

        (vd, gd), (vf, gf) = (jax.value_and_grad(lambda p, c=c: loss(c, p))(params) for c in (dense, fft))
        np.testing.assert_allclose(vd, vf, rtol=1e-12)
        for k in params:
            scale = float(np.max(np.abs(gf[k])))
            np.testing.assert_allclose(np.asarray(gd[k]), np.asarray(gf[k]), rtol=0, atol=47 * 1e-14 * scale,
                                       err_msg=k)
