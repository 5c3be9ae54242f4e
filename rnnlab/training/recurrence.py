"""Recurrence kernels: whole-sequence scans with hand-arranged backward passes (custom VJPs).

- :func:`recurrence` ``h_t = phi(op(w, h_{t-1}) + u_t, b)`` for a map ``op`` linear in ``h``
  (:func:`matmul`, ``h @ m``, for a dense matrix): the tanh / ReLU RNNs and both uRNNs (a
  complex ``W`` in real block form, or the restricted uRNN's factors) run through it.
- :func:`lstm_recurrence` the LSTM with its four gates in one matmul per time step.

Both give the values and gradients of the plain ``lax.scan`` (``tests/training/test_recurrence.py``);
what differs is the backward pass: the reverse scan does only the work that must be serial
(one matmul per step), and the gradient of the recurrent matrix is one large contraction over
all time steps and the batch, which a CPU runs near GEMM speed.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp


def _sum_to(x: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """Sum the leading axes that broadcasting added (a shared ``h0`` broadcast over the batch)."""
    if x.shape == shape:
        return x
    return jnp.sum(x, axis=tuple(range(x.ndim - len(shape)))).reshape(shape)


def matmul(m: jax.Array, h: jax.Array) -> jax.Array:
    """``h @ m``: the recurrent map of a cell with a dense (real or real-form) matrix ``m``."""
    return h @ m


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def recurrence(op, phi, all_steps: bool, w, b, h0, u):
    """``h_t = phi(op(w, h_{t-1}) + u_t, b)`` over ``u (T, ..., S)``: all ``h_t`` (``all_steps``) or the last.

    ``op(w, h)`` is linear in ``h`` and acts along the last axis of an ``h`` with any leading
    axes (``h @ m`` for a dense matrix; the restricted uRNN applies its factors). ``phi``
    acts elementwise along the batch axes (it may mix the state axis, as modReLU does), and
    ``b`` is its parameter (size 0 when it has none).

    The result and its gradients are those of the plain ``lax.scan``; only the backward pass
    is arranged differently (a custom VJP). The reverse scan does only the serial work, the
    transpose of ``op`` once per step (``dz_t @ m^T`` for a matrix), keeping every ``dz_t``;
    the gradient of ``w`` is then one vector-Jacobian product of ``w -> op(w, H)`` over all
    steps and the batch at once (for a matrix, the contraction ``sum_t h_{t-1}^T dz_t``;
    for the restricted uRNN, batched applications of its factors to blocks of about
    :data:`DW_BLOCK_ROWS` of the ``T B`` rows, see :func:`_weight_grad`) instead of a small
    product and an accumulation inside every step. On a CPU the batched operations run near
    full speed, where the per-step ones ran at a fraction of it.
    """

    def body(h, u_t):
        h = phi(op(w, h) + u_t, b)
        return h, (h if all_steps else None)

    h_last, hs = jax.lax.scan(body, h0, u)
    return hs if all_steps else h_last


def _recurrence_fwd(op, phi, all_steps, w, b, h0, u):
    def body(h, u_t):
        z = op(w, h) + u_t
        h_new = phi(z, b)
        # The state each step starts from, kept as it is so that dw needs no shifted copy.
        return h_new, (z, h, h_new if all_steps else None)

    h_last, (zs, h_prev, hs) = jax.lax.scan(body, h0, u)
    return (hs if all_steps else h_last), (w, b, h0, zs, h_prev)


def _recurrence_bwd(op, phi, all_steps, res, ct):
    w, b, h0, zs, h_prev = res
    # op is linear in h: its VJP at any point (here 0) is its transpose.
    transpose = jax.vjp(lambda hh: op(w, hh), jnp.zeros_like(h_prev[0]))[1]

    def dz_of(z, g):
        return jax.vjp(lambda zz: phi(zz, b), z)[1](g)[0]

    # g_t = dL/dh_t (from the outputs and from step t+1); dz_t = phi'(z_t)^T g_t. The g_t are
    # kept only when phi has a parameter b (its gradient needs them).
    keep_g = b.size > 0
    if all_steps:
        def body(back, xs):
            z_t, ct_t = xs
            g = ct_t + back
            dz = dz_of(z_t, g)
            return transpose(dz)[0], ((g if keep_g else None), dz)

        dh0, (gs, dzs) = jax.lax.scan(body, jnp.zeros_like(h_prev[0]), (zs, ct), reverse=True)
    else:
        def body(g, z_t):
            dz = dz_of(z_t, g)
            return transpose(dz)[0], ((g if keep_g else None), dz)

        dh0, (gs, dzs) = jax.lax.scan(body, jnp.broadcast_to(ct, h_prev.shape[1:]), zs, reverse=True)
    dw = _weight_grad(op, w, h_prev, dzs)
    if keep_g:
        db = jax.vjp(lambda bb: phi(zs, bb), b)[1](gs)[0]
    else:
        db = jnp.zeros_like(b)
    return dw, db, _sum_to(dh0, h0.shape), dzs


recurrence.defvjp(_recurrence_fwd, _recurrence_bwd)

#: Rows (time steps x batch) of each block in which :func:`_weight_grad` forms the gradient of
#: a recurrent map other than a matmul. Measured on the restricted uRNN N = 470, batch 20,
#: T = 1000 (the VJP alone, loaded machine): all 20,000 rows at once 1254 ms, blocks of 20 /
#: 100 / 400 / 2000 rows 789 / 662 / 745 / 963 ms.
DW_BLOCK_ROWS = 128
#: Up to this many state entries over all rows (16 MB of float32) the gradient is formed at
#: once: at N = 256, T = 200, batch 20 (2M entries) blocks made the train step 25% slower, at
#: N = 384-512 (3-4M) they were even, at N = 470, T = 1000 (19M) 5% faster idle, 30% loaded.
DW_WHOLE_MAX_ENTRIES = 2**22


def _weight_grad(op, w, h_prev, dzs):
    """The VJP of ``w -> op(w, h_{t-1})`` over all time steps and the batch, at the cotangents ``dzs``.

    For a matrix it is one contraction ``sum_t h_{t-1}^T dz_t`` (a GEMM). Any other map (the
    restricted uRNN's factors) over more than :data:`DW_WHOLE_MAX_ENTRIES` state entries is
    differentiated block by block over time, the blocks' results summed: its intermediates
    (an FFT and a complex array per factor, for every row) then stay in cache instead of going
    to memory and back; all rows at once took about twice as long. ``dw`` is linear in ``dzs``,
    so zero rows padding the last block add nothing.
    """
    if op is matmul or h_prev.size <= DW_WHOLE_MAX_ENTRIES:
        return jax.vjp(lambda ww: op(ww, h_prev), w)[1](dzs)[0]
    steps = h_prev.shape[0]
    rows = math.prod(h_prev.shape[1:-1])  # > 0: an empty h_prev is formed at once
    block = max(1, min(steps, DW_BLOCK_ROWS // rows))
    pad = (-steps) % block
    if pad:
        h_prev = jnp.concatenate([h_prev, jnp.zeros((pad,) + h_prev.shape[1:], h_prev.dtype)])
        dzs = jnp.concatenate([dzs, jnp.zeros((pad,) + dzs.shape[1:], dzs.dtype)])
    shape = ((steps + pad) // block, block)
    h_blocks = h_prev.reshape(shape + h_prev.shape[1:])
    dz_blocks = dzs.reshape(shape + dzs.shape[1:])

    def body(acc, xs):
        h, dz = xs
        d = jax.vjp(lambda ww: op(ww, h), w)[1](dz)[0]
        return jax.tree.map(jnp.add, acc, d), None

    return jax.lax.scan(body, jax.tree.map(jnp.zeros_like, w), (h_blocks, dz_blocks))[0]



def _lstm_acts(a: jax.Array, n: int) -> jax.Array:
    """Pre-activations ``a (..., 4n)`` in the order i, f, g, o -> gate values ``(..., 4, n)``.

    One elementwise pass, ``alpha tanh(alpha a) + beta`` with ``alpha = (1/2, 1/2, 1, 1/2)``
    and ``beta = (1/2, 1/2, 0, 1/2)`` per gate: ``sigmoid(x) = tanh(x/2)/2 + 1/2`` for i, f, o
    and ``tanh`` for g. Four slices with three logistic calls, then a concatenation of the
    four results for the backward pass, took 2-3 times as long on CPU. Equal to the
    logistic to rounding (absolute).
    """
    scale = jnp.asarray([[0.5], [0.5], [1.0], [0.5]], a.dtype)
    shift = jnp.asarray([[0.5], [0.5], [0.0], [0.5]], a.dtype)
    return scale * jnp.tanh(scale * a.reshape(a.shape[:-1] + (4, n))) + shift


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def lstm_recurrence(all_steps: bool, w, h0, c0, u):
    """The LSTM over ``u (T, ..., 4n)`` (inputs already projected, bias included): all ``h_t`` or the last.

    ``a_t = h_{t-1} @ w + u_t`` is one ``(n, 4n)`` matmul for the four gates (order i, f, g,
    o); ``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)``. The backward pass (custom VJP)
    uses the gate values kept by the forward scan instead of recomputing them, does one
    ``(4n, n)`` matmul per reverse step, and forms ``dw = sum_t h_{t-1}^T da_t`` as one
    contraction over time and batch.
    """
    n = w.shape[0]

    def body(hc, u_t):
        h, c = hc
        act = _lstm_acts(h @ w + u_t, n)
        i, f, g, o = (act[..., k, :] for k in range(4))
        c = f * c + i * g
        h = o * jnp.tanh(c)
        return (h, c), (h if all_steps else None)

    (h_last, _), hs = jax.lax.scan(body, (h0, c0), u)
    return hs if all_steps else h_last


def _lstm_fwd(all_steps, w, h0, c0, u):
    n = w.shape[0]
    batch = jnp.broadcast_shapes(h0.shape, u.shape[1:-1] + (n,))
    h0b, c0b = jnp.broadcast_to(h0, batch), jnp.broadcast_to(c0, batch)

    def body(hc, u_t):
        h, c = hc
        act = _lstm_acts(h @ w + u_t, n)
        i, f, g, o = (act[..., k, :] for k in range(4))
        c_new = f * c + i * g
        tc = jnp.tanh(c_new)
        h_new = o * tc
        return (h_new, c_new), (act.reshape(h.shape[:-1] + (4 * n,)), h, c, tc, h_new if all_steps else None)

    (h_last, _), (acts, h_prev, c_prev, tcs, hs) = jax.lax.scan(body, (h0b, c0b), u)
    return (hs if all_steps else h_last), (w, h0, c0, acts, h_prev, c_prev, tcs)


def _lstm_bwd(all_steps, res, ct):
    w, h0, c0, acts, h_prev, c_prev, tcs = res
    n = w.shape[0]
    wt = w.T

    def step(dh, dc, act, c_p, tc):
        i, f, g, o = (act[..., k * n : (k + 1) * n] for k in range(4))
        dc = dc + dh * o * (1.0 - tc * tc)
        da = jnp.concatenate(
            [dc * g * i * (1.0 - i), dc * c_p * f * (1.0 - f), dc * i * (1.0 - g * g), dh * tc * o * (1.0 - o)],
            axis=-1,
        )
        return da @ wt, dc * f, da

    zeros = jnp.zeros_like(h_prev[0])
    if all_steps:
        def body(carry, xs):
            dh_back, dc = carry
            ct_t, act, c_p, tc = xs
            dh, dc, da = step(ct_t + dh_back, dc, act, c_p, tc)
            return (dh, dc), da

        (dh0, dc0), das = jax.lax.scan(body, (zeros, zeros), (ct, acts, c_prev, tcs), reverse=True)
    else:
        def body(carry, xs):
            dh, dc = carry
            act, c_p, tc = xs
            dh, dc, da = step(dh, dc, act, c_p, tc)
            return (dh, dc), da

        (dh0, dc0), das = jax.lax.scan(body, (jnp.broadcast_to(ct, zeros.shape), zeros), (acts, c_prev, tcs),
                                        reverse=True)
    lead = tuple(range(das.ndim - 1))
    dw = jnp.tensordot(h_prev, das, axes=(lead, lead))
    return dw.astype(w.dtype), _sum_to(dh0, h0.shape), _sum_to(dc0, c0.shape), das


lstm_recurrence.defvjp(_lstm_fwd, _lstm_bwd)
