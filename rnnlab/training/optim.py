"""Optimisers: the full-capacity Cayley step on U(N) as an optax transformation, and the
combination with optax's Euclidean optimisers that updates a whole model in one step.

The Cayley step (Wisdom et al. 2016; Tagare 2011). For a real loss ``L`` of a unitary
``W``, with the Euclidean gradient ``G = dL/dRe W + i dL/dIm W``,

    A = G W^H - W G^H                       (skew-Hermitian)
    W <- (I + lr/2 A)^{-1} (I - lr/2 A) W   (unitary whenever W is)

Along this curve ``d/dlr L(W(lr))`` at ``lr = 0`` equals ``-||A||_F^2 / 2``: with the real
inner product ``<X, Y> = Re tr(X^H Y)``, ``dW/dlr = -A W`` and
``dL = <G, dW> = -<G W^H, A> = -||A||_F^2 / 2`` because ``A = X - X^H`` with ``X = G W^H``
and ``<X^H, A> = -<X, A>``. So a small step always descends (tested against finite
differences in ``tests/training/test_optim.py``).

**JAX's complex convention.** ``jax.grad`` of a real loss with respect to a complex
array returns ``conj(G)``, not ``G``; :func:`cayley_unitary` conjugates what it receives.
Fed ``G`` itself the step would follow a different, non-descent curve.

**Additive updates.** The transformation emits ``W_new - W``, computed directly as
``-lr (I + lr/2 A)^{-1} (A W)`` (the same matrix, since ``(I + cA)^{-1}(I - cA) - I =
-2c (I + cA)^{-1} A``), so plain :func:`optax.apply_updates` applies it. This form is also
the accurate one in float32: the rounding errors of the solve scale with the small update,
not with ``W``; the only ``O(eps)`` error per step is the final addition. The float32 drift
this leaves is measured by ``rnnlab cayley-drift`` (see ``docs/RESULTS.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from rnnlab.errors import UsageError
from rnnlab.training.cells import EUCLIDEAN, FROZEN, UNITARY

ScalarOrSchedule = float | Callable[[jax.Array], jax.Array]


#: How ``rms_normalise`` reads the paper's natGradRMS (see :func:`cayley_unitary`).
RMS_READINGS = {
    "parts": "Re G and Im G each divided by their own RMS (the authors' code)",
    "modulus": "each entry of G divided by the RMS of |G| (a variant: keeps the phase of G)",
}


class CayleyState(NamedTuple):
    """``count``: steps taken; ``nu``: RMS statistics of ``G`` (``()`` if unused): for the
    ``parts`` reading a real ``(2, n, n)`` array (``Re G``, ``Im G``), for ``modulus`` the
    ``(n, n)`` running mean of ``|G|^2``."""

    count: jax.Array
    nu: optax.Params


def cayley_direction(grad: jax.Array, w: jax.Array) -> jax.Array:
    """The skew-Hermitian ``A = G W^H - W G^H`` from the paper's ``G`` (not JAX's conjugate)."""
    x = grad @ w.conj().T
    return x - x.conj().T


def cayley_update(a: jax.Array, w: jax.Array, lr: jax.Array) -> jax.Array:
    """``W_new - W = -lr (I + lr/2 A)^{-1} A W`` for ``(n, n)`` ``A`` and ``W``."""
    eye = jnp.eye(w.shape[-1], dtype=w.dtype)
    return -lr * jnp.linalg.solve(eye + (lr / 2) * a, a @ w)


def cayley_unitary(
    learning_rate: ScalarOrSchedule,
    rms_normalise: bool = False,
    decay: float = 0.9,
    eps: float = 1e-8,
    rms_reading: str = "parts",
) -> optax.GradientTransformation:
    """The Cayley step on U(N) for every (complex, square) leaf it is given.

    Takes JAX's gradients (``conj(G)``) and needs ``params``; emits additive updates
    (``W_new - W``) for :func:`optax.apply_updates`. ``learning_rate`` may be an optax
    schedule of the step count.

    ``rms_normalise`` applies RMSprop's rule to ``G`` before forming ``A`` (natGradRMS), with
    running means of decay ``decay``. Two readings (``rms_reading``, :data:`RMS_READINGS`):
    ``"parts"``, the authors' code, which trains ``W`` as a real ``2N x 2N`` matrix and so
    divides ``Re G`` by ``sqrt(nu_re) + eps`` and ``Im G`` by ``sqrt(nu_im) + eps`` with
    ``nu_re``, ``nu_im`` the running means of ``(Re G)^2`` and ``(Im G)^2``; and
    ``"modulus"``, which divides each complex entry by ``sqrt(nu) + eps`` with ``nu`` the
    running mean of ``|G|^2`` (the normalised entry keeps the phase of ``G``).

    Args:
        learning_rate: the step size, a number or an optax schedule of the step count.
        rms_normalise: apply RMSprop's rule to ``G`` first (natGradRMS).
        decay: the decay of the running means.
        eps: added to the running RMS before dividing.
        rms_reading: ``"parts"`` or ``"modulus"`` (:data:`RMS_READINGS`).

    Returns:
        The transformation, a pair of pure functions ``(init, update)``.

    Raises:
        UsageError: an unknown ``rms_reading``.
    """
    if rms_reading not in RMS_READINGS:
        raise UsageError(f"unknown rms_reading {rms_reading!r}; choose from {', '.join(RMS_READINGS)}")
    parts = rms_reading == "parts"

    def zeros_nu(p):
        real = jnp.finfo(p.dtype).dtype
        return jnp.zeros((2, *p.shape) if parts else p.shape, real)

    def normalise(g, v):
        if parts:
            v = decay * v + (1 - decay) * jnp.stack([g.real**2, g.imag**2])
            root = jnp.sqrt(v) + eps
            return jax.lax.complex(g.real / root[0], g.imag / root[1]), v
        v = decay * v + (1 - decay) * (g.real**2 + g.imag**2)
        return g / (jnp.sqrt(v) + eps).astype(g.dtype), v

    def init_fn(params):
        nu = jax.tree.map(zeros_nu, params) if rms_normalise else ()
        return CayleyState(count=jnp.zeros((), jnp.int32), nu=nu)

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError("cayley_unitary needs params: call update(grads, state, params)")
        lr = learning_rate(state.count) if callable(learning_rate) else learning_rate
        grads = jax.tree.map(jnp.conj, updates)
        nu = state.nu
        if rms_normalise:
            # Leaf by leaf on the flattened trees: inside optax's masking the other leaves are
            # empty MaskedNode tuples, which a tree.map over (g, nu) pairs would take for pairs.
            g_leaves, treedef = jax.tree.flatten(grads)
            pairs = [normalise(g, v) for g, v in zip(g_leaves, treedef.flatten_up_to(nu))]
            grads = treedef.unflatten([g for g, _ in pairs])
            nu = treedef.unflatten([v for _, v in pairs])

        def step(g, w):
            lr_w = jnp.asarray(lr, jnp.finfo(w.dtype).dtype)
            return cayley_update(cayley_direction(g, w), w, lr_w)

        new_updates = jax.tree.map(step, grads, params)
        return new_updates, CayleyState(count=state.count + 1, nu=nu)

    return optax.GradientTransformation(init_fn, update_fn)


EUCLIDEAN_OPTIMISERS = ("sgd", "rmsprop", "adam")


def euclidean(name: str, learning_rate: ScalarOrSchedule, clip: float = 0.0, momentum: float = 0.0,
              decay: float = 0.9) -> optax.GradientTransformation:
    """optax's ``sgd`` / ``rmsprop`` / ``adam`` after global-norm clipping (``clip > 0``)."""
    if name == "sgd":
        tx = optax.sgd(learning_rate, momentum=momentum or None)
    elif name == "rmsprop":
        tx = optax.rmsprop(learning_rate, decay=decay, momentum=momentum or None)
    elif name == "adam":
        tx = optax.adam(learning_rate)
    else:
        raise UsageError(f"unknown optimiser {name!r}; choose from {', '.join(EUCLIDEAN_OPTIMISERS)}")
    return optax.chain(optax.clip_by_global_norm(clip), tx) if clip > 0 else tx


def combined(
    labels,
    euclidean_tx: optax.GradientTransformation,
    unitary_tx: optax.GradientTransformation,
) -> optax.GradientTransformation:
    """One transformation for a whole model: ``labels`` (a pytree like the params, or a
    function of them) maps each leaf to ``"euclidean"``, ``"unitary"`` or ``"frozen"``.

    Clipping in ``euclidean_tx`` sees only the Euclidean leaves; the Cayley step is not
    clipped (it cannot leave U(N), whatever the gradient's size).
    """
    return optax.multi_transform(
        {EUCLIDEAN: euclidean_tx, UNITARY: unitary_tx, FROZEN: optax.set_to_zero()}, labels
    )
